#pragma once
// RGB images for reports (heatmaps, overlays) as 8-bit RGB PNGs.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "visual/canvas.hpp"

struct libdeflate_compressor;

namespace maskscan::detail {

/// Who writes the zlib stream of the image data.
enum class png_deflater {
  libdeflate,  ///< libdeflate, the whole image in one call; the chunks are written here
  libspng,     ///< libspng's encoder (zlib, streaming)
};

/// The row filter of every row (PNG filter types 0 to 2), or libspng's adaptive choice per row.
enum class png_row_filter { none, sub, up, adaptive };

/// How an image is compressed. The decoded pixels are the same whatever is chosen; only the time and
/// the size change. The default, for drawn pictures (heatmaps: flat colours and colour-map ramps), was
/// chosen by measurement (bench/png_encoding.cpp, bench/RESULTS.md "What --report costs"): libdeflate
/// level 2 without row filters encodes them 7.8x faster than libspng's zlib 6 did, 14% larger; row
/// filters make them larger (they turn a colour map's steps into noise), higher levels slower.
struct png_encoding {
  png_deflater deflater = png_deflater::libdeflate;
  /// libdeflate 0 to 12, zlib 0 to 9.
  int level = 2;
  /// zlib's strategy (Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE); libspng only.
  int zlib_strategy = 0;
  png_row_filter filter = png_row_filter::none;
};

/// For photos (overlays: a camera frame under the mask's colours): the Sub filter, 14% smaller than
/// none for about 15% more time (the same measurement).
inline constexpr png_encoding photo_png_encoding{.filter = png_row_filter::sub};

/// The working memory of the libdeflate encoder (the filtered rows and room for the compressed data,
/// each as large as the image), kept from one image to the next by whoever encodes many: fresh pages
/// for every picture cost more than compressing it (page faults, the kernel zeroing them).
class png_scratch {
 public:
  png_scratch();
  ~png_scratch();
  png_scratch(const png_scratch&) = delete;
  png_scratch& operator=(const png_scratch&) = delete;

  /// `bytes` bytes (not initialized): rows 0, room 1.
  std::uint8_t* buffer(int which, std::size_t bytes);
  /// A compressor of `level`, or null if libdeflate has no such level.
  libdeflate_compressor* compressor(int level);

 private:
  std::unique_ptr<std::uint8_t[]> buffers_[2];
  std::size_t sizes_[2] = {0, 0};
  libdeflate_compressor* compressor_ = nullptr;
  int level_ = -1;
};

/// An 8-bit RGB PNG of width x height pixels, rows top to bottom, 3 bytes a pixel.
/// Throws std::invalid_argument if `rgb` has not width * height * 3 bytes, for an image of no pixel
/// and settings that are not possible (libdeflate with the adaptive filter, a level the encoder does
/// not have), std::runtime_error if the encoder refuses.
/// `scratch`: memory to reuse (none: the encoder's own, for this image).
std::vector<std::uint8_t> encode_rgb_png(std::uint32_t width, std::uint32_t height, std::span<const std::uint8_t> rgb,
                                         const png_encoding& encoding = {}, png_scratch* scratch = nullptr);

/// `png` into `file`, atomically (temporary file + rename); errors name the file.
void write_png_bytes(const std::filesystem::path& file, std::span<const std::uint8_t> png);

/// encode_rgb_png into `file`, atomically (temporary file + rename); errors name the file.
void write_rgb_png(const std::filesystem::path& file, std::uint32_t width, std::uint32_t height,
                   std::span<const std::uint8_t> rgb);

/// The image as PNG bytes.
std::vector<std::uint8_t> encode_png(const rgb_image& image, const png_encoding& encoding = {},
                                     png_scratch* scratch = nullptr);
/// encode_png(image) into `file` (atomically); returns the bytes written, for whoever shows the same
/// picture elsewhere (the report embeds them), so that a picture is encoded once. Every error names
/// the file.
std::vector<std::uint8_t> write_png(const std::filesystem::path& file, const rgb_image& image,
                                    const png_encoding& encoding = {}, png_scratch* scratch = nullptr);

}  // namespace maskscan::detail
