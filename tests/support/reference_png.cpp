// Reference PNG decoder from the specification (https://www.w3.org/TR/png/): chunks, zlib,
// unfiltering, Adam7, sample unpacking. Deliberately plain; speed does not matter here.
#include "support/reference_png.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace maskscan::test {
namespace {

constexpr unsigned char signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

struct chunk {
  std::string type;
  std::span<const std::uint8_t> data;
};

std::vector<chunk> read_chunks(std::span<const std::byte> png) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(png.data());
  std::vector<chunk> chunks;
  for (const chunk_location& c : png_chunks(png)) {
    chunks.push_back({c.type, std::span<const std::uint8_t>(p + c.offset + 8, c.length)});
  }
  return chunks;
}

png_header parse_ihdr(const std::vector<chunk>& chunks) {
  if (chunks.empty() || chunks[0].type != "IHDR" || chunks[0].data.size() != 13) {
    throw reference_error("the first chunk is not a 13-byte IHDR");
  }
  const std::uint8_t* d = chunks[0].data.data();
  png_header h{be32(d), be32(d + 4), d[8], d[9], d[12] == 1};
  if (h.width == 0 || h.height == 0) throw reference_error("zero width or height");
  if (d[10] != 0 || d[11] != 0 || d[12] > 1) {
    throw reference_error("unknown compression, filter or interlace method");
  }
  return h;
}

unsigned channels_of(unsigned colour_type) {
  switch (colour_type) {
    case 0:
    case 3: return 1;
    case 2: return 3;
    case 4: return 2;
    case 6: return 4;
    default: throw reference_error("invalid colour type");
  }
}

std::uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<std::uint8_t>(a);
  return static_cast<std::uint8_t>(pb <= pc ? b : c);
}

/// Reverses the filter of each of `rows` scanlines (filter byte + `stride` bytes) in place.
void unfilter(std::uint8_t* data, std::size_t rows, std::size_t stride, std::size_t bpp) {
  std::vector<std::uint8_t> zero(stride, 0);
  const std::uint8_t* prev = zero.data();
  for (std::size_t y = 0; y < rows; ++y) {
    const std::uint8_t filter = data[y * (stride + 1)];
    std::uint8_t* cur = data + y * (stride + 1) + 1;
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      int add = 0;
      switch (filter) {
        case 0: break;
        case 1: add = a; break;
        case 2: add = b; break;
        case 3: add = (a + b) / 2; break;
        case 4: add = paeth(a, b, c); break;
        default: throw reference_error("invalid filter type " + std::to_string(filter));
      }
      cur[i] = static_cast<std::uint8_t>(cur[i] + add);
    }
    prev = cur;
  }
}

/// Sample x of an unfiltered scanline, for one-channel images.
std::uint32_t sample(const std::uint8_t* row, std::size_t x, unsigned depth) {
  if (depth == 16) return std::uint32_t{row[2 * x]} << 8 | row[2 * x + 1];
  if (depth == 8) return row[x];
  const std::size_t bit = x * depth;  // MSB first
  return (row[bit / 8] >> (8 - depth - bit % 8)) & ((1U << depth) - 1U);
}

struct pass {
  std::uint32_t x0, y0, dx, dy;
};
constexpr pass adam7[7] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                           {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
constexpr pass whole_image[1] = {{0, 0, 1, 1}};

/// How many of `extent` columns (or rows) a pass starting at `start` with step `step` covers.
std::size_t in_pass(std::uint32_t extent, std::uint32_t start, std::uint32_t step) {
  return extent > start ? (extent - start + step - 1) / step : 0U;
}

}  // namespace

std::vector<chunk_location> png_chunks(std::span<const std::byte> png) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(png.data());
  const std::size_t n = png.size();
  if (n < 8 || std::memcmp(p, signature, 8) != 0) throw reference_error("no PNG signature");
  std::vector<chunk_location> chunks;
  for (std::size_t pos = 8;;) {
    if (n - pos < 12) throw reference_error("truncated chunk header (no IEND)");
    const std::uint32_t length = be32(p + pos);
    if (length > n - pos - 12) throw reference_error("chunk runs past the end of the file");
    chunks.push_back({std::string(reinterpret_cast<const char*>(p + pos + 4), 4), pos, length});
    pos += 12 + std::size_t{length};
    if (chunks.back().type == "IEND") return chunks;
  }
}

png_header reference_header(std::span<const std::byte> png) { return parse_ihdr(read_chunks(png)); }

reference_image reference_decode(std::span<const std::byte> png) {
  const std::vector<chunk> chunks = read_chunks(png);
  reference_image img;
  img.header = parse_ihdr(chunks);
  const png_header& h = img.header;
  if (h.colour_type != 0 && h.colour_type != 3) throw reference_error("not gray or palette");
  const unsigned d = h.bit_depth;
  const bool depth_ok = d == 1 || d == 2 || d == 4 || d == 8 || (d == 16 && h.colour_type == 0);
  if (!depth_ok) throw reference_error("invalid bit depth");

  std::vector<std::uint8_t> idat;
  for (const chunk& c : chunks) {
    if (c.type == "PLTE") img.palette_entries = c.data.size() / 3;
    if (c.type == "IDAT") idat.insert(idat.end(), c.data.begin(), c.data.end());
  }
  if (h.colour_type == 3 && img.palette_entries == 0) throw reference_error("palette without PLTE");

  // The passes (one for a plain image, seven for Adam7) and the size of their filtered data.
  const std::span<const pass> passes = h.interlaced ? std::span<const pass>(adam7) : std::span<const pass>(whole_image);
  const unsigned channels = channels_of(h.colour_type);
  const std::size_t bpp = std::max<std::size_t>(1, h.bit_depth * channels / 8);
  std::size_t total = 0;
  for (const pass& p : passes) {
    const std::size_t w = in_pass(h.width, p.x0, p.dx), rows = in_pass(h.height, p.y0, p.dy);
    if (w != 0 && rows != 0) total += rows * (1 + (w * h.bit_depth * channels + 7) / 8);
  }

  std::vector<std::uint8_t> raw(total);
  uLongf raw_size = total;
  if (uncompress(raw.data(), &raw_size, idat.data(), idat.size()) != Z_OK || raw_size != total) {
    throw reference_error("the zlib stream does not inflate to the expected size");
  }

  img.values.assign(std::size_t{h.width} * h.height, 0);
  std::uint8_t* data = raw.data();
  for (const pass& p : passes) {
    const std::size_t w = in_pass(h.width, p.x0, p.dx), rows = in_pass(h.height, p.y0, p.dy);
    if (w == 0 || rows == 0) continue;  // an empty pass has no scanlines at all
    const std::size_t stride = (w * h.bit_depth * channels + 7) / 8;
    unfilter(data, rows, stride, bpp);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* row = data + r * (stride + 1) + 1;
      for (std::size_t i = 0; i < w; ++i) {
        const std::size_t y = p.y0 + r * p.dy, x = p.x0 + i * p.dx;
        img.values[y * h.width + x] = sample(row, i, h.bit_depth);
      }
    }
    data += rows * (stride + 1);
  }
  return img;
}

std::vector<std::byte> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw reference_error("cannot open " + path.string());
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

std::vector<std::byte> make_chunk(std::string_view type, std::span<const std::uint8_t> data) {
  if (type.size() != 4) throw reference_error("a chunk type has 4 letters");
  std::vector<std::uint8_t> body(type.begin(), type.end());
  body.insert(body.end(), data.begin(), data.end());
  const auto length = static_cast<std::uint32_t>(data.size());
  const auto crc = static_cast<std::uint32_t>(crc32(0L, body.data(), static_cast<uInt>(body.size())));
  std::vector<std::byte> out;
  auto put32 = [&out](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::byte>((v >> s) & 0xFFU));
  };
  put32(length);
  for (std::uint8_t b : body) out.push_back(static_cast<std::byte>(b));
  put32(crc);
  return out;
}

std::vector<std::uint8_t> ihdr_data(std::uint32_t width, std::uint32_t height, std::uint8_t depth,
                                    std::uint8_t colour_type, std::uint8_t interlace) {
  std::vector<std::uint8_t> d;
  for (std::uint32_t v : {width, height}) {
    for (int s = 24; s >= 0; s -= 8) d.push_back(static_cast<std::uint8_t>(v >> s));
  }
  d.insert(d.end(), {depth, colour_type, 0, 0, interlace});
  return d;
}

std::vector<std::uint8_t> zlib_compress(std::span<const std::uint8_t> raw, int level) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> out(size);
  if (compress2(out.data(), &size, raw.data(), static_cast<uLong>(raw.size()), level) != Z_OK)
    throw reference_error("zlib could not compress the test data");
  out.resize(size);
  return out;
}

std::vector<std::byte> png_signature_bytes() {
  std::vector<std::byte> out;
  for (unsigned char b : signature) out.push_back(static_cast<std::byte>(b));
  return out;
}

std::vector<std::byte> encode_png(const png_header& h, std::span<const std::uint8_t> rows) {
  if (h.colour_type == 3 || h.colour_type > 6 || h.colour_type == 1 || h.colour_type == 5)
    throw reference_error("encode_png writes colour types 0, 2, 4 and 6 only");
  if (h.width == 0 || h.height == 0) throw reference_error("zero width or height");
  const std::size_t bits = std::size_t{h.bit_depth} * channels_of(h.colour_type);
  const std::size_t stride = (h.width * bits + 7) / 8;
  if (rows.size() != stride * h.height) throw reference_error("encode_png: rows hold the wrong number of bytes");
  if (h.interlaced && bits % 8 != 0) throw reference_error("encode_png interlaces bit depths 8 and 16 only");

  // The filtered scanlines (filter byte 0, then the samples) of each pass.
  std::vector<std::uint8_t> filtered;
  const std::size_t pixel_bytes = bits / 8;
  const std::span<const pass> passes = h.interlaced ? std::span<const pass>(adam7) : std::span<const pass>(whole_image);
  for (const pass& p : passes) {
    const std::size_t w = in_pass(h.width, p.x0, p.dx), n_rows = in_pass(h.height, p.y0, p.dy);
    if (w == 0 || n_rows == 0) continue;
    for (std::size_t r = 0; r < n_rows; ++r) {
      const std::uint8_t* row = rows.data() + (p.y0 + r * p.dy) * stride;
      filtered.push_back(0);
      if (!h.interlaced) {
        filtered.insert(filtered.end(), row, row + stride);
        continue;
      }
      for (std::size_t i = 0; i < w; ++i) {
        const std::uint8_t* px = row + (p.x0 + i * p.dx) * pixel_bytes;
        filtered.insert(filtered.end(), px, px + pixel_bytes);
      }
    }
  }
  uLongf size = compressBound(static_cast<uLong>(filtered.size()));
  std::vector<std::uint8_t> zlib(size);
  if (compress2(zlib.data(), &size, filtered.data(), static_cast<uLong>(filtered.size()), 6) != Z_OK)
    throw reference_error("encode_png: zlib failed");
  zlib.resize(size);

  std::vector<std::uint8_t> ihdr;
  for (std::uint32_t v : {h.width, h.height})
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<std::uint8_t>(v >> s));
  ihdr.insert(ihdr.end(), {static_cast<std::uint8_t>(h.bit_depth), static_cast<std::uint8_t>(h.colour_type), 0, 0,
                           static_cast<std::uint8_t>(h.interlaced ? 1 : 0)});
  std::vector<std::byte> png = png_signature_bytes();
  for (const auto& chunk : {make_chunk("IHDR", ihdr), make_chunk("IDAT", zlib), make_chunk("IEND", {})})
    png.insert(png.end(), chunk.begin(), chunk.end());
  return png;
}

void write_png(const std::filesystem::path& file, const png_header& header, std::span<const std::uint8_t> rows) {
  const auto png = encode_png(header, rows);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  if (!out.flush()) throw reference_error(file.string() + ": cannot write");
}

}  // namespace maskscan::test
