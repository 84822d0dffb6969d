#pragma once
// PNG bytes -> label plane, with libspng as the decoder. Pure function over a span: no I/O.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include <maskscan/class_map.hpp>
#include <maskscan/errors.hpp>
#include <maskscan/stats.hpp>

namespace maskscan::detail {

/// The plane's value at pixels of a colour mask whose colour is not in the colour table (colour
/// tables hold values below it). Those pixels are counted per colour in label_plane::unknown_colours.
inline constexpr std::uint16_t unknown_colour_marker = 0xFFFF;

/// Decoded class ids, one per pixel, row-major. Depth 8 (1/2/4/8-bit gray and palette PNGs:
/// the raw sample value or palette *index*, never scaled) or 16 (16-bit gray, host order; and
/// colour masks: the colour table's value, or unknown_colour_marker).
/// Buffers are reused across frames (their capacity is kept).
struct label_plane {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  unsigned depth = 8;  ///< 8 -> u8 holds the ids, 16 -> u16 holds them
  std::vector<std::uint8_t> u8;
  std::vector<std::uint16_t> u16;
  /// A plane decoded from colours (RGB/RGBA PNG): each colour not in the table (value =
  /// rgba::packed(), alpha 255 for RGB files) and how many pixels have it, ascending by value;
  /// the plane holds unknown_colour_marker there. Empty for gray and palette files. The pixel
  /// counts sum to the number of marker pixels.
  std::vector<value_pixels> unknown_colours;
  /// The plane holds colour-table values (an RGB/RGBA file), not raw sample values.
  bool from_colours = false;
  /// The decoder's own working space (IDAT, inflated rows, the RGBA8 image of a colour mask).
  std::vector<std::uint8_t> scratch;
  std::uint64_t pixels() const noexcept { return std::uint64_t{width} * height; }
};

struct decode_limits {
  std::uint64_t max_pixels = std::uint64_t{1} << 28;
  std::size_t max_chunk_bytes = std::size_t{64} << 20;   ///< any single ancillary chunk
  std::size_t max_chunk_cache = std::size_t{128} << 20;  ///< all stored ancillary chunks
};

/// Decodes a PNG that can hold ids (grayscale 1/2/4/8/16-bit, palette 1/2/4/8-bit; interlaced or
/// not), or a colour-coded mask (8-bit RGB or RGBA, interlaced or not) through the colour table
/// `colours`. Every chunk CRC is checked (also of ancillary chunks and of those after the image),
/// and so is the zlib stream as a whole: its Adler-32 and its exact length. On error `out` is
/// unspecified and `diag.message` says what was wrong.
///
/// Colour masks: each pixel's colour must match an entry exactly, all four channels (RGB pixels
/// have alpha 255; no tRNS, gamma or sBIT is applied), so a transparent (0,0,0,0) pixel matches
/// only an entry of that colour. A match gives the entry's value (the plane is depth 16); no match
/// gives unknown_colour_marker, and the colour is counted in out.unknown_colours -- never guessed.
/// `colours`: each colour at most once (the first entry of a colour wins), values below
/// unknown_colour_marker (std::invalid_argument otherwise); its order does not matter (class_map
/// keeps it sorted). Gray and palette files ignore it.
/// errc::unsupported_color_type: RGB/RGBA with an empty table, 16-bit RGB/RGBA, gray+alpha.
std::error_code decode_png(std::span<const std::byte> bytes, const decode_limits& limits, label_plane& out,
                           diagnostics& diag, std::span<const colour_entry> colours = {});

}  // namespace maskscan::detail
