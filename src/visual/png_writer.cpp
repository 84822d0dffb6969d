#include "visual/png_writer.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <libdeflate.h>
#include <spng.h>

#include "core/atomic_file.hpp"

namespace maskscan::detail {
namespace {

void check_size(std::uint32_t width, std::uint32_t height, std::span<const std::uint8_t> rgb) {
  if (rgb.size() != std::size_t{width} * height * 3)
    throw std::invalid_argument(fmt::format("an {}x{} RGB image needs {} bytes, not {}", width, height,
                                            std::size_t{width} * height * 3, rgb.size()));
}

struct ctx_deleter {
  void operator()(spng_ctx* c) const noexcept { spng_ctx_free(c); }
};
void check(int ret, const char* step) {
  if (ret != 0)
    throw std::runtime_error(fmt::format("libspng could not encode the PNG ({}: {})", step, spng_strerror(ret)));
}

int spng_filter_choice(png_row_filter filter) {
  switch (filter) {
    case png_row_filter::none: return SPNG_DISABLE_FILTERING;
    case png_row_filter::sub: return SPNG_FILTER_CHOICE_SUB;
    case png_row_filter::up: return SPNG_FILTER_CHOICE_UP;
    case png_row_filter::adaptive: return SPNG_FILTER_CHOICE_ALL;
  }
  return SPNG_DISABLE_FILTERING;
}

std::vector<std::uint8_t> encode_with_libspng(std::uint32_t width, std::uint32_t height,
                                              std::span<const std::uint8_t> rgb, const png_encoding& e) {
  std::unique_ptr<spng_ctx, ctx_deleter> c(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!c) throw std::bad_alloc();
  check(spng_set_option(c.get(), SPNG_ENCODE_TO_BUFFER, 1), "buffer");
  check(spng_set_option(c.get(), SPNG_FILTER_CHOICE, spng_filter_choice(e.filter)), "filters");
  check(spng_set_option(c.get(), SPNG_IMG_COMPRESSION_LEVEL, e.level), "level");
  check(spng_set_option(c.get(), SPNG_IMG_COMPRESSION_STRATEGY, e.zlib_strategy), "strategy");
  spng_ihdr ihdr{};
  ihdr.width = width;
  ihdr.height = height;
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
  check(spng_set_ihdr(c.get(), &ihdr), "header");
  check(spng_encode_image(c.get(), rgb.data(), rgb.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), "image");
  std::size_t size = 0;
  int error = 0;
  std::unique_ptr<void, decltype(&std::free)> buffer(spng_get_png_buffer(c.get(), &size, &error), &std::free);
  check(error, "buffer");
  const auto* bytes = static_cast<const std::uint8_t*>(buffer.get());
  return {bytes, bytes + size};
}

/// The filtered image data of PNG: each row its filter type byte, then the row filtered with it
/// (3 bytes a pixel, so "the pixel to the left" is 3 bytes back). Into `out`, (3 * width + 1) *
/// height bytes.
void filter_rows(std::uint32_t width, std::uint32_t height, std::span<const std::uint8_t> rgb, png_row_filter filter,
                 std::uint8_t* out) {
  const std::size_t row = std::size_t{width} * 3;
  for (std::uint32_t y = 0; y < height; ++y) {
    const std::uint8_t* src = rgb.data() + y * row;
    std::uint8_t* dst = out + y * (row + 1);
    const bool up = filter == png_row_filter::up && y > 0;  // the first row has nothing above: filter none
    const bool sub = filter == png_row_filter::sub;
    dst[0] = up ? 2 : sub ? 1 : 0;
    ++dst;
    if (up) {
      const std::uint8_t* above = src - row;
      for (std::size_t i = 0; i < row; ++i) dst[i] = static_cast<std::uint8_t>(src[i] - above[i]);
    } else if (sub) {
      std::memcpy(dst, src, std::min<std::size_t>(3, row));
      for (std::size_t i = 3; i < row; ++i) dst[i] = static_cast<std::uint8_t>(src[i] - src[i - 3]);
    } else {
      std::memcpy(dst, src, row);
    }
  }
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.insert(out.end(), {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                         static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

void put_chunk(std::vector<std::uint8_t>& out, std::string_view type, std::span<const std::uint8_t> data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, libdeflate_crc32(0, out.data() + start, out.size() - start));
}

std::vector<std::uint8_t> encode_with_libdeflate(std::uint32_t width, std::uint32_t height,
                                                 std::span<const std::uint8_t> rgb, const png_encoding& e,
                                                 png_scratch& scratch) {
  if (e.filter == png_row_filter::adaptive)
    throw std::invalid_argument("the adaptive row filter is libspng's: choose none, sub or up with libdeflate");
  if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu)
    throw std::invalid_argument(fmt::format("a PNG cannot be {}x{} pixels", width, height));
  libdeflate_compressor* c = scratch.compressor(e.level);
  if (!c) throw std::invalid_argument(fmt::format("libdeflate has no compression level {}", e.level));
  // Neither buffer is zeroed first: the rows are all written, and of the compressed data's room
  // (as large as the image) only what the data needs is touched, a few pages for a heatmap.
  const std::size_t rows_size = (std::size_t{width} * 3 + 1) * height;
  std::uint8_t* rows = scratch.buffer(0, rows_size);
  filter_rows(width, height, rgb, e.filter, rows);
  const std::size_t bound = libdeflate_zlib_compress_bound(c, rows_size);
  std::uint8_t* room = scratch.buffer(1, bound);
  const std::size_t compressed = libdeflate_zlib_compress(c, rows, rows_size, room, bound);
  if (compressed == 0) throw std::runtime_error("libdeflate could not compress the image");  // the bound is enough
  const std::span<const std::uint8_t> z(room, compressed);

  constexpr std::array<std::uint8_t, 8> signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  constexpr std::size_t max_chunk = std::size_t{1} << 30;  // a chunk holds less than 2^31 bytes
  std::vector<std::uint8_t> out(signature.begin(), signature.end());
  out.reserve(z.size() + 64 + 12 * (z.size() / max_chunk));
  std::vector<std::uint8_t> ihdr;
  put_u32(ihdr, width);
  put_u32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8 bits, truecolour, deflate, adaptive filtering, no interlace
  put_chunk(out, "IHDR", ihdr);
  for (std::size_t at = 0; at < z.size(); at += max_chunk)
    put_chunk(out, "IDAT", z.subspan(at, std::min(max_chunk, z.size() - at)));
  put_chunk(out, "IEND", {});
  return out;
}

}  // namespace

png_scratch::png_scratch() = default;

png_scratch::~png_scratch() {
  if (compressor_) libdeflate_free_compressor(compressor_);
}

std::uint8_t* png_scratch::buffer(int which, std::size_t bytes) {
  auto& b = buffers_[which];
  if (sizes_[which] < bytes) {
    b.reset();                          // the old one goes first: less memory at once
    sizes_[which] = bytes + bytes / 8;  // the next picture may be a few columns wider
    b = std::make_unique_for_overwrite<std::uint8_t[]>(sizes_[which]);
  }
  return b.get();
}

libdeflate_compressor* png_scratch::compressor(int level) {
  if (level != level_ || !compressor_) {
    if (compressor_) libdeflate_free_compressor(compressor_);
    compressor_ = libdeflate_alloc_compressor(level);
    level_ = level;
  }
  return compressor_;
}

std::vector<std::uint8_t> encode_rgb_png(std::uint32_t width, std::uint32_t height, std::span<const std::uint8_t> rgb,
                                         const png_encoding& encoding, png_scratch* scratch) {
  check_size(width, height, rgb);
  if (encoding.deflater == png_deflater::libspng) return encode_with_libspng(width, height, rgb, encoding);
  if (scratch) return encode_with_libdeflate(width, height, rgb, encoding, *scratch);
  png_scratch own;
  return encode_with_libdeflate(width, height, rgb, encoding, own);
}

void write_png_bytes(const std::filesystem::path& file, std::span<const std::uint8_t> png) {
  write_file_atomically(file, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  });
}

void write_rgb_png(const std::filesystem::path& file, std::uint32_t width, std::uint32_t height,
                   std::span<const std::uint8_t> rgb) {
  write_png_bytes(file, encode_rgb_png(width, height, rgb));
}

std::vector<std::uint8_t> encode_png(const rgb_image& image, const png_encoding& encoding, png_scratch* scratch) {
  return encode_rgb_png(image.width, image.height, image.pixels, encoding, scratch);
}

std::vector<std::uint8_t> write_png(const std::filesystem::path& file, const rgb_image& image,
                                    const png_encoding& encoding, png_scratch* scratch) {
  std::vector<std::uint8_t> png;
  try {
    png = encode_png(image, encoding, scratch);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", file.string(), e.what()));
  }
  write_png_bytes(file, png);  // its errors name the file
  return png;
}

}  // namespace maskscan::detail
