#pragma once
// A fast path for the PNGs label masks nearly always are: non-interlaced 8-bit grayscale or
// palette, no ancillary chunks but tRNS. libdeflate inflates the image data (~20x faster than
// zlib) and rows are unfiltered here, bit-exact with decode_png (png_decoder.hpp). decode_png stays
// the reference and the decoder for every other file: whatever the fast path does not handle, or
// finds anything wrong with, it hands back untouched, so it never reports an error of its own.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace maskscan::detail {

/// Working space, reused across frames (the vectors keep their capacity).
struct fast_png_scratch {
  std::vector<std::uint8_t> idat;      ///< the zlib stream, when it is split over several IDATs
  std::vector<std::uint8_t> inflated;  ///< the filtered scanlines, unfiltered in place
};

enum class fast_status {
  decoded,      ///< every row went to on_row
  not_handled,  ///< not eligible, invalid, or refused by on_header; no row went to on_row
};

/// What fast_png_parse found. `zlib` points into the PNG bytes or into fast_png_scratch::idat.
struct fast_png_image {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::span<const std::uint8_t> zlib;
};

/// Step 1: accepts only the chunk sequence signature, IHDR (8-bit, colour type 0 or 3, not
/// interlaced), PLTE (type 3 only, exactly one), an optional tRNS, consecutive IDATs, and IEND
/// ending exactly at the end of `bytes`, every CRC correct. false: not handled.
bool fast_png_parse(std::span<const std::byte> bytes, fast_png_scratch& scratch, fast_png_image& image);

/// Step 2: inflates `image.zlib` into scratch.inflated and checks it completely: zlib header,
/// the rules zlib (and so libspng) enforces beyond libdeflate's, Adler-32, the exact size, no
/// bytes after the stream, every filter type <= 4. false: not handled.
bool fast_png_inflate(const fast_png_image& image, fast_png_scratch& scratch);

/// Step 3: unfilters row `y` in place (row y-1 must be done) and returns its `width` ids.
const std::uint8_t* fast_png_unfilter_row(fast_png_scratch& scratch, std::uint32_t width, std::uint32_t y) noexcept;

/// Decodes `bytes` if it is an eligible, completely valid PNG: calls on_header(width, height)
/// once -- the place to apply decode_limits::max_pixels, the fast path knows no limits; returning
/// false gives not_handled, and nothing large has been allocated by then -- then
/// on_row(y, std::span<const std::uint8_t> ids) for y = 0..height-1, each row valid only during
/// its call. Everything is validated before the first on_row, so not_handled means no row was
/// delivered; the caller then runs decode_png, which gives the authoritative result or error.
/// Besides what the callbacks throw, throws only std::bad_alloc (a broken environment).
template <class OnHeader, class OnRow>
fast_status decode_png_fast(std::span<const std::byte> bytes, fast_png_scratch& scratch, OnHeader&& on_header,
                            OnRow&& on_row) {
  fast_png_image image;
  if (!fast_png_parse(bytes, scratch, image)) return fast_status::not_handled;
  if (!on_header(image.width, image.height)) return fast_status::not_handled;
  if (!fast_png_inflate(image, scratch)) return fast_status::not_handled;
  for (std::uint32_t y = 0; y < image.height; ++y) {
    const std::uint8_t* row = fast_png_unfilter_row(scratch, image.width, y);
    on_row(y, std::span<const std::uint8_t>(row, image.width));
  }
  return fast_status::decoded;
}

}  // namespace maskscan::detail
