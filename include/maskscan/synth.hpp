#pragma once
// WoodScape-like synthetic label masks for demos, tests and benchmarks, and RGB "photos" that go
// with them (for overlays): reproducible from a seed.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace maskscan {

/// How rows are PNG-filtered when encoding.
enum class png_filter {
  adaptive,  ///< per-row choice among all five filters, as a normal PNG encoder (libpng/PIL) does
  sub,       ///< Sub on every row, as OpenCV's cv2.imwrite writes PNGs
};

struct synth_options {
  std::uint64_t frames = 824;
  std::uint32_t width = 1280;
  std::uint32_t height = 966;
  std::uint64_t seed = 1;
  png_filter filter = png_filter::adaptive;
  int zlib_level = 6;
  unsigned threads = 0;  ///< 0 = one per hardware thread
  /// Also write an RGB "photo" of every frame (synth_photo) into this directory, under the mask's
  /// file name, as WoodScape keeps rgb_images/ beside gtLabels/. Empty = masks only.
  std::filesystem::path rgb_dir;
};

/// One frame's class ids (row-major, ids 0..9 in WoodScape's order); a pure function of
/// (seed, index, width, height).
std::vector<std::uint8_t> synth_mask(std::uint64_t seed, std::uint64_t index, std::uint32_t width,
                                     std::uint32_t height);

/// A synthetic camera image of the same frame: 8-bit RGB, row-major, 3 bytes a pixel, drawn from
/// synth_mask(seed, index, width, height) -- every pixel shows its class (grey asphalt on road,
/// white paint on lane marks, sky, trees and verges on void, the black outside the fisheye image
/// circle, ...) with lighting gradients, a vignette and per-pixel noise, so that it looks like a
/// photo rather than a label map. A pure function of (seed, index, width, height), integer
/// arithmetic only.
std::vector<std::uint8_t> synth_photo(std::uint64_t seed, std::uint64_t index, std::uint32_t width,
                                      std::uint32_t height);

/// 8-bit grayscale PNG bytes of a plane, encoded with libspng.
std::vector<std::uint8_t> encode_gray8_png(const std::vector<std::uint8_t>& plane, std::uint32_t width,
                                           std::uint32_t height, png_filter filter, int zlib_level);

/// Writes frames named 00000_FV.png, 00001_MVL.png, ... (cameras FV, MVL, MVR, RV in turn) into
/// `dir` (created if needed), and with options.rgb_dir their photos as RGB PNGs of the same names
/// into it (created if needed). Returns the number of bytes written (masks and photos).
std::uint64_t synthesize_dataset(const std::filesystem::path& dir, const synth_options& options);

}  // namespace maskscan
