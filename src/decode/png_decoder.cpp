// PNG bytes -> label plane with libspng 0.7.3. See png_decoder.hpp for the contract.
#include "decode/png_decoder.hpp"
#include "decode/png_bytes.hpp"

#include <libdeflate.h>
#include <spng.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

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
  return fail(diag, errc::corrupt_png, std::string("libspng: ") + spng_strerror(ret) + " (while " + step + ")");
}

/// The one-pixel word of an RGBA8 pixel: its four bytes (R, G, B, A in memory order) loaded as
/// one 32-bit value in host order. Tables are keyed by it, so a pixel is compared with one load.
std::uint32_t pixel_word(const std::uint8_t* p) noexcept {
  std::uint32_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}
std::uint32_t pixel_word(rgba c) noexcept {
  const std::uint8_t bytes[4] = {c.r, c.g, c.b, c.a};
  return pixel_word(bytes);
}
/// rgba::packed() (0xRRGGBBAA) of a pixel word.
std::uint32_t packed_colour(std::uint32_t word) noexcept {
  std::uint8_t b[4];
  std::memcpy(b, &word, sizeof word);
  return rgba{b[0], b[1], b[2], b[3]}.packed();
}
/// Fibonacci hashing: the top `bits` bits of word * 2^32/phi.
std::size_t hash_slot(std::uint32_t word, unsigned bits) noexcept {
  return static_cast<std::size_t>((word * 0x9E3779B1U) >> (32U - bits));
}

/// A colour table as an open-addressing hash (linear probing, at most half full) on pixel words.
class colour_lookup {
 public:
  /// Throws std::invalid_argument for a value the plane cannot hold apart from the marker.
  explicit colour_lookup(std::span<const colour_entry> colours) {
    while ((std::size_t{1} << bits_) < 2 * colours.size()) ++bits_;
    slots_.assign(std::size_t{1} << bits_, slot{});
    for (const colour_entry& e : colours) {
      if (e.value >= unknown_colour_marker) {
        throw std::invalid_argument("colour table: the value " + std::to_string(e.value) + " of colour " +
                                    std::to_string(e.colour.r) + "," + std::to_string(e.colour.g) + "," +
                                    std::to_string(e.colour.b) + "," + std::to_string(e.colour.a) + " is not below " +
                                    std::to_string(unknown_colour_marker) + " (the unknown-colour marker)");
      }
      const std::uint32_t word = pixel_word(e.colour);
      std::size_t i = hash_slot(word, bits_);
      while (slots_[i].value != empty && slots_[i].word != word) i = (i + 1) & (slots_.size() - 1);
      if (slots_[i].value == empty) slots_[i] = {word, e.value};  // a repeated colour: the first entry wins
    }
  }
  /// The value of the colour, or unknown_colour_marker.
  std::uint16_t value_of(std::uint32_t word) const noexcept {
    for (std::size_t i = hash_slot(word, bits_);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].word == word && slots_[i].value != empty) return static_cast<std::uint16_t>(slots_[i].value);
      if (slots_[i].value == empty) return unknown_colour_marker;
    }
  }

 private:
  static constexpr std::uint32_t empty = 0xFFFFFFFFU;  // values are below 0xFFFF
  struct slot {
    std::uint32_t word = 0;
    std::uint32_t value = empty;
  };
  unsigned bits_ = 4;
  std::vector<slot> slots_;
};

/// Pixels per unknown colour: an open-addressing hash on pixel words that grows (a frame may hold
/// any number of colours the table lacks). A slot with 0 pixels is free.
class colour_counter {
 public:
  void add(std::uint32_t word, std::uint64_t pixels) {
    if (2 * (used_ + 1) > slots_.size()) grow();
    std::size_t i = hash_slot(word, bits_);
    while (slots_[i].pixels != 0 && slots_[i].word != word) i = (i + 1) & (slots_.size() - 1);
    if (slots_[i].pixels == 0) {
      slots_[i].word = word;
      ++used_;
    }
    slots_[i].pixels += pixels;
  }
  /// Each colour (rgba::packed()) and its pixels, ascending by colour.
  void sorted_into(std::vector<value_pixels>& out) const {
    out.clear();
    for (const slot& s : slots_)
      if (s.pixels != 0) out.push_back({packed_colour(s.word), s.pixels});
    std::sort(out.begin(), out.end());
  }

 private:
  struct slot {
    std::uint32_t word = 0;
    std::uint64_t pixels = 0;
  };
  void grow() {
    std::vector<slot> old = std::move(slots_);
    bits_ = old.empty() ? 4 : bits_ + 1;
    slots_.assign(std::size_t{1} << bits_, slot{});
    used_ = 0;
    for (const slot& s : old)
      if (s.pixels != 0) add(s.word, s.pixels);
  }
  unsigned bits_ = 0;
  std::size_t used_ = 0;
  std::vector<slot> slots_;
};

/// RGBA8 pixels -> values. Masks are runs of one colour, so the table is asked once per run and
/// an unknown colour is counted once per run.
void map_colours(const std::uint8_t* pixels, std::size_t count, const colour_lookup& table, std::uint16_t* out,
                 colour_counter& unknown) {
  if (count == 0) return;
  std::uint32_t run_word = pixel_word(pixels);
  std::uint16_t run_value = table.value_of(run_word);
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t word = pixel_word(pixels + 4 * i);
    if (word != run_word) {
      if (run_value == unknown_colour_marker) unknown.add(run_word, i - run_start);
      run_word = word;
      run_value = table.value_of(word);
      run_start = i;
    }
    out[i] = run_value;
  }
  if (run_value == unknown_colour_marker) unknown.add(run_word, count - run_start);
}

/// Unpacks 1/2/4-bit samples (rows of `stride` bytes, MSB first) into one byte per pixel, in place.
/// Walking backwards is safe: pixel k's source byte is at row*stride + (x*depth)/8 <= k, so each
/// write lands on a byte no pixel before k still needs.
void unpack_in_place(std::uint8_t* data, std::uint32_t width, std::uint32_t height, std::size_t stride,
                     unsigned depth) {
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

std::string hex32(std::uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
}

std::string chunk_name(const std::byte* type) {
  std::string name(reinterpret_cast<const char*>(type), 4);
  for (char& ch : name)
    if (!std::isalpha(static_cast<unsigned char>(ch))) ch = '?';
  return name;
}

/// The file's structure, walked once before libspng reads it, so that the commonest damage is
/// named for what it is: a cut (libspng says "end of stream"), a damaged chunk (libspng inflates
/// an IDAT before it checks the CRC, so it reports a zlib error), no image data. Every chunk must
/// be complete with a correct CRC, and IDAT must come before a complete IEND; bytes after IEND
/// are ignored, as every PNG reader does. Chunk order and contents stay libspng's to judge.
std::error_code check_chunk_layout(std::span<const std::byte> bytes, diagnostics& diag) {
  bool has_idat = false;
  std::string last = "the signature";
  for (std::size_t at = 8;;) {
    const std::size_t left = bytes.size() - at;
    if (left < 8) {
      return fail(diag, errc::corrupt_png,
                  "truncated: the file ends " + std::string(left ? "inside the header of the chunk" : "after") +
                      (left ? " at offset " + std::to_string(at) : " " + last) + ", before IEND");
    }
    const std::uint32_t length = load_be32(bytes.data() + at);
    const std::string type = chunk_name(bytes.data() + at + 4);
    const std::string where = "the " + type + " chunk at offset " + std::to_string(at);
    if (length > 0x7fffffffU)
      return fail(diag, errc::corrupt_png,
                  where + " claims " + std::to_string(length) + " bytes, more than PNG allows");
    if (length + std::size_t{12} > left) {
      return fail(diag, errc::corrupt_png,
                  "truncated: the file ends inside " + where + " (" + std::to_string(length + std::size_t{12} - left) +
                      " of its " + std::to_string(length + 12) + " bytes are missing)");
    }
    const auto* chunk = reinterpret_cast<const std::uint8_t*>(bytes.data() + at + 4);
    const std::uint32_t stored = load_be32(chunk + 4 + length);
    const std::uint32_t computed = libdeflate_crc32(0, chunk, 4 + std::size_t{length});
    if (stored != computed) {
      return fail(diag, errc::corrupt_png,
                  where + " fails its CRC checksum (stored " + hex32(stored) + ", computed " + hex32(computed) +
                      "): the chunk is damaged");
    }
    if (type == "IDAT") has_idat = true;
    if (type == "IEND") {
      if (!has_idat) return fail(diag, errc::corrupt_png, "no image data: the file has no IDAT chunk before IEND");
      return {};
    }
    last = where;
    at += 12 + std::size_t{length};
  }
}

/// The image's zlib stream: every IDAT's data, concatenated into scratch after its first
/// `offset` bytes. decode_png has checked the chunk layout.
std::span<const std::uint8_t> gather_idat(std::span<const std::byte> bytes, std::size_t offset,
                                          std::vector<std::uint8_t>& scratch) {
  std::size_t idat = 0;
  scratch.resize(offset);
  for (std::size_t at = 8; at + 12 <= bytes.size();) {
    const std::size_t length = load_be32(bytes.data() + at);
    if (length > bytes.size() - at - 12 || std::memcmp(bytes.data() + at + 4, "IEND", 4) == 0) break;
    if (std::memcmp(bytes.data() + at + 4, "IDAT", 4) == 0) {
      scratch.resize(offset + idat + length);
      std::memcpy(scratch.data() + offset + idat, bytes.data() + at + 8, length);
      idat += length;
    }
    at += 12 + length;
  }
  return {scratch.data() + offset, idat};
}

/// What is wrong with a zlib stream that failed, in zlib's own words (zlib is what libspng
/// inflates with, so its verdict is the reference's): the stream is inflated once more with zlib
/// into `expected` bytes of scratch.
std::error_code diagnose_zlib_stream(std::span<const std::byte> bytes, std::size_t expected,
                                     std::vector<std::uint8_t>& scratch, diagnostics& diag) {
  const auto stream = gather_idat(bytes, expected, scratch);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) throw std::bad_alloc();
  z.next_in = const_cast<Bytef*>(stream.data());
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(stream.size(), UINT_MAX));
  z.next_out = scratch.data();
  z.avail_out = static_cast<uInt>(std::min<std::size_t>(expected, UINT_MAX));
  const int ret = inflate(&z, Z_FINISH);
  const std::string what = z.msg ? z.msg : "";
  const bool room_left = z.avail_out > 0;
  const bool input_left = z.avail_in > 0;
  inflateEnd(&z);
  if (ret == Z_STREAM_END && room_left)
    return fail(diag, errc::corrupt_png, "the image data inflates to fewer bytes than the image needs");
  if (ret == Z_STREAM_END) return {};
  if (ret == Z_DATA_ERROR && what == "incorrect data check")
    return fail(diag, errc::corrupt_png, "the image data fails its Adler-32 checksum: it is damaged");
  if (ret == Z_DATA_ERROR &&
      (what == "incorrect header check" || what == "unknown compression method" || what == "invalid window size"))
    return fail(diag, errc::corrupt_png, "the zlib header of the image data is invalid (zlib: " + what + ")");
  if (ret == Z_DATA_ERROR)
    return fail(diag, errc::corrupt_png, "the deflate stream of the image data is corrupt (zlib: " + what + ")");
  if (!room_left && input_left)
    return fail(diag, errc::corrupt_png, "the image data inflates to more bytes than the image holds");
  return fail(diag, errc::corrupt_png, "the zlib stream of the image data ends early (the image data is cut short)");
}

/// libspng 0.7.3 stops inflating once it has every scanline, so it checks the Adler-32 (and the
/// stream's end) only if inflate happens to reach it. Inflating the IDAT stream once more with
/// libdeflate (~20x faster than zlib, so a few percent of the decode) checks both; a failure is
/// then described by zlib.
std::error_code verify_zlib_stream(std::span<const std::byte> bytes, std::size_t expected,
                                   std::vector<std::uint8_t>& scratch, diagnostics& diag) {
  const auto stream = gather_idat(bytes, expected, scratch);
  const auto result =
      libdeflate_zlib_decompress(&thread_inflater(), stream.data(), stream.size(), scratch.data(), expected, nullptr);
  if (result == LIBDEFLATE_SUCCESS) return {};
  if (const auto ec = diagnose_zlib_stream(bytes, expected, scratch, diag)) return ec;
  // zlib accepts what libdeflate does not (never seen; libdeflate is the stricter of the two).
  return fail(diag, errc::corrupt_png, "the zlib stream of the image data is corrupt (libdeflate refuses it)");
}

/// Steps 5 and 6 of decode_png for an 8-bit RGB or RGBA file whose header and chunk layout have
/// passed: decoded by libspng to RGBA8 in scratch (RGB gets alpha 255; no tRNS, gamma or sBIT),
/// deinterlaced, then mapped through the colour table into out.u16.
/// libspng decodes the image into `target` as `fmt`, then reads the rest of the file up to IEND, so
/// that it judges the chunks after the image data too (check_chunk_layout has checked that they are
/// complete and their CRCs). libspng names a broken zlib stream only as "IDAT stream error": if that
/// is the cause, the stream is inflated once more (in `scratch`) and described in zlib's words.
std::error_code decode_image_and_chunks(spng_ctx* c, void* target, std::size_t size, int fmt,
                                        std::span<const std::byte> bytes, std::size_t filtered,
                                        std::vector<std::uint8_t>& scratch, diagnostics& diag) {
  int ret = spng_decode_image(c, target, size, fmt, 0);
  if (ret != 0) {
    if (ret == SPNG_EIDAT_STREAM || ret == SPNG_EIDAT_TOO_SHORT || ret == SPNG_EZLIB)
      if (const auto ec = diagnose_zlib_stream(bytes, filtered, scratch, diag)) return ec;
    return fail_spng(diag, ret, "reading the chunks and the image data");
  }
  ret = spng_decode_chunks(c);
  if (ret != 0) return fail_spng(diag, ret, "reading the chunks after the image data");
  return {};
}

std::error_code decode_colours(spng_ctx* c, std::span<const std::byte> bytes, const spng_ihdr& ihdr,
                               std::size_t filtered, std::span<const colour_entry> colours, label_plane& out,
                               diagnostics& diag) {
  const colour_lookup table(colours);  // before anything of the image's size is allocated
  const std::size_t pixels = std::size_t{ihdr.width} * ihdr.height;
  std::size_t size = 0;
  int ret = spng_decoded_image_size(c, SPNG_FMT_RGBA8, &size);
  if (ret != 0) return fail_spng(diag, ret, "computing the decoded image size");
  if (size != 4 * pixels) {
    return fail(diag, errc::corrupt_png,
                "unexpected decoded image size from libspng: " + std::to_string(size) + " for a " +
                    std::to_string(ihdr.width) + "x" + std::to_string(ihdr.height) + " RGBA8 image");
  }

  out.width = ihdr.width;
  out.height = ihdr.height;
  out.depth = 16;
  out.from_colours = true;
  out.u8.clear();  // keeps its capacity for later 8-bit frames
  out.scratch.resize(size);
  if (const auto ec =
          decode_image_and_chunks(c, out.scratch.data(), size, SPNG_FMT_RGBA8, bytes, filtered, out.scratch, diag))
    return ec;

  // Mapped before the zlib stream is verified: verify_zlib_stream reuses scratch.
  out.u16.resize(pixels);
  colour_counter unknown;
  map_colours(out.scratch.data(), pixels, table, out.u16.data(), unknown);
  unknown.sorted_into(out.unknown_colours);

  return verify_zlib_stream(bytes, filtered, out.scratch, diag);
}

/// The format of an image file that is not a PNG, from its signature (a JPEG photo named .png is a
/// common slip), or null.
const char* image_format(std::span<const std::byte> bytes) noexcept {
  const auto starts = [&](std::string_view magic, std::size_t at = 0) {
    return bytes.size() >= at + magic.size() && std::memcmp(bytes.data() + at, magic.data(), magic.size()) == 0;
  };
  if (starts("\xFF\xD8\xFF")) return "JPEG";
  if (starts("GIF87a") || starts("GIF89a")) return "GIF";
  if (starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4))) return "TIFF";
  if (starts("RIFF") && starts("WEBP", 8)) return "WebP";
  return nullptr;
}

}  // namespace

std::error_code decode_png(std::span<const std::byte> bytes, const decode_limits& limits, label_plane& out,
                           diagnostics& diag, std::span<const colour_entry> colours) {
  diag.message.clear();
  out.unknown_colours.clear();
  out.from_colours = false;

  // 1. The signature, checked here so that "not a PNG" is told apart from "a broken PNG".
  if (bytes.empty()) return fail(diag, errc::not_png, "not a PNG file (the file is empty)");
  if (bytes.size() < png_signature.size()) {
    return fail(diag, errc::not_png,
                "not a PNG file (truncated: " + std::to_string(bytes.size()) +
                    " bytes, shorter than the 8-byte PNG signature)");
  }
  if (std::memcmp(bytes.data(), png_signature.data(), png_signature.size()) != 0) {
    const char* kind = image_format(bytes);
    return fail(diag, errc::not_png,
                kind ? "not a PNG file: it is a " + std::string(kind) + " image" : "not a PNG file (no PNG signature)");
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
  if (ret != 0) {
    if (const auto ec = check_chunk_layout(bytes, diag)) return ec;  // a cut or a damaged chunk, named
    return fail_spng(diag, ret, "reading the IHDR header");
  }

  const std::uint64_t pixels = std::uint64_t{ihdr.width} * ihdr.height;
  if (pixels > limits.max_pixels) {
    return fail(diag, errc::image_too_large,
                "image too large: " + std::to_string(ihdr.width) + "x" + std::to_string(ihdr.height) + " = " +
                    std::to_string(pixels) + " pixels exceeds the limit of " + std::to_string(limits.max_pixels) +
                    " pixels");
  }
  // Colour masks: 8-bit RGB or RGBA, through a colour table. 16 bits per channel would need a
  // 16-bit colour table (no class map has one); gray+alpha is neither ids nor colours.
  const bool colour =
      ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR || ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
  const unsigned channels = ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR ? 3U : colour ? 4U : 1U;
  if (ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA) {
    return fail(diag, errc::unsupported_color_type,
                "a gray+alpha PNG cannot be a mask: class ids need a gray or palette PNG, colour-coded "
                "masks an 8-bit RGB or RGBA PNG");
  }
  if (colour) {
    const std::string name = ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR ? "RGB" : "RGBA";
    if (ihdr.bit_depth != 8) {
      return fail(diag, errc::unsupported_color_type,
                  "a " + std::to_string(ihdr.bit_depth) + "-bit " + name +
                      " PNG (colour-coded mask) is not supported: colour masks must have 8 bits per channel");
    }
    if (colours.empty()) {
      return fail(diag, errc::unsupported_color_type,
                  "an " + name +
                      " PNG (colour-coded mask) needs a colour table: use --labels with a class map that has colours");
    }
  } else if (ihdr.color_type != SPNG_COLOR_TYPE_GRAYSCALE && ihdr.color_type != SPNG_COLOR_TYPE_INDEXED) {
    // libspng rejects every other colour type in spng_get_ihdr; this is a guard only.
    return fail(diag, errc::corrupt_png, "invalid PNG colour type " + std::to_string(ihdr.color_type));
  }
  // A header claiming more image data than the whole file could inflate to is a lie: refused
  // before the plane (or anything else of the claimed size) is allocated.
  const auto filtered = static_cast<std::size_t>(
      filtered_image_bytes(ihdr.width, ihdr.height, unsigned{ihdr.bit_depth} * channels, ihdr.interlace_method != 0));
  if (!image_data_can_fit(filtered, bytes.size())) {
    return fail(diag, errc::corrupt_png,
                "the header claims " + std::to_string(ihdr.width) + "x" + std::to_string(ihdr.height) + " but a " +
                    std::to_string(bytes.size()) +
                    "-byte file cannot hold that much image data (deflate compresses at most " +
                    std::to_string(max_deflate_ratio) + ":1)");
  }

  // 4. The chunk layout (cuts, CRCs, missing image data), named before libspng's coarser words.
  if (const auto ec = check_chunk_layout(bytes, diag)) return ec;

  if (colour) return decode_colours(c, bytes, ihdr, filtered, colours, out, diag);

  // 5. Decode in the PNG's own sample format (SPNG_FMT_PNG: no scaling, no tRNS, no gamma;
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
                    std::to_string(ihdr.width) + "x" + std::to_string(ihdr.height) + " " + std::to_string(bit_depth) +
                    "-bit image");
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

  // 5-6. The image, then the chunks after it (decode_image_and_chunks).
  if (const auto ec = decode_image_and_chunks(c, target, size, SPNG_FMT_PNG, bytes, filtered, out.scratch, diag))
    return ec;

  if (const auto ec = verify_zlib_stream(bytes, filtered, out.scratch, diag)) return ec;

  if (bit_depth < 8) unpack_in_place(out.u8.data(), ihdr.width, ihdr.height, stride, bit_depth);
  return {};
}

}  // namespace maskscan::detail
