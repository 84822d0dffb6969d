// Colour-coded masks (8-bit RGB and RGBA PNGs) decoded through a colour table: the real colour
// masks of the shared test data against their expected_counts.json (RUGD, UMich CURLY with its
// transparent pixels, ADE20K full format as a mask no table describes), and hand-built files for
// the rules: exact match of all four channels, unknown colours counted and never guessed, Adam7,
// and the refusals (no table, 16 bits per channel, truncation, a lying header).
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "decode/png_decoder.hpp"
#include "support/reference_png.hpp"
#include "support/string_makers.hpp"

namespace {

using namespace maskscan;
using namespace maskscan::detail;
namespace fs = std::filesystem;
namespace ref = maskscan::test;
using bytes = std::vector<std::uint8_t>;
using table = std::vector<colour_entry>;

const fs::path rgb_dir{MASKSCAN_TEST_DATA "/real/rgb_color"};

struct result {
  std::error_code ec;
  label_plane plane;
  diagnostics diag;
};

result decode(std::span<const std::byte> png, const table& colours, const decode_limits& limits = {}) {
  result r;
  r.ec = decode_png(png, limits, r.plane, r.diag, colours);
  return r;
}

table sorted(table t) {
  std::sort(t.begin(), t.end());
  return t;
}

rgba opaque(unsigned r, unsigned g, unsigned b) {
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b), 255};
}

/// The entry of a table with this packed colour, or nullptr.
const colour_entry* entry_of(const table& t, std::uint32_t packed) {
  const auto it = std::find_if(t.begin(), t.end(), [&](const colour_entry& e) { return e.colour.packed() == packed; });
  return it == t.end() ? nullptr : &*it;
}

/// RUGD_annotation-colormap.txt: "id name R G B" a line (the name is one word).
table rugd_table() {
  std::ifstream in(rgb_dir / "rugd_sample/RUGD_annotation-colormap.txt");
  REQUIRE(in);
  table t;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    unsigned id = 0, r = 0, g = 0, b = 0;
    std::string name;
    if (!(fields >> id >> name >> r >> g >> b)) continue;
    t.push_back({opaque(r, g, b), id});
  }
  REQUIRE(t.size() == 25);
  return sorted(t);
}

/// Pilot-ontology.json: root k has colour "#rrggbb" and class id k (README.md of rgb_color).
table umich_table() {
  std::ifstream in(rgb_dir / "umich_curly/Pilot-ontology.json", std::ios::binary);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const auto roots = boost::json::parse(text.str()).as_object().at("roots").as_array();
  table t;
  for (std::uint32_t id = 0; id < roots.size(); ++id) {
    const std::string hex(roots[id].as_object().at("value").as_object().at("color").as_string());
    REQUIRE(hex.size() == 7);
    const auto v = static_cast<std::uint32_t>(std::stoul(hex.substr(1), nullptr, 16));
    t.push_back({opaque(v >> 16 & 0xFFU, v >> 8 & 0xFFU, v & 0xFFU), id});
  }
  REQUIRE(t.size() == 21);
  // Spot checks against the table typed out in README.md.
  REQUIRE(t[0].colour == rgba{29, 28, 33, 255});
  REQUIRE(t[18].colour == rgba{162, 168, 104, 255});
  REQUIRE(t[20].colour == rgba{45, 149, 238, 255});
  return sorted(t);
}

/// The table of the UMich *id.png files: RGB with R = G = B = class id.
table gray_rgb_table() {
  table t;
  for (std::uint8_t k = 0; k <= 20; ++k) t.push_back({rgba{k, k, k, 255}, k});
  return sorted(t);
}

/// expected_counts.json of rgb_color: file -> packed colour -> pixels. Keys are "r,g,b" (alpha
/// 255) or "r,g,b,a".
std::map<std::string, std::map<std::uint32_t, std::uint64_t>> expected_colour_counts() {
  std::ifstream in(rgb_dir / "expected_counts.json", std::ios::binary);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::map<std::uint32_t, std::uint64_t>> out;
  const boost::json::value doc = boost::json::parse(text.str());
  for (const auto& [file, counts] : doc.as_object()) {
    auto& per_colour = out[std::string(file)];
    for (const auto& [key, n] : counts.as_object()) {
      std::vector<unsigned> channels;
      std::istringstream fields{std::string(key)};
      for (std::string part; std::getline(fields, part, ',');)
        channels.push_back(static_cast<unsigned>(std::stoul(part)));
      REQUIRE((channels.size() == 3 || channels.size() == 4));
      if (channels.size() == 3) channels.push_back(255);
      const rgba c{static_cast<std::uint8_t>(channels[0]), static_cast<std::uint8_t>(channels[1]),
                   static_cast<std::uint8_t>(channels[2]), static_cast<std::uint8_t>(channels[3])};
      per_colour[c.packed()] = n.to_number<std::uint64_t>();
    }
  }
  return out;
}

std::vector<fs::path> png_files(const fs::path& dir, const std::string& suffix = ".png") {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() >= suffix.size() && name.ends_with(suffix)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Pixels per plane value.
std::map<std::uint32_t, std::uint64_t> value_counts(const label_plane& plane) {
  std::map<std::uint32_t, std::uint64_t> counts;
  if (plane.depth == 16) {
    for (std::uint16_t v : plane.u16) ++counts[v];
  } else {
    for (std::uint8_t v : plane.u8) ++counts[v];
  }
  return counts;
}

/// Splits expected colour counts by a table: the values of known colours, the unknown colours.
struct split_counts {
  std::map<std::uint32_t, std::uint64_t> values;  ///< value -> pixels, the marker for unknown colours
  std::vector<value_pixels> unknown;              ///< ascending by packed colour
};
split_counts split_by_table(const std::map<std::uint32_t, std::uint64_t>& colours, const table& t) {
  split_counts out;
  for (const auto& [packed, n] : colours) {
    if (const colour_entry* e = entry_of(t, packed)) {
      out.values[e->value] += n;
    } else {
      out.values[unknown_colour_marker] += n;
      out.unknown.push_back({packed, n});
    }
  }
  return out;
}

/// An 8-bit image from packed colours (0xRRGGBBAA): RGB drops alpha.
std::vector<std::byte> colour_png(std::uint32_t width, std::uint32_t height, const std::vector<std::uint32_t>& pixels,
                                  bool with_alpha, bool interlaced = false) {
  REQUIRE(pixels.size() == std::size_t{width} * height);
  bytes rows;
  for (std::uint32_t p : pixels) {
    const rgba c = rgba::unpack(p);
    rows.insert(rows.end(), {c.r, c.g, c.b});
    if (with_alpha) rows.push_back(c.a);
  }
  return ref::encode_png({width, height, 8, with_alpha ? 6U : 2U, interlaced}, rows);
}

std::vector<std::uint16_t> plane_values(const label_plane& plane) { return plane.u16; }

}  // namespace

TEST_CASE("RUGD colour masks decode through the RUGD colour table to the expected counts of each class",
          "[colour][decode][real]") {
  const table rugd = rugd_table();
  const auto expected = expected_colour_counts();
  const auto files = png_files(rgb_dir / "rugd_sample");
  REQUIRE(files.size() == 26);
  label_plane plane;  // reused across the frames, as a worker does
  for (const fs::path& file : files) {
    const std::string key = "rugd_sample/" + file.filename().string();
    CAPTURE(key);
    const auto png = ref::read_file_bytes(file);
    diagnostics diag;
    const auto ec = decode_png(png, {}, plane, diag, rugd);
    INFO(diag.message);
    REQUIRE_FALSE(ec);
    REQUIRE(plane.width == 688);
    REQUIRE(plane.height == 550);
    REQUIRE(plane.depth == 16);
    REQUIRE(plane.u16.size() == plane.pixels());
    REQUIRE(plane.u8.empty());
    const split_counts want = split_by_table(expected.at(key), rugd);
    REQUIRE(want.unknown.empty());  // README: every pixel colour is in the table
    REQUIRE(plane.unknown_colours.empty());
    REQUIRE(value_counts(plane) == want.values);
  }
}

TEST_CASE("UMich RGBA masks give the ids of the opaque colours and report transparent pixels as unknown colour 0,0,0,0",
          "[colour][decode][real]") {
  const table umich = umich_table();
  const auto expected = expected_colour_counts();
  const std::map<std::string, std::uint64_t> transparent{{"campus1", 3}, {"campus3", 2}, {"forest2", 5}};  // README
  const auto files = png_files(rgb_dir / "umich_curly", "seg.png");
  REQUIRE(files.size() == 8);
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    const std::string stem = name.substr(0, name.size() - std::string("seg.png").size());
    CAPTURE(name);
    const auto png = ref::read_file_bytes(file);
    REQUIRE(ref::reference_header(png).colour_type == 6);
    const result seg = decode(png, umich);
    INFO(seg.diag.message);
    REQUIRE_FALSE(seg.ec);
    REQUIRE(seg.plane.width == 640);
    REQUIRE(seg.plane.height == 480);
    REQUIRE(seg.plane.depth == 16);

    // The counts: opaque colours as their ids, (0,0,0,0) unknown with its exact count.
    const split_counts want = split_by_table(expected.at("umich_curly/" + name), umich);
    REQUIRE(value_counts(seg.plane) == want.values);
    REQUIRE(seg.plane.unknown_colours == want.unknown);
    const auto t = transparent.find(stem);
    if (t == transparent.end()) {
      REQUIRE(seg.plane.unknown_colours.empty());
    } else {
      REQUIRE(seg.plane.unknown_colours == std::vector<value_pixels>{{rgba{0, 0, 0, 0}.packed(), t->second}});
      REQUIRE(rgba{0, 0, 0, 0}.packed() == 0U);
    }

    // Pixel by pixel against the matching id mask (RGB, R = G = B = id): equal everywhere except at
    // the transparent pixels, which the id mask calls 18 "Other".
    const auto id_png = ref::read_file_bytes(rgb_dir / "umich_curly" / (stem + "id.png"));
    REQUIRE(ref::reference_header(id_png).colour_type == 2);
    const result ids = decode(id_png, gray_rgb_table());
    INFO(ids.diag.message);
    REQUIRE_FALSE(ids.ec);
    REQUIRE(ids.plane.unknown_colours.empty());
    REQUIRE(ids.plane.u16.size() == seg.plane.u16.size());
    std::uint64_t differing = 0, marked = 0;
    for (std::size_t i = 0; i < seg.plane.u16.size(); ++i) {
      const bool unknown = seg.plane.u16[i] == unknown_colour_marker;
      marked += unknown;
      if (seg.plane.u16[i] != ids.plane.u16[i]) {
        ++differing;
        CAPTURE(i);
        REQUIRE(unknown);
        REQUIRE(ids.plane.u16[i] == 18);
      }
    }
    const std::uint64_t want_transparent = t == transparent.end() ? 0 : t->second;
    REQUIRE(marked == want_transparent);
    REQUIRE(differing == want_transparent);
  }
}

TEST_CASE(
    "An ADE20K full-format mask with a table of other colours reports every colour as unknown with its exact count",
    "[colour][decode][real]") {
  const auto png = ref::read_file_bytes(rgb_dir / "ade20k_full_encoded/ADE_train_00000970_seg.png");
  const auto counts = expected_colour_counts().at("ade20k_full_encoded/ADE_train_00000970_seg.png");
  REQUIRE(counts.size() == 18);

  SECTION("a table that matches nothing loses nothing") {
    const table umich = umich_table();
    const result r = decode(png, umich);
    INFO(r.diag.message);
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.width == 1024);
    REQUIRE(r.plane.height == 768);
    std::vector<value_pixels> want;
    std::uint64_t total = 0;
    for (const auto& [packed, n] : counts) {
      want.push_back({packed, n});
      total += n;
    }
    REQUIRE(split_by_table(counts, umich).unknown == want);  // none of them is in the table
    REQUIRE(r.plane.unknown_colours == want);
    REQUIRE(total == r.plane.pixels());
    REQUIRE(value_counts(r.plane) == std::map<std::uint32_t, std::uint64_t>{{unknown_colour_marker, total}});
  }
  SECTION("RUGD's table knows black (void) only") {
    const table rugd = rugd_table();
    const result r = decode(png, rugd);
    INFO(r.diag.message);
    REQUIRE_FALSE(r.ec);
    const split_counts want = split_by_table(counts, rugd);
    REQUIRE(want.values.at(0) == 10027);
    REQUIRE(want.unknown.size() == 17);
    REQUIRE(r.plane.unknown_colours == want.unknown);
    REQUIRE(value_counts(r.plane) == want.values);
  }
}

TEST_CASE(
    "Hand-built RGB and RGBA masks: an exact match of all four channels gives the value, anything else is counted",
    "[colour][decode]") {
  // (1,2,3,128) is a table colour with alpha 128: it matches only an RGBA pixel of that alpha.
  const table colours = sorted({{rgba{10, 20, 30, 255}, 1},
                                {rgba{200, 100, 0, 255}, 2},
                                {rgba{1, 2, 3, 128}, 7},
                                {rgba{255, 255, 255, 255}, 65534}});
  const std::uint32_t a = 0x0A141EFF, b = 0xC86400FF, half = 0x01020380, white = 0xFFFFFFFF;
  const std::uint32_t clear_black = 0x00000000, clear_a = 0x0A141E00, opaque_half = 0x010203FF, red = 0xFF0000FF;

  SECTION("RGB: alpha is 255, so the alpha-128 entry matches nothing") {
    const std::vector<std::uint32_t> pixels{a, a, b, red, opaque_half, a, white, white, red, red, b, a};
    const result r = decode(colour_png(4, 3, pixels, false), colours);
    INFO(r.diag.message);
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.depth == 16);
    REQUIRE(plane_values(r.plane) ==
            std::vector<std::uint16_t>{1, 1, 2, 0xFFFF, 0xFFFF, 1, 65534, 65534, 0xFFFF, 0xFFFF, 2, 1});
    REQUIRE(r.plane.unknown_colours == std::vector<value_pixels>{{opaque_half, 1}, {red, 3}});
  }
  SECTION("RGBA: alpha 0 and alpha 255 are different colours, and a transparent pixel is never guessed") {
    const std::vector<std::uint32_t> pixels{a, clear_a, clear_black, half, opaque_half, b, clear_black, a};
    const result r = decode(colour_png(8, 1, pixels, true), colours);
    INFO(r.diag.message);
    REQUIRE_FALSE(r.ec);
    REQUIRE(plane_values(r.plane) == std::vector<std::uint16_t>{1, 0xFFFF, 0xFFFF, 7, 0xFFFF, 2, 0xFFFF, 1});
    REQUIRE(r.plane.unknown_colours == std::vector<value_pixels>{{clear_black, 2}, {opaque_half, 1}, {clear_a, 1}});
  }
  SECTION("the table's order does not matter") {
    table shuffled = colours;
    std::reverse(shuffled.begin(), shuffled.end());
    const std::vector<std::uint32_t> pixels{a, clear_a, half, b, white, red};
    const result r1 = decode(colour_png(3, 2, pixels, true), colours);
    const result r2 = decode(colour_png(3, 2, pixels, true), shuffled);
    REQUIRE_FALSE(r1.ec);
    REQUIRE_FALSE(r2.ec);
    REQUIRE(r1.plane.u16 == r2.plane.u16);
    REQUIRE(r1.plane.unknown_colours == r2.plane.unknown_colours);
  }
  SECTION("1x1 RGB and RGBA") {
    const result known = decode(colour_png(1, 1, {b}, false), colours);
    REQUIRE_FALSE(known.ec);
    REQUIRE(plane_values(known.plane) == std::vector<std::uint16_t>{2});
    REQUIRE(known.plane.unknown_colours.empty());
    const result unknown = decode(colour_png(1, 1, {clear_black}, true), colours);
    REQUIRE_FALSE(unknown.ec);
    REQUIRE(plane_values(unknown.plane) == std::vector<std::uint16_t>{0xFFFF});
    REQUIRE(unknown.plane.unknown_colours == std::vector<value_pixels>{{clear_black, 1}});
  }
  SECTION("runs across rows, and the last run of the image, are counted whole") {
    std::vector<std::uint32_t> pixels(5 * 4, red);
    pixels[0] = a;
    const result r = decode(colour_png(5, 4, pixels, false), colours);
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.unknown_colours == std::vector<value_pixels>{{red, 19}});
  }
  SECTION("many unknown colours: each counted once per colour, ascending") {
    std::vector<std::uint32_t> pixels;
    for (std::uint32_t i = 0; i < 300 * 2; ++i) pixels.push_back((i % 300) << 8 | 0xFFU);  // (0, i / 256, i % 256)
    const result r = decode(colour_png(300, 2, pixels, false), colours);
    REQUIRE_FALSE(r.ec);
    std::vector<value_pixels> want;
    for (std::uint32_t i = 0; i < 300; ++i) want.push_back({i << 8 | 0xFFU, 2});
    std::sort(want.begin(), want.end());
    REQUIRE(r.plane.unknown_colours == want);
  }
}

TEST_CASE("An interlaced (Adam7) RGB or RGBA mask decodes to the same plane as the plain one", "[colour][decode]") {
  const table colours = sorted({{rgba{10, 20, 30, 255}, 1}, {rgba{200, 100, 0, 255}, 2}, {rgba{0, 0, 0, 255}, 0}});
  const std::vector<std::uint32_t> palette{0x0A141EFF, 0xC86400FF, 0x000000FF, 0x00000000, 0x123456FF};
  for (const auto& [w, h] : std::vector<std::pair<std::uint32_t, std::uint32_t>>{{1, 1}, {3, 2}, {13, 11}, {64, 33}}) {
    for (const bool alpha : {false, true}) {
      CAPTURE(w, h, alpha);
      std::vector<std::uint32_t> pixels;
      std::vector<std::uint16_t> want;
      std::map<std::uint32_t, std::uint64_t> unknown;
      for (std::uint32_t i = 0; i < w * h; ++i) {
        std::uint32_t p = palette[(i * 7 + i / 5) % palette.size()];
        if (!alpha) p |= 0xFFU;  // RGB stores no alpha: it reads as 255
        pixels.push_back(p);
        const colour_entry* e = entry_of(colours, p);
        want.push_back(e ? static_cast<std::uint16_t>(e->value) : unknown_colour_marker);
        if (!e) ++unknown[p];
      }
      const auto plain_png = colour_png(w, h, pixels, alpha, false);
      const auto interlaced_png = colour_png(w, h, pixels, alpha, true);
      REQUIRE(ref::reference_header(interlaced_png).interlaced);
      const result plain = decode(plain_png, colours);
      const result interlaced = decode(interlaced_png, colours);
      INFO(plain.diag.message << " / " << interlaced.diag.message);
      REQUIRE_FALSE(plain.ec);
      REQUIRE_FALSE(interlaced.ec);
      REQUIRE(plain.plane.u16 == want);
      REQUIRE(interlaced.plane.u16 == want);
      std::vector<value_pixels> want_unknown;
      for (const auto& [p, n] : unknown) want_unknown.push_back({p, n});
      REQUIRE(plain.plane.unknown_colours == want_unknown);
      REQUIRE(interlaced.plane.unknown_colours == want_unknown);
    }
  }
}

TEST_CASE("An RGB or RGBA mask without a colour table is refused, and the message says to use --labels",
          "[colour][decode]") {
  const result rgb = decode(colour_png(2, 2, {0xFF, 0xFF, 0xFF, 0xFF}, false), {});
  REQUIRE(rgb.ec == errc::unsupported_color_type);
  REQUIRE(rgb.diag.message ==
          "an RGB PNG (colour-coded mask) needs a colour table: use --labels with a class map that has colours");
  const result rgba_png = decode(colour_png(2, 2, {0xFF, 0xFF, 0xFF, 0xFF}, true), {});
  REQUIRE(rgba_png.ec == errc::unsupported_color_type);
  REQUIRE(rgba_png.diag.message ==
          "an RGBA PNG (colour-coded mask) needs a colour table: use --labels with a class map that has colours");
  // And so are the real ones.
  const result rugd = decode(ref::read_file_bytes(rgb_dir / "rugd_sample/creek_00001.png"), {});
  REQUIRE(rugd.ec == errc::unsupported_color_type);
  REQUIRE(rugd.diag.message.find("--labels") != std::string::npos);
  REQUIRE(rugd.plane.u16.capacity() == 0);
  REQUIRE(rugd.plane.scratch.capacity() == 0);
}

TEST_CASE("A 16-bit RGB or RGBA mask is refused as unsupported, and the message names the bit depth",
          "[colour][decode]") {
  const table colours{{rgba{0, 0, 0, 255}, 0}};
  for (const unsigned colour_type : {2U, 6U}) {
    const unsigned channels = colour_type == 2 ? 3 : 4;
    const bytes rows(std::size_t{3} * 2 * channels * 2, 0);
    const auto png = ref::encode_png({3, 2, 16, colour_type, false}, rows);
    for (const table& t : {colours, table{}}) {
      CAPTURE(colour_type, t.size());
      const result r = decode(png, t);
      REQUIRE(r.ec == errc::unsupported_color_type);
      REQUIRE(r.diag.message.find("16-bit") != std::string::npos);
      REQUIRE(r.diag.message.find(colour_type == 2 ? "RGB PNG" : "RGBA PNG") != std::string::npos);
    }
  }
}

TEST_CASE("A gray+alpha PNG stays unsupported, with or without a colour table", "[colour][decode]") {
  const auto png = ref::encode_png({2, 2, 8, 4, false}, bytes(8, 0));
  for (const table& t : {table{}, table{{rgba{0, 0, 0, 255}, 0}}}) {
    const result r = decode(png, t);
    REQUIRE(r.ec == errc::unsupported_color_type);
    REQUIRE(r.diag.message.find("gray+alpha") != std::string::npos);
  }
}

TEST_CASE("A truncated RGB mask is corrupt, wherever it is cut", "[colour][decode]") {
  const table colours{{rgba{0, 0, 0, 255}, 0}};
  std::vector<std::uint32_t> pixels;
  for (std::uint32_t i = 0; i < 32 * 16; ++i) pixels.push_back((i * 2654435761U) | 0xFFU);  // barely compressible
  const auto png = colour_png(32, 16, pixels, false);
  REQUIRE_FALSE(decode(png, colours).ec);
  for (std::size_t cut = 8; cut < png.size(); ++cut) {
    CAPTURE(cut);
    const result r = decode(std::span(png).first(cut), colours);
    REQUIRE(r.ec == errc::corrupt_png);
    REQUIRE_FALSE(r.diag.message.empty());
  }
  // The real thing, cut in its image data.
  const auto rugd = ref::read_file_bytes(rgb_dir / "rugd_sample/creek_00001.png");
  const result r = decode(std::span(rugd).first(rugd.size() / 2), rugd_table());
  REQUIRE(r.ec == errc::corrupt_png);
  REQUIRE(r.diag.message.find("truncated") != std::string::npos);
}

TEST_CASE("A damaged zlib stream in an RGB mask under a matching CRC is corrupt, and zlib's verdict is given",
          "[colour][decode]") {
  const table colours{{rgba{0, 0, 0, 255}, 0}};
  std::vector<std::uint32_t> pixels(24 * 24, 0x000000FF);
  auto png = colour_png(24, 24, pixels, false);
  // Rewrite the IDAT with its Adler-32 broken and a fresh CRC.
  const auto chunks = ref::png_chunks(png);
  const auto idat = std::find_if(chunks.begin(), chunks.end(), [](const auto& c) { return c.type == "IDAT"; });
  REQUIRE(idat != chunks.end());
  bytes data(idat->length);
  std::memcpy(data.data(), png.data() + idat->offset + 8, idat->length);
  data.back() ^= 0x01;
  std::vector<std::byte> broken(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(idat->offset));
  const auto chunk = ref::make_chunk("IDAT", data);
  broken.insert(broken.end(), chunk.begin(), chunk.end());
  broken.insert(broken.end(), png.begin() + static_cast<std::ptrdiff_t>(idat->offset + 12 + idat->length), png.end());
  const result r = decode(broken, colours);
  REQUIRE(r.ec == errc::corrupt_png);
  REQUIRE(r.diag.message.find("Adler-32") != std::string::npos);
}

TEST_CASE("An RGB header claiming more than the file can hold is corrupt before anything is allocated",
          "[colour][decode][limits]") {
  const table colours{{rgba{0, 0, 0, 255}, 0}};
  const auto lying_png = [](std::uint32_t w, std::uint32_t h, std::uint8_t colour_type) {
    bytes ihdr;
    for (std::uint32_t v : {w, h})
      for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<std::uint8_t>(v >> s));
    ihdr.insert(ihdr.end(), {8, colour_type, 0, 0, 0});
    // A small zlib stream of zeros: far less than the claimed image.
    const auto small = ref::encode_png({16, 16, 8, 0, false}, bytes(256, 0));
    const auto chunks = ref::png_chunks(small);
    const auto& idat = chunks.at(1);
    REQUIRE(idat.type == "IDAT");
    std::vector<std::byte> png = ref::png_signature_bytes();
    const auto* small_bytes = reinterpret_cast<const std::uint8_t*>(small.data());
    for (const auto& c :
         {ref::make_chunk("IHDR", ihdr), ref::make_chunk("IDAT", std::span(small_bytes + idat.offset + 8, idat.length)),
          ref::make_chunk("IEND", {})})
      png.insert(png.end(), c.begin(), c.end());
    return png;
  };
  const decode_limits roomy{.max_pixels = std::uint64_t{1} << 40};

  SECTION("a huge claim") {
    for (const std::uint8_t colour_type : {std::uint8_t{2}, std::uint8_t{6}}) {
      const auto png = lying_png(16000, 16000, colour_type);
      const result r = decode(png, colours, roomy);
      REQUIRE(r.ec == errc::corrupt_png);
      REQUIRE(r.diag.message.find("the header claims 16000x16000") != std::string::npos);
      REQUIRE(r.plane.u16.capacity() == 0);
      REQUIRE(r.plane.scratch.capacity() == 0);
    }
  }
  SECTION("the rule counts 3 bytes a pixel for RGB and 4 for RGBA, not 1") {
    // The file's size does not depend on the claim; the deflate bound of png_bytes.hpp.
    const std::uint64_t bound = 1032 * lying_png(1, 1, 2).size() + 4096;
    const auto filtered = [](std::uint64_t w, std::uint64_t bytes_per_pixel) { return w * (1 + bytes_per_pixel * w); };
    for (const std::uint8_t colour_type : {std::uint8_t{2}, std::uint8_t{6}}) {
      const std::uint64_t channels = colour_type == 2 ? 3 : 4;
      std::uint32_t w = 1;
      while (filtered(w, channels) <= bound) ++w;  // the smallest square claim too big for this colour type
      CAPTURE(colour_type, w, bound);
      REQUIRE(filtered(w, channels - 1) <= bound);  // as one channel fewer it would fit
      const auto png = lying_png(w, w, colour_type);
      REQUIRE(1032 * png.size() + 4096 == bound);
      const result r = decode(png, colours, roomy);
      REQUIRE(r.ec == errc::corrupt_png);
      const std::string claim = "the header claims " + std::to_string(w) + "x" + std::to_string(w);
      REQUIRE(r.diag.message.find(claim) != std::string::npos);
      REQUIRE(r.plane.scratch.capacity() == 0);
      // One pixel less wide fits the rule: the file is then judged on its data (too short).
      const result fits = decode(lying_png(w - 1, w, colour_type), colours, roomy);
      if (std::uint64_t{w} * (1 + channels * (w - 1)) <= bound) {
        REQUIRE(fits.ec == errc::corrupt_png);
        REQUIRE(fits.diag.message.find("the header claims") == std::string::npos);
      }
    }
  }
}

TEST_CASE("A max_pixels limit below an RGB mask's size refuses it before the RGBA8 image is allocated",
          "[colour][decode][limits]") {
  const auto png = ref::read_file_bytes(rgb_dir / "rugd_sample/creek_00001.png");
  const table rugd = rugd_table();
  const result over = decode(png, rugd, {.max_pixels = 688 * 550 - 1});
  REQUIRE(over.ec == errc::image_too_large);
  REQUIRE(over.plane.scratch.capacity() == 0);
  REQUIRE(over.plane.u16.capacity() == 0);
  const result exact = decode(png, rugd, {.max_pixels = 688 * 550});
  REQUIRE_FALSE(exact.ec);
}

TEST_CASE("A gray or palette mask decoded with a colour table still decodes to its ids", "[colour][decode]") {
  const table rugd = rugd_table();
  SECTION("hand-built 8-bit gray") {
    const bytes ids{0, 1, 2, 255, 7, 7};
    const result r = decode(ref::encode_png({3, 2, 8, 0, false}, ids), rugd);
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.plane.depth == 8);
    REQUIRE(r.plane.u8 == ids);
    REQUIRE(r.plane.unknown_colours.empty());
  }
  SECTION("every real gray and palette mask: the same plane as without a table") {
    std::size_t files = 0;
    for (const char* dir : {"/real/gray8_ids", "/real/palette"}) {
      for (const auto& e : fs::recursive_directory_iterator(fs::path(MASKSCAN_TEST_DATA) / (dir + 1))) {
        if (!e.is_regular_file() || e.path().extension() != ".png") continue;
        CAPTURE(e.path().string());
        const auto png = ref::read_file_bytes(e.path());
        const result with = decode(png, rugd);
        const result without = decode(png, {});
        REQUIRE(with.ec == without.ec);
        REQUIRE(with.diag.message == without.diag.message);
        REQUIRE(with.plane.depth == without.plane.depth);
        REQUIRE(with.plane.u8 == without.plane.u8);
        REQUIRE(with.plane.u16 == without.plane.u16);
        REQUIRE(with.plane.unknown_colours.empty());
        ++files;
      }
    }
    REQUIRE(files > 0);
  }
  SECTION("a plane reused after a colour mask: unknown colours cleared, depth 8 again") {
    label_plane plane;
    diagnostics diag;
    REQUIRE_FALSE(decode_png(colour_png(2, 1, {0x123456FF, 0x000000FF}, false), {}, plane, diag, rugd));
    REQUIRE(plane.unknown_colours.size() == 1);
    REQUIRE_FALSE(decode_png(ref::encode_png({2, 1, 8, 0, false}, bytes{4, 5}), {}, plane, diag, rugd));
    REQUIRE(plane.depth == 8);
    REQUIRE(plane.u8 == bytes{4, 5});
    REQUIRE(plane.unknown_colours.empty());
    // An error clears them too.
    REQUIRE_FALSE(decode_png(colour_png(2, 1, {0x123456FF, 0x000000FF}, false), {}, plane, diag, rugd));
    REQUIRE(decode_png(std::span<const std::byte>{}, {}, plane, diag, rugd) == errc::not_png);
    REQUIRE(plane.unknown_colours.empty());
  }
}

TEST_CASE("An RGB mask's tRNS chunk is not applied: its pixels still read as opaque", "[colour][decode]") {
  const table colours{{rgba{0, 0, 0, 255}, 3}};
  auto png = colour_png(2, 1, {0x000000FF, 0x000000FF}, false);
  // tRNS for RGB: (0, 0, 0) is transparent. Inserted right after IHDR.
  const bytes trns{0, 0, 0, 0, 0, 0};
  const auto chunk = ref::make_chunk("tRNS", trns);
  png.insert(png.begin() + 8 + 25, chunk.begin(), chunk.end());
  const result r = decode(png, colours);
  INFO(r.diag.message);
  REQUIRE_FALSE(r.ec);
  REQUIRE(plane_values(r.plane) == std::vector<std::uint16_t>{3, 3});
  REQUIRE(r.plane.unknown_colours.empty());
}

TEST_CASE("A colour table value the plane cannot tell from the unknown-colour marker is refused", "[colour][decode]") {
  const table bad{{rgba{0, 0, 0, 255}, 65535}};
  label_plane plane;
  diagnostics diag;
  REQUIRE_THROWS_AS(decode_png(colour_png(1, 1, {0x000000FF}, false), {}, plane, diag, bad), std::invalid_argument);
}

TEST_CASE("A reused plane keeps the RGBA8 working space across colour masks", "[colour][decode]") {
  const table rugd = rugd_table();
  label_plane plane;
  diagnostics diag;
  const auto files = png_files(rgb_dir / "rugd_sample");
  REQUIRE_FALSE(decode_png(ref::read_file_bytes(files.at(0)), {}, plane, diag, rugd));
  const auto* scratch = plane.scratch.data();
  const auto* u16 = plane.u16.data();
  REQUIRE(plane.scratch.capacity() >= std::size_t{4} * 688 * 550);
  for (std::size_t i = 1; i < 4; ++i) {
    REQUIRE_FALSE(decode_png(ref::read_file_bytes(files.at(i)), {}, plane, diag, rugd));
    REQUIRE(plane.scratch.data() == scratch);
    REQUIRE(plane.u16.data() == u16);
  }
}

TEST_CASE("Every 8-bit RGB and RGBA PngSuite file: the colours a table lacks, then a table of them, agree",
          "[colour][decode]") {
  // A table of one colour none of the files has: every pixel is an unknown colour, each counted.
  const table none{{rgba{1, 2, 3, 4}, 0}};
  std::map<std::string, std::vector<std::uint16_t>> planes;  // file -> plane through the table of its colours
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(MASKSCAN_TEST_DATA) / "pngsuite")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".png" || name.front() == 'x') continue;
    const auto png = ref::read_file_bytes(e.path());
    const ref::png_header h = ref::reference_header(png);
    if ((h.colour_type != 2 && h.colour_type != 6) || h.bit_depth != 8) continue;
    CAPTURE(name);
    const result all_unknown = decode(png, none);
    INFO(all_unknown.diag.message);
    REQUIRE_FALSE(all_unknown.ec);
    std::uint64_t total = 0;
    for (const value_pixels& c : all_unknown.plane.unknown_colours) {
      total += c.pixels;
      REQUIRE(c.value != rgba{1, 2, 3, 4}.packed());
      if (h.colour_type == 2) REQUIRE((c.value & 0xFFU) == 0xFFU);  // RGB: alpha 255, tRNS or not
    }
    REQUIRE(total == all_unknown.plane.pixels());
    REQUIRE(std::all_of(all_unknown.plane.u16.begin(), all_unknown.plane.u16.end(),
                        [](std::uint16_t v) { return v == unknown_colour_marker; }));

    // Now with every colour of the file in the table (value = rank): nothing unknown, same counts.
    table own;
    std::map<std::uint32_t, std::uint64_t> want;
    for (const value_pixels& c : all_unknown.plane.unknown_colours) {
      want[static_cast<std::uint32_t>(own.size())] = c.pixels;
      own.push_back({rgba::unpack(c.value), static_cast<std::uint32_t>(own.size())});
    }
    const result known = decode(png, own);
    REQUIRE_FALSE(known.ec);
    REQUIRE(known.plane.unknown_colours.empty());
    REQUIRE(value_counts(known.plane) == want);
    // Packed colours back to the plane through the table: the same image as the first decode saw.
    planes[name] = known.plane.u16;
    ++files;
  }
  REQUIRE(files >= 30);
  // Files holding the same image (interlaced or not, other compression levels) give
  // the same colours in the same places. Their tables agree too: built from the same sorted colours.
  const std::vector<std::vector<std::string>> twins{{"basn2c08.png", "basi2c08.png"},
                                                    {"basn6a08.png", "basi6a08.png"},
                                                    {"z00n2c08.png", "z03n2c08.png", "z06n2c08.png", "z09n2c08.png"}};
  for (const auto& group : twins) {
    for (const std::string& name : group) {
      CAPTURE(group.front(), name);
      REQUIRE(planes.count(name) == 1);
      REQUIRE(planes.at(name) == planes.at(group.front()));
    }
  }
}
