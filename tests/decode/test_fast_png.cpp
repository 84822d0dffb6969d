// The PNG fast path (libdeflate + own unfilter, decode/fast_png.hpp) against decode_png, the
// reference: wherever the fast path decodes, the reference must succeed with the very same ids,
// and on any input the fast path does not take, no row may have been delivered.
#include <catch2/catch.hpp>

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <maskscan/synth.hpp>

#include "decode/fast_png.hpp"
#include "decode/png_decoder.hpp"
#include "support/reference_png.hpp"

namespace {

using namespace maskscan;
using namespace maskscan::detail;
namespace fs = std::filesystem;
namespace ref = maskscan::test;
using bytes = std::vector<std::uint8_t>;

const fs::path data_dir{MASKSCAN_TEST_DATA};

std::span<const std::byte> as_png(const bytes& b) { return std::as_bytes(std::span(b)); }

bytes read_png(const fs::path& file) {
  const std::vector<std::byte> b = ref::read_file_bytes(file);
  const auto* p = reinterpret_cast<const std::uint8_t*>(b.data());
  return {p, p + b.size()};
}

std::vector<fs::path> png_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".png") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// ---------------------------------------------------------------------------------------------
// Running the decoders

/// What the fast path delivered: the rows it handed over, glued into a plane.
struct fast_result {
  bool decoded = false;
  int headers = 0;  ///< on_header calls
  std::uint32_t width = 0, height = 0;
  std::size_t rows = 0;
  bool rows_in_order = true;  ///< y counted 0, 1, 2 ... and every row `width` long
  bytes ids;
};

fast_result run_fast(const bytes& png, fast_png_scratch& scratch, bool accept_header = true) {
  fast_result r;
  const fast_status status = decode_png_fast(
      as_png(png), scratch,
      [&](std::uint32_t width, std::uint32_t height) {
        ++r.headers;
        r.width = width;
        r.height = height;
        return accept_header;
      },
      [&](std::uint32_t y, std::span<const std::uint8_t> row) {
        r.rows_in_order = r.rows_in_order && y == r.rows && row.size() == r.width;
        r.ids.insert(r.ids.end(), row.begin(), row.end());
        ++r.rows;
      });
  r.decoded = status == fast_status::decoded;
  return r;
}

fast_result run_fast(const bytes& png) {
  fast_png_scratch scratch;
  return run_fast(png, scratch);
}

struct reference_result {
  std::error_code ec;
  label_plane plane;
  diagnostics diag;
};

reference_result run_reference(const bytes& png) {
  reference_result r;
  r.ec = decode_png(as_png(png), {}, r.plane, r.diag);
  return r;
}

/// Runs both decoders: if the fast path decodes, the reference must succeed with the same size
/// and ids; if it does not, it must have delivered no row. Returns whether it decoded.
bool fast_agrees_with_reference(const bytes& png) {
  const fast_result fast = run_fast(png);
  REQUIRE(fast.headers <= 1);
  if (!fast.decoded) {
    REQUIRE(fast.rows == 0);
    return false;
  }
  REQUIRE(fast.rows_in_order);
  REQUIRE(fast.rows == fast.height);
  const reference_result expected = run_reference(png);
  INFO("reference: " << expected.diag.message);
  REQUIRE_FALSE(expected.ec);
  REQUIRE(expected.plane.depth == 8);
  REQUIRE(expected.plane.width == fast.width);
  REQUIRE(expected.plane.height == fast.height);
  REQUIRE(expected.plane.u8 == fast.ids);
  return true;
}

/// The fast path must decode `png` to exactly `ids`, and so must the reference.
void require_decodes_to(const bytes& png, const bytes& ids) {
  REQUIRE(fast_agrees_with_reference(png));
  REQUIRE(run_fast(png).ids == ids);
}

// ---------------------------------------------------------------------------------------------
// An encoder with every knob: filter type per row, zlib level/strategy/memLevel, IDAT split

bytes chunk(std::string_view type, const bytes& data) {
  const std::vector<std::byte> c = ref::make_chunk(type, data);
  const auto* p = reinterpret_cast<const std::uint8_t*>(c.data());
  return {p, p + c.size()};
}

void append(bytes& out, const bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

void put_be32(bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

/// The spec's Paeth predictor, written as the spec writes it.
int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/// One scanline, filter byte first, for one byte per pixel; `prev` is null on the first row.
void filter_row(unsigned type, const std::uint8_t* row, const std::uint8_t* prev, std::uint32_t width, bytes& out) {
  out.push_back(static_cast<std::uint8_t>(type));
  for (std::uint32_t x = 0; x < width; ++x) {
    const int a = x ? row[x - 1] : 0, b = prev ? prev[x] : 0, c = prev && x ? prev[x - 1] : 0;
    const int predictor = type == 1 ? a : type == 2 ? b : type == 3 ? (a + b) / 2 : type == 4 ? paeth(a, b, c) : 0;
    out.push_back(static_cast<std::uint8_t>(row[x] - predictor));
  }
}

bytes zlib_stream(const bytes& raw, int level, int strategy, int mem_level) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, 15, mem_level, strategy) == Z_OK);
  bytes out(deflateBound(&z, static_cast<uLong>(raw.size())) + 1024);  // (level 0 can exceed it)
  z.next_in = const_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct encoding {
  std::uint8_t colour_type = 0;
  std::function<unsigned(std::uint32_t)> filter = [](std::uint32_t) { return 0U; };  ///< per row
  int level = 6, strategy = Z_DEFAULT_STRATEGY, mem_level = 8;
  std::vector<std::size_t> idat_sizes;  ///< cycled through (0 gives an empty IDAT); empty: one IDAT
  bytes palette;                        ///< PLTE data, colour type 3
  bytes transparency;                   ///< tRNS data; empty: no tRNS
};

bytes encode(const bytes& ids, std::uint32_t width, std::uint32_t height, const encoding& e) {
  bytes raw;
  for (std::uint32_t y = 0; y < height; ++y) {
    const std::uint8_t* row = ids.data() + std::size_t{y} * width;
    filter_row(e.filter(y), row, y ? row - width : nullptr, width, raw);
  }
  const bytes stream = zlib_stream(raw, e.level, e.strategy, e.mem_level);

  bytes png{137, 80, 78, 71, 13, 10, 26, 10};
  append(png, chunk("IHDR", ref::ihdr_data(width, height, 8, e.colour_type)));
  if (!e.palette.empty()) append(png, chunk("PLTE", e.palette));
  if (!e.transparency.empty()) append(png, chunk("tRNS", e.transparency));
  if (e.idat_sizes.empty()) {
    append(png, chunk("IDAT", stream));
  } else {
    std::size_t at = 0;
    for (std::size_t k = 0; at < stream.size(); ++k) {
      const std::size_t n = std::min(e.idat_sizes[k % e.idat_sizes.size()], stream.size() - at);
      append(png, chunk("IDAT", bytes(stream.begin() + static_cast<std::ptrdiff_t>(at),
                                      stream.begin() + static_cast<std::ptrdiff_t>(at + n))));
      at += n;
    }
  }
  append(png, chunk("IEND", {}));
  return png;
}

/// Class-id-like planes: runs of a few ids that often repeat the row above, or pure noise.
bytes random_plane(std::mt19937& rng, std::uint32_t width, std::uint32_t height, bool noise) {
  bytes ids(std::size_t{width} * height);
  std::uniform_int_distribution<int> byte(0, 255), id(0, 11), run(1, 40), coin(0, 3);
  for (std::uint32_t y = 0; y < height; ++y) {
    std::uint8_t* row = ids.data() + std::size_t{y} * width;
    if (noise) {
      for (std::uint32_t x = 0; x < width; ++x) row[x] = static_cast<std::uint8_t>(byte(rng));
    } else if (y > 0 && coin(rng) == 0) {
      std::copy(row - width, row, row);
    } else {
      for (std::uint32_t x = 0; x < width;) {
        const int value = id(rng);
        const auto v = static_cast<std::uint8_t>(value == 11 ? 255 : value);
        for (int n = run(rng); n > 0 && x < width; --n) row[x++] = v;
      }
    }
  }
  return ids;
}

std::uint32_t load_be32(const bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

/// Rewrites the CRC of the chunk whose length field is at `at`, after its data was edited.
void fix_crc(bytes& png, std::size_t at) {
  const std::uint32_t length = load_be32(png, at);
  const auto crc = static_cast<std::uint32_t>(crc32(0L, png.data() + at + 4, length + 4));
  for (int i = 0; i < 4; ++i) png[at + 8 + length + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
}

std::vector<ref::chunk_location> chunks_of(const bytes& png) { return ref::png_chunks(as_png(png)); }

// ---------------------------------------------------------------------------------------------
// Hand-made deflate streams

struct bit_writer {
  bytes out;
  std::size_t bits = 0;
  void put(std::uint32_t value, unsigned n) {  // LSB first, as deflate packs fields
    for (unsigned i = 0; i < n; ++i, ++bits) {
      if (bits % 8 == 0) out.push_back(0);
      out.back() = static_cast<std::uint8_t>(out.back() | (((value >> i) & 1U) << (bits % 8)));
    }
  }
  void code(std::uint32_t codeword, unsigned n) {  // Huffman codewords go MSB first
    for (unsigned i = n; i-- > 0;) put((codeword >> i) & 1U, 1);
  }
  void fixed_litlen(unsigned symbol) {
    if (symbol < 144) {
      code(0x30 + symbol, 8);
    } else if (symbol < 256) {
      code(0x190 + symbol - 144, 9);
    } else if (symbol < 280) {
      code(symbol - 256, 7);
    } else {
      code(0xc0 + symbol - 280, 8);
    }
  }
};

/// A one-row gray PNG whose IDAT is `deflate` wrapped in zlib, `size` bytes when inflated by
/// libdeflate (required to succeed: the stream is valid as far as libdeflate is concerned).
bytes png_around_deflate(const bytes& deflate, std::size_t size) {
  bytes inflated(size);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  REQUIRE(d);
  const libdeflate_result result =
      libdeflate_deflate_decompress(d, deflate.data(), deflate.size(), inflated.data(), size, nullptr);
  libdeflate_free_decompressor(d);
  REQUIRE(result == LIBDEFLATE_SUCCESS);
  REQUIRE(inflated[0] == 0);  // filter type None

  bytes stream{0x78, 0x01};
  append(stream, deflate);
  put_be32(stream, static_cast<std::uint32_t>(adler32(1L, inflated.data(), static_cast<uInt>(size))));
  bytes png{137, 80, 78, 71, 13, 10, 26, 10};
  append(png, chunk("IHDR", ref::ihdr_data(static_cast<std::uint32_t>(size - 1), 1, 8, 0)));
  append(png, chunk("IDAT", stream));
  append(png, chunk("IEND", {}));
  return png;
}

/// Fixed codes: literal 0, 0, then a match of litlen `length_symbol` (no extra bits) at
/// distance 1, end of block. 285 is length 258; libdeflate decodes 286/287 as 258 too.
bytes fixed_block_with_length(unsigned length_symbol) {
  bit_writer w;
  w.put(1, 1);
  w.put(1, 2);
  w.fixed_litlen(0);
  w.fixed_litlen(0);
  w.fixed_litlen(length_symbol);
  w.code(0, 5);
  w.fixed_litlen(256);
  return w.out;
}

/// Fixed codes: 40001 literals, then a 3-byte match at distance symbol `distance_symbol`
/// with all extra bits zero (29 is 24577..32768; libdeflate decodes 30/31 as farther ones).
bytes fixed_block_with_distance(unsigned distance_symbol) {
  bit_writer w;
  w.put(1, 1);
  w.put(1, 2);
  w.fixed_litlen(0);
  for (unsigned i = 0; i < 40000; ++i) w.fixed_litlen(i % 251);
  w.fixed_litlen(257);
  w.code(distance_symbol, 5);
  w.put(0, distance_symbol < 30 ? 13 : 14);
  w.fixed_litlen(256);
  return w.out;
}

/// A dynamic block with litlen code {0, 1, 256, 257} (2 bits each) and a single distance code
/// (distance 1) of length `distance_length` (1: a one-symbol code, where zlib takes codeword 0
/// and refuses 1; 0: an empty code, which zlib refuses to use): literal 0, a 3-byte match whose
/// distance is written as the bit `distance_bit`, end of block. libdeflate takes all of these.
bytes dynamic_block_with_one_distance_code(unsigned distance_length, unsigned distance_bit) {
  bit_writer w;
  w.put(1, 1);
  w.put(2, 2);
  w.put(1, 5);   // 258 litlen codes
  w.put(0, 5);   // 1 distance code
  w.put(14, 4);  // 18 precode lengths: 0, 1, 2 and 18, two bits each
  static constexpr unsigned order[] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1};
  for (unsigned s : order) w.put(s == 0 || s == 1 || s == 2 || s == 18 ? 2 : 0, 3);
  const auto pre = [&](unsigned s) { w.code(s == 18 ? 3 : s, 2); };
  pre(2), pre(2);          // literals 0, 1
  pre(18), w.put(127, 7);  // 138 zeros
  pre(18), w.put(105, 7);  // 116 zeros
  pre(2), pre(2);          // 256, 257
  pre(distance_length);    // the one distance code
  w.code(0, 2);            // literal 0
  w.code(3, 2);            // length 3
  w.code(distance_bit, 1);
  w.code(2, 2);  // end of block
  return w.out;
}

/// Like dynamic_block_with_one_distance_code(1, 0), but declaring 32 distance codes (5 bits
/// each, complete); zlib refuses more than 30, libdeflate does not.
bytes dynamic_block_with_32_distance_codes() {
  bit_writer w;
  w.put(1, 1);
  w.put(2, 2);
  w.put(1, 5);
  w.put(31, 5);
  w.put(12, 4);  // 16 precode lengths: 18 -> 1 bit (code 0), 2 and 5 -> 2 bits (10, 11)
  static constexpr unsigned order[] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2};
  for (unsigned s : order) w.put(s == 18 ? 1 : s == 2 || s == 5 ? 2 : 0, 3);
  w.code(2, 2), w.code(2, 2);
  w.code(0, 1), w.put(127, 7);
  w.code(0, 1), w.put(105, 7);
  w.code(2, 2), w.code(2, 2);
  for (int i = 0; i < 32; ++i) w.code(3, 2);
  w.code(0, 2);
  w.code(3, 2);
  w.code(0, 5);
  w.code(2, 2);
  return w.out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Real and reference files

TEST_CASE("The fast path decodes every eligible real mask exactly as the reference does", "[decode][fast]") {
  std::size_t gray = 0, palette = 0, others = 0;
  for (const fs::path& file : png_files(data_dir / "real")) {
    CAPTURE(file.string());
    const bytes png = read_png(file);
    // Eligible, judged independently: 8-bit gray or palette, not interlaced, and no chunk but
    // IHDR, PLTE, tRNS, IDAT, IEND (a few real files carry tIME; one is 16-bit).
    const ref::png_header h = ref::reference_header(as_png(png));
    const auto chunks = chunks_of(png);
    const bool plain = std::all_of(chunks.begin(), chunks.end(), [](const ref::chunk_location& c) {
      return c.type == "IHDR" || c.type == "PLTE" || c.type == "tRNS" || c.type == "IDAT" || c.type == "IEND";
    });
    const bool eligible = h.bit_depth == 8 && (h.colour_type == 0 || h.colour_type == 3) && !h.interlaced && plain;
    REQUIRE(fast_agrees_with_reference(png) == eligible);
    ++(!eligible ? others : h.colour_type == 0 ? gray : palette);
  }
  // 115 gray masks: 108 eligible, 6 with a tIME chunk, 1 16-bit; all 202 palette masks; the 43
  // RGB/RGBA colour masks are not the fast path's business.
  REQUIRE(gray == 108);
  REQUIRE(palette == 202);
  REQUIRE(others == 7 + 43);
}

TEST_CASE("Whatever the fast path takes of PngSuite and the crashers, it decodes as the reference", "[decode][fast]") {
  std::vector<std::string> decoded;
  for (const char* dir : {"pngsuite", "png-crashers"}) {
    for (const fs::path& file : png_files(data_dir / dir)) {
      CAPTURE(file.string());
      if (fast_agrees_with_reference(read_png(file))) decoded.push_back(file.filename().string());
    }
  }
  // Most PngSuite files carry a gAMA chunk; the five plain 8-bit ones are the filter tests (one
  // filter type each; f04 is Paeth throughout). No corrupt file (x*.png) and no crasher gets
  // through.
  REQUIRE(decoded ==
          std::vector<std::string>{"f00n0g08.png", "f01n0g08.png", "f02n0g08.png", "f03n0g08.png", "f04n0g08.png"});
}

// ---------------------------------------------------------------------------------------------
// Synthetic frames

TEST_CASE("Synthetic WoodScape-like masks, adaptive or Sub-filtered, decode to their own ids", "[decode][fast]") {
  using dims = std::pair<std::uint32_t, std::uint32_t>;
  const auto [width, height] = GENERATE(dims{1280, 966}, dims{1, 1}, dims{1, 9}, dims{9, 1}, dims{3, 7}, dims{17, 5},
                                        dims{1000, 3}, dims{15, 16}, dims{16, 15}, dims{33, 31}, dims{640, 480});
  const maskscan::png_filter filter = GENERATE(maskscan::png_filter::adaptive, maskscan::png_filter::sub);
  CAPTURE(width, height, filter == maskscan::png_filter::sub);
  for (std::uint64_t index = 0; index < (width == 1280 ? 2U : 12U); ++index) {
    const bytes ids = maskscan::synth_mask(7, index, width, height);
    const bytes png = maskscan::encode_gray8_png(ids, width, height, filter, 6);
    require_decodes_to(png, ids);
  }
}

TEST_CASE("Random planes decode bit-exactly under every filter type, zlib setting and IDAT split", "[decode][fast]") {
  std::mt19937 rng(20240611);
  static constexpr std::uint32_t widths[] = {1,  2,  3,  5,  7,  8,   15,  16,  17,  31,
                                             32, 33, 47, 64, 65, 100, 127, 128, 129, 1000};
  static constexpr int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
  static const std::vector<std::vector<std::size_t>> splits = {{},           {1},  {0, 1},   {7, 0, 0, 3},
                                                               {1, 0, 1000}, {64}, {0, 5000}};
  std::uniform_int_distribution<int> pick(0, 1 << 30);
  std::size_t frames = 0, palette_frames = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::uint32_t width = widths[pick(rng) % std::size(widths)];
    const std::uint32_t height = 1 + static_cast<std::uint32_t>(pick(rng) % (width >= 500 ? 4 : 24));
    const bool noise = pick(rng) % 3 == 0;
    const bytes ids = random_plane(rng, width, height, noise);

    encoding e;
    const int filter_mode = pick(rng) % 6;  // 0..4: that filter on every row; 5: random per row
    const unsigned row_seed = static_cast<unsigned>(pick(rng));
    e.filter = [filter_mode, row_seed](std::uint32_t y) {
      return filter_mode < 5 ? static_cast<unsigned>(filter_mode) : (y * 2654435761U ^ row_seed) % 5;
    };
    e.level = pick(rng) % 10;
    e.strategy = strategies[pick(rng) % std::size(strategies)];
    e.mem_level = 1 + pick(rng) % 9;  // small memLevels cut the stream into many blocks
    e.idat_sizes = splits[static_cast<std::size_t>(pick(rng)) % splits.size()];
    if (pick(rng) % 2) {
      e.colour_type = 3;
      const int entries = 1 + pick(rng) % 256;
      e.palette = bytes(static_cast<std::size_t>(entries) * 3, 0x5a);
      if (pick(rng) % 2) e.transparency = bytes(static_cast<std::size_t>(1 + pick(rng) % entries), 0x80);
      ++palette_frames;
    } else if (pick(rng) % 3 == 0) {
      e.transparency = {0, static_cast<std::uint8_t>(pick(rng))};
    }
    CAPTURE(i, width, height, noise, filter_mode, e.level, e.strategy, e.mem_level, e.colour_type, e.idat_sizes.size());
    require_decodes_to(encode(ids, width, height, e), ids);
    ++frames;
  }
  REQUIRE(frames == 3000);
  REQUIRE(palette_frames > 1000);
}

// ---------------------------------------------------------------------------------------------
// Corruption

TEST_CASE("Whatever the fast path still decodes of a corrupted file, the reference decodes the same",
          "[decode][fast]") {
  std::mt19937 rng(99);
  const bytes small_ids = random_plane(rng, 40, 30, false);
  // Fixed Huffman codes in many blocks, with many 258-byte matches (litlen 285, one bit away from
  // 287): where libdeflate is more lenient than zlib.
  const bytes mask_ids = maskscan::synth_mask(5, 0, 96, 64);
  encoding fixed;
  fixed.strategy = Z_FIXED;
  fixed.mem_level = 1;
  fixed.filter = [](std::uint32_t y) { return y % 2 ? 2U : y % 3; };
  encoding split;
  split.colour_type = 3;
  split.palette = bytes(12 * 3, 9);
  split.transparency = bytes(5, 0);
  split.idat_sizes = {0, 1, 50};
  split.mem_level = 2;

  struct source {
    std::string name;
    bytes png;
    bool every_bit_of_the_zlib_stream;  ///< flip each bit of the stream (CRC recomputed)
  };
  const std::vector<source> sources = {
      {"f04n0g08 (Paeth)", read_png(data_dir / "pngsuite/f04n0g08.png"), true},
      {"voc", read_png(data_dir / "real/palette/voc2012_aug/2007_000032.png"), true},
      {"fixed codes", encode(mask_ids, 96, 64, fixed), true},
      {"split palette", encode(small_ids, 40, 30, split), true},
      {"camvid", read_png(data_dir / "real/gray8_ids/camvid_segnet/0016E5_07959.png"), false},
      {"synthetic sub",
       maskscan::encode_gray8_png(maskscan::synth_mask(3, 1, 160, 120), 160, 120, maskscan::png_filter::sub, 9), true},
  };

  for (const source& s : sources) {
    CAPTURE(s.name);
    REQUIRE(fast_agrees_with_reference(s.png));
    std::size_t tried = 0, decoded = 0;
    const auto attempt = [&](const bytes& png) {
      ++tried;
      decoded += fast_agrees_with_reference(png);
    };

    // Single-byte changes anywhere (almost all caught by a CRC).
    const std::size_t step = s.png.size() > 4000 ? 7 : 1;
    for (std::size_t at = 0; at < s.png.size(); at += step) {
      for (std::uint8_t x : {0x01, 0x80, 0xff}) {
        bytes png = s.png;
        png[at] ^= x;
        CAPTURE(at, int{x});
        attempt(png);
      }
    }
    // Every truncation, and bytes appended.
    for (std::size_t n = 0; n < s.png.size(); n += step)
      attempt(bytes(s.png.begin(), s.png.begin() + static_cast<std::ptrdiff_t>(n)));
    for (std::size_t n : {1, 4, 12}) {
      bytes png = s.png;
      png.insert(png.end(), n, 0);
      attempt(png);
    }
    // Chunk length fields edited.
    for (const ref::chunk_location& c : chunks_of(s.png)) {
      for (std::int64_t delta : {-4, -1, 1, 4}) {
        bytes png = s.png;
        const std::int64_t length = std::int64_t{c.length} + delta;
        if (length < 0) continue;
        for (int i = 0; i < 4; ++i) png[c.offset + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
        CAPTURE(c.type, delta);
        attempt(png);
      }
      for (std::uint32_t length : {0U, 0x7fffffffU, 0x80000000U, 0xffffffffU}) {
        bytes png = s.png;
        for (int i = 0; i < 4; ++i) png[c.offset + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
        attempt(png);
      }
    }
    // Bits of the zlib stream flipped under a recomputed CRC: only zlib itself can object.
    if (s.every_bit_of_the_zlib_stream) {
      for (const ref::chunk_location& c : chunks_of(s.png)) {
        if (c.type != "IDAT") continue;
        for (std::size_t at = c.offset + 8; at < c.offset + 8 + c.length; ++at) {
          for (int bit = 0; bit < 8; ++bit) {
            bytes png = s.png;
            png[at] ^= static_cast<std::uint8_t>(1U << bit);
            fix_crc(png, c.offset);
            CAPTURE(at, bit);
            attempt(png);
          }
        }
      }
    }
    INFO(tried << " corrupted versions, " << decoded << " of them decoded (identically)");
    CHECK(tried > 1000);
  }
}

TEST_CASE("Streams that zlib refuses but libdeflate inflates are not handled", "[decode][fast]") {
  // libspng inflates with zlib, so the reference refuses these; the fast path must not take them.
  // Each has a control that differs only in the offending code and that both decoders accept --
  // except that the fast path leaves every incomplete code to the reference, so it does not take
  // the one-symbol distance code even with the codeword zlib accepts.
  struct pair {
    std::string what;
    bytes refused, control;
    std::size_t size;
    bool fast_takes_control;
  };
  const std::vector<pair> cases = {
      {"litlen symbol 287", fixed_block_with_length(287), fixed_block_with_length(285), 260, true},
      {"litlen symbol 286", fixed_block_with_length(286), fixed_block_with_length(285), 260, true},
      {"distance symbol 30", fixed_block_with_distance(30), fixed_block_with_distance(29), 40004, true},
      {"distance symbol 31", fixed_block_with_distance(31), fixed_block_with_distance(29), 40004, true},
      {"the unused codeword of a one-symbol distance code", dynamic_block_with_one_distance_code(1, 1),
       dynamic_block_with_one_distance_code(1, 0), 4, false},
      {"an empty distance code, used", dynamic_block_with_one_distance_code(0, 0), {}, 4, false},
      {"32 distance codes", dynamic_block_with_32_distance_codes(), {}, 4, false},
  };
  for (const pair& c : cases) {
    CAPTURE(c.what);
    const bytes refused = png_around_deflate(c.refused, c.size);
    const reference_result expected = run_reference(refused);
    REQUIRE(expected.ec);
    REQUIRE_THAT(expected.diag.message, Catch::Contains("(zlib: "));  // zlib's verdict, as libspng inflates with it
    const fast_result fast = run_fast(refused);
    REQUIRE_FALSE(fast.decoded);
    REQUIRE(fast.rows == 0);
    if (c.control.empty()) continue;
    const bytes control = png_around_deflate(c.control, c.size);
    REQUIRE_FALSE(run_reference(control).ec);
    REQUIRE(fast_agrees_with_reference(control) == c.fast_takes_control);
  }
}

// ---------------------------------------------------------------------------------------------
// The contract

TEST_CASE("No row is delivered when the fast path does not handle a file", "[decode][fast]") {
  const bytes whole = read_png(data_dir / "real/palette/voc2012_aug/2007_000032.png");
  REQUIRE(fast_agrees_with_reference(whole));
  const auto chunks = chunks_of(whole);
  const ref::chunk_location idat =
      *std::find_if(chunks.begin(), chunks.end(), [](const ref::chunk_location& c) { return c.type == "IDAT"; });
  REQUIRE(std::count_if(chunks.begin(), chunks.end(), [](const ref::chunk_location& c) { return c.type == "IDAT"; }) ==
          1);

  bytes png = whole;
  bool reference_accepts = false;
  SECTION("a wrong Adler-32, seen only after the whole image is inflated") {
    png[idat.offset + 8 + idat.length - 1] ^= 1;
    fix_crc(png, idat.offset);
  }
  SECTION("a wrong IEND CRC, the file's last byte") { png.back() ^= 1; }
  SECTION("a filter type 5 on the last row") {
    // Re-encode: the last row's filter byte is set to 5 and the stream recompressed.
    label_plane plane;
    diagnostics diag;
    REQUIRE_FALSE(decode_png(as_png(whole), {}, plane, diag));
    encoding e;
    e.colour_type = 3;
    e.palette = bytes(256 * 3, 1);
    png = encode(plane.u8, plane.width, plane.height, e);
    REQUIRE(fast_agrees_with_reference(png));
    bytes raw;
    for (std::uint32_t y = 0; y < plane.height; ++y) {
      filter_row(y + 1 == plane.height ? 0 : 2, plane.u8.data() + std::size_t{y} * plane.width,
                 y ? plane.u8.data() + std::size_t{y - 1} * plane.width : nullptr, plane.width, raw);
    }
    raw[raw.size() - plane.width - 1] = 5;
    bytes body{137, 80, 78, 71, 13, 10, 26, 10};
    append(body, chunk("IHDR", ref::ihdr_data(plane.width, plane.height, 8, 3)));
    append(body, chunk("PLTE", e.palette));
    append(body, chunk("IDAT", zlib_stream(raw, 6, Z_DEFAULT_STRATEGY, 8)));
    append(body, chunk("IEND", {}));
    png = body;
  }
  SECTION("bytes after IEND, which libspng never reads") {
    png.push_back(0);
    reference_accepts = true;
  }
  const fast_result fast = run_fast(png);
  REQUIRE_FALSE(fast.decoded);
  REQUIRE(fast.rows == 0);
  REQUIRE(static_cast<bool>(run_reference(png).ec) == !reference_accepts);
}

TEST_CASE("on_header sees the size first: refusing it, or an impossible size, allocates nothing", "[decode][fast]") {
  const bytes png = read_png(data_dir / "pngsuite/f00n0g08.png");
  fast_png_scratch scratch;
  const fast_result refused = run_fast(png, scratch, false);
  REQUIRE_FALSE(refused.decoded);
  REQUIRE(refused.headers == 1);
  REQUIRE(refused.width == 32);
  REQUIRE(refused.height == 32);
  REQUIRE(refused.rows == 0);
  REQUIRE(scratch.inflated.capacity() == 0);

  // 100000 x 100000 pixels claimed, with a 13-byte zlib stream: deflate cannot expand that far.
  bytes huge{137, 80, 78, 71, 13, 10, 26, 10};
  append(huge, chunk("IHDR", ref::ihdr_data(100000, 100000, 8, 0)));
  append(huge, chunk("IDAT", zlib_stream(bytes(100, 0), 9, Z_DEFAULT_STRATEGY, 8)));
  append(huge, chunk("IEND", {}));
  const fast_result impossible = run_fast(huge, scratch);
  REQUIRE_FALSE(impossible.decoded);
  REQUIRE(impossible.headers == 1);
  REQUIRE(scratch.inflated.capacity() == 0);
}

TEST_CASE("Files outside the fast path's scope are left to the reference", "[decode][fast]") {
  // What libspng 0.7.3 does with each is noted: the fast path is stricter than it in several
  // places (anything after IEND, a missing IEND CRC, chunks it would silently drop).
  const bytes base = read_png(data_dir / "pngsuite/f00n0g08.png");
  const auto chunks = chunks_of(base);
  REQUIRE(chunks.size() == 3);  // IHDR, IDAT, IEND
  const auto at = [&](std::size_t k) { return base.begin() + static_cast<std::ptrdiff_t>(chunks[k].offset); };
  const bytes head(base.begin(), at(1)), idat(at(1), at(2)), iend(at(2), base.end());
  const auto join = [](std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts) append(out, p);
    return out;
  };
  const bytes signature(base.begin(), base.begin() + 8);
  const auto with_ihdr = [&](std::uint8_t depth, std::uint8_t colour, std::uint8_t interlace) {
    return join({signature, chunk("IHDR", ref::ihdr_data(32, 32, depth, colour, interlace)), idat, iend});
  };

  struct case_t {
    std::string what;
    bytes png;
    bool reference_accepts;
  };
  // Each case: the fast path refuses it without delivering a row, and the reference's verdict is
  // the one recorded.
  const auto check_refused = [](const std::vector<case_t>& refused) {
    for (const case_t& c : refused) {
      CAPTURE(c.what);
      const fast_result fast = run_fast(c.png);
      REQUIRE_FALSE(fast.decoded);
      REQUIRE(fast.rows == 0);
      const reference_result expected = run_reference(c.png);
      CAPTURE(expected.diag.message);
      CHECK(!expected.ec == c.reference_accepts);
    }
  };
  const std::vector<case_t> cases = {
      {"interlaced", read_png(data_dir / "pngsuite/basi0g08.png"), true},
      {"16-bit gray", read_png(data_dir / "pngsuite/basn0g16.png"), true},
      {"4-bit gray", read_png(data_dir / "pngsuite/basn0g04.png"), true},
      {"4-bit palette", read_png(data_dir / "pngsuite/basn3p04.png"), true},
      {"RGB", read_png(data_dir / "pngsuite/basn2c08.png"), false},
      {"IHDR with interlace 1 over non-interlaced data", with_ihdr(8, 0, 1), false},
      {"IHDR with bit depth 7", with_ihdr(7, 0, 0), false},
      {"gAMA before IDAT", join({head, chunk("gAMA", {0, 0, 0xb1, 0x8f}), idat, iend}), true},
      {"tEXt after IDAT", join({head, idat, chunk("tEXt", {'k', 0, 'v'}), iend}), true},
      {"a private chunk", join({head, chunk("prVt", {1}), idat, iend}), true},
      {"a byte after IEND", join({base, {0}}), true},
      {"a chunk after IEND", join({base, chunk("tEXt", {'k', 0, 'v'})}), true},
      {"a second IEND", join({base, iend}), true},
      {"no IEND CRC", bytes(base.begin(), base.end() - 4), false},  // truncated
      {"IEND with data", join({head, idat, chunk("IEND", {0})}), false},
      {"no IEND", join({head, idat}), false},
      {"PLTE in a gray file", join({head, chunk("PLTE", {1, 2, 3}), idat, iend}), true},
      {"tRNS of 1 byte in a gray file", join({head, chunk("tRNS", {3}), idat, iend}), true},
      {"two tRNS", join({head, chunk("tRNS", {0, 3}), chunk("tRNS", {0, 4}), idat, iend}), true},
      {"IDATs not consecutive", join({head, idat, chunk("tIME", {7, 230, 1, 1, 0, 0, 0}), idat, iend}), false},
  };
  check_refused(cases);

  // Palette files: PLTE must come once, before tRNS and IDAT; tRNS no longer than PLTE.
  const bytes p = read_png(data_dir / "pngsuite/basn3p08.png");
  const auto pc = chunks_of(p);
  std::vector<bytes> part;
  for (const ref::chunk_location& c : pc) {
    part.emplace_back(p.begin() + static_cast<std::ptrdiff_t>(c.offset),
                      p.begin() + static_cast<std::ptrdiff_t>(c.offset + 12 + c.length));
  }
  std::vector<std::string> types;
  for (const ref::chunk_location& c : pc) types.push_back(c.type);
  REQUIRE(types == std::vector<std::string>{"IHDR", "gAMA", "PLTE", "IDAT", "IEND"});
  const bytes sig(p.begin(), p.begin() + 8);
  const bytes plte = part[2];
  const std::size_t entries = pc[2].length / 3;
  REQUIRE(fast_agrees_with_reference(join({sig, part[0], plte, part[3], part[4]})));
  REQUIRE(fast_agrees_with_reference(join({sig, part[0], plte, chunk("tRNS", bytes(entries, 7)), part[3], part[4]})));
  const std::vector<case_t> palette_cases = {
      {"no PLTE", join({sig, part[0], part[3], part[4]}), false},
      {"two PLTE", join({sig, part[0], plte, plte, part[3], part[4]}), true},
      {"PLTE after IDAT", join({sig, part[0], part[3], plte, part[4]}), false},
      {"tRNS before PLTE", join({sig, part[0], chunk("tRNS", {1}), plte, part[3], part[4]}), true},
      {"tRNS longer than PLTE", join({sig, part[0], plte, chunk("tRNS", bytes(entries + 1, 7)), part[3], part[4]}),
       true},
      {"empty tRNS", join({sig, part[0], plte, chunk("tRNS", {}), part[3], part[4]}), true},
  };
  check_refused(palette_cases);
}

TEST_CASE("The scratch buffers are reused across frames, keeping their capacity", "[decode][fast]") {
  const bytes big = read_png(data_dir / "real/gray8_ids/camvid_segnet/0016E5_07959.png");
  const bytes small = read_png(data_dir / "pngsuite/f00n0g08.png");
  fast_png_scratch scratch;
  const fast_result first = run_fast(big, scratch);
  REQUIRE(first.decoded);
  const std::size_t capacity = scratch.inflated.capacity();
  const std::uint8_t* data = scratch.inflated.data();
  REQUIRE(capacity >= std::size_t{first.height} * (first.width + 1));
  REQUIRE(run_fast(small, scratch).decoded);
  REQUIRE(run_fast(big, scratch).ids == first.ids);
  REQUIRE(scratch.inflated.capacity() == capacity);
  REQUIRE(scratch.inflated.data() == data);
}
