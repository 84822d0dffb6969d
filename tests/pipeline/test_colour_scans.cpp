// Colour-coded masks (8-bit RGB/RGBA) through the whole scan pipeline, against truths that share no
// code with the library: colour tables typed in or parsed here from the datasets' own files (RUGD's
// colormap, UMich's README table, WoodScape's rgbLabels column of woodscape_meta/README.md), the
// per-colour counts of expected_counts.json (PIL + NumPy), and gray masks decoded by the test-only
// reference decoder and re-encoded as colour masks here. Checked: class pixels, unknown colours,
// heatmaps and components at every concurrency setting; that the instance divisor and remap never
// touch colour planes; and mixed gray + colour folders, with and without a colour table.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <maskscan/class_map.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/synth.hpp>

#include "support/concurrency.hpp"
#include "support/reference_png.hpp"
#include "support/results.hpp"
#include "support/string_makers.hpp"
#include "support/test_data.hpp"

using maskscan::test::concurrency_settings;
using maskscan::test::with;

namespace {
using namespace maskscan;
namespace fs = std::filesystem;
using bytes = std::vector<std::uint8_t>;
using colour_counts = std::map<std::uint32_t, std::uint64_t>;  // packed 0xRRGGBBAA -> pixels

const fs::path rgb_dir = test::data_root() / "real/rgb_color";

rgba opaque(unsigned r, unsigned g, unsigned b) {
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b), 255};
}

/// A class map of names and one colour per class (class k has colours[k]), table sorted by colour.
class_map map_of(std::string name, const std::vector<std::pair<std::string, rgba>>& classes) {
  class_map m;
  m.name = std::move(name);
  for (std::uint32_t id = 0; id < classes.size(); ++id) {
    m.names.push_back(classes[id].first);
    m.colours.push_back({classes[id].second, id});
  }
  std::ranges::sort(m.colours);
  return m;
}

/// RUGD_annotation-colormap.txt: "id name R G B" a line, ids 0..24 in order.
std::vector<std::pair<std::string, rgba>> rugd_classes() {
  std::ifstream in(rgb_dir / "rugd_sample/RUGD_annotation-colormap.txt");
  REQUIRE(in);
  std::vector<std::pair<std::string, rgba>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    unsigned id = 0, r = 0, g = 0, b = 0;
    std::string name;
    if (!(fields >> id >> name >> r >> g >> b)) continue;
    REQUIRE(id == out.size());
    out.emplace_back(name, opaque(r, g, b));
  }
  REQUIRE(out.size() == 25);
  return out;
}

/// The UMich CURLY table typed from rgb_color/README.md (the order of Pilot-ontology.json's roots),
/// checked against the ontology file's "#rrggbb" colours.
std::vector<std::pair<std::string, rgba>> umich_classes() {
  const std::vector<std::pair<std::string, rgba>> typed{{"road", opaque(29, 28, 33)},
                                                        {"sidewalk", opaque(208, 235, 160)},
                                                        {"vegetation", opaque(43, 237, 21)},
                                                        {"grass", opaque(217, 240, 17)},
                                                        {"terrain", opaque(186, 24, 65)},
                                                        {"pole", opaque(237, 9, 28)},
                                                        {"building", opaque(235, 45, 98)},
                                                        {"vehicle", opaque(20, 99, 143)},
                                                        {"human", opaque(157, 199, 194)},
                                                        {"bike", opaque(237, 61, 55)},
                                                        {"sky", opaque(32, 39, 232)},
                                                        {"sign", opaque(37, 193, 245)},
                                                        {"water", opaque(132, 143, 127)},
                                                        {"stairs", opaque(25, 151, 209)},
                                                        {"crosswalk", opaque(83, 90, 169)},
                                                        {"fallen logs", opaque(158, 163, 62)},
                                                        {"gravel", opaque(182, 55, 127)},
                                                        {"rock", opaque(101, 28, 173)},
                                                        {"Other", opaque(162, 168, 104)},
                                                        {"chopped vegetation/dead grass", opaque(162, 135, 176)},
                                                        {"dirt/sand pile", opaque(45, 149, 238)}};
  const auto roots = boost::json::parse(test::read_file(rgb_dir / "umich_curly/Pilot-ontology.json"))
                         .as_object()
                         .at("roots")
                         .as_array();
  REQUIRE(roots.size() == typed.size());
  for (std::size_t k = 0; k < roots.size(); ++k) {
    const std::string hex(roots[k].as_object().at("value").as_object().at("color").as_string());
    const rgba c = typed[k].second;
    CHECK(hex == fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b));
  }
  return typed;
}

/// The WoodScape rgbLabels colours (R,G,B), typed from woodscape_meta/README.md, ids 0..9.
const std::vector<rgba>& woodscape_rgb() {
  static const std::vector<rgba> colours{
      opaque(0, 0, 0),       opaque(255, 0, 255), opaque(0, 0, 255),   opaque(0, 255, 0),     opaque(255, 0, 0),
      opaque(255, 255, 255), opaque(0, 255, 255), opaque(255, 255, 0), opaque(255, 128, 128), opaque(128, 128, 0)};
  return colours;
}

/// expected_counts.json of rgb_color: file -> packed colour -> pixels ("r,g,b" is alpha 255).
const std::map<std::string, colour_counts>& expected_colour_counts() {
  static const auto counts = [] {
    std::map<std::string, colour_counts> out;
    const auto doc = boost::json::parse(test::read_file(rgb_dir / "expected_counts.json")).as_object();
    for (const auto& [file, per_colour] : doc) {
      auto& into = out[std::string(file)];
      for (const auto& [key, n] : per_colour.as_object()) {
        std::vector<unsigned> ch;
        std::istringstream fields{std::string(key)};
        for (std::string part; std::getline(fields, part, ',');) ch.push_back(static_cast<unsigned>(std::stoul(part)));
        REQUIRE((ch.size() == 3 || ch.size() == 4));
        if (ch.size() == 3) ch.push_back(255);
        const rgba c{static_cast<std::uint8_t>(ch[0]), static_cast<std::uint8_t>(ch[1]),
                     static_cast<std::uint8_t>(ch[2]), static_cast<std::uint8_t>(ch[3])};
        into[c.packed()] = n.to_number<std::uint64_t>();
      }
    }
    return out;
  }();
  return counts;
}

/// Colour counts through a table of class colours: class pixels, and the colours it lacks.
struct mapped_counts {
  std::vector<std::uint64_t> classes;
  std::vector<value_pixels> unknown;  // ascending by packed colour
};
mapped_counts map_through(const colour_counts& counts, const class_map& m) {
  mapped_counts out;
  out.classes.assign(m.names.size(), 0);
  for (const auto& [packed, n] : counts) {
    const auto it = std::ranges::find_if(m.colours, [&](const colour_entry& e) { return e.colour.packed() == packed; });
    if (it == m.colours.end()) {
      out.unknown.push_back({packed, n});
    } else {
      REQUIRE(it->value < out.classes.size());
      out.classes[it->value] += n;
    }
  }
  return out;
}

std::vector<fs::path> files_ending(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().ends_with(suffix)) out.push_back(e.path());
  std::ranges::sort(out);
  return out;
}

void write_png(const fs::path& file, const std::vector<std::byte>& png) {
  fs::create_directories(file.parent_path());
  test::write_file(file, std::string(reinterpret_cast<const char*>(png.data()), png.size()));
}

/// An 8-bit colour PNG of ids through `colours` (RGB, or RGBA with the colours' alpha).
std::vector<std::byte> colour_png(const std::vector<std::uint32_t>& ids, std::uint32_t width, std::uint32_t height,
                                  const std::vector<rgba>& colours, bool with_alpha, bool interlaced) {
  bytes rows;
  for (const std::uint32_t id : ids) {
    REQUIRE(id < colours.size());
    const rgba c = colours[id];
    rows.insert(rows.end(), {c.r, c.g, c.b});
    if (with_alpha) rows.push_back(c.a);
  }
  return test::encode_png({width, height, 8, with_alpha ? 6U : 2U, interlaced}, rows);
}

/// Pixels of each value, from the test-only reference decoder.
std::map<std::uint32_t, std::uint64_t> value_counts_of(const std::vector<std::uint32_t>& values) {
  std::map<std::uint32_t, std::uint64_t> out;
  for (auto v : values) ++out[v];
  return out;
}

/// Sum over the pixels of class c's heatmap.
std::uint64_t heat_sum(const heatmap_set& h, std::size_t c) {
  const std::size_t plane = std::size_t{h.width} * h.height;
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < plane; ++i) s += h.counts[c * plane + i];
  return s;
}

/// Heatmaps and component sizes agree with the class pixels of the rows.
void check_heatmaps_and_components(const dataset_stats& stats) {
  const std::size_t classes = stats.class_names.size();
  REQUIRE(stats.has_heatmaps);
  std::uint64_t heat_frames = 0;
  for (const auto& [key, heat] : stats.heatmaps) {
    CAPTURE(key.width, key.height);
    REQUIRE(heat.counts.size() == classes * key.width * key.height);
    std::vector<std::uint64_t> want(classes, 0);
    std::uint64_t frames = 0;
    for (const auto& row : stats.frames) {
      if (row.width != key.width || row.height != key.height) continue;
      ++frames;
      for (std::size_t c = 0; c < classes; ++c) want[c] += row.class_pixels[c];
    }
    CHECK(heat.frames == frames);
    heat_frames += heat.frames;
    for (std::size_t c = 0; c < classes; ++c) {
      CAPTURE(c);
      CHECK(heat_sum(heat, c) == want[c]);
    }
  }
  CHECK(heat_frames == stats.frames.size());

  REQUIRE(stats.components != 0);
  REQUIRE(stats.component_sizes.count("") == 1);
  const auto& sizes = stats.component_sizes.at("");
  REQUIRE(sizes.size() == classes);
  for (std::size_t c = 0; c < classes; ++c) {
    CAPTURE(c);
    std::uint64_t pixels = 0, components = 0, want_pixels = 0, want_components = 0;
    for (const auto& [size, n] : sizes[c]) {
      pixels += size * n;
      components += n;
    }
    for (const auto& row : stats.frames) {
      want_pixels += row.class_pixels[c];
      REQUIRE(row.instances.size() == classes);
      want_components += row.instances[c];
      if (row.class_pixels[c] == 0)
        CHECK(row.instances[c] == 0);
      else
        CHECK(row.instances[c] >= 1);
    }
    CHECK(pixels == want_pixels);
    CHECK(components == want_components);
  }
}

/// Gray WoodScape-like frames (synthesize_dataset) and the same frames as colour masks in the
/// rgbLabels colours, under the same names.
struct woodscape_pair {
  test::temp_dir dir;
  std::vector<std::string> names;
  std::map<std::string, std::map<std::uint32_t, std::uint64_t>> value_counts;  // name -> id -> pixels
  std::uint32_t width = 0, height = 0;

  /// Colour copies: RGB plain in rgb/; in rgba/ every file RGBA (alpha 255), every other one Adam7.
  woodscape_pair(std::uint64_t frames, std::uint32_t w, std::uint32_t h, std::uint64_t seed) : width(w), height(h) {
    synthesize_dataset(dir / "gray", test::synth_frames(frames, w, h, seed, 2));
    for (const auto& e : fs::directory_iterator(dir / "gray")) names.push_back(e.path().filename().string());
    std::ranges::sort(names);
    REQUIRE(names.size() == frames);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto image = test::reference_decode(test::read_file_bytes(dir / "gray" / names[i]));
      REQUIRE(image.header.width == w);
      REQUIRE(image.header.height == h);
      REQUIRE(image.header.colour_type == 0);
      value_counts[names[i]] = value_counts_of(image.values);
      write_png(dir / "rgb" / names[i], colour_png(image.values, w, h, woodscape_rgb(), false, false));
      write_png(dir / "rgba" / names[i], colour_png(image.values, w, h, woodscape_rgb(), true, i % 2 == 1));
    }
  }
  fs::path gray() const { return dir / "gray"; }
  fs::path rgb() const { return dir / "rgb"; }
  fs::path rgba_dir() const { return dir / "rgba"; }
};

}  // namespace

// --- 1. RUGD -------------------------------------------------------------------------------------

TEST_CASE(
    "colour scan: RUGD masks through a class map built from RUGD_annotation-colormap.txt count as "
    "expected_counts.json, with heatmaps and components, at every concurrency setting",
    "[colour-scan]") {
  const class_map rugd = map_of("RUGD (test)", rugd_classes());
  const auto& expected = expected_colour_counts();
  const auto dir = rgb_dir / "rugd_sample";

  scan_options base;
  use_class_map(base, rugd);
  base.heatmaps = true;
  base.components = 8;
  base.min_component_pixels = 1;  // every component an instance: a class present has at least one
  const auto reference =
      scan(frame_source::from_directory(dir), with(base, {true, 1, io_backend::threads, 128, decoder_kind::spng}));
  REQUIRE(reference.stats.errors.empty());
  REQUIRE(reference.stats.frames.size() == 26);
  CHECK(reference.stats.colours == rugd.colours);

  std::vector<std::uint64_t> total(25, 0);
  for (const auto& row : reference.stats.frames) {
    CAPTURE(row.path);
    const std::string key = "rugd_sample/" + row.path;
    REQUIRE(expected.count(key) == 1);
    const auto want = map_through(expected.at(key), rugd);
    REQUIRE(want.unknown.empty());  // README: every colour is in the table
    CHECK(row.width == 688);
    CHECK(row.height == 550);
    CHECK(row.class_pixels == want.classes);
    CHECK(row.unknown_colours.empty());
    CHECK(row.ignored.empty());
    CHECK(row.out_of_range.empty());
    for (std::size_t c = 0; c < 25; ++c) total[c] += want.classes[c];
  }
  const auto totals = compute_totals(reference.stats);
  CHECK(totals.unknown_colour_pixels == 0);
  CHECK(totals.unknown_colours.empty());
  CHECK(totals.pixels == 26u * 688u * 550u);
  CHECK(totals.labelled_pixels == totals.pixels);
  for (std::size_t c = 0; c < 25; ++c) CHECK(totals.classes[c].pixels == total[c]);
  // README: 23 of the 25 colours occur in this subset.
  CHECK(std::ranges::count_if(total, [](std::uint64_t n) { return n > 0; }) == 23);

  REQUIRE(reference.stats.heatmaps.size() == 1);
  CHECK(reference.stats.heatmaps.begin()->first == heatmap_key{"", 688, 550});
  check_heatmaps_and_components(reference.stats);

  for (const auto& c : concurrency_settings({1u, 2u})) {
    CAPTURE(c.describe());
    const auto r = scan(frame_source::from_directory(dir), with(base, c));
    CHECK_FALSE(r.partial);
    CHECK(r.stats == reference.stats);
  }
}

// --- 2. UMich CURLY ------------------------------------------------------------------------------

TEST_CASE(
    "colour scan: UMich RGBA masks count as expected_counts.json, the transparent pixels are unknown colour "
    "0,0,0,0, and the R=G=B id masks give the same classes with those pixels in Other",
    "[colour-scan]") {
  const auto classes = umich_classes();
  const class_map umich = map_of("UMich (test)", classes);
  std::vector<std::pair<std::string, rgba>> gray_classes;
  for (std::size_t k = 0; k < classes.size(); ++k) {
    const auto v = static_cast<std::uint8_t>(k);
    gray_classes.emplace_back(classes[k].first, rgba{v, v, v, 255});
  }
  const class_map umich_ids = map_of("UMich ids (test)", gray_classes);
  const auto& expected = expected_colour_counts();
  const auto dir = rgb_dir / "umich_curly";
  const auto seg_files = files_ending(dir, "seg.png");
  const auto id_files = files_ending(dir, "id.png");
  REQUIRE(seg_files.size() == 8);
  REQUIRE(id_files.size() == 8);
  const std::map<std::string, std::uint64_t> transparent{
      {"campus1seg.png", 3}, {"campus3seg.png", 2}, {"forest2seg.png", 5}};

  const bool serial = GENERATE(true, false);
  CAPTURE(serial);
  // Eight files through a class map, serial or on two workers: every one scanned.
  const auto scan_eight = [&](const std::vector<fs::path>& files, const class_map& map) {
    scan_options o;
    use_class_map(o, map);
    o.serial = serial;
    o.workers = 2;
    auto r = scan(frame_source::from_paths(files, dir), o);
    REQUIRE(r.stats.errors.empty());
    REQUIRE(r.stats.frames.size() == 8);
    return r;
  };
  const auto seg = scan_eight(seg_files, umich);
  for (const auto& row : seg.stats.frames) {
    CAPTURE(row.path);
    const auto want = map_through(expected.at("umich_curly/" + row.path), umich);
    CHECK(row.width == 640);
    CHECK(row.height == 480);
    CHECK(row.class_pixels == want.classes);
    CHECK(row.unknown_colours == want.unknown);
    // The unknown colours are exactly the transparent pixels the README names.
    std::vector<value_pixels> unknown;
    if (transparent.count(row.path)) unknown.push_back({rgba{0, 0, 0, 0}.packed(), transparent.at(row.path)});
    CHECK(row.unknown_colours == unknown);
    CHECK(row.ignored.empty());
    CHECK(row.out_of_range.empty());  // the marker of unknown colours is not a value of its own
  }
  const auto totals = compute_totals(seg.stats);
  CHECK(totals.unknown_colour_pixels == 10);
  REQUIRE(totals.unknown_colours.size() == 1);
  CHECK(totals.unknown_colours[0].value == 0x00000000u);
  CHECK(totals.unknown_colours[0].pixels == 10);
  CHECK(totals.unknown_colours[0].frames == 3);
  CHECK(totals.out_of_range_pixels == 0);
  CHECK(totals.labelled_pixels == 8u * 640u * 480u - 10u);

  // The id masks (RGB, R = G = B = id) through {(k,k,k) -> k}: the same classes, the transparent
  // pixels in class 18 "Other".
  const auto ids = scan_eight(id_files, umich_ids);
  for (std::size_t i = 0; i < 8; ++i) {
    const auto& id_row = ids.stats.frames[i];
    const auto& seg_row = seg.stats.frames[i];
    CAPTURE(id_row.path, seg_row.path);
    REQUIRE(id_row.path.substr(0, id_row.path.size() - 6) == seg_row.path.substr(0, seg_row.path.size() - 7));
    auto want = seg_row.class_pixels;
    if (transparent.count(seg_row.path)) want[18] += transparent.at(seg_row.path);
    CHECK(id_row.class_pixels == want);
    CHECK(id_row.unknown_colours.empty());
    CHECK(id_row.class_pixels == map_through(expected.at("umich_curly/" + id_row.path), umich_ids).classes);
  }
  CHECK(compute_totals(ids.stats).unknown_colour_pixels == 0);
}

// --- 3. WoodScape rgbLabels ----------------------------------------------------------------------

TEST_CASE(
    "colour scan: WoodScape-like frames as rgbLabels colour masks with the woodscape map give exactly the "
    "statistics of the gray frames",
    "[colour-scan]") {
  const woodscape_pair data(10, 64, 48, 5);  // seed 5: all ten classes occur at this size
  // Every class occurs somewhere, so every colour of the table is exercised.
  std::set<std::uint32_t> seen;
  for (const auto& [name, counts] : data.value_counts)
    for (const auto& [v, n] : counts) seen.insert(v);
  CHECK(seen == std::set<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  scan_options gray_options;
  gray_options.labels = "woodscape";  // WoodScape's ten classes (and a colour table gray masks do not use)
  gray_options.heatmaps = true;
  gray_options.components = 8;
  gray_options.min_component_pixels = 1;
  gray_options.workers = 2;
  scan_options colour_options = gray_options;
  use_class_map(colour_options, builtin_class_map("woodscape"));
  REQUIRE(colour_options.class_names == resolve_defaults(gray_options).class_names);

  const auto gray = scan(frame_source::from_directory(data.gray()), gray_options);
  REQUIRE(gray.stats.errors.empty());
  REQUIRE(gray.stats.frames.size() == 10);
  // The gray scan itself against the reference decoder.
  for (const auto& row : gray.stats.frames) {
    CAPTURE(row.path);
    std::vector<std::uint64_t> want(10, 0);
    for (const auto& [v, n] : data.value_counts.at(row.path)) {
      REQUIRE(v < 10);
      want[v] = n;
    }
    CHECK(row.class_pixels == want);
  }
  check_heatmaps_and_components(gray.stats);

  for (const auto& [label, dir] : {std::pair{"RGB", data.rgb()}, std::pair{"RGBA, half Adam7", data.rgba_dir()}}) {
    for (const bool serial : {false, true}) {
      CAPTURE(label, serial);
      auto o = colour_options;
      o.serial = serial;
      const auto colour = scan(frame_source::from_directory(dir), o);
      REQUIRE(colour.stats.errors.empty());
      REQUIRE(colour.stats.frames.size() == 10);
      for (std::size_t i = 0; i < 10; ++i) {
        CAPTURE(gray.stats.frames[i].path);
        // Path, size, classes, instances, no unknown colours (the files themselves differ).
        CHECK(test::without_stamp(colour.stats.frames[i]) == test::without_stamp(gray.stats.frames[i]));
      }
      CHECK(colour.stats.heatmaps == gray.stats.heatmaps);
      CHECK(colour.stats.component_sizes == gray.stats.component_sizes);
      CHECK(compute_totals(colour.stats).unknown_colour_pixels == 0);
    }
  }
}

// --- 4. divisor and remap do not touch colour planes ---------------------------------------------

TEST_CASE(
    "colour scan: the instance divisor and the remap apply to gray masks but never to colour planes, and an "
    "unknown colour stays an unknown colour",
    "[colour-scan]") {
  // Hand-built: classes a, b, c; (0,0,0) -> 0, (20,20,20) -> 1, (30,30,30) -> 2, (40,40,40) -> 1500 (ignored);
  // (1,2,3) and (0,0,0,0) are in no table. 4x3 pixels, RGBA.
  class_map m;
  m.name = "hand (test)";
  m.names = {"a", "b", "c"};
  m.ignore = {1500};
  m.colours = {{opaque(0, 0, 0), 0}, {opaque(20, 20, 20), 1}, {opaque(30, 30, 30), 2}, {opaque(40, 40, 40), 1500}};
  std::ranges::sort(m.colours);
  const std::vector<rgba> palette{opaque(0, 0, 0),    opaque(20, 20, 20), opaque(30, 30, 30),
                                  opaque(40, 40, 40), opaque(1, 2, 3),    rgba{0, 0, 0, 0}};
  const std::vector<std::uint32_t> picture{0, 0, 0, 1,  //
                                           2, 3, 3, 4,  //
                                           4, 4, 5, 0};
  test::temp_dir dir;
  write_png(dir / "colour.png", colour_png(picture, 4, 3, palette, true, false));
  // A 16-bit gray mask in the same folder, where both options must act: 0 -> 5 (out of range),
  // 2001 -> 2, 1 stays 1.
  bytes gray_rows;
  for (const std::uint16_t v : {0, 0, 2001, 2001, 1, 2001})
    gray_rows.insert(gray_rows.end(), {std::uint8_t(v >> 8), std::uint8_t(v)});
  write_png(dir / "gray16.png", test::encode_png({3, 2, 16, 0, false}, gray_rows));

  const std::vector<value_pixels> colour_unknown{{rgba{0, 0, 0, 0}.packed(), 1}, {opaque(1, 2, 3).packed(), 3}};
  struct variant {
    std::string label;
    std::uint32_t divisor = 0;
    std::vector<value_remap> remap;
  };
  const std::vector<variant> variants{
      {"none", 0, {}},
      {"divisor 1000", 1000, {}},
      {"remap 0->5", 0, {{0, 5}}},
      {"divisor 1000 + remap 0->5", 1000, {{0, 5}}},
      // Would catch the divisor or the remap reaching the unknown-colour marker 65535 (65535 / 1000 = 65) or a
      // table value (1500 / 1000 = 1).
      {"divisor 1000 + remap of 0, 1, 2, 65, 1500, 65535",
       1000,
       {{0, 5}, {1, 2}, {2, 0}, {65, 1}, {1500, 0}, {65535, 2}}},
  };

  const bool serial = GENERATE(true, false);
  for (const auto& v : variants) {
    CAPTURE(v.label, serial);
    scan_options o;
    use_class_map(o, m);
    o.instance_divisor = v.divisor;
    o.remap = v.remap;
    o.serial = serial;
    o.workers = 2;
    const auto r = scan(frame_source::from_directory(dir.path()), o);
    REQUIRE(r.stats.errors.empty());
    REQUIRE(r.stats.frames.size() == 2);
    const auto& colour = r.stats.frames[0];
    REQUIRE(colour.path == "colour.png");
    CHECK(colour.class_pixels == std::vector<std::uint64_t>{4, 1, 1});
    CHECK(colour.ignored == std::vector<value_pixels>{{1500, 2}});
    CHECK(colour.out_of_range.empty());
    CHECK(colour.unknown_colours == colour_unknown);

    // The gray mask shows the options were in effect.
    const auto& gray = r.stats.frames[1];
    REQUIRE(gray.path == "gray16.png");
    CHECK(gray.unknown_colours.empty());
    std::map<std::uint32_t, std::uint64_t> raw{{0, 2}, {2001, 3}, {1, 1}};
    std::vector<std::uint64_t> want_classes(3, 0);
    std::map<std::uint32_t, std::uint64_t> want_ignored, want_out;
    for (const auto& [value, n] : raw) {
      std::uint32_t x = v.divisor && value >= v.divisor ? value / v.divisor : value;
      for (const auto& rm : v.remap)
        if (rm.from == x) {
          x = rm.to;
          break;
        }
      if (x == 1500)
        want_ignored[x] += n;
      else if (x < 3)
        want_classes[x] += n;
      else
        want_out[x] += n;
    }
    CHECK(gray.class_pixels == want_classes);
    std::vector<value_pixels> ignored, out;
    for (const auto& [x, n] : want_ignored) ignored.push_back({x, n});
    for (const auto& [x, n] : want_out) out.push_back({x, n});
    CHECK(gray.ignored == ignored);
    CHECK(gray.out_of_range == out);
  }

  SECTION("RUGD with divisor 1000 and remap 0->5: the same counts as without them") {
    const class_map rugd = map_of("RUGD (test)", rugd_classes());
    scan_options plain;
    use_class_map(plain, rugd);
    plain.serial = serial;
    plain.workers = 2;
    auto changed = plain;
    changed.instance_divisor = 1000;
    changed.remap = {{0, 5}};
    const auto a = scan(frame_source::from_directory(rgb_dir / "rugd_sample"), plain);
    const auto b = scan(frame_source::from_directory(rgb_dir / "rugd_sample"), changed);
    REQUIRE(a.stats.errors.empty());
    REQUIRE(b.stats.errors.empty());
    CHECK(b.stats.remap == changed.remap);
    CHECK(b.stats.instance_divisor == 1000);
    CHECK(a.stats.frames == b.stats.frames);
    // void (0,0,0) occurs in some of them, so a remap 0 -> 5 would have shown.
    CHECK(compute_totals(a.stats).classes[0].pixels > 0);
  }
}

// --- 5. mixed folders ----------------------------------------------------------------------------

TEST_CASE(
    "colour scan: a folder of gray and colour masks counts both with the woodscape map, and without a colour "
    "table skips the colour ones as unsupported_color_type naming --labels",
    "[colour-scan]") {
  const woodscape_pair data(6, 40, 30, 33);
  // One folder: gray/<name> and rgb/<name> (the rgba/ copies removed).
  fs::remove_all(data.rgba_dir());
  scan_options gray_only;
  gray_only.class_names = woodscape_class_names();  // WoodScape's classes, no colour table
  gray_only.workers = 2;
  gray_only.heatmaps = true;
  const auto gray = scan(frame_source::from_directory(data.gray()), gray_only);
  REQUIRE(gray.stats.errors.empty());
  REQUIRE(gray.stats.frames.size() == 6);

  SECTION("with the woodscape map both kinds are counted, the colour frames as their gray twins") {
    for (const bool serial : {false, true}) {
      CAPTURE(serial);
      scan_options o;
      use_class_map(o, builtin_class_map("woodscape"));
      o.heatmaps = true;
      o.workers = 2;
      o.serial = serial;
      const auto r = scan(frame_source::from_directory(data.dir.path()), o);
      REQUIRE(r.stats.errors.empty());
      REQUIRE(r.stats.frames.size() == 12);
      std::map<std::string, const frame_row*> by_path;
      for (const auto& row : r.stats.frames) by_path[row.path] = &row;
      for (const auto& g : gray.stats.frames) {
        CAPTURE(g.path);
        for (const char* sub : {"gray/", "rgb/"}) {
          REQUIRE(by_path.count(sub + g.path) == 1);
          const frame_row& row = *by_path.at(sub + g.path);
          CHECK(row.class_pixels == g.class_pixels);
          CHECK(row.unknown_colours.empty());
          CHECK(row.out_of_range.empty());
        }
      }
      REQUIRE(r.stats.heatmaps.size() == 1);
      const auto& heat = r.stats.heatmaps.begin()->second;
      const auto& gray_heat = gray.stats.heatmaps.begin()->second;
      CHECK(heat.frames == 12);
      REQUIRE(heat.counts.size() == gray_heat.counts.size());
      bool doubled = true;
      for (std::size_t i = 0; i < heat.counts.size(); ++i)
        doubled = doubled && heat.counts[i] == 2 * gray_heat.counts[i];
      CHECK(doubled);
    }
  }

  SECTION("without a colour table the colour masks are skipped and the gray ones still counted") {
    class_map numbered;
    numbered.name = "numbered (test)";
    numbered.names = numbered_class_names(10);
    for (const bool use_numbered : {true, false}) {  // a class map without colours; the default options
      for (const bool serial : {false, true}) {
        CAPTURE(use_numbered, serial);
        scan_options o;
        if (use_numbered) use_class_map(o, numbered);
        REQUIRE(o.colours.empty());
        o.workers = 2;
        o.serial = serial;
        const auto r = scan(frame_source::from_directory(data.dir.path()), o);
        REQUIRE(r.stats.frames.size() == 6);
        REQUIRE(r.stats.errors.size() == 6);
        for (std::size_t i = 0; i < 6; ++i) {
          const auto& row = r.stats.frames[i];
          CHECK(row.path == "gray/" + gray.stats.frames[i].path);
          // Without a class map the classes are the values found: as many as the largest value needs.
          CHECK(r.stats.classes_from_values == !use_numbered);
          auto padded = row.class_pixels;
          padded.resize(10, 0);
          CHECK(padded == gray.stats.frames[i].class_pixels);
          const auto& e = r.stats.errors[i];
          CHECK(e.path == "rgb/" + gray.stats.frames[i].path);
          CHECK(e.code == errc::unsupported_color_type);
          CHECK(e.message.find("--labels") != std::string::npos);
          CHECK(e.message.find("RGB") != std::string::npos);
        }
        const auto totals = compute_totals(r.stats);
        CHECK(totals.frames == 6);
        CHECK(totals.skipped == 6);
      }
    }
  }
}
