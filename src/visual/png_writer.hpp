#pragma once
// RGB images for reports (heatmaps, overlays), encoded with libspng's encoder.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "visual/canvas.hpp"

namespace maskscan::detail {

/// An 8-bit RGB PNG of width x height pixels, rows top to bottom, 3 bytes a pixel.
/// Throws std::invalid_argument if `rgb` has not width * height * 3 bytes, std::runtime_error if
/// libspng refuses (its message).
std::vector<std::uint8_t> encode_rgb_png(std::uint32_t width, std::uint32_t height, std::span<const std::uint8_t> rgb);

/// encode_rgb_png into `file`, atomically (temporary file + rename); errors name the file.
void write_rgb_png(const std::filesystem::path& file, std::uint32_t width, std::uint32_t height,
                   std::span<const std::uint8_t> rgb);

/// The image as PNG bytes / into `file` (atomically).
std::vector<std::uint8_t> encode_png(const rgb_image& image);
void write_png(const std::filesystem::path& file, const rgb_image& image);

}  // namespace maskscan::detail
