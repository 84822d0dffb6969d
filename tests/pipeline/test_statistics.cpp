// The statistics of a scan against truths computed here, independently of the library: groups from
// the file names, class maps folded by tables typed in from the datasets' own sources, per-file counts
// of expected_counts.json (PIL + NumPy), connected components by a flood fill over planes decoded with
// the test-only reference decoder, and class weights from the formulas of docs/statistics.md.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <maskscan/balance.hpp>
#include <maskscan/class_map.hpp>
#include <maskscan/grouping.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/synth.hpp>

#include "support/concurrency.hpp"
#include "support/reference_png.hpp"
#include "support/results.hpp"
#include "support/test_data.hpp"

using maskscan::test::concurrency_settings;
using maskscan::test::with;

namespace {
using namespace maskscan;
namespace fs = std::filesystem;

const std::string camera_regex = R"(_(FV|RV|MVL|MVR)\.png$)";

/// 40 WoodScape-like frames in two sequences of two resolutions; the file names repeat between the
/// sequences (seqA/00000_FV.png and seqB/00000_FV.png), so list entries must tell them apart.
struct woodscape_like {
  test::temp_dir dir;
  std::vector<std::string> names;  // relative paths, sorted

  woodscape_like() {
    synthesize_dataset(dir / "seqA", test::synth_frames(20, 96, 72, 11, 2));
    synthesize_dataset(dir / "seqB", test::synth_frames(20, 80, 64, 12, 2));
    for (const auto& e : fs::recursive_directory_iterator(dir.path()))
      if (e.is_regular_file()) names.push_back(fs::relative(e.path(), dir.path()).generic_string());
    std::ranges::sort(names);
  }
  frame_source source() const { return frame_source::from_directory(dir.path()); }
};

const woodscape_like& woodscape_data() {
  static const woodscape_like data;
  return data;
}

/// The camera of a file name, read from its end (independent of the library's regex).
std::string camera_of(const std::string& name) {
  for (const char* camera : {"FV", "RV", "MVL", "MVR"})
    if (name.ends_with(std::string("_") + camera + ".png")) return camera;
  return "unmatched";
}

/// The checks every grouped scan must pass, whatever the grouping: ungrouping gives the ungrouped scan,
/// the groups are the expected ones, each group's statistics are those of a scan of its frames alone, and
/// the groups merge back into the whole.
void check_grouped(const scan_result& grouped, const scan_result& ungrouped, const scan_options& grouped_options,
                   const std::map<std::string, std::set<std::string>>& expected_groups) {
  const auto& data = woodscape_data();
  REQUIRE(grouped.stats.errors.empty());
  REQUIRE(grouped.stats.frames.size() == data.names.size());
  CHECK_FALSE(grouped.stats.grouping.empty());

  // (i) Without the groups it is exactly the ungrouped scan.
  CHECK(ungroup(grouped.stats) == ungrouped.stats);

  // (ii) Each row's group, and the groups' frames, are exactly the expected ones.
  std::map<std::string, std::set<std::string>> found;
  for (const auto& row : grouped.stats.frames) found[row.group].insert(row.path);
  CHECK(found == expected_groups);

  const auto groups = split_by_group(grouped.stats);
  std::set<std::string> group_names, expected_names;
  for (const auto& [name, stats] : groups) group_names.insert(name);
  for (const auto& [name, frames] : expected_groups) expected_names.insert(name);
  REQUIRE(group_names == expected_names);

  auto merged = make_stats(grouped_options);
  for (const auto& [name, stats] : groups) {
    CAPTURE(name);
    std::set<std::string> frames;
    for (const auto& row : stats.frames) {
      CHECK(row.group == name);
      frames.insert(row.path);
    }
    CHECK(frames == expected_groups.at(name));
    CHECK(stats.grouping == grouped.stats.grouping);
    // Heatmaps and component sizes of this group only; a heatmap counts the group's frames of its size.
    for (const auto& [key, heat] : stats.heatmaps) {
      CHECK(key.group == name);
      const auto frames_of_size = std::ranges::count_if(
          stats.frames, [&](const frame_row& r) { return r.width == key.width && r.height == key.height; });
      CHECK(heat.frames == static_cast<std::uint64_t>(frames_of_size));
    }
    REQUIRE(stats.component_sizes.size() == 1);
    CHECK(stats.component_sizes.begin()->first == name);

    // A group is what an ungrouped scan of its files alone gives.
    std::vector<fs::path> files;
    for (const auto& f : expected_groups.at(name)) files.push_back(data.dir.path() / f);
    auto alone_options = grouped_options;
    alone_options.group_by.clear();
    alone_options.splits.clear();
    alone_options.workers = 2;
    const auto alone = scan(frame_source::from_paths(files, data.dir.path()), alone_options);
    CHECK(ungroup(stats) == alone.stats);

    // (iii) The groups merge back into the whole.
    merge(merged, stats);
  }
  CHECK(merged == grouped.stats);
}

/// Expected counts of one file of a real family: value -> pixels.
test::value_counts expected_of(const fs::path& json, const std::string& key) {
  const auto all = test::load_expected_counts(json);
  REQUIRE(all.count(key) == 1);
  return all.at(key);
}

std::vector<value_pixels> as_value_pixels(const std::map<std::uint32_t, std::uint64_t>& m) {
  std::vector<value_pixels> out;
  for (const auto& [v, n] : m) out.push_back({v, n});
  return out;
}

/// cityscapesScripts helpers/labels.py: the labelIds with ignoreInEval = True.
const std::set<std::uint32_t> cityscapes_ignore_in_eval{0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18, 29, 30};

/// cityscapesScripts helpers/labels.py: labelId -> trainId; every other labelId 0..33 -> 255.
std::uint32_t cityscapes_train_id(std::uint32_t label_id) {
  static const std::map<std::uint32_t, std::uint32_t> table{
      {7, 0},   {8, 1},   {11, 2},  {12, 3},  {13, 4},  {17, 5},  {19, 6},  {20, 7},  {21, 8}, {22, 9},
      {23, 10}, {24, 11}, {25, 12}, {26, 13}, {27, 14}, {28, 15}, {31, 16}, {32, 17}, {33, 18}};
  REQUIRE(label_id <= 33);
  const auto it = table.find(label_id);
  return it == table.end() ? 255 : it->second;
}

const fs::path gray8_dir() { return test::data_root() / "real/gray8_ids"; }
const std::string cityscapes_prefix = "mmseg_testdata/cityscapes_frankfurt_000000_000294_gtFine_";

scan_result scan_one_file(const fs::path& file, scan_options options) {
  auto r = scan(frame_source::from_paths({file}, file.parent_path()), std::move(options));
  REQUIRE(r.stats.errors.empty());
  REQUIRE(r.stats.frames.size() == 1);
  return r;
}

// --- connected components by a breadth-first flood fill ---------------------------------------

struct component_truth {
  std::vector<std::uint32_t> instances;  // per class
  std::vector<size_histogram> sizes;     // per class
};

/// Components of every class id < classes that is not ignore-listed; other values connect nothing.
component_truth flood_fill(const std::vector<std::uint8_t>& ids, std::uint32_t width, std::uint32_t height,
                           std::uint32_t classes, const std::set<std::uint32_t>& ignore, unsigned connectivity,
                           std::vector<std::uint8_t>& seen, std::vector<std::uint32_t>& queue) {
  component_truth t;
  t.instances.assign(classes, 0);
  t.sizes.resize(classes);
  seen.assign(ids.size(), 0);
  std::vector<std::pair<int, int>> steps{{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
  if (connectivity == 8) steps.insert(steps.end(), {{1, 1}, {1, -1}, {-1, 1}, {-1, -1}});
  for (std::size_t start = 0; start < ids.size(); ++start) {
    const std::uint32_t c = ids[start];
    if (seen[start] || c >= classes || ignore.count(c)) continue;
    seen[start] = 1;
    queue.clear();
    queue.push_back(static_cast<std::uint32_t>(start));
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const int x = static_cast<int>(queue[head] % width), y = static_cast<int>(queue[head] / width);
      for (const auto& [dx, dy] : steps) {
        const int nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= static_cast<int>(width) || ny >= static_cast<int>(height)) continue;
        const auto n = static_cast<std::size_t>(ny) * width + static_cast<std::size_t>(nx);
        if (seen[n] || ids[n] != c) continue;
        seen[n] = 1;
        queue.push_back(static_cast<std::uint32_t>(n));
      }
    }
    ++t.instances[c];
    ++t.sizes[c][queue.size()];
  }
  return t;
}

double median_of(std::vector<double> v) {
  std::ranges::sort(v);
  const auto k = v.size();
  return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

}  // namespace

// --- (a) grouping --------------------------------------------------------------------------------

TEST_CASE("statistics: --group-by by camera is exact, equals the ungrouped scan and does not depend on concurrency",
          "[statistics]") {
  const auto& data = woodscape_data();
  REQUIRE(data.names.size() == 40);
  std::map<std::string, std::set<std::string>> expected;
  for (const auto& name : data.names) expected[camera_of(name)].insert(name);
  // synthesize_dataset names the cameras FV, MVL, MVR, RV in turn: ten frames of each.
  REQUIRE(expected.size() == 4);
  for (const auto& [camera, frames] : expected) CHECK(frames.size() == 10);

  scan_options base;
  base.heatmaps = true;
  base.components = 8;
  auto grouped_options = base;
  grouped_options.group_by = camera_regex;

  const auto ungrouped = scan(data.source(), with(base, {true, 1, io_backend::threads, 128, decoder_kind::spng}));
  REQUIRE(ungrouped.stats.frames.size() == 40);
  CHECK(ungrouped.stats.heatmaps.size() == 2);
  const auto reference =
      scan(data.source(), with(grouped_options, {true, 1, io_backend::threads, 128, decoder_kind::spng}));
  CHECK(reference.stats.heatmaps.size() == 8);  // 4 cameras x 2 resolutions
  check_grouped(reference, ungrouped, grouped_options, expected);

  for (const auto& c : concurrency_settings({1u, 2u, 4u})) {
    CAPTURE(c.describe());
    const auto r = scan(data.source(), with(grouped_options, c));
    CHECK_FALSE(r.partial);
    CHECK(r.stats == reference.stats);
  }
}

TEST_CASE("statistics: --split lists group by full paths and path ends, the rest is unlisted, at any concurrency",
          "[statistics]") {
  const auto& data = woodscape_data();
  // The entries, in every accepted form, and the frames they must name (typed independently).
  const split train{"train",
                    {"seqA/00000_FV.png", "seqA/00001_MVL", "./seqA/00002_MVR.png", "seqA\\00003_RV.png",
                     ".\\seqB\\00004_FV", "00005_MVL.png",  // a file name: both sequences
                     "# not a comment here, just a name that matches nothing"}};
  const split val{"val", {"seqB/00010_MVR.png", "00011_RV", "seqB/00012_FV", "seqA/00013_MVL.png"}};
  const std::set<std::string> train_frames{"seqA/00000_FV.png", "seqA/00001_MVL.png", "seqA/00002_MVR.png",
                                           "seqA/00003_RV.png", "seqB/00004_FV.png",  "seqA/00005_MVL.png",
                                           "seqB/00005_MVL.png"};
  const std::set<std::string> val_frames{"seqB/00010_MVR.png", "seqA/00011_RV.png", "seqB/00011_RV.png",
                                         "seqB/00012_FV.png", "seqA/00013_MVL.png"};
  std::map<std::string, std::set<std::string>> expected{{"train", train_frames}, {"val", val_frames}};
  for (const auto& name : data.names)
    if (!train_frames.count(name) && !val_frames.count(name)) expected["unlisted"].insert(name);
  REQUIRE(expected.at("unlisted").size() == 40 - 7 - 5);

  scan_options base;
  base.heatmaps = true;
  base.components = 8;
  auto split_options = base;
  split_options.splits = {train, val};

  const auto ungrouped = scan(data.source(), with(base, {true, 1, io_backend::threads, 128, decoder_kind::spng}));
  const auto reference =
      scan(data.source(), with(split_options, {true, 1, io_backend::threads, 128, decoder_kind::spng}));
  check_grouped(reference, ungrouped, split_options, expected);

  for (const auto& c : concurrency_settings({1u, 2u, 4u})) {
    CAPTURE(c.describe());
    const auto r = scan(data.source(), with(split_options, c));
    CHECK_FALSE(r.partial);
    CHECK(r.stats == reference.stats);
  }
}

// --- (b) instance-coded 16-bit masks -------------------------------------------------------------

TEST_CASE("statistics: Cityscapes instanceIds with divisor 1000 count as their labelIds", "[statistics]") {
  const auto file = gray8_dir() / (cityscapes_prefix + "instanceIds_16bit.png");
  const auto counts = expected_of(gray8_dir() / "expected_counts.json", cityscapes_prefix + "instanceIds_16bit.png");
  REQUIRE(counts.rbegin()->first >= 24000);  // the file really holds instance-coded values

  std::vector<std::uint64_t> classes(34);
  std::map<std::uint32_t, std::uint64_t> ignored;
  for (const auto& [v, n] : counts) {
    const std::uint32_t label = v < 1000 ? v : v / 1000;
    REQUIRE(label < 34);
    if (cityscapes_ignore_in_eval.count(label))
      ignored[label] += n;
    else
      classes[label] += n;
  }
  REQUIRE(classes[24] == 6 + 42 + 27 + 32);  // person instances 24000..24003
  REQUIRE(classes[26] == 6 + 224 + 1572);    // car instances 26000..26002

  const bool serial = GENERATE(false, true);
  CAPTURE(serial);
  scan_options o;
  use_class_map(o, builtin_class_map("cityscapes"));
  o.instance_divisor = 1000;
  o.serial = serial;
  const auto r = scan_one_file(file, o);
  const auto& row = r.stats.frames[0];
  CHECK(row.width == 256);
  CHECK(row.height == 128);
  CHECK(row.class_pixels == classes);
  CHECK(row.ignored == as_value_pixels(ignored));
  CHECK(row.out_of_range.empty());
  CHECK(r.stats.instance_divisor == 1000);
  const auto totals = compute_totals(r.stats);
  CHECK(totals.pixels == 256u * 128u);
  CHECK(totals.labelled_pixels + totals.ignored_pixels == 256u * 128u);
}

TEST_CASE("statistics: Cityscapes instanceIds without a divisor are out of range with their exact counts",
          "[statistics]") {
  const auto file = gray8_dir() / (cityscapes_prefix + "instanceIds_16bit.png");
  const auto counts = expected_of(gray8_dir() / "expected_counts.json", cityscapes_prefix + "instanceIds_16bit.png");
  std::vector<std::uint64_t> classes(34);
  std::map<std::uint32_t, std::uint64_t> ignored, out_of_range;
  for (const auto& [v, n] : counts) {
    if (v >= 34)
      out_of_range[v] += n;
    else if (cityscapes_ignore_in_eval.count(v))
      ignored[v] += n;
    else
      classes[v] += n;
  }
  REQUIRE(out_of_range.size() == 7);  // 24000..24003, 26000..26002

  scan_options o;
  use_class_map(o, builtin_class_map("cityscapes"));
  const auto r = scan_one_file(file, o);
  const auto& row = r.stats.frames[0];
  CHECK(row.class_pixels == classes);
  CHECK(row.ignored == as_value_pixels(ignored));
  CHECK(row.out_of_range == as_value_pixels(out_of_range));
  CHECK(compute_totals(r.stats).out_of_range_pixels == 6u + 42 + 27 + 32 + 6 + 224 + 1572);
}

// --- (c) remap -------------------------------------------------------------------------------------

TEST_CASE("statistics: the cityscapes-train remap counts labelIds as the trainIds of labels.py", "[statistics]") {
  const auto file = gray8_dir() / (cityscapes_prefix + "labelIds.png");
  const auto counts = expected_of(gray8_dir() / "expected_counts.json", cityscapes_prefix + "labelIds.png");
  std::vector<std::uint64_t> classes(19);
  std::uint64_t ignored = 0;
  for (const auto& [v, n] : counts) {
    const auto t = cityscapes_train_id(v);
    if (t == 255)
      ignored += n;
    else
      classes[t] += n;
  }
  REQUIRE(ignored > 0);

  const bool serial = GENERATE(false, true);
  CAPTURE(serial);
  scan_options o;
  use_class_map(o, builtin_remap("cityscapes-train"));
  o.serial = serial;
  const auto r = scan_one_file(file, o);
  const auto& row = r.stats.frames[0];
  CHECK(row.class_pixels == classes);
  CHECK(row.ignored == std::vector<value_pixels>{{255, ignored}});
  CHECK(row.out_of_range.empty());
  CHECK(r.stats.class_names.size() == 19);
}

TEST_CASE("statistics: instanceIds with divisor 1000 and the cityscapes-train remap count as trainIds",
          "[statistics]") {
  // The remap sees the divided value: 26002 -> 26 -> 13 (car).
  const auto file = gray8_dir() / (cityscapes_prefix + "instanceIds_16bit.png");
  const auto counts = expected_of(gray8_dir() / "expected_counts.json", cityscapes_prefix + "instanceIds_16bit.png");
  std::vector<std::uint64_t> classes(19);
  std::uint64_t ignored = 0;
  for (const auto& [v, n] : counts) {
    const auto t = cityscapes_train_id(v < 1000 ? v : v / 1000);
    if (t == 255)
      ignored += n;
    else
      classes[t] += n;
  }
  REQUIRE(classes[13] == 6 + 224 + 1572);
  scan_options o;
  use_class_map(o, builtin_remap("cityscapes-train"));
  o.instance_divisor = 1000;
  const auto r = scan_one_file(file, o);
  const auto& row = r.stats.frames[0];
  CHECK(row.class_pixels == classes);
  CHECK(row.ignored == std::vector<value_pixels>{{255, ignored}});
  CHECK(row.out_of_range.empty());
}

// --- (d) palette -----------------------------------------------------------------------------------

TEST_CASE("statistics: VOC 2012 palette masks with pascal-voc count every index as expected_counts.json",
          "[statistics]") {
  const auto dir = test::data_root() / "real/palette";
  const auto expected = test::load_expected_counts(dir / "expected_counts.json");
  scan_options o;
  use_class_map(o, builtin_class_map("pascal-voc"));
  const auto r = scan(frame_source::from_directory(dir / "voc2012_aug"), o);
  REQUIRE(r.stats.errors.empty());
  REQUIRE(r.stats.frames.size() == 200);
  std::uint64_t ignored_total = 0;
  std::vector<std::uint64_t> frames_with(21);
  for (const auto& row : r.stats.frames) {
    CAPTURE(row.path);
    REQUIRE(expected.count("voc2012_aug/" + row.path) == 1);
    const auto& e = expected.at("voc2012_aug/" + row.path);
    std::vector<std::uint64_t> classes(21);
    std::map<std::uint32_t, std::uint64_t> ignored;
    for (const auto& [v, n] : e) {
      REQUIRE((v <= 20 || v == 255));
      if (v == 255)
        ignored[v] = n;
      else
        classes[v] = n;
    }
    CHECK(row.class_pixels == classes);
    CHECK(row.ignored == as_value_pixels(ignored));
    CHECK(row.out_of_range.empty());
    ignored_total += ignored.count(255) ? ignored.at(255) : 0;
    for (std::size_t c = 0; c < 21; ++c) frames_with[c] += classes[c] > 0;
  }
  // The palette README's own numbers: 255 covers 1,373,954 of 35,541,880 pixels; person is in 59 files.
  const auto totals = compute_totals(r.stats);
  CHECK(ignored_total == 1373954);
  CHECK(totals.ignored_pixels == 1373954);
  CHECK(totals.pixels == 35541880);
  CHECK(totals.classes[15].frames_present == 59);
  CHECK(frames_with[15] == 59);
  for (std::size_t c = 0; c < 21; ++c) CHECK(totals.classes[c].frames_present == frames_with[c]);
}

// --- (e) connected components ----------------------------------------------------------------------

TEST_CASE("statistics: CamVid components through the pipeline equal a flood fill, at 4 and 8, any concurrency",
          "[statistics]") {
  const auto dir = gray8_dir() / "camvid_segnet";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::ranges::sort(files);
  REQUIRE(files.size() == 101);

  // The planes, decoded by the test-only reference decoder (zlib, not libspng).
  std::map<std::string, std::vector<std::uint8_t>> planes;
  for (const auto& f : files) {
    const auto image = test::reference_decode(test::read_file_bytes(f));
    REQUIRE(image.header.width == 480);
    REQUIRE(image.header.height == 360);
    REQUIRE(std::ranges::all_of(image.values, [](std::uint32_t v) { return v < 256; }));
    std::vector<std::uint8_t> ids(image.values.begin(), image.values.end());
    planes.emplace(f.filename().string(), std::move(ids));
  }

  scan_options base;
  use_class_map(base, builtin_class_map("camvid11"));
  const std::set<std::uint32_t> ignore{11};  // SegNet's ignore_label

  std::map<unsigned, std::uint64_t> all_instances;  // per connectivity
  for (const unsigned connectivity : {4u, 8u}) {
    CAPTURE(connectivity);
    const auto t0 = std::chrono::steady_clock::now();
    std::map<std::string, std::vector<std::uint32_t>> instances;
    std::map<std::string, std::vector<size_histogram>> frame_sizes;  // per frame, per class
    std::vector<size_histogram> sizes(11);
    std::vector<std::uint8_t> seen;
    std::vector<std::uint32_t> queue;
    for (const auto& [name, ids] : planes) {
      auto t = flood_fill(ids, 480, 360, 11, ignore, connectivity, seen, queue);
      for (auto k : t.instances) all_instances[connectivity] += k;
      instances[name] = std::move(t.instances);
      for (std::size_t c = 0; c < 11; ++c)
        for (const auto& [size, n] : t.sizes[c]) sizes[c][size] += n;
      frame_sizes[name] = std::move(t.sizes);
    }
    const double fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CAPTURE(fill_seconds);

    auto o = base;
    o.components = connectivity;
    o.min_component_pixels = 1;  // every component an instance
    o.workers = 2;
    const auto r = scan(frame_source::from_directory(dir), o);
    REQUIRE(r.stats.errors.empty());
    REQUIRE(r.stats.frames.size() == 101);
    CHECK(r.stats.components == connectivity);
    for (const auto& row : r.stats.frames) {
      CAPTURE(row.path);
      CHECK(row.instances == instances.at(row.path));
    }
    REQUIRE(r.stats.component_sizes.size() == 1);
    REQUIRE(r.stats.component_sizes.count("") == 1);
    CHECK(r.stats.component_sizes.at("") == sizes);
    // The sizes add up to the class pixels, and the instance counts to the histogram's counts.
    const auto summary = summarize_components(r.stats.component_sizes.at(""), r.stats.class_names);
    const auto totals = compute_totals(r.stats);
    for (std::size_t c = 0; c < 11; ++c) {
      CHECK(summary[c].pixels == totals.classes[c].pixels);
      std::uint64_t n = 0;
      for (const auto& [name, inst] : instances) n += inst[c];
      CHECK(summary[c].instances == n);
    }

    // With a minimum size (the default 16), smaller components are specks: a frame's instances are
    // the flood fill's components of at least that size, and instances + specks are every component.
    const std::uint64_t min_pixels = GENERATE(2u, 16u);
    CAPTURE(min_pixels);
    auto thresholded = o;
    thresholded.min_component_pixels = min_pixels;
    const auto t = scan(frame_source::from_directory(dir), thresholded);
    std::uint64_t specks_seen = 0;
    for (const auto& row : t.stats.frames) {
      CAPTURE(row.path);
      std::vector<std::uint32_t> want(11, 0);
      for (std::size_t c = 0; c < 11; ++c)
        for (const auto& [size, n] : frame_sizes.at(row.path)[c])
          if (size >= min_pixels) want[c] += static_cast<std::uint32_t>(n);
      CHECK(row.instances == want);
    }
    CHECK(t.stats.component_sizes.at("") == sizes);  // every component's size is kept
    const auto thresholded_summary =
        summarize_components(t.stats.component_sizes.at(""), t.stats.class_names, t.stats.min_component_pixels);
    for (std::size_t c = 0; c < 11; ++c) {
      CAPTURE(c);
      std::uint64_t big = 0, small = 0, small_pixels = 0;
      for (const auto& [size, n] : sizes[c]) {
        if (size >= min_pixels) {
          big += n;
        } else {
          small += n;
          small_pixels += size * n;
        }
      }
      CHECK(thresholded_summary[c].instances == big);
      CHECK(thresholded_summary[c].specks == small);
      CHECK(thresholded_summary[c].pixels + thresholded_summary[c].speck_pixels == totals.classes[c].pixels);
      CHECK(thresholded_summary[c].speck_pixels == small_pixels);
      specks_seen += small;
    }
    CHECK(specks_seen > 0);  // CamVid has many specks: the threshold is exercised

    for (const bool serial : {true, false}) {
      auto other = o;
      other.serial = serial;
      other.workers = 1;
      CAPTURE(serial);
      CHECK(scan(frame_source::from_directory(dir), other).stats == r.stats);
    }
  }
  // The two neighbourhoods really differ on these masks (diagonal contacts join components at 8).
  CHECK(all_instances[4] > all_instances[8]);
}

TEST_CASE("statistics: components of ignore-listed and out-of-range values connect nothing", "[statistics]") {
  // 5x3, typed by hand: class 0 = the left 2x3 block, (3,0), (4,1), (3,2); class 1 = (4,0), (3,1), (4,2);
  // between them a column of the ignored value 11 and the out-of-range value 200. 4-connectivity: class 0
  // is {6, 1, 1, 1}, class 1 {1, 1, 1}; 8-connectivity joins the diagonals: class 0 {6, 3}, class 1 {3}.
  const std::vector<std::uint8_t> ids{0, 0, 11,  0, 1,  //
                                      0, 0, 200, 1, 0,  //
                                      0, 0, 11,  0, 1};
  test::temp_dir dir;
  test::write_png(dir / "m.png", {5, 3, 8, 0, false}, ids);
  scan_options o;
  use_class_map(o, builtin_class_map("camvid11"));
  o.min_component_pixels = 1;  // every component an instance
  for (const unsigned connectivity : {4u, 8u}) {
    CAPTURE(connectivity);
    o.components = connectivity;
    const auto r = scan_one_file(dir / "m.png", o);
    std::vector<std::uint32_t> instances(11);
    std::vector<size_histogram> sizes(11);
    if (connectivity == 4) {
      instances[0] = 4;
      instances[1] = 3;
      sizes[0] = {{6, 1}, {1, 3}};
      sizes[1] = {{1, 3}};
    } else {
      instances[0] = 2;
      instances[1] = 1;
      sizes[0] = {{6, 1}, {3, 1}};
      sizes[1] = {{3, 1}};
    }
    CHECK(r.stats.frames[0].instances == instances);
    CHECK(r.stats.component_sizes.at("") == sizes);
    // At least 3 pixels: 4-connected, only the 6-pixel block of class 0 is an instance; 8-connected,
    // class 0 has {6, 3} and class 1 {3}. The sizes are kept whole either way.
    auto at_least_3 = o;
    at_least_3.min_component_pixels = 3;
    const auto t = scan_one_file(dir / "m.png", at_least_3);
    instances[0] = connectivity == 4 ? 1 : 2;
    instances[1] = connectivity == 4 ? 0 : 1;
    CHECK(t.stats.frames[0].instances == instances);
    CHECK(t.stats.component_sizes.at("") == sizes);
  }
}

// --- (f) class weights end to end ------------------------------------------------------------------

TEST_CASE("statistics: CamVid class weights of a scan equal the formulas over expected_counts.json", "[statistics]") {
  const auto all = test::load_expected_counts(gray8_dir() / "expected_counts.json");
  // From the JSON alone: n_c, F_c, T_c, P, N.
  constexpr std::size_t classes = 11;  // camvid11: ids 0..10, 11 ignored
  std::vector<std::uint64_t> n(classes), F(classes), T(classes);
  std::uint64_t N = 0, P = 0;
  for (const auto& [key, counts] : all) {
    if (!key.starts_with("camvid_segnet/")) continue;
    ++N;
    std::uint64_t labelled = 0;
    for (const auto& [v, pixels] : counts)
      if (v < classes) labelled += pixels;
    for (const auto& [v, pixels] : counts) {
      if (v >= classes || pixels == 0) continue;
      n[v] += pixels;
      F[v] += 1;
      T[v] += labelled;
    }
    P += labelled;
  }
  REQUIRE(N == 101);
  std::size_t K = 0;
  for (auto x : n) K += x > 0;
  REQUIRE(K == classes);

  std::vector<double> freq_present, freq_all;
  for (std::size_t c = 0; c < classes; ++c) {
    freq_present.push_back(static_cast<double>(n[c]) / static_cast<double>(T[c]));
    freq_all.push_back(static_cast<double>(n[c]) / static_cast<double>(P));
  }
  const double median_present = median_of(freq_present), median_all = median_of(freq_all);
  const double beta = 0.9999;
  std::vector<double> raw_effective;
  double raw_sum = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    raw_effective.push_back((1 - beta) / (1 - std::pow(beta, static_cast<double>(F[c]))));
    raw_sum += raw_effective.back();
  }

  scan_options o;
  use_class_map(o, builtin_class_map("camvid11"));
  const auto r = scan(frame_source::from_directory(gray8_dir() / "camvid_segnet"), o);
  REQUIRE(r.stats.errors.empty());
  const auto w = class_weights(r.stats);
  REQUIRE(w.size() == classes);
  const auto exact = [](double x) { return Approx(x).epsilon(1e-12); };
  for (std::size_t c = 0; c < classes; ++c) {
    CAPTURE(c, w[c].name);
    CHECK(w[c].id == c);
    CHECK_FALSE(w[c].ignored);
    CHECK(w[c].pixels == n[c]);
    CHECK(w[c].frames_present == F[c]);
    CHECK(w[c].pixels_of_frames_present == T[c]);
    CHECK(w[c].frequency == exact(static_cast<double>(n[c]) / static_cast<double>(P)));
    CHECK(w[c].frame_frequency == exact(static_cast<double>(F[c]) / static_cast<double>(N)));
    const double inverse = static_cast<double>(P) / (static_cast<double>(K) * static_cast<double>(n[c]));
    REQUIRE(w[c].inverse_frequency.has_value());
    CHECK(*w[c].inverse_frequency == exact(inverse));
    REQUIRE(w[c].inverse_sqrt_frequency.has_value());
    CHECK(*w[c].inverse_sqrt_frequency == exact(std::sqrt(inverse)));
    REQUIRE(w[c].median_frequency_present.has_value());
    CHECK(*w[c].median_frequency_present == exact(median_present / freq_present[c]));
    REQUIRE(w[c].median_frequency_all.has_value());
    CHECK(*w[c].median_frequency_all == exact(median_all / freq_all[c]));
    REQUIRE(w[c].enet.has_value());
    CHECK(*w[c].enet == exact(1 / std::log(1.02 + freq_all[c])));
    REQUIRE(w[c].effective_number.has_value());
    CHECK(*w[c].effective_number == Approx(static_cast<double>(K) * raw_effective[c] / raw_sum).epsilon(1e-9));
    CHECK_FALSE(w[c].repeat_factor);  // none without a threshold
    balance_options lvis;
    lvis.repeat_threshold = 0.001;
    CHECK(*class_weights(r.stats, lvis)[c].repeat_factor ==
          exact(std::max(1.0, std::sqrt(0.001 / (static_cast<double>(F[c]) / N)))));
  }
  // Inverse-frequency weights weighted by the pixels average to 1 (sum n_c w_c = P).
  double weighted = 0;
  for (std::size_t c = 0; c < classes; ++c) weighted += static_cast<double>(n[c]) * *w[c].inverse_frequency;
  CHECK(weighted == exact(static_cast<double>(P)));
}

// --- (g) what the values mean ----------------------------------------------------------------------

TEST_CASE(
    "statistics: scan_options::labels alone applies the map it names, and without any map the classes are "
    "the values found, at every concurrency setting",
    "[statistics][labels]") {
  const auto dir = gray8_dir() / "camvid_segnet";
  const auto expected = test::load_expected_counts(gray8_dir() / "expected_counts.json");
  std::map<std::uint32_t, std::uint64_t> per_value;
  for (const auto& [file, counts] : expected)
    if (file.starts_with("camvid_segnet/"))
      for (const auto& [v, n] : counts) per_value[v] += n;

  scan_options named;
  named.labels = "camvid11";
  named.heatmaps = true;
  const auto r = scan(frame_source::from_directory(dir), named);
  CHECK(r.stats.class_names == builtin_class_map("camvid11").names);  // Sky .. Bicyclist, not WoodScape's
  CHECK_FALSE(r.stats.classes_from_values);
  const auto totals = compute_totals(r.stats);
  for (std::uint32_t c = 0; c < 11; ++c) CHECK(totals.classes[c].pixels == per_value[c]);
  REQUIRE(totals.ignored.size() == 1);  // 11 = Unlabelled, SegNet's ignore_label
  CHECK(totals.ignored[0].pixels == per_value[11]);
  CHECK(value_name(r.stats, 11) == "Unlabelled");

  // No map: twelve classes, one per value, the same counts; the heatmaps of classes 0..10 are the
  // named scan's, class 11's are what the named scan ignores.
  scan_options values;
  values.heatmaps = true;
  const auto base = scan(frame_source::from_directory(dir), values);
  CHECK(base.stats.classes_from_values);
  CHECK(base.stats.class_names == numbered_class_names(12));
  const auto value_totals = compute_totals(base.stats);
  for (std::uint32_t v = 0; v < 12; ++v) CHECK(value_totals.classes[v].pixels == per_value[v]);
  const auto& heat = base.stats.heatmaps.at(heatmap_key{"", 480, 360});
  const auto& named_heat = r.stats.heatmaps.at(heatmap_key{"", 480, 360});
  REQUIRE(heat.counts.size() == 12u * 480 * 360);
  CHECK(std::equal(named_heat.counts.begin(), named_heat.counts.end(), heat.counts.begin()));
  for (const auto& setting : concurrency_settings({1u, 2u, 4u})) {
    CAPTURE(setting.describe());
    CHECK(scan(frame_source::from_directory(dir), with(values, setting)).stats == base.stats);
  }
}
