// `maskscan scan` on colour-coded masks (8-bit RGB/RGBA), run as a user runs it: a class-map JSON file
// written here from the dataset's own colour table (RUGD_annotation-colormap.txt, UMich's README table),
// a built-in map (--labels woodscape) on a mask it does not describe, and no --labels at all. The files
// written (summary.json, frames.csv) are checked against expected_counts.json of rgb_color.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
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

#include "support/results.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
namespace test = maskscan::test;
using test::quote;
using test::run_cli;
namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path rgb_dir = test::data_root() / "real/rgb_color";

struct colour {
  unsigned r = 0, g = 0, b = 0, a = 255;
  /// The key of expected_counts.json and of summary.json: "r,g,b" when opaque, else "r,g,b,a".
  std::string key() const {
    return a == 255 ? fmt::format("{},{},{}", r, g, b) : fmt::format("{},{},{},{}", r, g, b, a);
  }
  friend auto operator<=>(const colour&, const colour&) = default;
};

struct named_colour {
  std::string name;
  colour c;
};

/// RUGD_annotation-colormap.txt: "id name R G B" a line, ids 0..24 in order.
std::vector<named_colour> rugd_classes() {
  std::ifstream in(rgb_dir / "rugd_sample/RUGD_annotation-colormap.txt");
  REQUIRE(in);
  std::vector<named_colour> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    unsigned id = 0;
    named_colour n;
    if (!(fields >> id >> n.name >> n.c.r >> n.c.g >> n.c.b)) continue;
    REQUIRE(id == out.size());
    out.push_back(n);
  }
  REQUIRE(out.size() == 25);
  return out;
}

/// UMich CURLY, typed from rgb_color/README.md (ids in the order of Pilot-ontology.json's roots).
std::vector<named_colour> umich_classes() {
  return {{"road", {29, 28, 33}},
          {"sidewalk", {208, 235, 160}},
          {"vegetation", {43, 237, 21}},
          {"grass", {217, 240, 17}},
          {"terrain", {186, 24, 65}},
          {"pole", {237, 9, 28}},
          {"building", {235, 45, 98}},
          {"vehicle", {20, 99, 143}},
          {"human", {157, 199, 194}},
          {"bike", {237, 61, 55}},
          {"sky", {32, 39, 232}},
          {"sign", {37, 193, 245}},
          {"water", {132, 143, 127}},
          {"stairs", {25, 151, 209}},
          {"crosswalk", {83, 90, 169}},
          {"fallen logs", {158, 163, 62}},
          {"gravel", {182, 55, 127}},
          {"rock", {101, 28, 173}},
          {"Other", {162, 168, 104}},
          {"chopped vegetation/dead grass", {162, 135, 176}},
          {"dirt/sand pile", {45, 149, 238}}};
}

/// WoodScape rgbLabels colours (R,G,B), typed from woodscape_meta/README.md.
const std::vector<colour> woodscape_colours{{0, 0, 0},       {255, 0, 255},   {0, 0, 255},   {0, 255, 0},
                                            {255, 0, 0},     {255, 255, 255}, {0, 255, 255}, {255, 255, 0},
                                            {255, 128, 128}, {128, 128, 0}};

/// A class-map JSON file (docs/class-maps.md) of these classes, plus extra table entries.
void write_class_map(const fs::path& file, const std::string& name, const std::vector<named_colour>& classes,
                     const std::vector<std::pair<colour, unsigned>>& extra = {}) {
  json::array list;
  for (std::size_t id = 0; id < classes.size(); ++id) {
    const auto& c = classes[id].c;
    list.push_back({{"id", id}, {"name", classes[id].name}, {"colour", json::array{c.r, c.g, c.b}}});
  }
  json::object doc{{"name", name}, {"classes", std::move(list)}};
  if (!extra.empty()) {
    json::array colours;
    for (const auto& [c, value] : extra)
      colours.push_back({{"colour", json::array{c.r, c.g, c.b, c.a}}, {"value", value}});
    doc["colours"] = std::move(colours);
  }
  test::write_file(file, "// written by test_colour_cli.cpp\n" + json::serialize(doc) + "\n");
}

/// expected_counts.json of rgb_color for one file: colour -> pixels.
std::map<colour, std::uint64_t> expected_counts(const std::string& key) {
  static const auto doc = json::parse(test::read_file(rgb_dir / "expected_counts.json")).as_object();
  REQUIRE(doc.contains(key));
  std::map<colour, std::uint64_t> out;
  for (const auto& [k, n] : doc.at(key).as_object()) {
    std::vector<unsigned> ch;
    std::istringstream fields{std::string(k)};
    for (std::string part; std::getline(fields, part, ',');) ch.push_back(static_cast<unsigned>(std::stoul(part)));
    REQUIRE((ch.size() == 3 || ch.size() == 4));
    out[{ch[0], ch[1], ch[2], ch.size() == 4 ? ch[3] : 255u}] = n.to_number<std::uint64_t>();
  }
  return out;
}

/// Colour counts through a class table: pixels per class id, and the colours not in it.
struct mapped {
  std::vector<std::uint64_t> classes;
  std::map<std::string, std::uint64_t> unknown;  // "r,g,b[,a]" -> pixels
};
mapped map_through(const std::map<colour, std::uint64_t>& counts, const std::vector<colour>& table) {
  mapped out;
  out.classes.assign(table.size(), 0);
  for (const auto& [c, n] : counts) {
    const auto it = std::ranges::find(table, c);
    if (it == table.end())
      out.unknown[c.key()] += n;
    else
      out.classes[static_cast<std::size_t>(it - table.begin())] += n;
  }
  return out;
}
std::vector<colour> colours_of(const std::vector<named_colour>& classes) {
  std::vector<colour> out;
  for (const auto& n : classes) out.push_back(n.c);
  return out;
}

using test::read_csv;

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::ranges::find(header, name);
  REQUIRE(it != header.end());
  return static_cast<std::size_t>(it - header.begin());
}

json::object read_json(const fs::path& file) { return json::parse(test::read_file(file)).as_object(); }

std::uint64_t u64(const json::value& v) { return v.to_number<std::uint64_t>(); }

/// summary.json's unknown_colours as colour -> {pixels, frames}.
std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> unknown_colours_of(const json::object& summary) {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> out;
  for (const auto& u : summary.at("unknown_colours").as_array()) {
    const std::string key(u.at("colour").as_string());
    CHECK(out.count(key) == 0);
    out[key] = {u64(u.at("pixels")), u64(u.at("frames"))};
  }
  return out;
}

/// summary.json's files_with_unknown_colours as path -> colour -> pixels.
std::map<std::string, std::map<std::string, std::uint64_t>> files_with_unknown_of(const json::object& summary) {
  std::map<std::string, std::map<std::string, std::uint64_t>> out;
  for (const auto& f : summary.at("files_with_unknown_colours").as_array()) {
    auto& colours = out[std::string(f.at("path").as_string())];
    for (const auto& [k, n] : f.at("colours").as_object()) colours[std::string(k)] = u64(n);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "cli colour: RUGD with a class-map file written from its colormap counts every class as "
    "expected_counts.json, with the colours in summary.json and a zero unknown_colours column",
    "[cli][colour-scan]") {
  const auto classes = rugd_classes();
  const auto table = colours_of(classes);
  test::temp_dir tmp;
  const auto map_file = tmp / "rugd.json";
  write_class_map(map_file, "RUGD", classes);
  const auto input = rgb_dir / "rugd_sample";
  const auto out = tmp / "out";
  const auto r = run_cli("scan " + quote(input) + " --labels " + quote(map_file) + " --out " + quote(out));
  INFO(r.err);
  REQUIRE(r.status == 0);

  // Truth: expected_counts.json through the colormap, per file and in total.
  std::map<std::string, std::vector<std::uint64_t>> per_file;
  std::vector<std::uint64_t> total(25, 0);
  for (const auto& e : fs::directory_iterator(input)) {
    if (e.path().extension() != ".png") continue;
    const std::string name = e.path().filename().string();
    const auto m = map_through(expected_counts("rugd_sample/" + name), table);
    REQUIRE(m.unknown.empty());
    per_file[name] = m.classes;
    for (std::size_t c = 0; c < 25; ++c) total[c] += m.classes[c];
  }
  REQUIRE(per_file.size() == 26);

  const auto summary = read_json(out / "summary.json");
  CHECK(u64(summary.at("frames_scanned")) == 26);
  CHECK(u64(summary.at("frames_skipped")) == 0);
  CHECK(summary.at("errors").as_array().empty());
  CHECK(u64(summary.at("unknown_colour_pixels")) == 0);
  CHECK(summary.at("unknown_colours").as_array().empty());
  CHECK(summary.at("files_with_unknown_colours").as_array().empty());
  CHECK(u64(summary.at("out_of_range_pixels")) == 0);
  CHECK(u64(summary.at("options").at("colours")) == 25);
  const auto& listed = summary.at("classes").as_array();
  REQUIRE(listed.size() == 25);
  for (std::size_t id = 0; id < 25; ++id) {
    CAPTURE(id);
    const auto& c = listed[id].as_object();
    CHECK(u64(c.at("id")) == id);
    CHECK(c.at("name").as_string() == classes[id].name);
    REQUIRE(c.at("colour").is_string());
    CHECK(c.at("colour").as_string() == classes[id].c.key());  // "r,g,b"
    CHECK(u64(c.at("pixels")) == total[id]);
  }

  const auto frames = read_csv(out / "frames.csv");
  REQUIRE(frames.size() == 27);
  const auto& header = frames[0];
  const auto unknown_col = column(header, "unknown_colours");
  const auto first_class = column(header, "pixels_" + classes[0].name);
  for (std::size_t i = 1; i < frames.size(); ++i) {
    const auto& row = frames[i];
    CAPTURE(row[0]);
    REQUIRE(row.size() == header.size());
    CHECK(row[unknown_col] == "0");
    REQUIRE(per_file.count(row[0]) == 1);
    for (std::size_t c = 0; c < 25; ++c) CHECK(row[first_class + c] == std::to_string(per_file.at(row[0])[c]));
  }
}

TEST_CASE(
    "cli colour: the ADE20K full-format mask with --labels woodscape succeeds and reports every colour "
    "woodscape lacks with its exact pixels",
    "[cli][colour-scan]") {
  const auto file = rgb_dir / "ade20k_full_encoded/ADE_train_00000970_seg.png";
  const auto m = map_through(expected_counts("ade20k_full_encoded/ADE_train_00000970_seg.png"), woodscape_colours);
  REQUIRE(m.unknown.size() == 17);  // all 18 colours but 0,0,0 (woodscape void)
  std::uint64_t unknown_pixels = 0;
  for (const auto& [k, n] : m.unknown) unknown_pixels += n;
  REQUIRE(unknown_pixels + m.classes[0] == 1024u * 768u);

  test::temp_dir tmp;
  const auto out = tmp / "out";
  const auto r = run_cli("scan " + quote(file) + " --labels woodscape --out " + quote(out));
  INFO(r.err);
  REQUIRE(r.status == 0);  // unknown colours are reported, not an error

  const auto summary = read_json(out / "summary.json");
  CHECK(u64(summary.at("frames_scanned")) == 1);
  CHECK(u64(summary.at("frames_skipped")) == 0);
  CHECK(summary.at("errors").as_array().empty());
  CHECK(u64(summary.at("unknown_colour_pixels")) == unknown_pixels);
  CHECK(u64(summary.at("labelled_pixels")) == m.classes[0]);
  CHECK(u64(summary.at("out_of_range_pixels")) == 0);
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> want;
  for (const auto& [k, n] : m.unknown) want[k] = {n, 1};
  CHECK(unknown_colours_of(summary) == want);
  const auto& listed = summary.at("classes").as_array();
  REQUIRE(listed.size() == 10);
  for (std::size_t id = 0; id < 10; ++id) {
    CAPTURE(id);
    CHECK(u64(listed[id].at("pixels")) == m.classes[id]);
    CHECK(listed[id].at("colour").as_string() == woodscape_colours[id].key());
  }
  const auto files = files_with_unknown_of(summary);
  REQUIRE(files.size() == 1);
  const std::string path = files.begin()->first;
  CHECK(fs::path(path).filename() == "ADE_train_00000970_seg.png");
  CHECK(files.begin()->second == m.unknown);

  const auto frames = read_csv(out / "frames.csv");
  REQUIRE(frames.size() == 2);
  CHECK(frames[1][0] == path);
  CHECK(frames[1][column(frames[0], "unknown_colours")] == std::to_string(unknown_pixels));
}

TEST_CASE(
    "cli colour: UMich RGBA masks with a class-map file report the transparent pixels as unknown colour "
    "0,0,0,0, or count them as the class a table entry for 0,0,0,0 names",
    "[cli][colour-scan]") {
  const auto classes = umich_classes();
  const auto table = colours_of(classes);
  test::temp_dir tmp;
  // The *seg.png files alone (the *id.png beside them are another encoding of the same masks).
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(rgb_dir / "umich_curly")) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with("seg.png")) continue;
    fs::create_directories(tmp / "masks");
    fs::copy_file(e.path(), tmp / "masks" / name);
    names.push_back(name);
  }
  std::ranges::sort(names);
  REQUIRE(names.size() == 8);
  const std::map<std::string, std::uint64_t> transparent{
      {"campus1seg.png", 3}, {"campus3seg.png", 2}, {"forest2seg.png", 5}};

  std::vector<std::uint64_t> total(21, 0);
  std::map<std::string, std::map<std::string, std::uint64_t>> want_files;
  for (const auto& name : names) {
    const auto m = map_through(expected_counts("umich_curly/" + name), table);
    for (std::size_t c = 0; c < 21; ++c) total[c] += m.classes[c];
    if (!m.unknown.empty()) want_files[name] = m.unknown;
  }
  std::map<std::string, std::map<std::string, std::uint64_t>> typed_files;
  for (const auto& [name, n] : transparent) typed_files[name] = {{"0,0,0,0", n}};
  REQUIRE(want_files == typed_files);  // expected_counts.json agrees with the README

  SECTION("without an entry for 0,0,0,0: 10 pixels of unknown colour 0,0,0,0 in 3 frames") {
    write_class_map(tmp / "umich.json", "UMich CURLY", classes);
    const auto r = run_cli("scan " + quote(tmp / "masks") + " --labels " + quote(tmp / "umich.json") + " --out " +
                           quote(tmp / "out"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto summary = read_json(tmp / "out/summary.json");
    CHECK(u64(summary.at("frames_scanned")) == 8);
    CHECK(u64(summary.at("unknown_colour_pixels")) == 10);
    CHECK(unknown_colours_of(summary) ==
          std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>{{"0,0,0,0", {10, 3}}});
    CHECK(files_with_unknown_of(summary) == want_files);
    const auto& listed = summary.at("classes").as_array();
    REQUIRE(listed.size() == 21);
    for (std::size_t id = 0; id < 21; ++id) CHECK(u64(listed[id].at("pixels")) == total[id]);
    const auto frames = read_csv(tmp / "out/frames.csv");
    REQUIRE(frames.size() == 9);
    const auto col = column(frames[0], "unknown_colours");
    for (std::size_t i = 1; i < frames.size(); ++i) {
      CAPTURE(frames[i][0]);
      const auto it = transparent.find(frames[i][0]);
      CHECK(frames[i][col] == std::to_string(it == transparent.end() ? 0 : it->second));
    }
  }
  SECTION("with [0,0,0,0] -> 18 (Other) in \"colours\": no unknown colours, Other has the 10 pixels more") {
    write_class_map(tmp / "umich.json", "UMich CURLY", classes, {{colour{0, 0, 0, 0}, 18}});
    const auto r = run_cli("scan " + quote(tmp / "masks") + " --labels " + quote(tmp / "umich.json") + " --out " +
                           quote(tmp / "out"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto summary = read_json(tmp / "out/summary.json");
    CHECK(u64(summary.at("unknown_colour_pixels")) == 0);
    CHECK(summary.at("unknown_colours").as_array().empty());
    CHECK(summary.at("files_with_unknown_colours").as_array().empty());
    const auto& listed = summary.at("classes").as_array();
    REQUIRE(listed.size() == 21);
    for (std::size_t id = 0; id < 21; ++id) {
      CAPTURE(id);
      CHECK(u64(listed[id].at("pixels")) == total[id] + (id == 18 ? 10 : 0));
      // docs/class-maps.md: a class's display colour is its first opaque table entry, so the extra
      // transparent entry does not replace Other's own 162,168,104: every class keeps its colour.
      CHECK(listed[id].at("colour").as_string() == classes[id].c.key());
    }
  }
}

TEST_CASE(
    "cli colour: RUGD without --labels scans nothing: one line says why and how to fix it, summary.json lists "
    "every file, exit 1",
    "[cli][colour-scan]") {
  test::temp_dir tmp;
  const auto r = run_cli("scan " + quote(rgb_dir / "rugd_sample") + " --out " + quote(tmp / "out"));
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("nothing was scanned: all 26 files are colour-coded masks (RGB/RGBA), which needs a colour table: "
                   "give --labels FILE") != std::string::npos);
  // Said once, not once per file, and no table of zeros.
  CHECK(r.err.find("all 26 files") == r.err.rfind("all 26 files"));
  CHECK(r.err.find("rugd_sample/creek_00001.png") == std::string::npos);
  CHECK(r.out.find("frames scanned") == std::string::npos);
  const auto summary = read_json(tmp / "out/summary.json");
  CHECK(u64(summary.at("frames_scanned")) == 0);
  CHECK(u64(summary.at("frames_skipped")) == 26);
  const auto& errors = summary.at("errors").as_array();
  REQUIRE(errors.size() == 26);
  for (const auto& e : errors) {
    CHECK(e.at("error").as_string() == "unsupported_color_type");
    CHECK(std::string(e.at("message").as_string()).find("--labels") != std::string::npos);
  }
}
