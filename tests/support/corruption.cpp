// The corruption corpus (see corruption.hpp). Chunks are located with the reference decoder's
// png_chunks; CRCs come from make_chunk (zlib crc32), zlib streams from zlib itself.
#include "support/corruption.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>

#include "support/reference_png.hpp"

namespace maskscan::test {
namespace {

using bytes = std::vector<std::byte>;

bytes concat(std::initializer_list<std::span<const std::byte>> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bytes from_text(std::string_view text) {
  bytes out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

bytes flipped(std::span<const std::byte> png, std::size_t at) {
  bytes out(png.begin(), png.end());
  out.at(at) ^= std::byte{0x10};
  return out;
}

std::vector<chunk_location> idat_chunks(std::span<const std::byte> png) {
  std::vector<chunk_location> idats;
  for (const auto& c : png_chunks(png))
    if (c.type == "IDAT") idats.push_back(c);
  if (idats.empty()) throw reference_error("the PNG has no IDAT chunk");
  return idats;
}

/// The zlib stream: the IDAT chunks' data, concatenated.
std::vector<std::uint8_t> image_stream(std::span<const std::byte> png) {
  std::vector<std::uint8_t> stream;
  for (const auto& c : idat_chunks(png)) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(png.data()) + c.offset + 8;
    stream.insert(stream.end(), data, data + c.length);
  }
  return stream;
}

/// `png` with its IDAT chunks replaced by IDATs of at most `chunk_bytes` holding `stream`.
bytes with_stream(std::span<const std::byte> png, std::span<const std::uint8_t> stream,
                  std::size_t chunk_bytes = std::numeric_limits<std::size_t>::max()) {
  const auto idats = idat_chunks(png);
  const std::size_t first = idats.front().offset, end = idats.back().offset + 12 + idats.back().length;
  bytes out(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(first));
  std::size_t at = 0;
  do {  // an empty stream still gets one (empty) IDAT
    const std::size_t n = std::min(chunk_bytes, stream.size() - at);
    const auto chunk = make_chunk("IDAT", stream.subspan(at, n));
    out.insert(out.end(), chunk.begin(), chunk.end());
    at += n;
  } while (at < stream.size());
  out.insert(out.end(), png.begin() + static_cast<std::ptrdiff_t>(end), png.end());
  return out;
}

std::vector<std::uint8_t> inflate_all(std::span<const std::uint8_t> stream) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) throw reference_error("inflateInit failed");
  z.next_in = const_cast<Bytef*>(stream.data());
  z.avail_in = static_cast<uInt>(stream.size());
  std::vector<std::uint8_t> out;
  int ret = Z_OK;
  while (ret == Z_OK) {
    std::uint8_t buffer[16384];
    z.next_out = buffer;
    z.avail_out = sizeof buffer;
    ret = inflate(&z, Z_NO_FLUSH);
    out.insert(out.end(), buffer, buffer + (sizeof buffer - z.avail_out));
  }
  inflateEnd(&z);
  if (ret != Z_STREAM_END) throw reference_error("the image data of the valid PNG does not inflate");
  return out;
}

std::vector<std::uint8_t> deflate_all(std::span<const std::uint8_t> raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> out(size);
  if (compress2(out.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK)
    throw reference_error("compress2 failed");
  out.resize(size);
  return out;
}

/// `png` with an IHDR claiming width x height (valid CRC), everything else unchanged.
bytes with_size(std::span<const std::byte> png, std::uint32_t width, std::uint32_t height) {
  const png_header h = reference_header(png);
  const auto ihdr = make_chunk("IHDR", ihdr_data(width, height, static_cast<std::uint8_t>(h.bit_depth),
                                                 static_cast<std::uint8_t>(h.colour_type)));
  return concat({png.first(8), ihdr, png.subspan(8 + 25)});
}

/// "the IDAT chunk at offset 33": how the scanner names a chunk (appended: "a" + b + ... trips
/// GCC 12's -Wrestrict).
std::string chunk_named(const chunk_location& c) {
  std::string name = "the ";
  name += c.type;
  name += " chunk at offset ";
  name += std::to_string(c.offset);
  return name;
}

}  // namespace

std::vector<corrupt_variant> truncations(std::span<const std::byte> png) {
  const auto chunks = png_chunks(png);
  const auto idats = idat_chunks(png);
  std::vector<corrupt_variant> out;
  auto cut = [&](std::string name, std::size_t size, errc expected, std::string part) {
    out.push_back({std::move(name), bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(size)), expected,
                   std::move(part)});
  };
  // The message says the file is truncated and where it ends: after or inside which chunk.
  const auto after = [](const chunk_location& c) { return "truncated: the file ends after " + chunk_named(c); };
  const auto inside = [](const chunk_location& c) { return "truncated: the file ends inside " + chunk_named(c); };
  const errc corrupt = errc::corrupt_png;
  cut("truncated_0_bytes", 0, errc::not_png, "the file is empty");
  cut("truncated_7_bytes", 7, errc::not_png, "shorter than the 8-byte PNG signature");
  cut("truncated_after_signature", 8, corrupt, "truncated: the file ends after the signature");
  std::size_t idat = 0;
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    std::string name = "truncated_before_";
    name += chunks[i].type;
    if (chunks[i].type == "IDAT") name += '_' + std::to_string(++idat);
    cut(std::move(name), chunks[i].offset, corrupt, after(chunks[i - 1]));
  }
  cut("truncated_mid_first_IDAT", idats.front().offset + 8 + idats.front().length / 2, corrupt, inside(idats.front()));
  if (idats.size() > 1) {
    cut("truncated_mid_last_IDAT", idats.back().offset + 8 + idats.back().length / 2, corrupt, inside(idats.back()));
  }
  // The image is complete here: only IEND's CRC is missing. libspng alone would accept it.
  cut("truncated_in_IEND_CRC", png.size() - 2, corrupt, inside(chunks.back()));
  return out;
}

std::vector<corrupt_variant> stale_crcs(std::span<const std::byte> png) {
  const auto idats = idat_chunks(png);
  const chunk_location iend = png_chunks(png).back();
  const chunk_location ihdr = png_chunks(png).front();
  // The message names the chunk whose CRC fails, also where damaged IDAT data would fail to
  // inflate first (libspng inflates before it checks the CRC; the scanner checks CRCs first).
  const auto fails = [](const chunk_location& c) { return chunk_named(c) + " fails its CRC checksum"; };
  const errc corrupt = errc::corrupt_png;
  return {
      {"stale_crc_IHDR_width", flipped(png, 8 + 8 + 2), corrupt, fails(ihdr)},
      {"stale_crc_first_IDAT_data", flipped(png, idats.front().offset + 8 + idats.front().length / 2), corrupt,
       fails(idats.front())},
      {"stale_crc_last_IDAT_data", flipped(png, idats.back().offset + 8 + idats.back().length - 1), corrupt,
       fails(idats.back())},
      {"stale_crc_IDAT_crc_itself", flipped(png, idats.front().offset + 8 + idats.front().length), corrupt,
       fails(idats.front())},
      {"stale_crc_IEND_crc", flipped(png, iend.offset + 8), corrupt, fails(iend)},
  };
}

std::vector<corrupt_variant> zlib_damage(std::span<const std::byte> png) {
  const png_header h = reference_header(png);
  if (h.interlaced) throw reference_error("zlib_damage needs a non-interlaced PNG");
  const std::vector<std::uint8_t> stream = image_stream(png);
  if (stream.size() < 2 + 4) throw reference_error("the zlib stream is shorter than its header and trailer");
  const std::vector<std::uint8_t> raw = inflate_all(stream);
  const std::size_t stride = raw.size() / h.height;  // filter byte + packed samples

  auto adler = stream;
  adler.back() ^= 0x01;  // the last byte of the Adler-32 trailer
  auto header = stream;
  header[0] = 0x79;  // CMF: deflate with a 64 KiB window, which zlib does not define
  auto filter = raw;
  filter[stride * (h.height > 1 ? 1 : 0)] = 5;  // filter types are 0..4
  const auto short_raw = std::span(raw).first(raw.size() - stride);
  const errc corrupt = errc::corrupt_png;
  return {
      {"zlib_bad_adler32", with_stream(png, adler), corrupt, "the image data fails its Adler-32 checksum"},
      {"zlib_bad_header", with_stream(png, header), corrupt, "the zlib header of the image data is invalid"},
      {"zlib_bad_filter_type", with_stream(png, deflate_all(filter)), corrupt, "invalid scanline filter"},
      {"zlib_one_row_missing", with_stream(png, deflate_all(short_raw)), corrupt,
       "the image data inflates to fewer bytes than the image needs"},
  };
}

std::vector<corrupt_variant> trailing_data(std::span<const std::byte> png) {
  const auto chunk = make_chunk("teXt", std::vector<std::uint8_t>{'x'});
  return {
      {"after_IEND_a_chunk", concat({png, chunk}), errc::ok},
      {"after_IEND_text", concat({png, from_text("appended by a careless tool\n")}), errc::ok},
  };
}

std::vector<corrupt_variant> not_pngs() {
  const std::uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00};
  bytes random(4096);
  std::mt19937 rng(20240611);
  for (auto& b : random) b = static_cast<std::byte>(rng() & 0xFFU);
  random[0] = std::byte{0};  // never the signature's first byte
  const std::string part = "no PNG signature";
  return {
      {"not_png_text", from_text("label masks live in the other folder\n"), errc::not_png, part},
      {"not_png_jpeg",
       bytes(reinterpret_cast<const std::byte*>(jpeg), reinterpret_cast<const std::byte*>(jpeg) + sizeof jpeg),
       errc::not_png, "it is a JPEG image"},  // a photo named .png says what it is
      {"not_png_random", std::move(random), errc::not_png, part},
  };
}

std::vector<corrupt_variant> absurd_headers(std::span<const std::byte> png) {
  return {
      {"header_100000x100000", with_size(png, 100000, 100000), errc::image_too_large, "100000x100000"},
      // Within max_pixels, but libspng would find the image data short only after allocating the
      // 256 MiB plane: the scanner refuses the header first.
      {"header_16384x16384_tiny_IDAT", with_size(png, 16384, 16384), errc::corrupt_png,
       "the header claims 16384x16384 but a " + std::to_string(png.size()) +
           "-byte file cannot hold that much image data"},
  };
}

corrupt_variant inflation_bomb(std::uint64_t inflated_bytes) {
  // Zero bytes are rows of filter type 0 and id 0: 64x64 of them, and then far more. One MiB of
  // zeros is deflated once, ending in a full flush (byte-aligned, nothing refers back across it),
  // and those bytes are repeated; an empty final block and the Adler-32 of all the zeros close
  // the stream. Deflating the whole GiB would take seconds.
  constexpr std::size_t piece = std::size_t{1} << 20;
  if (inflated_bytes % piece != 0) throw reference_error("the bomb inflates to whole MiBs");
  static const std::vector<std::uint8_t> zeros(piece);
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_RLE) != Z_OK) throw reference_error("deflateInit2 failed");
  std::vector<std::uint8_t> deflated(deflateBound(&z, piece) + 16);
  z.next_in = const_cast<Bytef*>(zeros.data());
  z.avail_in = static_cast<uInt>(piece);
  z.next_out = deflated.data();
  z.avail_out = static_cast<uInt>(deflated.size());
  const int ret = deflate(&z, Z_FULL_FLUSH);
  deflated.resize(deflated.size() - z.avail_out);
  deflateEnd(&z);
  if (ret != Z_OK || z.avail_in != 0) throw reference_error("deflating the bomb's zeros failed");

  std::vector<std::uint8_t> stream{0x78, 0xDA};  // zlib header: deflate, 32 KiB window
  const uLong piece_adler = adler32(adler32(0L, nullptr, 0), zeros.data(), static_cast<uInt>(piece));
  uLong adler = adler32(0L, nullptr, 0);
  for (std::uint64_t n = 0; n < inflated_bytes / piece; ++n) {
    stream.insert(stream.end(), deflated.begin(), deflated.end());
    adler = adler32_combine(adler, piece_adler, static_cast<z_off_t>(piece));
  }
  stream.insert(stream.end(), {0x03, 0x00});  // final fixed-Huffman block holding only end-of-block
  for (int s = 24; s >= 0; s -= 8) stream.push_back(static_cast<std::uint8_t>(adler >> s));

  const bytes png = concat({png_signature_bytes(), make_chunk("IHDR", ihdr_data(64, 64, 8, 0)),
                            make_chunk("IDAT", stream), make_chunk("IEND", {})});
  return {"bomb_64x64_inflates_to_" + std::to_string(inflated_bytes >> 20) + "MiB", png, errc::corrupt_png,
          "inflates to more bytes than the image holds"};
}

std::vector<corrupt_variant> corruption_corpus(std::span<const std::byte> png) {
  std::vector<corrupt_variant> all;
  for (auto&& kind :
       {truncations(png), stale_crcs(png), zlib_damage(png), trailing_data(png), not_pngs(), absurd_headers(png)}) {
    all.insert(all.end(), kind.begin(), kind.end());
  }
  return all;
}

std::vector<std::byte> with_idat_chunks(std::span<const std::byte> png, std::size_t chunk_bytes) {
  return with_stream(png, image_stream(png), chunk_bytes);
}

}  // namespace maskscan::test
