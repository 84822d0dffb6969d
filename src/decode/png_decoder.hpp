#pragma once
// PNG bytes -> label plane, with libspng as the decoder. Pure function over a span: no I/O.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include <maskscan/errors.hpp>

namespace maskscan::detail {

/// Decoded class ids, one per pixel, row-major. Depth 8 (1/2/4/8-bit gray and palette PNGs:
/// the raw sample value or palette *index*, never scaled) or 16 (16-bit gray, host order).
/// Buffers are reused across frames (their capacity is kept).
struct label_plane {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  unsigned depth = 8;               ///< 8 -> u8 holds the ids, 16 -> u16 holds them
  std::vector<std::uint8_t> u8;
  std::vector<std::uint16_t> u16;
  std::vector<std::uint8_t> scratch;  ///< the decoder's own working space (IDAT, inflated rows)
  std::uint64_t pixels() const noexcept { return std::uint64_t{width} * height; }
};

struct decode_limits {
  std::uint64_t max_pixels = std::uint64_t{1} << 28;
  std::size_t max_chunk_bytes = std::size_t{64} << 20;   ///< any single ancillary chunk
  std::size_t max_chunk_cache = std::size_t{128} << 20;  ///< all stored ancillary chunks
};

/// Decodes a PNG that can hold ids (grayscale 1/2/4/8/16-bit, palette 1/2/4/8-bit; interlaced or
/// not). RGB/RGBA/gray+alpha give errc::unsupported_color_type. Every chunk CRC is checked (also
/// of ancillary chunks and of those after the image), and so is the zlib stream as a whole: its
/// Adler-32 and its exact length. On error `out` is unspecified and `diag.message` says what was wrong.
std::error_code decode_png(std::span<const std::byte> bytes, const decode_limits& limits,
                           label_plane& out, diagnostics& diag);

}  // namespace maskscan::detail
