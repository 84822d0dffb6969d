// PNG bytes -> label plane with libspng 0.7.3. See png_decoder.hpp for the contract.
#include "decode/png_decoder.hpp"
#include "decode/png_bytes.hpp"

#include <libdeflate.h>
#include <spng.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace maskscan::detail {
namespace {

constexpr std::array<unsigned char, 8> png_signature{137, 80, 78, 71, 13, 10, 26, 10};

/// The PNG spec's own bound on width and height (2^31-1). With both capped there, width*height
/// fits easily in 64 bits, so the max_pixels check below cannot overflow.
constexpr std::uint32_t png_max_dimension = 0x7fffffffU;

struct spng_ctx_deleter {
  void operator()(spng_ctx* ctx) const noexcept { spng_ctx_free(ctx); }
};
using spng_ctx_ptr = std::unique_ptr<spng_ctx, spng_ctx_deleter>;

std::error_code fail(diagnostics& diag, errc code, std::string message) {
  diag.message = std::move(message);
  return make_error_code(code);
}

/// Every error libspng reports is a malformed file, named by libspng's own words and the step.
std::error_code fail_spng(diagnostics& diag, int ret, const char* step) {
  return fail(diag, errc::corrupt_png,
              std::string("libspng: ") + spng_strerror(ret) + " (while " + step + ")");
}

const char* colour_type_name(std::uint8_t colour_type) {
  switch (colour_type) {
    case SPNG_COLOR_TYPE_TRUECOLOR: return "RGB PNG";
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return "gray+alpha PNG";
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: return "RGBA PNG";
    default: return nullptr;
  }
}

/// Unpacks 1/2/4-bit samples (rows of `stride` bytes, MSB first) into one byte per pixel, in place.
/// Walking backwards is safe: pixel k's source byte is at row*stride + (x*depth)/8 <= k, so each
/// write lands on a byte no pixel before k still needs.
void unpack_in_place(std::uint8_t* data, std::uint32_t width, std::uint32_t height,
                     std::size_t stride, unsigned depth) {
  const unsigned mask = (1U << depth) - 1U;
  const unsigned per_byte = 8U / depth;
  for (std::size_t y = height; y-- > 0;) {
    const std::uint8_t* row = data + y * stride;
    std::uint8_t* dst = data + y * std::size_t{width};
    for (std::size_t x = width; x-- > 0;) {
      const unsigned shift = 8U - depth * (static_cast<unsigned>(x % per_byte) + 1U);
      dst[x] = static_cast<std::uint8_t>((row[x / per_byte] >> shift) & mask);
    }
  }
}


/// libspng 0.7.3 stops inflating once it has every scanline, so it checks the Adler-32 (and the
/// stream's end) only if inflate happens to reach it. Inflating the IDAT stream once more with
/// libdeflate (~20x faster than zlib, so a few percent of the decode) checks both.
std::error_code verify_zlib_stream(std::span<const std::byte> bytes, const spng_ihdr& ihdr,
                                   std::vector<std::uint8_t>& scratch, diagnostics& diag) {
  // decode_png has checked image_data_can_fit, and libspng has inflated this much already.
  const auto expected = static_cast<std::size_t>(
      filtered_image_bytes(ihdr.width, ihdr.height, ihdr.bit_depth, ihdr.interlace_method != 0));
  std::size_t idat = 0;
  scratch.resize(expected);
  for (std::size_t at = 8; at + 12 <= bytes.size();) {  // libspng has validated the chunk layout
    const std::size_t length = load_be32(bytes.data() + at);
    if (length > bytes.size() - at - 12) break;
    if (std::memcmp(bytes.data() + at + 4, "IDAT", 4) == 0) {
      scratch.resize(expected + idat + length);
      std::memcpy(scratch.data() + expected + idat, bytes.data() + at + 8, length);
      idat += length;
    }
    at += 12 + length;
  }
  const auto result =
      libdeflate_zlib_decompress(&thread_inflater(), scratch.data() + expected, idat, scratch.data(), expected, nullptr);
  switch (result) {
    case LIBDEFLATE_SUCCESS: return {};
    case LIBDEFLATE_SHORT_OUTPUT:
      return fail(diag, errc::corrupt_png, "the image data inflates to fewer bytes than the image needs");
    case LIBDEFLATE_INSUFFICIENT_SPACE:
      return fail(diag, errc::corrupt_png, "the image data inflates to more bytes than the image holds");
    default:
      return fail(diag, errc::corrupt_png, "the zlib stream of the image data is corrupt (bad data or Adler-32)");
  }
}

}  // namespace

std::error_code decode_png(std::span<const std::byte> bytes, const decode_limits& limits,
                           label_plane& out, diagnostics& diag) {
  diag.message.clear();

  // 1. The signature, checked here so that "not a PNG" is told apart from "a broken PNG".
  if (bytes.empty()) return fail(diag, errc::not_png, "not a PNG file (the file is empty)");
  if (bytes.size() < png_signature.size()) {
    return fail(diag, errc::not_png,
                "not a PNG file (truncated: " + std::to_string(bytes.size()) +
                    " bytes, shorter than the 8-byte PNG signature)");
  }
  if (std::memcmp(bytes.data(), png_signature.data(), png_signature.size()) != 0) {
    return fail(diag, errc::not_png, "not a PNG file (no PNG signature)");
  }

  // 2. A decoder context with every check on: no SPNG_CTX_IGNORE_ADLER32, and a bad CRC is an
  //    error for ancillary chunks too (libspng's default would silently discard such a chunk).
  spng_ctx_ptr ctx{spng_ctx_new(0)};
  if (!ctx) throw std::bad_alloc();
  spng_ctx* const c = ctx.get();

  int ret = spng_set_crc_action(c, SPNG_CRC_ERROR, SPNG_CRC_ERROR);
  if (ret != 0) return fail_spng(diag, ret, "setting the CRC action");
  ret = spng_set_png_buffer(c, bytes.data(), bytes.size());
  if (ret != 0) return fail_spng(diag, ret, "setting the input buffer");
  ret = spng_set_image_limits(c, png_max_dimension, png_max_dimension);
  if (ret != 0) return fail_spng(diag, ret, "setting the image limits");
  ret = spng_set_chunk_limits(c, limits.max_chunk_bytes, limits.max_chunk_cache);
  if (ret != 0) return fail_spng(diag, ret, "setting the chunk limits");

  // 3. The header: size and colour type are judged before anything is allocated.
  spng_ihdr ihdr{};
  ret = spng_get_ihdr(c, &ihdr);
  if (ret != 0) return fail_spng(diag, ret, "reading the IHDR header");

  const std::uint64_t pixels = std::uint64_t{ihdr.width} * ihdr.height;
  if (pixels > limits.max_pixels) {
    return fail(diag, errc::image_too_large,
                "image too large: " + std::to_string(ihdr.width) + "x" +
                    std::to_string(ihdr.height) + " = " + std::to_string(pixels) +
                    " pixels exceeds the limit of " + std::to_string(limits.max_pixels) +
                    " pixels");
  }
  if (const char* name = colour_type_name(ihdr.color_type)) {
    return fail(diag, errc::unsupported_color_type,
                std::string("colour masks need a colour table (") + name + ")");
  }
  if (ihdr.color_type != SPNG_COLOR_TYPE_GRAYSCALE && ihdr.color_type != SPNG_COLOR_TYPE_INDEXED) {
    // libspng rejects every other colour type in spng_get_ihdr; this is a guard only.
    return fail(diag, errc::corrupt_png,
                "invalid PNG colour type " + std::to_string(ihdr.color_type));
  }
  // A header claiming more image data than the whole file could inflate to is a lie: refused
  // before the plane (or anything else of the claimed size) is allocated.
  if (!image_data_can_fit(filtered_image_bytes(ihdr.width, ihdr.height, ihdr.bit_depth,
                                               ihdr.interlace_method != 0),
                          bytes.size())) {
    return fail(diag, errc::corrupt_png,
                "the header claims " + std::to_string(ihdr.width) + "x" + std::to_string(ihdr.height) +
                    " but a " + std::to_string(bytes.size()) +
                    "-byte file cannot hold that much image data (deflate compresses at most " +
                    std::to_string(max_deflate_ratio) + ":1)");
  }

  // 4. Decode in the PNG's own sample format (SPNG_FMT_PNG: no scaling, no tRNS, no gamma;
  //    1/2/4-bit samples packed MSB first, 16-bit samples in host order -- only SPNG_FMT_RAW is
  //    big-endian), deinterlaced by libspng.
  const unsigned bit_depth = ihdr.bit_depth;
  std::size_t size = 0;
  ret = spng_decoded_image_size(c, SPNG_FMT_PNG, &size);
  if (ret != 0) return fail_spng(diag, ret, "computing the decoded image size");

  const std::size_t stride = (std::size_t{ihdr.width} * bit_depth + 7U) / 8U;
  if (size != stride * ihdr.height) {
    return fail(diag, errc::corrupt_png,
                "unexpected decoded image size from libspng: " + std::to_string(size) + " for a " +
                    std::to_string(ihdr.width) + "x" + std::to_string(ihdr.height) + " " +
                    std::to_string(bit_depth) + "-bit image");
  }

  out.width = ihdr.width;
  out.height = ihdr.height;
  void* target = nullptr;
  if (bit_depth == 16) {
    out.depth = 16;
    out.u8.clear();  // keeps its capacity for later 8-bit frames
    out.u16.resize(static_cast<std::size_t>(pixels));
    target = out.u16.data();
  } else {
    out.depth = 8;
    out.u16.clear();
    // Packed rows are never longer than the unpacked plane (stride <= width), so one buffer holds
    // both, and the samples are spread out in place afterwards.
    out.u8.resize(static_cast<std::size_t>(pixels));
    target = out.u8.data();
  }

  ret = spng_decode_image(c, target, size, SPNG_FMT_PNG, 0);
  if (ret != 0) return fail_spng(diag, ret, "reading the chunks and the image data");

  // 5. Read the rest of the file up to IEND, so that trailing chunks (and their CRCs) are checked
  //    and a file cut after its image data is not taken as whole.
  ret = spng_decode_chunks(c);
  if (ret != 0) return fail_spng(diag, ret, "reading the chunks after the image data");

  if (const auto ec = verify_zlib_stream(bytes, ihdr, out.scratch, diag)) return ec;

  if (bit_depth < 8) unpack_in_place(out.u8.data(), ihdr.width, ihdr.height, stride, bit_depth);
  return {};
}

}  // namespace maskscan::detail
