// Grid heatmaps (scan_options::heatmap_grid) through the whole pipeline: against counts worked out
// from hand-made PNGs of three sizes and from real VOC masks decoded by the test's own decoder; the
// same counts at every concurrency setting and decoder; grouped == ungrouped summed; merge, state
// files and select_group carry them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <maskscan/scan.hpp>

#include "support/concurrency.hpp"
#include "support/mixed_dataset.hpp"
#include "support/reference_png.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
namespace fs = std::filesystem;

struct mask {
  std::string name;
  std::uint32_t width, height;
  std::vector<std::uint8_t> values;  // row-major
};

// Four classes (0..3), 255 ignore-listed, 7 out of range with a class map. The grid is 3 x 2: each
// frame is sampled at 3 columns and 2 rows, and class 3 is put only where no cell samples (so a
// cell that sampled the wrong pixel would count it).
//   4x3: rows (2i+1)3/4 = 0, 2; columns (2j+1)4/6 = 0, 2, 3
//   7x5: rows (2i+1)5/4 = 1, 3; columns (2j+1)7/6 = 1, 3, 5
//   2x9: rows (2i+1)9/4 = 2, 6; columns (2j+1)2/6 = 0, 1, 1
const std::vector<mask>& hand_masks() {
  static const std::vector<mask> masks{
      {"a_4x3.png",
       4,
       3,
       {0, 3, 1, 2,  //
        3, 3, 3, 3,  //
        255, 3, 7, 0}},
      {"b_7x5.png", 7, 5, {3, 3, 3, 3,   3, 3, 3,  //
                           3, 1, 3, 1,   3, 2, 3,  //
                           3, 3, 3, 3,   3, 3, 3,  //
                           3, 0, 3, 255, 3, 1, 3,  //
                           3, 3, 3, 3,   3, 3, 3}},
      {"c_2x9.png",
       2,
       9,
       {3, 3,  //
        3, 3,  //
        2, 0,  //
        3, 3,  //
        3, 3,  //
        3, 3,  //
        7, 1,  //
        3, 3,  //
        3, 3}},
  };
  return masks;
}

void write_masks(const fs::path& dir, const std::vector<mask>& masks) {
  for (const auto& m : masks) {
    test::write_png(dir / m.name, {m.width, m.height, 8, 0, false}, m.values);
  }
}

/// The grid counts of `masks`, (class, row, column), from the definition: cell (i, j) takes the pixel
/// at row floor((2i + 1) H / (2 Hg)), column floor((2j + 1) W / (2 Wg)).
std::vector<std::uint32_t> expected_grid(const std::vector<mask>& masks, std::uint32_t gw, std::uint32_t gh,
                                         std::size_t classes, const std::set<std::uint32_t>& ignored) {
  std::vector<std::uint32_t> counts(classes * gw * gh, 0);
  for (const auto& m : masks)
    for (std::uint32_t i = 0; i < gh; ++i)
      for (std::uint32_t j = 0; j < gw; ++j) {
        const std::uint32_t y = (2 * i + 1) * m.height / (2 * gh), x = (2 * j + 1) * m.width / (2 * gw);
        const std::uint32_t v = m.values[y * m.width + x];
        if (v < classes && !ignored.count(v)) ++counts[(v * gh + i) * gw + j];
      }
  return counts;
}

/// The mixed dataset's classes, 0 to 10 with 11 ignored, sampled onto `grid`.
scan_options mixed_grid_options(grid_size grid) {
  scan_options o;
  o.class_names = numbered_class_names(11);
  o.ignore = {11};
  o.heatmap_grid = grid;
  return o;
}

}  // namespace

TEST_CASE("heatmap grid: frames of three sizes give the counts of the nearest-sample definition, at any concurrency",
          "[pipeline][heatmap-grid]") {
  static const test::temp_dir dir;
  static const bool written = (write_masks(dir.path(), hand_masks()), true);
  REQUIRE(written);
  // Worked out by hand from the masks above (class, row, column); the formula gives the same.
  const std::vector<std::uint32_t> by_hand{
      1, 1, 1, 1, 0, 1,  // class 0
      1, 2, 0, 0, 1, 2,  // class 1
      1, 0, 2, 0, 0, 0,  // class 2
      0, 0, 0, 0, 0, 0,  // class 3: never where a cell samples
  };
  REQUIRE(expected_grid(hand_masks(), 3, 2, 4, {255}) == by_hand);

  scan_options o;
  o.class_names = {"a", "b", "c", "d"};
  o.ignore = {255};
  o.heatmap_grid = {3, 2};
  for (const auto& c : test::concurrency_settings({1u, 2u})) {
    CAPTURE(c.describe());
    const auto r = scan(frame_source::from_directory(dir.path()), test::with(o, c));
    REQUIRE(r.stats.errors.empty());
    REQUIRE(r.stats.frames.size() == 3);
    CHECK(r.stats.heatmap_grid == grid_size{3, 2});
    CHECK_FALSE(r.stats.has_heatmaps);  // the grid alone: no per-size sets
    CHECK(r.stats.heatmaps.empty());
    REQUIRE(r.stats.grid_heatmaps.size() == 1);
    const auto& set = r.stats.grid_heatmaps.at("");
    CHECK(set.width == 3);
    CHECK(set.height == 2);
    CHECK(set.frames == 3);
    CHECK(set.counts == by_hand);
  }

  // Beside per-size heatmaps: the grid is the same, and each frame size has its own set too.
  o.heatmaps = true;
  const auto both = scan(frame_source::from_directory(dir.path()), o);
  CHECK(both.stats.grid_heatmaps.at("").counts == by_hand);
  CHECK(both.stats.heatmaps.size() == 3);
}

TEST_CASE("heatmap grid: with classes from values the grid sets are widened to the class count of the largest value",
          "[pipeline][heatmap-grid]") {
  static const test::temp_dir dir;
  static const bool written = (write_masks(dir.path(), hand_masks()), true);
  REQUIRE(written);
  // Without a class map 7 is a class (class_7): eight classes 0..7. 255 is still ignored, and so is
  // class 2, which three cells sample: its counts must stay 0.
  const auto expected = expected_grid(hand_masks(), 3, 2, 8, {2, 255});
  REQUIRE(std::count_if(expected.begin() + 7 * 6, expected.end(), [](std::uint32_t n) { return n > 0; }) == 2);
  REQUIRE(expected_grid(hand_masks(), 3, 2, 8, {255})[2 * 6 + 2] == 2);

  scan_options o;
  o.ignore = {2, 255};
  o.heatmap_grid = {3, 2};
  o.heatmaps = true;
  for (const auto& c : test::concurrency_settings({1u, 3u})) {
    CAPTURE(c.describe());
    const auto r = scan(frame_source::from_directory(dir.path()), test::with(o, c));
    REQUIRE(r.stats.classes_from_values);
    REQUIRE(r.stats.class_names.size() == 8);
    REQUIRE(r.stats.grid_heatmaps.size() == 1);
    CHECK(r.stats.grid_heatmaps.at("").counts == expected);
    for (const auto& [key, heat] : r.stats.heatmaps) CHECK(heat.counts.size() == 8u * key.width * key.height);
  }
}

TEST_CASE("heatmap grid: every workers, queue-depth, I/O backend and decoder setting gives the same grid counts",
          "[pipeline][heatmap-grid][concurrency]") {
  static const test::mixed_dataset data;
  const scan_options base = mixed_grid_options({7, 5});
  const auto reference = scan(data.source(), test::with(base, {true, 1, io_backend::threads, 128, decoder_kind::spng}));
  REQUIRE(reference.stats.frames.size() == 24 + 12 + 26);
  REQUIRE(reference.stats.grid_heatmaps.size() == 1);
  const auto& grid = reference.stats.grid_heatmaps.at("");
  CHECK(grid.frames == 62);  // frames of 64x48, 33x17 and 480x360 in one set
  std::uint64_t counted = 0;
  for (const auto n : grid.counts) counted += n;
  CHECK(counted > 0);
  CHECK(counted <= 62u * 7 * 5);

  for (const auto& c : test::concurrency_settings({1u, 2u, 4u})) {
    CAPTURE(c.describe());
    const auto r = scan(data.source(), test::with(base, c));
    CHECK(r.stats.grid_heatmaps == reference.stats.grid_heatmaps);
    CHECK(r.stats == reference.stats);
  }
  // The fast decoder alone handles every frame of the set (plain 8-bit gray) and samples them alike.
  auto fast = base;
  fast.decoder = decoder_kind::fast;
  fast.workers = 2;
  CHECK(scan(data.source(), fast).stats.grid_heatmaps == reference.stats.grid_heatmaps);
}

TEST_CASE("heatmap grid: groups sum to the ungrouped scan, and merge of halves, state files, select_group keep it",
          "[pipeline][heatmap-grid][merge]") {
  static const test::mixed_dataset data;
  auto base = mixed_grid_options({16, 12});
  base.heatmaps = true;
  base.workers = 2;
  auto grouped_options = base;
  grouped_options.group_by = "^([^/]+)/";

  const auto ungrouped = scan(data.source(), base);
  const auto grouped = scan(data.source(), grouped_options);
  REQUIRE(ungrouped.stats.grid_heatmaps.size() == 1);
  // synth_64x48, synth_33x17, camvid; the bad/ group has no frame and so no grid set.
  REQUIRE(grouped.stats.grid_heatmaps.size() == 3);
  CHECK(grouped.stats.grid_heatmaps.count("bad") == 0);

  // The groups' sets summed by hand equal the ungrouped set; ungroup() does the same.
  heatmap_set sum{16, 12, 0, std::vector<std::uint32_t>(11u * 16 * 12, 0)};
  for (const auto& [group, set] : grouped.stats.grid_heatmaps) {
    CAPTURE(group);
    REQUIRE(set.counts.size() == sum.counts.size());
    sum.frames += set.frames;
    for (std::size_t k = 0; k < sum.counts.size(); ++k) sum.counts[k] += set.counts[k];
  }
  CHECK(sum == ungrouped.stats.grid_heatmaps.at(""));
  CHECK(grouped.stats.grid_heatmaps.at("synth_64x48").frames == 24);
  CHECK(grouped.stats.grid_heatmaps.at("camvid").frames == 26);
  CHECK(ungroup(grouped.stats).grid_heatmaps == ungrouped.stats.grid_heatmaps);
  CHECK(ungroup(grouped.stats) == ungrouped.stats);

  // select_group: the group's own set, and none when heatmaps are not asked for.
  const auto camvid = select_group(grouped.stats, "camvid");
  REQUIRE(camvid.grid_heatmaps.size() == 1);
  CHECK(camvid.grid_heatmaps.at("camvid") == grouped.stats.grid_heatmaps.at("camvid"));
  CHECK(camvid.heatmap_grid == grid_size{16, 12});
  CHECK(select_group(grouped.stats, "camvid", false).grid_heatmaps.empty());
  CHECK(split_by_group(grouped.stats).at("synth_33x17").grid_heatmaps.size() == 1);

  // Two halves scanned apart (named as in the whole scan) and merged give the whole scan's sets.
  auto half = [&](const std::vector<std::string>& dirs) {
    auto merged = make_stats(resolve_defaults(base));
    for (const auto& d : dirs) {
      auto part = scan(frame_source::from_directory(data.dir / d), base).stats;
      prefix_frames(part, d);
      merge(merged, part);
    }
    return merged;
  };
  auto first = half({"synth_64x48", "bad"});
  const auto second = half({"camvid", "synth_33x17"});
  CHECK(first.grid_heatmaps.at("").frames == 24);
  merge(first, second);
  CHECK(first.grid_heatmaps == ungrouped.stats.grid_heatmaps);
  CHECK(first.frames == ungrouped.stats.frames);

  // State files: saved and loaded, grouped or not, they hold the same sets; a merge of loaded states too.
  const test::temp_dir dir;
  save_state(grouped.stats, dir / "grouped.state");
  CHECK(load_state(dir / "grouped.state") == grouped.stats);
  save_state(second, dir / "second.state");
  auto reloaded = half({"synth_64x48", "bad"});
  merge(reloaded, load_state(dir / "second.state"));
  CHECK(reloaded.grid_heatmaps == ungrouped.stats.grid_heatmaps);

  // Statistics of another grid, or without one, are not merged: a cell would mean another place.
  auto other = base;
  other.heatmap_grid = {12, 16};
  auto coarse = make_stats(resolve_defaults(other));
  CHECK_THROWS_WITH(merge(coarse, ungrouped.stats), Catch::Contains("heatmap grids") && Catch::Contains("16x12"));
  other.heatmap_grid = {};
  auto none = make_stats(resolve_defaults(other));
  CHECK_THROWS_AS(merge(none, ungrouped.stats), std::invalid_argument);
}

TEST_CASE("heatmap grid: real VOC masks of many sizes on a 32x32 grid equal the test decoder's samples",
          "[pipeline][heatmap-grid][real]") {
  const auto dir = test::data_root() / "real/palette/voc2012_aug";
  constexpr std::uint32_t g = 32;
  constexpr std::size_t classes = 21;
  // Independently: each file decoded by the test's decoder, each cell's pixel by the formula.
  std::vector<std::uint32_t> expected(classes * g * g, 0);
  std::vector<std::uint64_t> sampled(classes, 0);  // per class: the frames' sampled pixels holding it
  std::size_t files = 0;
  std::set<std::pair<std::uint32_t, std::uint32_t>> sizes;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".png") continue;
    ++files;
    const auto image = test::reference_decode(test::read_file_bytes(entry.path()));
    const std::uint64_t w = image.header.width, h = image.header.height;
    sizes.emplace(image.header.width, image.header.height);
    for (std::uint64_t i = 0; i < g; ++i)
      for (std::uint64_t j = 0; j < g; ++j) {
        const std::uint32_t v = image.values.at((2 * i + 1) * h / (2 * g) * w + (2 * j + 1) * w / (2 * g));
        if (v == 255) continue;  // pascal-voc's ignore value
        REQUIRE(v < classes);
        ++expected[(v * g + i) * g + j];
        ++sampled[v];
      }
  }
  REQUIRE(files == 200);
  REQUIRE(sizes.size() > 20);  // the point: many frame sizes, one grid

  scan_options o;
  use_class_map(o, builtin_class_map("pascal-voc"));
  o.heatmap_grid = {g, g};
  const auto decoder = GENERATE(decoder_kind::automatic, decoder_kind::spng);
  CAPTURE(to_string(decoder));
  o.decoder = decoder;
  o.workers = 2;
  const auto r = scan(frame_source::from_directory(dir), o);
  REQUIRE(r.stats.errors.empty());
  REQUIRE(r.stats.grid_heatmaps.size() == 1);
  const auto& set = r.stats.grid_heatmaps.at("");
  CHECK(set.frames == 200);
  REQUIRE(set.counts.size() == classes * g * g);
  for (std::size_t c = 0; c < classes; ++c) {
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < std::size_t{g} * g; ++k) sum += set.counts[c * g * g + k];
    CAPTURE(c);
    CHECK(sum == sampled[c]);
  }
  CHECK(set.counts == expected);
}
