// The statistics flags of `maskscan scan` (--labels, --remap, --components, --group-by, --split and the
// weight options), run as a user runs them: the files written, what they hold, and every refusal with
// its exit status and nothing written.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <maskscan/synth.hpp>

#include "support/reference_png.hpp"
#include "support/results.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
using test::quote;
using test::run_cli;
namespace fs = std::filesystem;
namespace json = boost::json;

using test::read_csv;

json::object read_json(const fs::path& file) { return json::parse(test::read_file(file)).as_object(); }

/// The regular files directly in a directory (not its subdirectories).
std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out.insert(e.path().filename().string());
  return out;
}

std::set<std::string> subdirectories(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.insert(e.path().filename().string());
  return out;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::ranges::find(header, name);
  REQUIRE(it != header.end());
  return static_cast<std::size_t>(it - header.begin());
}

std::string camera_of(const std::string& name) {
  for (const char* camera : {"FV", "RV", "MVL", "MVR"})
    if (name.ends_with(std::string("_") + camera + ".png")) return camera;
  return "unmatched";
}

/// 20 WoodScape-like frames (cameras FV, MVL, MVR, RV in turn) of 64x48.
struct small_woodscape {
  test::temp_dir dir;
  std::vector<std::string> names;
  small_woodscape() {
    synthesize_dataset(dir / "masks", test::synth_frames(20, 64, 48, 5, 2));
    for (const auto& e : fs::directory_iterator(dir / "masks")) names.push_back(e.path().filename().string());
    std::ranges::sort(names);
  }
  fs::path masks() const { return dir / "masks"; }
};

/// Per-class pixel and frame sums of the "classes" of a summary.json.
struct class_sums {
  std::vector<std::int64_t> pixels, frames_present;
  friend bool operator==(const class_sums&, const class_sums&) = default;
};
class_sums classes_of(const json::object& summary) {
  class_sums s;
  for (const auto& c : summary.at("classes").as_array()) {
    s.pixels.push_back(c.at("pixels").to_number<std::int64_t>());
    s.frames_present.push_back(c.at("frames_present").to_number<std::int64_t>());
  }
  return s;
}
void add(class_sums& into, const class_sums& s) {
  if (into.pixels.empty()) {
    into = s;
    return;
  }
  REQUIRE(into.pixels.size() == s.pixels.size());
  for (std::size_t i = 0; i < s.pixels.size(); ++i) {
    into.pixels[i] += s.pixels[i];
    into.frames_present[i] += s.frames_present[i];
  }
}

/// The layout of a grouped --out directory: every group has the files of the top level, the top-level
/// summary lists the groups, frames.csv says each frame's group, and the groups add up to the whole.
void check_grouped_layout(const fs::path& out, const std::map<std::string, std::set<std::string>>& expected) {
  const auto top_files = files_in(out);
  for (const char* f : {"summary.json", "frames.csv", "weights.csv", "cooccurrence.csv", "components.csv"})
    CHECK(top_files.count(f) == 1);
  REQUIRE(subdirectories(out) == std::set<std::string>{"groups"});
  std::set<std::string> expected_groups;
  for (const auto& [g, frames] : expected) expected_groups.insert(g);
  REQUIRE(subdirectories(out / "groups") == expected_groups);

  const auto top = read_json(out / "summary.json");
  CHECK_FALSE(top.contains("group"));
  std::int64_t frames_in_groups = 0;
  std::set<std::string> listed;
  for (const auto& g : top.at("groups").as_array()) {
    const std::string name(g.at("name").as_string());
    listed.insert(name);
    CHECK(g.at("directory").as_string() == "groups/" + name);
    CHECK(g.at("frames_scanned").to_number<std::int64_t>() == static_cast<std::int64_t>(expected.at(name).size()));
    CHECK(g.at("frames_skipped").to_number<std::int64_t>() == 0);
    frames_in_groups += g.at("frames_scanned").to_number<std::int64_t>();
  }
  CHECK(listed == expected_groups);
  CHECK(frames_in_groups == top.at("frames_scanned").to_number<std::int64_t>());

  // frames.csv at the top: a "group" column with each frame's group.
  const auto frames = read_csv(out / "frames.csv");
  REQUIRE(frames.size() > 1);
  CHECK(frames[0][0] == "path");
  CHECK(frames[0][1] == "group");
  std::map<std::string, std::set<std::string>> found;
  for (std::size_t i = 1; i < frames.size(); ++i) found[frames[i][1]].insert(frames[i][0]);
  CHECK(found == expected);

  class_sums group_sums;
  std::int64_t ignored = 0, out_of_range = 0, pixels = 0;
  for (const auto& [name, frames_of_group] : expected) {
    CAPTURE(name);
    const auto dir = out / "groups" / name;
    CHECK(files_in(dir) == top_files);
    CHECK(subdirectories(dir).empty());
    const auto rows = read_csv(dir / "frames.csv");
    REQUIRE(rows.size() == frames_of_group.size() + 1);
    CHECK(rows[0] == frames[0]);
    std::set<std::string> paths;
    for (std::size_t i = 1; i < rows.size(); ++i) {
      paths.insert(rows[i][0]);
      CHECK(rows[i][1] == name);
    }
    CHECK(paths == frames_of_group);
    const auto summary = read_json(dir / "summary.json");
    CHECK(summary.at("group").as_string() == name);
    CHECK(summary.at("frames_scanned").to_number<std::int64_t>() == static_cast<std::int64_t>(frames_of_group.size()));
    add(group_sums, classes_of(summary));
    ignored += summary.at("ignored_pixels").to_number<std::int64_t>();
    out_of_range += summary.at("out_of_range_pixels").to_number<std::int64_t>();
    pixels += summary.at("pixels").to_number<std::int64_t>();
  }
  CHECK(group_sums == classes_of(top));
  CHECK(ignored == top.at("ignored_pixels").to_number<std::int64_t>());
  CHECK(out_of_range == top.at("out_of_range_pixels").to_number<std::int64_t>());
  CHECK(pixels == top.at("pixels").to_number<std::int64_t>());
}

}  // namespace

TEST_CASE("cli statistics: CamVid with --labels camvid11 --components 8 writes every statistics file",
          "[cli][statistics]") {
  const auto camvid = test::data_root() / "real/gray8_ids/camvid_segnet";
  test::temp_dir work;
  const auto out = work / "out";
  const auto r =
      run_cli("scan " + quote(camvid) + " --labels camvid11 --components 8 --no-progress --out " + quote(out));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(files_in(out) ==
        std::set<std::string>{"summary.json", "frames.csv", "weights.csv", "cooccurrence.csv", "components.csv"});

  const auto summary = read_json(out / "summary.json");
  CHECK(summary.at("options").at("labels").as_string() == "camvid11");
  CHECK(summary.at("options").at("components").to_number<int>() == 8);
  CHECK(summary.at("frames_scanned").to_number<int>() == 101);
  const auto& weight_classes = summary.at("weights").at("classes").as_array();
  CHECK(weight_classes.size() == 11);
  const auto& classes = summary.at("classes").as_array();
  REQUIRE(classes.size() == 11);
  CHECK(classes[0].at("name").as_string() == "Sky");
  CHECK(classes[10].at("name").as_string() == "Bicyclist");
  // 11 (Unlabelled) is ignored, not a class.
  REQUIRE(summary.at("ignored").as_array().size() == 1);
  CHECK(summary.at("ignored").as_array()[0].at("value").to_number<int>() == 11);

  const auto weights = read_csv(out / "weights.csv");
  REQUIRE(weights.size() == 12);
  CHECK(weights[0][0] == "id");
  for (std::size_t c = 0; c < 11; ++c) {
    CHECK(weights[c + 1][0] == std::to_string(c));
    CHECK(weights[c + 1][1] == std::string(classes[c].at("name").as_string()));
  }

  // cooccurrence.csv: header + 11 rows; the diagonal is frames_present, and the matrix is symmetric.
  const auto co = read_csv(out / "cooccurrence.csv");
  REQUIRE(co.size() == 12);
  REQUIRE(co[0].size() == 12);
  CHECK(co[0][0] == "class");
  for (std::size_t a = 0; a < 11; ++a) {
    CAPTURE(a);
    REQUIRE(co[a + 1].size() == 12);
    CHECK(co[0][a + 1] == "with_" + std::string(classes[a].at("name").as_string()));
    CHECK(co[a + 1][0] == std::string(classes[a].at("name").as_string()));
    CHECK(std::stoll(co[a + 1][a + 1]) == classes[a].at("frames_present").to_number<std::int64_t>());
    for (std::size_t b = 0; b < 11; ++b) CHECK(co[a + 1][b + 1] == co[b + 1][a + 1]);
  }

  // components.csv: one row per class; its instances' and specks' pixels are the class's pixels
  // (the default --min-component-pixels 16 makes components of 1..15 pixels specks).
  const auto comp = read_csv(out / "components.csv");
  REQUIRE(comp.size() == 12);
  const auto pixels_col = column(comp[0], "pixels"), instances_col = column(comp[0], "instances");
  const auto specks_col = column(comp[0], "specks"), speck_pixels_col = column(comp[0], "speck_pixels");
  std::int64_t specks = 0;
  for (std::size_t c = 0; c < 11; ++c) {
    CHECK(std::stoll(comp[c + 1][pixels_col]) + std::stoll(comp[c + 1][speck_pixels_col]) ==
          classes[c].at("pixels").to_number<std::int64_t>());
    CHECK(std::stoll(comp[c + 1][instances_col]) + std::stoll(comp[c + 1][specks_col]) >=
          classes[c].at("frames_present").to_number<std::int64_t>());
    specks += std::stoll(comp[c + 1][specks_col]);
  }
  CHECK(specks > 0);
  // frames.csv has one instances_<class> column per class.
  const auto frames = read_csv(out / "frames.csv");
  REQUIRE(frames.size() == 102);
  for (const char* name : {"instances_Sky", "instances_Bicyclist"}) CHECK(std::ranges::count(frames[0], name) == 1);
}

TEST_CASE("cli statistics: --group-by writes groups/<G>/ with the same files and groups that add up to the whole",
          "[cli][statistics]") {
  const small_woodscape data;
  test::temp_dir work;
  const auto out = work / "out";
  const auto r =
      run_cli("scan " + quote(data.masks()) +
              " --group-by '_(FV|RV|MVL|MVR)\\.png$' --heatmaps --components 4 --no-progress --out " + quote(out));
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::map<std::string, std::set<std::string>> expected;
  for (const auto& name : data.names) expected[camera_of(name)].insert(name);
  REQUIRE(expected.size() == 4);
  for (const auto& [g, frames] : expected) REQUIRE(frames.size() == 5);
  check_grouped_layout(out, expected);
  CHECK(files_in(out).count("heatmaps_64x48.npy") == 1);
  CHECK(read_json(out / "summary.json").at("options").at("group_by").as_string() == "_(FV|RV|MVL|MVR)\\.png$");

  // A frame the expression does not match is in "unmatched".
  fs::copy_file(data.masks() / "00000_FV.png", data.masks() / "extra.png");
  const auto out2 = work / "out2";
  REQUIRE(run_cli("scan " + quote(data.masks()) +
                  " --group-by '_(FV|RV|MVL|MVR)\\.png$' --heatmaps --components 4 --no-progress --out " + quote(out2))
              .status == 0);
  expected["unmatched"] = {"extra.png"};
  check_grouped_layout(out2, expected);
}

TEST_CASE("cli statistics: --split NAME=LISTFILE groups the listed frames, the rest is unlisted", "[cli][statistics]") {
  const small_woodscape data;
  test::temp_dir work;
  test::write_file(work / "train.txt", "# training frames\n00000_FV.png\n./00001_MVL\n\n  00002_MVR.png  \n00003_RV\n");
  test::write_file(work / "val.txt", "masks/00004_FV.png\r\n00005_MVL\r\n");
  const auto out = work / "out";
  const auto r =
      run_cli("scan " + quote(data.masks()) + " --split train=" + quote(work / "train.txt") +
              " --split val=" + quote(work / "val.txt") + " --components 8 --no-progress --out " + quote(out));
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::map<std::string, std::set<std::string>> expected{
      {"train", {"00000_FV.png", "00001_MVL.png", "00002_MVR.png", "00003_RV.png"}},
      {"val", {"00005_MVL.png"}}};  // "masks/00004_FV" names a directory the relative paths do not have
  for (const auto& name : data.names)
    if (!expected["train"].count(name) && !expected["val"].count(name)) expected["unlisted"].insert(name);
  REQUIRE(expected["unlisted"].size() == 15);
  check_grouped_layout(out, expected);

  const auto splits = read_json(out / "summary.json").at("options").at("splits").as_array();
  REQUIRE(splits.size() == 2);
  CHECK(splits[0].at("name").as_string() == "train");
  CHECK(splits[0].at("entries").to_number<int>() == 4);
  CHECK(splits[1].at("name").as_string() == "val");
  CHECK(splits[1].at("entries").to_number<int>() == 2);
}

TEST_CASE("cli statistics: refused options exit 2, say why, and write nothing", "[cli][statistics]") {
  const auto camvid = test::data_root() / "real/gray8_ids/camvid_segnet";
  // Static: GENERATE makes its values once, on the first run of the test case, and they name these files.
  static const test::temp_dir work;
  test::write_file(work / "broken.json", "{\"classes\": [{\"id\": 0, \"name\": \"a\"},]}");
  test::write_file(work / "list.txt", "0001TP_008550.png\n");
  struct refusal {
    std::string flags;
    int status;
    std::vector<std::string> messages;  // each must appear in stderr
  };
  const auto c = GENERATE(values<refusal>({
      {"--labels nosuch",
       2,
       {"nosuch", "woodscape", "cityscapes", "cityscapes-train", "camvid11", "pascal-voc", "ade20k-150"}},
      {"--group-by '(a)(b)'", 2, {"--group-by", "capture group"}},
      {"--group-by '_(FV'", 2, {"--group-by"}},
      {"--split bad", 2, {"--split bad", "NAME=LISTFILE"}},
      {"--split =x.txt", 2, {"NAME=LISTFILE"}},
      {"--split 'a/b=" + (work / "list.txt").string() + "'", 2, {"--split"}},
      {"--split unlisted=" + quote(work / "list.txt"), 2, {"reserved"}},
      {"--split a=" + quote(work / "missing.txt"), 2, {(work / "missing.txt").string()}},
      {"--split a=" + quote(work / "list.txt") + " --split b=" + quote(work / "list.txt"), 2, {"'a'", "'b'"}},
      {"--group-by '_(FV)' --split a=" + quote(work / "list.txt"), 2, {"--split"}},
      {"--components 5", 2, {"--components"}},
      {"--enet-c 1", 2, {"ENet", "> 1"}},
      {"--effective-beta 1", 2, {"beta"}},
      {"--repeat-threshold 0", 2, {"threshold"}},
      {"--effective-unit seconds", 2, {"--effective-unit"}},
      {"--remap cityscapes-train --labels camvid11", 2, {"--remap", "camvid11"}},
      {"--remap nosuch", 2, {"nosuch", "cityscapes-train"}},
      {"--labels " + quote(work / "broken.json"), 2, {(work / "broken.json").string()}},
      {"--labels " + quote(work / "missing.json"), 2, {(work / "missing.json").string()}},
      {"--num-classes 100000", 2, {"--num-classes", "65536"}},
      {"--num-classes 0", 2, {"--num-classes"}},
      {"--ignore 70000", 2, {"--ignore", "70000"}},
      {"--ignore -1", 2, {"--ignore"}},
  }));
  CAPTURE(c.flags);
  const test::temp_dir run;
  const auto out = run / "out";
  const auto r = run_cli("scan " + quote(camvid) + " " + c.flags + " --no-progress --out " + quote(out));
  CAPTURE(r.err);
  CHECK(r.status == c.status);
  for (const auto& m : c.messages) {
    CAPTURE(m);
    CHECK(r.err.find(m) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(out));
  CHECK(r.out.find("frames scanned") == std::string::npos);
}

TEST_CASE("cli statistics: a class-map file with a remap and ignore values gives the hand-counted pixels",
          "[cli][statistics]") {
  test::temp_dir work;
  // 4x3, raw values:      counted as (remap 7->1, 1->2, 26->2, 27->2, 5->255; ignore 255 and 9):
  //    0  7   7  26          bg   road  road  car
  //   27  5 255   9          car  ign   ign   ign9
  //    1  2  40   7          car  car   oor   road
  // background 1, road 3, car 4 (a remap is one step: raw 1 -> 2, never on to another value),
  // ignored 255: 2 (raw 5 and 255), ignored 9: 1, out of range 40: 1.
  const std::vector<std::uint8_t> mask{0, 7, 7, 26, 27, 5, 255, 9, 1, 2, 40, 7};
  test::write_png(work / "masks/m.png", {4, 3, 8, 0, false}, mask);
  test::write_file(work / "map.json", R"({
  "name": "hand-made",
  // three classes; 255 and 9 are unlabelled
  "classes": [
    {"id": 2, "name": "car", "colour": [0, 0, 142]},
    {"id": 0, "name": "background"},
    {"id": 1, "name": "road", "colour": [128, 64, 128]}
  ],
  "ignore": [255, 9],
  "remap": {"7": 1, "1": 2, "26": 2, "27": 2, "5": 255}
})");

  const auto out = work / "out";
  const auto r = run_cli("scan " + quote(work / "masks") + " --labels " + quote(work / "map.json") +
                         " --no-progress --out " + quote(out));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto frames = read_csv(out / "frames.csv");
  REQUIRE(frames.size() == 2);
  // The map has a colour table, so frames.csv has an unknown_colours column (0 for a gray mask).
  CHECK(frames[0] == std::vector<std::string>{"path", "group", "width", "height", "pixels_background", "pixels_road",
                                              "pixels_car", "ignored", "out_of_range", "unknown_colours"});
  CHECK(frames[1] == std::vector<std::string>{"m.png", "", "4", "3", "1", "3", "4", "3", "1", "0"});

  const auto summary = read_json(out / "summary.json");
  CHECK(summary.at("options").at("labels").as_string() == (work / "map.json").string());
  const auto& classes = summary.at("classes").as_array();
  REQUIRE(classes.size() == 3);
  CHECK(classes[0].at("pixels").to_number<int>() == 1);
  CHECK(classes[1].at("pixels").to_number<int>() == 3);
  CHECK(classes[2].at("pixels").to_number<int>() == 4);
  CHECK(classes[1].at("colour").as_string() == "128,64,128");
  CHECK(summary.at("labelled_pixels").to_number<int>() == 8);
  CHECK(summary.at("ignored_pixels").to_number<int>() == 3);
  CHECK(summary.at("out_of_range_pixels").to_number<int>() == 1);
  const auto& ignored = summary.at("ignored").as_array();
  REQUIRE(ignored.size() == 2);
  CHECK(ignored[0].at("value").to_number<int>() == 9);
  CHECK(ignored[0].at("pixels").to_number<int>() == 1);
  CHECK(ignored[1].at("value").to_number<int>() == 255);
  CHECK(ignored[1].at("pixels").to_number<int>() == 2);
  const auto& oor = summary.at("out_of_range").as_array();
  REQUIRE(oor.size() == 1);
  CHECK(oor[0].at("value").to_number<int>() == 40);
  CHECK(oor[0].at("pixels").to_number<int>() == 1);
  const auto& remap = summary.at("options").at("remap").as_object();
  CHECK(remap.size() == 5);
  CHECK(remap.at("1").to_number<int>() == 2);
  CHECK(remap.at("5").to_number<int>() == 255);
}
