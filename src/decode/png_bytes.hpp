#pragma once
// Small pieces both decoders use on raw PNG bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include <libdeflate.h>

namespace maskscan::detail {

/// The big-endian 32-bit value at p (PNG's byte order for lengths, CRCs and sizes).
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline std::uint32_t load_be32(const std::byte* p) noexcept {
  return load_be32(reinterpret_cast<const std::uint8_t*>(p));
}

/// Bytes of the filtered scanlines (one filter byte per row, then the packed samples) that the
/// zlib stream of a `width` x `height` image of `bits_per_pixel` must inflate to; interlaced
/// (Adam7): the sum over the seven reduced images, an empty pass having no rows at all.
/// With width and height below 2^31 and at most 64 bits per pixel this cannot overflow.
inline std::uint64_t filtered_image_bytes(std::uint32_t width, std::uint32_t height, unsigned bits_per_pixel,
                                          bool interlaced) noexcept {
  const auto rows = [&](std::uint64_t w, std::uint64_t h) -> std::uint64_t {
    return w && h ? h * (1 + (w * bits_per_pixel + 7) / 8) : 0;
  };
  if (!interlaced) return rows(width, height);
  static constexpr unsigned x0[] = {0, 4, 0, 2, 0, 1, 0}, y0[] = {0, 0, 4, 0, 2, 0, 1};
  static constexpr unsigned dx[] = {8, 8, 4, 4, 2, 2, 1}, dy[] = {8, 8, 8, 4, 4, 2, 2};
  std::uint64_t total = 0;
  for (int pass = 0; pass < 7; ++pass) {
    const std::uint64_t w = width > x0[pass] ? (width - x0[pass] + dx[pass] - 1) / dx[pass] : 0;
    const std::uint64_t h = height > y0[pass] ? (height - y0[pass] + dy[pass] - 1) / dy[pass] : 0;
    total += rows(w, h);
  }
  return total;
}

/// Deflate expands at most 1032:1: the best it can do is a 258-byte match coded in 2 bits (a
/// 1-bit length code and a 1-bit distance code). Stored blocks and literals expand less.
inline constexpr std::uint64_t max_deflate_ratio = 1032;

/// False if `filtered_bytes` of image data cannot possibly inflate from `compressed_bytes` (the
/// zlib stream, or any upper bound of it such as the file size): the header lies, the file is
/// corrupt. Both decoders ask this right after the header, before allocating anything of the
/// claimed size, so a tiny file claiming a huge image costs nothing. Generous by 4 KiB, so the
/// rule can never refuse a valid PNG.
inline bool image_data_can_fit(std::uint64_t filtered_bytes, std::uint64_t compressed_bytes) noexcept {
  constexpr std::uint64_t slack = 4096;
  return compressed_bytes >= (std::uint64_t{1} << 48) ||  // no overflow below; always fits
         filtered_bytes <= max_deflate_ratio * compressed_bytes + slack;
}

/// This thread's libdeflate decompressor: made on first use, freed when the thread ends.
inline libdeflate_decompressor& thread_inflater() {
  struct deleter {
    void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, deleter> inflater{libdeflate_alloc_decompressor()};
  if (!inflater) throw std::bad_alloc();
  return *inflater;
}

}  // namespace maskscan::detail
