#pragma once
// Checksums repaired, so that mutations get past them. Almost any mutation of a PNG breaks a chunk
// CRC or the zlib stream's Adler-32, and both decoders stop there: fuzzing the raw bytes alone
// would rarely reach the header checks, the inflater or the unfiltering with anything but the
// seeds. So each harness decodes the input as it is and, when that differs, once more with:
//   - the zlib header's check bits (FCHECK) fixed,
//   - the Adler-32 after the deflate stream recomputed (if zlib inflates the stream to its end),
//   - every chunk's CRC recomputed.
// Everything else (lengths, chunk order, the deflate data itself) stays as the fuzzer made it.
#include <zlib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace maskscan::fuzz {

namespace repair_detail {

inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline void put_be32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

/// One chunk as it lies in the file: `offset` is where its length field is.
struct chunk {
  std::size_t offset = 0;
  std::uint32_t length = 0;
  bool idat = false;
};

/// The chunks after the signature, as far as their lengths fit in the file.
inline std::vector<chunk> chunks_of(const std::vector<std::uint8_t>& png) {
  std::vector<chunk> out;
  for (std::size_t at = 8; at + 12 <= png.size();) {
    const std::uint32_t length = be32(png.data() + at);
    if (length > png.size() - at - 12) break;
    out.push_back({at, length, std::memcmp(png.data() + at + 4, "IDAT", 4) == 0});
    at += std::size_t{12} + length;
  }
  return out;
}

/// Inflating more than this is not worth the time: the decoders refuse such inputs by their
/// max_pixels anyway, and the repair is only an aid.
constexpr std::size_t max_inflated = std::size_t{64} << 20;

/// Fixes FCHECK and the Adler-32 of the zlib stream spread over the IDAT chunks, in place.
inline void repair_zlib(std::vector<std::uint8_t>& png, const std::vector<chunk>& chunks) {
  std::vector<std::uint8_t*> stream;  // where each byte of the stream lies in the file
  for (const chunk& c : chunks) {
    if (!c.idat) continue;
    for (std::uint32_t i = 0; i < c.length; ++i) stream.push_back(png.data() + c.offset + 8 + i);
  }
  if (stream.size() < 2 + 4) return;

  const unsigned cmf = *stream[0], flg = *stream[1] & 0xe0U;  // FLEVEL and FDICT kept
  *stream[1] = static_cast<std::uint8_t>(flg | (31 - (cmf * 256 + flg) % 31) % 31);

  std::vector<std::uint8_t> deflate(stream.size() - 2);
  for (std::size_t i = 0; i < deflate.size(); ++i) deflate[i] = *stream[i + 2];
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) return;
  z.next_in = deflate.data();
  z.avail_in = static_cast<uInt>(deflate.size());
  std::array<std::uint8_t, 1 << 16> out;
  uLong adler = adler32(0, nullptr, 0);
  std::size_t total = 0;
  int ret = Z_OK;
  while (ret == Z_OK && total <= max_inflated) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    ret = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = out.size() - z.avail_out;
    adler = adler32(adler, out.data(), static_cast<uInt>(produced));
    total += produced;
    if (ret == Z_BUF_ERROR && z.avail_in == 0) break;  // the stream ends early
    if (ret == Z_BUF_ERROR) ret = Z_OK;                  // only the output was full
  }
  const std::size_t end = 2 + static_cast<std::size_t>(z.total_in);
  inflateEnd(&z);
  if (ret != Z_STREAM_END || end + 4 > stream.size()) return;
  for (int i = 0; i < 4; ++i) *stream[end + i] = static_cast<std::uint8_t>(adler >> (24 - 8 * i));
}

}  // namespace repair_detail

/// The input with FCHECK, Adler-32 and CRCs recomputed (see above); empty if it is no PNG at all.
inline std::vector<std::uint8_t> repair_checksums(const std::uint8_t* data, std::size_t size) {
  using namespace repair_detail;
  static constexpr std::uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (size < 8 || std::memcmp(data, signature, 8) != 0) return {};
  std::vector<std::uint8_t> png(data, data + size);
  const std::vector<chunk> chunks = chunks_of(png);
  repair_zlib(png, chunks);
  for (const chunk& c : chunks) {
    std::uint8_t* type = png.data() + c.offset + 4;
    const auto crc = static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), type, c.length + 4U));
    put_be32(type + 4 + c.length, crc);
  }
  return png;
}

/// Calls f(bytes) with the input, then with its repaired copy if that differs.
template <class F>
void for_input_and_repaired(const std::uint8_t* data, std::size_t size, F&& f) {
  f(data, size);
  const std::vector<std::uint8_t> repaired = repair_checksums(data, size);
  if (!repaired.empty() && std::memcmp(repaired.data(), data, size) != 0) f(repaired.data(), repaired.size());
}

}  // namespace maskscan::fuzz
