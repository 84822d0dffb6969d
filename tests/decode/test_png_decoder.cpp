// decode_png against an independent decoder (tests/support/reference_png), the PngSuite, known
// decoder crashers, hand-built malformed files and the real masks in the shared test data.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "decode/png_decoder.hpp"
#include "support/reference_png.hpp"

namespace {

using namespace maskscan;
using namespace maskscan::detail;
namespace fs = std::filesystem;
namespace ref = maskscan::test;

const fs::path pngsuite_dir{MASKSCAN_TEST_DATA "/pngsuite"};
const fs::path crashers_dir{MASKSCAN_TEST_DATA "/png-crashers"};
const fs::path real_dir{MASKSCAN_TEST_DATA "/real"};

struct result {
  std::error_code ec;
  label_plane plane;
  diagnostics diag;
};

result decode(std::span<const std::byte> bytes, const decode_limits& limits = {}) {
  result r;
  r.ec = decode_png(bytes, limits, r.plane, r.diag);
  return r;
}

std::vector<fs::path> png_files(const fs::path& dir, bool recursive) {
  std::vector<fs::path> files;
  auto take = [&files](const fs::directory_entry& e) {
    if (e.is_regular_file() && e.path().extension() == ".png") files.push_back(e.path());
  };
  if (recursive) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) take(e);
  } else {
    for (const auto& e : fs::directory_iterator(dir)) take(e);
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool is_corrupt_suite_file(const fs::path& p) { return p.filename().string().front() == 'x'; }

std::uint32_t id_at(const label_plane& plane, std::size_t i) { return plane.depth == 16 ? plane.u16[i] : plane.u8[i]; }

/// Decodes `bytes` with both decoders and requires the same size, depth and ids.
void require_same_as_reference(std::span<const std::byte> bytes) {
  const ref::reference_image expected = ref::reference_decode(bytes);
  const result got = decode(bytes);
  INFO(got.diag.message);
  REQUIRE_FALSE(got.ec);
  REQUIRE(got.plane.width == expected.header.width);
  REQUIRE(got.plane.height == expected.header.height);
  REQUIRE(got.plane.depth == (expected.header.bit_depth == 16 ? 16U : 8U));
  const std::vector<std::uint8_t>& used8 = got.plane.u8;
  const std::vector<std::uint16_t>& used16 = got.plane.u16;
  REQUIRE((got.plane.depth == 16 ? used16.size() : used8.size()) == expected.values.size());

  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < expected.values.size(); ++i) {
    if (id_at(got.plane, i) != expected.values[i] && mismatches++ == 0) first = i;
  }
  INFO("first mismatch at pixel " << first << ": decoded " << (mismatches ? id_at(got.plane, first) : 0)
                                  << ", reference " << (mismatches ? expected.values[first] : 0));
  REQUIRE(mismatches == 0);
}

std::vector<std::byte> concat(std::initializer_list<std::vector<std::byte>> parts) {
  std::vector<std::byte> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

using ref::ihdr_data;
using ref::zlib_compress;

/// A one-IDAT PNG from already filtered scanlines (each starting with its filter byte).
std::vector<std::byte> build_png(const std::vector<std::uint8_t>& ihdr, const std::vector<std::uint8_t>& scanlines,
                                 const std::vector<std::uint8_t>& plte = {}) {
  std::vector<std::byte> png = concat({ref::png_signature_bytes(), ref::make_chunk("IHDR", ihdr)});
  if (!plte.empty()) png = concat({png, ref::make_chunk("PLTE", plte)});
  return concat({png, ref::make_chunk("IDAT", zlib_compress(scanlines)), ref::make_chunk("IEND", {})});
}

ref::chunk_location find_chunk(const std::vector<ref::chunk_location>& chunks, const std::string& type) {
  auto it = std::find_if(chunks.begin(), chunks.end(), [&](const ref::chunk_location& c) { return c.type == type; });
  REQUIRE(it != chunks.end());
  return *it;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PngSuite

TEST_CASE("Every grayscale and palette PngSuite file decodes to the reference decoder's ids", "[decode]") {
  std::size_t compared = 0;
  std::set<std::tuple<unsigned, unsigned, bool>> kinds;  // colour type, bit depth, interlaced
  for (const fs::path& file : png_files(pngsuite_dir, false)) {
    if (is_corrupt_suite_file(file)) continue;
    const std::vector<std::byte> bytes = ref::read_file_bytes(file);
    const ref::png_header h = ref::reference_header(bytes);
    if (h.colour_type != 0 && h.colour_type != 3) continue;
    CAPTURE(file.filename().string());
    require_same_as_reference(bytes);
    kinds.emplace(h.colour_type, h.bit_depth, h.interlaced);
    ++compared;
  }
  // 105 of the 175 PngSuite files are gray or palette and not corrupt; they cover gray 1/2/4/8/16
  // and palette 1/2/4/8 bits, each interlaced and not (9 x 2 kinds).
  REQUIRE(compared == 105);
  REQUIRE(kinds.size() == 18);
}

TEST_CASE("Every RGB, gray+alpha and RGBA PngSuite file is refused: colour masks need a table", "[decode]") {
  // No colour table given: 8-bit RGB/RGBA need one, 16-bit colour and gray+alpha are never masks.
  const auto expected_message = [](const ref::png_header& h) -> std::string {
    if (h.colour_type == 4)
      return "a gray+alpha PNG cannot be a mask: class ids need a gray or palette PNG, colour-coded masks an "
             "8-bit RGB or RGBA PNG";
    const std::string name = h.colour_type == 2 ? "RGB" : "RGBA";
    if (h.bit_depth == 16)
      return "a 16-bit " + name +
             " PNG (colour-coded mask) is not supported: colour masks must have 8 bits per channel";
    return "an " + name +
           " PNG (colour-coded mask) needs a colour table: use --labels with a class map that has colours";
  };
  std::size_t checked = 0;
  for (const fs::path& file : png_files(pngsuite_dir, false)) {
    if (is_corrupt_suite_file(file)) continue;
    const std::vector<std::byte> bytes = ref::read_file_bytes(file);
    const ref::png_header h = ref::reference_header(bytes);
    if (h.colour_type == 0 || h.colour_type == 3) continue;
    CAPTURE(file.filename().string(), h.colour_type);
    const result r = decode(bytes);
    REQUIRE(r.ec == errc::unsupported_color_type);
    REQUIRE(r.diag.message == expected_message(h));
    ++checked;
  }
  REQUIRE(checked == 56);
}

TEST_CASE("Every corrupt PngSuite file (x*.png) is rejected with its error and a message", "[decode]") {
  // All 14 are rejected by libspng 0.7.3 with our settings; none is tolerated.
  const std::map<std::string, errc> expected{
      {"xc1n0g08.png", errc::corrupt_png},  // colour type 1
      {"xc9n2c08.png", errc::corrupt_png},  // colour type 9
      {"xcrn0g04.png", errc::not_png},      // signature's LFs turned into CRs
      {"xcsn0g01.png", errc::corrupt_png},  // bad IDAT CRC (only seen when reading past the image)
      {"xd0n2c08.png", errc::corrupt_png},  // bit depth 0
      {"xd3n2c08.png", errc::corrupt_png},  // bit depth 3
      {"xd9n2c08.png", errc::corrupt_png},  // bit depth 99
      {"xdtn0g01.png", errc::corrupt_png},  // no IDAT chunk
      {"xhdn0g08.png", errc::corrupt_png},  // bad IHDR CRC
      {"xlfn0g04.png", errc::not_png},      // signature's CR turned into LF
      {"xs1n0g01.png", errc::not_png},      // signature 0x89 with its high bit cleared
      {"xs2n0g01.png", errc::not_png},      // signature 'P' -> 'Q'
      {"xs4n0g01.png", errc::not_png},      // signature 'G' -> 'g'
      {"xs7n0g01.png", errc::not_png},      // signature 0x1A -> space
  };
  std::size_t checked = 0;
  for (const fs::path& file : png_files(pngsuite_dir, false)) {
    if (!is_corrupt_suite_file(file)) continue;
    const std::string name = file.filename().string();
    CAPTURE(name);
    REQUIRE(expected.count(name) == 1);
    const result r = decode(ref::read_file_bytes(file));
    CAPTURE(r.diag.message);
    REQUIRE(r.ec);
    REQUIRE(r.ec == expected.at(name));
    REQUIRE_FALSE(r.diag.message.empty());
    ++checked;
  }
  REQUIRE(checked == expected.size());
}

// ---------------------------------------------------------------------------------------------
// Crashers

TEST_CASE("Every known PNG decoder crasher is rejected quickly, with a message", "[decode]") {
  // These two are refused for their colour type before the defect they carry is reached.
  const std::set<std::string> refused_for_colour{"huge_IDAT.png", "invalid_gray_alpha_sbit.png"};
  std::size_t checked = 0;
  for (const fs::path& file : png_files(crashers_dir, false)) {
    const std::string name = file.filename().string();
    CAPTURE(name);
    const std::vector<std::byte> bytes = ref::read_file_bytes(file);
    const auto start = std::chrono::steady_clock::now();
    const result r = decode(bytes);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CAPTURE(r.diag.message);
    REQUIRE(r.ec);
    REQUIRE(r.ec == (refused_for_colour.count(name) ? errc::unsupported_color_type : errc::corrupt_png));
    REQUIRE_FALSE(r.diag.message.empty());
    REQUIRE(elapsed < std::chrono::seconds(2));
    ++checked;
  }
  REQUIRE(checked == 27);
}

// ---------------------------------------------------------------------------------------------
// Hand-built inputs

TEST_CASE("An empty buffer is not a PNG, and the message says it is empty", "[decode]") {
  const result r = decode({});
  REQUIRE(r.ec == errc::not_png);
  REQUIRE_THAT(r.diag.message, Catch::Contains("empty"));
}

TEST_CASE("A buffer shorter than the PNG signature is not a PNG, and is called truncated", "[decode]") {
  const std::size_t size = GENERATE(1U, 4U, 7U);
  CAPTURE(size);
  const std::vector<std::byte> signature = ref::png_signature_bytes();
  const result r = decode(std::span(signature).first(size));
  REQUIRE(r.ec == errc::not_png);
  REQUIRE_THAT(r.diag.message, Catch::Contains("truncated"));
}

TEST_CASE("A file without the PNG signature is not a PNG, and a photo named .png says what it is", "[decode]") {
  using entry = std::pair<std::string, std::string>;  // bytes, message
  const auto [text, message] =
      GENERATE(entry{"hello, this is plainly not a PNG file\n", "not a PNG file (no PNG signature)"},
               entry{std::string("GIF89a\x01\x00\x01\x00", 10), "not a PNG file: it is a GIF image"},
               entry{std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11), "not a PNG file: it is a JPEG image"},
               entry{std::string("RIFF\x24\x00\x00\x00WEBPVP8 ", 16), "not a PNG file: it is a WebP image"},
               entry{std::string("II*\x00\x08\x00\x00\x00", 8), "not a PNG file: it is a TIFF image"},
               entry{std::string("RIFF\x24\x00\x00\x00WAVEfmt ", 16), "not a PNG file (no PNG signature)"});
  CAPTURE(message);
  std::vector<std::byte> bytes(text.size());
  std::transform(text.begin(), text.end(), bytes.begin(), [](char c) { return static_cast<std::byte>(c); });
  const result r = decode(bytes);
  REQUIRE(r.ec == errc::not_png);
  REQUIRE(r.diag.message == message);
}

TEST_CASE("A PNG cut short anywhere before its final IEND CRC is rejected", "[decode]") {
  const std::string name = GENERATE("basn0g08.png", "basi3p02.png", "basn0g16.png", "basi0g01.png");
  CAPTURE(name);
  const std::vector<std::byte> whole = ref::read_file_bytes(pngsuite_dir / name);
  REQUIRE_FALSE(decode(whole).ec);
  // Every cut: inside the signature, IHDR, IDAT, IEND, even of IEND's CRC alone (libspng 0.7.3
  // would accept that one: the chunk layout is walked before it reads the file).
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    CAPTURE(cut);
    const result r = decode(std::span(whole).first(cut));
    CAPTURE(r.diag.message);
    REQUIRE(r.ec == (cut < 8 ? errc::not_png : errc::corrupt_png));
    if (cut >= 8) REQUIRE_THAT(r.diag.message, Catch::StartsWith("truncated: the file ends"));
  }
}

TEST_CASE("A flipped byte anywhere in the IDAT chunk is rejected by its CRC", "[decode]") {
  const std::string name = GENERATE("basn0g08.png", "basi0g04.png", "basn3p08.png");
  CAPTURE(name);
  const std::vector<std::byte> whole = ref::read_file_bytes(pngsuite_dir / name);
  const ref::chunk_location idat = find_chunk(ref::png_chunks(whole), "IDAT");
  for (std::size_t i = idat.offset + 8; i < idat.offset + 12 + idat.length; ++i) {  // data + CRC
    std::vector<std::byte> bytes = whole;
    bytes[i] ^= std::byte{0x10};
    CAPTURE(i);
    const result r = decode(bytes);
    REQUIRE(r.ec == errc::corrupt_png);
    REQUIRE_THAT(r.diag.message, Catch::StartsWith("the IDAT chunk at offset " + std::to_string(idat.offset) +
                                                   " fails its CRC checksum"));
  }
}

TEST_CASE("A corrupted zlib stream under a matching CRC is rejected or decodes to the same ids", "[decode]") {
  // The chunk CRC is recomputed after the flip, so only zlib (a bad code, a wrong Adler-32) can
  // notice. libspng 0.7.3 alone stops inflating once it has every scanline and so misses some of
  // these (e.g. basn0g08 byte 37: 284 of 1024 pixels differ); the decoder's second inflate with
  // libdeflate checks the whole stream. A flip that only touches the padding bits after the final
  // code changes neither the data nor the Adler-32: such a file may decode, but only to exactly
  // the original ids -- never to different ones.
  const std::string name = GENERATE("basn0g08.png", "basi0g04.png", "basn3p08.png");
  CAPTURE(name);
  const std::vector<std::byte> whole = ref::read_file_bytes(pngsuite_dir / name);
  const result original = decode(whole);
  REQUIRE_FALSE(original.ec);
  const auto chunks = ref::png_chunks(whole);
  REQUIRE(std::count_if(chunks.begin(), chunks.end(), [](const auto& c) { return c.type == "IDAT"; }) == 1);
  const ref::chunk_location idat = find_chunk(chunks, "IDAT");
  const auto* data = reinterpret_cast<const std::uint8_t*>(whole.data()) + idat.offset + 8;
  const auto before = whole.begin() + static_cast<std::ptrdiff_t>(idat.offset);
  const auto after = whole.begin() + static_cast<std::ptrdiff_t>(idat.offset + 12 + idat.length);

  std::size_t harmless = 0;
  for (std::size_t i = 0; i < idat.length; ++i) {
    std::vector<std::uint8_t> zdata(data, data + idat.length);
    zdata[i] ^= 0x10;
    const std::vector<std::byte> bytes =
        concat({std::vector<std::byte>(whole.begin(), before), ref::make_chunk("IDAT", zdata),
                std::vector<std::byte>(after, whole.end())});
    CAPTURE(i);
    const result r = decode(bytes);
    if (!r.ec) {
      REQUIRE(r.plane.u8 == original.plane.u8);
      ++harmless;
      continue;
    }
    REQUIRE(r.ec == errc::corrupt_png);
    REQUIRE_FALSE(r.diag.message.empty());
  }
  // At most the one padding byte before the Adler-32 can be harmless.
  CHECK(harmless <= 1);
}

TEST_CASE("A bad CRC in an ancillary chunk is an error, not silently skipped", "[decode]") {
  const std::vector<std::byte> whole = ref::read_file_bytes(pngsuite_dir / "basn0g08.png");
  const ref::chunk_location ihdr = find_chunk(ref::png_chunks(whole), "IHDR");
  const std::string text("Comment\0a comment", 17);
  std::vector<std::byte> chunk = ref::make_chunk("tEXt", std::vector<std::uint8_t>(text.begin(), text.end()));
  const auto after_ihdr = whole.begin() + static_cast<std::ptrdiff_t>(ihdr.offset + 25);
  const std::vector<std::byte> head(whole.begin(), after_ihdr), tail(after_ihdr, whole.end());

  REQUIRE_FALSE(decode(concat({head, chunk, tail})).ec);  // the well-formed chunk is fine
  chunk.back() ^= std::byte{1};
  const result r = decode(concat({head, chunk, tail}));
  REQUIRE(r.ec == errc::corrupt_png);
  REQUIRE_THAT(r.diag.message, Catch::Contains("checksum"));
}

TEST_CASE("An IHDR claiming a huge image is refused as too large before anything is allocated", "[decode]") {
  using dims = std::pair<std::uint32_t, std::uint32_t>;
  const auto [width, height] =
      GENERATE(dims{100000, 100000}, dims{0x7fffffff, 0x7fffffff}, dims{0x7fffffff, 1}, dims{1, 0x10000001});
  const std::uint8_t depth = GENERATE(as<std::uint8_t>{}, 8, 16);
  CAPTURE(width, height, depth);
  // Signature, IHDR (with its CRC) and IEND: no image data at all.
  const std::vector<std::byte> bytes =
      concat({ref::png_signature_bytes(), ref::make_chunk("IHDR", ihdr_data(width, height, depth, 0)),
              ref::make_chunk("IEND", {})});
  label_plane plane;
  diagnostics diag;
  const std::error_code ec = decode_png(bytes, decode_limits{}, plane, diag);
  REQUIRE(ec == errc::image_too_large);
  REQUIRE_THAT(diag.message, Catch::Contains(std::to_string(width) + "x" + std::to_string(height)));
  REQUIRE_THAT(diag.message, Catch::Contains(std::to_string(decode_limits{}.max_pixels)));
  REQUIRE(plane.u8.capacity() == 0);
  REQUIRE(plane.u16.capacity() == 0);
}

TEST_CASE("A max_pixels limit below a real image's size refuses it, the exact size passes", "[decode]") {
  // basn0g08 is 32x32 = 1024 pixels.
  const std::vector<std::byte> bytes = ref::read_file_bytes(pngsuite_dir / "basn0g08.png");
  decode_limits limits;
  limits.max_pixels = 1023;
  const result too_large = decode(bytes, limits);
  REQUIRE(too_large.ec == errc::image_too_large);
  REQUIRE_THAT(too_large.diag.message, Catch::Contains("32x32") && Catch::Contains("1023"));
  limits.max_pixels = 1024;
  REQUIRE_FALSE(decode(bytes, limits).ec);
}

TEST_CASE("Samples are the raw stored values, never scaled to 8 bits", "[decode]") {
  SECTION("2-bit gray: sample 3 is id 3") {
    // One row of 4 pixels, 0 1 2 3, packed MSB first: 00 01 10 11.
    const result r = decode(build_png(ihdr_data(4, 1, 2, 0), {0, 0b00011011}));
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.depth == 8);
    REQUIRE(r.plane.u8 == std::vector<std::uint8_t>{0, 1, 2, 3});
  }
  SECTION("1-bit gray over a width that is not a multiple of 8") {
    const result r = decode(build_png(ihdr_data(10, 2, 1, 0), {0, 0b10110011, 0b01000000, 0, 0b00000001, 0b11000000}));
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.u8 == std::vector<std::uint8_t>{1, 0, 1, 1, 0, 0, 1, 1, 0, 1,  //
                                                    0, 0, 0, 0, 0, 0, 0, 1, 1, 1});
  }
  SECTION("16-bit gray: host-order values") {
    const result r = decode(build_png(ihdr_data(4, 1, 16, 0), {0, 0x00, 0x00, 0x00, 0x01, 0x65, 0x92, 0xFF, 0xFF}));
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.depth == 16);
    REQUIRE(r.plane.u16 == std::vector<std::uint16_t>{0, 1, 26002, 65535});
    REQUIRE(r.plane.u8.empty());
  }
  SECTION("4-bit palette: the index, not the colour") {
    const result r = decode(build_png(ihdr_data(3, 1, 4, 3), {0, 0x0F, 0x70}, std::vector<std::uint8_t>(16 * 3, 200)));
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.u8 == std::vector<std::uint8_t>{0, 15, 7});
  }
}

TEST_CASE("A palette index beyond the PLTE entries is returned as the id", "[decode]") {
  // libspng 0.7.3 does not check indices against PLTE for SPNG_FMT_PNG; the index is the id.
  const std::vector<std::byte> png = build_png(ihdr_data(4, 1, 8, 3), {0, 0, 1, 2, 200}, {0, 0, 0, 255, 255, 255});
  const result r = decode(png);
  INFO(r.diag.message);
  REQUIRE_FALSE(r.ec);
  REQUIRE(r.plane.u8 == std::vector<std::uint8_t>{0, 1, 2, 200});
  REQUIRE(ref::reference_decode(png).palette_entries == 2);
  require_same_as_reference(png);
}

TEST_CASE("A reused plane keeps its buffers' capacity across images", "[decode]") {
  const auto big = ref::read_file_bytes(real_dir / "gray8_ids/mmseg_testdata/loveda_0.png");
  const auto small = ref::read_file_bytes(pngsuite_dir / "basn0g08.png");
  const auto wide = ref::read_file_bytes(pngsuite_dir / "basn0g16.png");
  label_plane plane;
  diagnostics diag;
  REQUIRE_FALSE(decode_png(big, {}, plane, diag));
  REQUIRE(plane.pixels() == 1024U * 1024U);
  const std::size_t capacity8 = plane.u8.capacity();
  const std::uint8_t* data8 = plane.u8.data();

  REQUIRE_FALSE(decode_png(small, {}, plane, diag));
  REQUIRE(plane.u8.size() == 32U * 32U);
  REQUIRE(plane.u8.capacity() == capacity8);
  REQUIRE(plane.u8.data() == data8);

  REQUIRE_FALSE(decode_png(wide, {}, plane, diag));
  REQUIRE(plane.depth == 16);
  REQUIRE(plane.u16.size() == 32U * 32U);
  REQUIRE(plane.u8.empty());
  REQUIRE(plane.u8.capacity() == capacity8);
}

// ---------------------------------------------------------------------------------------------
// Real masks

TEST_CASE("Every real mask in gray8_ids and palette decodes to the reference decoder's ids", "[decode]") {
  std::size_t compared = 0, sixteen_bit = 0, palette = 0;
  for (const char* dir : {"gray8_ids", "palette"}) {
    for (const fs::path& file : png_files(real_dir / dir, true)) {
      CAPTURE(file.string());
      const std::vector<std::byte> bytes = ref::read_file_bytes(file);
      require_same_as_reference(bytes);
      const ref::png_header h = ref::reference_header(bytes);
      sixteen_bit += h.bit_depth == 16;
      palette += h.colour_type == 3;
      ++compared;
    }
  }
  REQUIRE(compared == 317);  // 115 gray (one of them the 16-bit instanceIds) + 202 palette
  REQUIRE(sixteen_bit == 1);
  REQUIRE(palette == 202);
}
