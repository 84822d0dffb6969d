// frame_counter, heatmap_accumulator, for_each_run and add_heatmaps against hand-computed planes and
// naive loops (through the plane-level wrappers in support/plane_stats.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "decode/png_decoder.hpp"
#include "stats/frame_stats.hpp"
#include "support/grid_reference.hpp"
#include "support/plane_stats.hpp"
#include "support/planes.hpp"

namespace {

using namespace maskscan;
using namespace maskscan::detail;
using maskscan::test::add_to_heatmaps;
using maskscan::test::count_frame;

using maskscan::test::plane16;
using maskscan::test::plane8;

std::uint32_t id_at(const label_plane& p, std::size_t i) { return p.depth == 16 ? p.u16[i] : p.u8[i]; }

struct count_case {
  const char* name;
  label_plane plane;
  std::size_t classes;
  std::vector<std::uint32_t> ignore;  // sorted, as the library receives it
  std::vector<std::uint64_t> class_pixels;
  std::vector<value_pixels> ignored;
  std::vector<value_pixels> out_of_range;
};

// Every expected number below was counted by hand from the 4x3 planes.
std::vector<count_case> count_cases() {
  std::vector<count_case> cases;
  cases.push_back({"8-bit, ignore inside and outside the class range",
                   plane8(4, 3,
                          {0, 1, 2, 3,    //
                           5, 0, 200, 1,  //
                           7, 5, 0, 0}),
                   4,
                   {2, 200},
                   {4, 2, 0, 1},
                   {{2, 1}, {200, 1}},
                   {{5, 2}, {7, 1}}});
  cases.push_back({"8-bit, no ignore list, 255 out of range",
                   plane8(4, 3,
                          {255, 1, 1, 0,  //
                           2, 2, 2, 255,  //
                           9, 1, 0, 3}),
                   3,
                   {},
                   {2, 3, 3},
                   {},
                   {{3, 1}, {9, 1}, {255, 2}}});
  cases.push_back({"8-bit, ignore values that do not occur are not listed",
                   plane8(4, 3,
                          {0, 0, 0, 0,  //
                           1, 1, 1, 1,  //
                           0, 1, 0, 1}),
                   2,
                   {7, 250},
                   {6, 6},
                   {},
                   {}});
  cases.push_back({"8-bit, every value ignored or out of range",
                   plane8(4, 3,
                          {3, 3, 4, 4,  //
                           5, 5, 5, 5,  //
                           3, 4, 5, 6}),
                   3,
                   {0, 3},
                   {0, 0, 0},
                   {{3, 3}},
                   {{4, 3}, {5, 5}, {6, 1}}});
  cases.push_back({"16-bit, values above 255 and 65535",
                   plane16(4, 3,
                           {0, 0, 1, 2,        //
                            300, 65535, 2, 2,  //
                            1000, 300, 300, 0}),
                   3,
                   {1, 65535},
                   {3, 0, 3},
                   {{1, 1}, {65535, 1}},
                   {{300, 3}, {1000, 1}}});
  cases.push_back({"16-bit, more than 256 classes",
                   plane16(4, 3,
                           {256, 257, 299, 300,  //
                            0, 256, 256, 512,    //
                            299, 40000, 258, 0}),
                   300,
                   {258},
                   [] {
                     std::vector<std::uint64_t> v(300, 0);
                     v[0] = 2;
                     v[256] = 3;
                     v[257] = 1;
                     v[299] = 2;
                     return v;
                   }(),
                   {{258, 1}},
                   {{300, 1}, {512, 1}, {40000, 1}}});
  return cases;
}

}  // namespace

TEST_CASE("count_frame splits a plane into class pixels, ignored values and out-of-range values", "[stats]") {
  const auto cases = count_cases();
  const auto i = GENERATE_COPY(range(std::size_t{0}, cases.size()));
  const count_case& c = cases[i];
  CAPTURE(c.name);

  maskscan::test::reused_counter histogram;
  const frame_row row = count_frame(c.plane, "dir/frame.png", c.classes, c.ignore, histogram);

  CHECK(row.path == "dir/frame.png");
  CHECK(row.width == 4);
  CHECK(row.height == 3);
  CHECK(row.class_pixels == c.class_pixels);
  CHECK(row.ignored == c.ignored);
  CHECK(row.out_of_range == c.out_of_range);
}

TEST_CASE("a reused frame counter gives the same row after a plane of another depth", "[stats]") {
  const std::vector<std::uint32_t> ignore{9};
  maskscan::test::reused_counter histogram;
  // A 16-bit plane first leaves values above 255 behind, then an 8-bit plane, then 16-bit again.
  const auto a = plane16(2, 2, {1, 9, 700, 700});
  const auto b = plane8(3, 1, {0, 2, 2});
  const auto row_a1 = count_frame(a, "a", 3, ignore, histogram);
  const auto row_b = count_frame(b, "b", 3, ignore, histogram);
  const auto row_a2 = count_frame(a, "a", 3, ignore, histogram);

  CHECK(row_a1.class_pixels == std::vector<std::uint64_t>{0, 1, 0});
  CHECK(row_a1.ignored == std::vector<value_pixels>{{9, 1}});
  CHECK(row_a1.out_of_range == std::vector<value_pixels>{{700, 2}});
  CHECK(row_b.class_pixels == std::vector<std::uint64_t>{1, 0, 2});
  CHECK(row_b.ignored.empty());
  CHECK(row_b.out_of_range.empty());
  CHECK(row_a2 == row_a1);
}

TEST_CASE("count_frame agrees with a naive per-pixel count on random planes", "[stats]") {
  const int depth = GENERATE(8, 16);
  const std::uint32_t seed = GENERATE(1u, 2u, 3u);
  CAPTURE(depth, seed);
  std::mt19937 rng(seed);
  const std::uint32_t w = 1 + rng() % 61, h = 1 + rng() % 47;
  const std::size_t classes = 1 + rng() % 12;
  const std::uint32_t max_value = depth == 16 ? 65535 : 255;
  // Values mostly small (so classes occur often) with some large ones.
  auto draw = [&] { return rng() % 4 == 0 ? rng() % (max_value + 1) : rng() % 16; };
  std::vector<std::uint32_t> ignore{static_cast<std::uint32_t>(rng() % 16), 13, max_value};
  std::sort(ignore.begin(), ignore.end());
  ignore.erase(std::unique(ignore.begin(), ignore.end()), ignore.end());

  label_plane plane;
  plane.width = w;
  plane.height = h;
  plane.depth = static_cast<unsigned>(depth);
  for (std::size_t p = 0; p < std::size_t{w} * h; ++p) {
    if (depth == 16)
      plane.u16.push_back(static_cast<std::uint16_t>(draw()));
    else
      plane.u8.push_back(static_cast<std::uint8_t>(draw()));
  }

  // Naive truth: one map per category, filled pixel by pixel.
  std::vector<std::uint64_t> want_class(classes, 0);
  std::map<std::uint32_t, std::uint64_t> want_ignored, want_oor;
  for (std::size_t p = 0; p < plane.pixels(); ++p) {
    const std::uint32_t v = id_at(plane, p);
    bool ignored = false;
    for (auto g : ignore) ignored = ignored || g == v;
    if (ignored)
      ++want_ignored[v];
    else if (v < classes)
      ++want_class[v];
    else
      ++want_oor[v];
  }
  auto as_list = [](const std::map<std::uint32_t, std::uint64_t>& m) {
    std::vector<value_pixels> out;
    for (const auto& [v, n] : m) out.push_back({v, n});
    return out;
  };

  maskscan::test::reused_counter histogram;
  const auto row = count_frame(plane, "r.png", classes, ignore, histogram);
  CHECK(row.width == w);
  CHECK(row.height == h);
  CHECK(row.class_pixels == want_class);
  CHECK(row.ignored == as_list(want_ignored));
  CHECK(row.out_of_range == as_list(want_oor));
}

TEST_CASE("add_to_heatmaps counts, per class and pixel, the frames holding that class, one set per resolution",
          "[stats]") {
  // 3 classes, class 1 ignored. Three 3x2 frames (one of them 16-bit) and one 2x2 frame.
  const std::vector<std::uint32_t> ignore{1};
  std::map<heatmap_key, heatmap_set> heat;
  add_to_heatmaps(plane8(3, 2,
                         {0, 1, 2,  //
                          2, 2, 9}),
                  3, ignore, heat);
  add_to_heatmaps(plane8(2, 2,
                         {1, 2,  //
                          0, 5}),
                  3, ignore, heat);
  add_to_heatmaps(plane8(3, 2,
                         {0, 0, 2,  //
                          1, 2, 0}),
                  3, ignore, heat);
  add_to_heatmaps(plane16(3, 2,
                          {2, 0, 2,  //
                           0, 300, 0}),
                  3, ignore, heat);

  REQUIRE(heat.size() == 2);
  REQUIRE(heat.count(heatmap_key{"", 3, 2}) == 1);
  REQUIRE(heat.count(heatmap_key{"", 2, 2}) == 1);

  const heatmap_set& big = heat.at(heatmap_key{"", 3, 2});
  CHECK(big.width == 3);
  CHECK(big.height == 2);
  CHECK(big.frames == 3);
  // counts[(c * H + y) * W + x], counted by hand.
  const std::vector<std::uint32_t> want_big{
      2, 2, 0, 1, 0, 2,  // class 0
      0, 0, 0, 0, 0, 0,  // class 1 (ignored)
      1, 0, 3, 1, 2, 0,  // class 2
  };
  CHECK(big.counts == want_big);

  const heatmap_set& small = heat.at(heatmap_key{"", 2, 2});
  CHECK(small.width == 2);
  CHECK(small.height == 2);
  CHECK(small.frames == 1);
  const std::vector<std::uint32_t> want_small{
      0, 0, 1, 0,  // class 0
      0, 0, 0, 0,  // class 1 (ignored)
      0, 1, 0, 0,  // class 2
  };
  CHECK(small.counts == want_small);
}

TEST_CASE("add_to_heatmaps keys a set by (width, height), so WxH and HxW are different sets", "[stats]") {
  std::map<heatmap_key, heatmap_set> heat;
  add_to_heatmaps(plane8(3, 1, {0, 1, 1}), 2, {}, heat);
  add_to_heatmaps(plane8(1, 3, {1, 1, 0}), 2, {}, heat);
  REQUIRE(heat.size() == 2);
  CHECK(heat.at(heatmap_key{"", 3, 1}).counts == std::vector<std::uint32_t>{1, 0, 0, 0, 1, 1});
  CHECK(heat.at(heatmap_key{"", 1, 3}).counts == std::vector<std::uint32_t>{0, 0, 1, 1, 1, 0});
  CHECK(heat.at(heatmap_key{"", 3, 1}).frames == 1);
  CHECK(heat.at(heatmap_key{"", 1, 3}).frames == 1);
}

TEST_CASE("a heatmap summed over its pixels equals the class pixel counts of its frames", "[stats]") {
  const int depth = GENERATE(8, 16);
  const std::size_t classes = GENERATE(std::size_t{5}, std::size_t{300});
  CAPTURE(depth, classes);
  std::mt19937 rng(static_cast<std::uint32_t>(depth * 1000 + classes));
  const std::uint32_t w = 13, h = 7, frames = 4;
  const std::vector<std::uint32_t> ignore{2, 260};
  const std::uint32_t value_limit = depth == 16 ? 400 : 256;

  std::map<heatmap_key, heatmap_set> heat;
  std::vector<std::uint32_t> naive_cells(classes * w * h, 0);  // naive heatmap
  std::vector<std::uint64_t> naive_pixels(classes, 0);         // naive class pixel totals
  maskscan::test::reused_counter histogram;
  std::vector<std::uint64_t> counted_pixels(classes, 0);  // from count_frame
  for (std::uint32_t f = 0; f < frames; ++f) {
    label_plane plane;
    plane.width = w;
    plane.height = h;
    plane.depth = static_cast<unsigned>(depth);
    for (std::uint32_t p = 0; p < w * h; ++p) {
      const std::uint32_t v = rng() % 3 == 0 ? rng() % value_limit : rng() % 6;
      if (depth == 16)
        plane.u16.push_back(static_cast<std::uint16_t>(v));
      else
        plane.u8.push_back(static_cast<std::uint8_t>(v));
      if (v < classes && v != 2 && v != 260) {
        ++naive_cells[v * w * h + p];
        ++naive_pixels[v];
      }
    }
    add_to_heatmaps(plane, classes, ignore, heat);
    const auto row = count_frame(plane, "f", classes, ignore, histogram);
    for (std::size_t c = 0; c < classes; ++c) counted_pixels[c] += row.class_pixels[c];
  }

  REQUIRE(heat.size() == 1);
  const auto& set = heat.at(heatmap_key{"", w, h});
  CHECK(set.frames == frames);
  REQUIRE(set.counts.size() == classes * w * h);
  CHECK(set.counts == naive_cells);
  for (std::size_t c = 0; c < classes; ++c) {
    std::uint64_t sum = 0;
    for (std::size_t p = 0; p < std::size_t{w} * h; ++p) sum += set.counts[c * w * h + p];
    CAPTURE(c);
    REQUIRE(sum == naive_pixels[c]);
    REQUIRE(sum == counted_pixels[c]);
  }
}

TEST_CASE("add_heatmaps sums sets of one resolution and moves over sets of a new one", "[stats]") {
  auto set = [](std::uint32_t w, std::uint32_t h, std::uint64_t frames, std::vector<std::uint32_t> counts) {
    return heatmap_set{w, h, frames, std::move(counts)};
  };
  std::map<heatmap_key, heatmap_set> into;
  into[heatmap_key{"", 2, 1}] = set(2, 1, 3, {1, 2, 3, 0});
  std::map<heatmap_key, heatmap_set> from;
  from[heatmap_key{"", 2, 1}] = set(2, 1, 2, {1, 0, 2, 2});
  from[heatmap_key{"", 1, 1}] = set(1, 1, 5, {4, 1});
  add_heatmaps(into, from);

  REQUIRE(into.size() == 2);
  CHECK(into.at(heatmap_key{"", 2, 1}) == set(2, 1, 5, {2, 2, 5, 2}));
  CHECK(into.at(heatmap_key{"", 1, 1}) == set(1, 1, 5, {4, 1}));
}

TEST_CASE("add_heatmaps refuses sets of one resolution with different class counts", "[stats]") {
  std::map<heatmap_key, heatmap_set> into;
  into[heatmap_key{"", 2, 1}] = heatmap_set{2, 1, 1, {1, 0, 0, 1}};  // 2 classes
  std::map<heatmap_key, heatmap_set> from;
  from[heatmap_key{"", 2, 1}] = heatmap_set{2, 1, 1, {1, 0, 0, 1, 1, 1}};  // 3 classes
  CHECK_THROWS_AS(add_heatmaps(into, from), std::invalid_argument);
}

TEST_CASE("for_each_run splits rows of long and short runs exactly, across 64-column blocks and 2048-column segments",
          "[stats]") {
  std::mt19937 rng(GENERATE(1u, 2u, 3u));
  for (int trial = 0; trial < 300; ++trial) {
    // Short rows (scalar), rows of whole and partial 64-column blocks, rows over a segment.
    const std::uint32_t widths[] = {1, 60, 2040, 4090}, spans[] = {70, 200, 80, 200};
    const std::uint32_t width = widths[trial % 4] + static_cast<std::uint32_t>(rng() % spans[trial % 4]);
    std::vector<std::uint8_t> row;
    while (row.size() < width) {
      const auto value = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() % 256 : rng() % 3);
      row.insert(row.end(), std::min<std::size_t>(1 + rng() % 25, width - row.size()), value);
    }
    std::vector<std::uint8_t> rebuilt;
    std::uint32_t expected_start = 0;
    int previous = -1;
    maskscan::detail::for_each_run(row.data(), width, [&](std::uint32_t x0, std::uint32_t x1, std::uint32_t v) {
      CHECK(x0 == expected_start);
      CHECK(x1 > x0);
      CHECK(static_cast<int>(v) != previous);  // runs are maximal
      previous = static_cast<int>(v);
      expected_start = x1;
      rebuilt.insert(rebuilt.end(), x1 - x0, static_cast<std::uint8_t>(v));
    });
    CHECK(expected_start == width);
    REQUIRE(rebuilt == row);
  }
}

TEST_CASE("run_changes: every implementation finds the columns a plain comparison finds, in any range", "[stats]") {
  std::mt19937 rng(GENERATE(4u, 5u));
  for (const auto& variant : maskscan::detail::run_changes_variants()) {
    CAPTURE(variant.name);
    for (int trial = 0; trial < 200; ++trial) {
      const auto width = static_cast<std::uint32_t>(2 + rng() % 400);
      std::vector<std::uint8_t> row;
      const auto longest = static_cast<std::uint32_t>(1 + rng() % 40);  // 1: a change in every column
      while (row.size() < width)
        row.insert(row.end(), std::min<std::size_t>(1 + rng() % longest, width - row.size()),
                   static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() % 256 : rng() % 2));
      const auto begin = static_cast<std::uint32_t>(1 + rng() % (width - 1));
      const auto end = static_cast<std::uint32_t>(begin + rng() % (width - begin + 1));
      std::vector<std::uint32_t> expected;
      for (std::uint32_t x = begin; x < end; ++x)
        if (row[x] != row[x - 1]) expected.push_back(x);
      std::vector<std::uint32_t> found(end - begin + 2);
      found.resize(variant.find(row.data(), begin, end, found.data()));
      CAPTURE(width, begin, end);
      REQUIRE(found == expected);
    }
  }
}

// --- grid heatmaps ---------------------------------------------------------------------------------

TEST_CASE("grid_sample is the pixel nearest the cell's centre, floor((2i + 1) size / (2 cells))",
          "[stats][heatmap-grid]") {
  using maskscan::grid_sample;
  // Worked by hand: 7 columns onto 3 cells: centres at 7/6, 21/6, 35/6 -> 1, 3, 5.
  CHECK(grid_sample(0, 3, 7) == 1);
  CHECK(grid_sample(1, 3, 7) == 3);
  CHECK(grid_sample(2, 3, 7) == 5);
  // 3 rows onto 2 cells: 3/4, 9/4 -> 0, 2. A frame smaller than the grid repeats its pixels.
  CHECK(grid_sample(0, 2, 3) == 0);
  CHECK(grid_sample(1, 2, 3) == 2);
  for (std::uint32_t i = 0; i < 4; ++i) CHECK(grid_sample(i, 4, 1) == 0);
  CHECK(grid_sample(3, 4, 2) == 1);  // 7/4
  // Exact where floating point would not be: (2 * 4095 + 1) * 4294967295 / 8192 does not fit 32 bits.
  CHECK(grid_sample(4095, 4096, 4294967295U) == static_cast<std::uint32_t>((std::uint64_t{8191} * 4294967295U) / 8192));
}

TEST_CASE("grid_accumulator counts what a per-cell loop over the definition counts, any sizes, depths, lut, groups",
          "[stats][heatmap-grid]") {
  const int depth = GENERATE(8, 16);
  const bool from_values = GENERATE(false, true);
  const bool with_lut = GENERATE(false, true);
  CAPTURE(depth, from_values, with_lut);
  std::mt19937 rng(static_cast<std::uint32_t>(depth * 100 + from_values * 10 + with_lut));
  const std::size_t classes = 7;
  const std::vector<std::uint32_t> ignore{2, 9};
  // from values: every value below max_value_classes that is not ignored is a class.
  const std::size_t counted_classes = from_values ? maskscan::max_value_classes : classes;
  // A table that folds raw values onto others (as --instance-divisor and --remap do).
  std::vector<std::uint32_t> lut(std::size_t{1} << 16);
  for (std::uint32_t v = 0; v < lut.size(); ++v) lut[v] = v % 3 == 0 ? v / 3 : v;

  for (int round = 0; round < 6; ++round) {
    const maskscan::grid_size grid{static_cast<std::uint32_t>(1 + rng() % 9),
                                   static_cast<std::uint32_t>(1 + rng() % 9)};
    CAPTURE(round, grid.width, grid.height);
    maskscan::detail::grid_accumulator acc(grid, classes, ignore, from_values);
    maskscan::detail::frame_counter counter(classes, ignore, from_values);
    std::map<std::string, std::vector<std::uint32_t>> want;
    std::map<std::string, std::uint64_t> frames;
    for (int f = 0; f < 8; ++f) {
      const std::uint32_t w = 1 + rng() % 20, h = 1 + rng() % 20;  // often smaller than the grid
      const std::string group = rng() % 2 ? "a" : "b";
      label_plane plane;
      plane.width = w;
      plane.height = h;
      plane.depth = static_cast<unsigned>(depth);
      std::vector<std::uint32_t> counted;  // the values as counted (after the table)
      for (std::uint32_t p = 0; p < w * h; ++p) {
        const std::uint32_t v = rng() % 4 == 0 ? rng() % (depth == 16 ? 3000 : 256) : rng() % 10;
        if (depth == 16)
          plane.u16.push_back(static_cast<std::uint16_t>(v));
        else
          plane.u8.push_back(static_cast<std::uint8_t>(v));
        counted.push_back(with_lut ? lut[v] : v);
      }
      counter.begin(w, h);
      acc.begin(w, h, group);
      accumulate_plane(plane, {counter, nullptr, with_lut ? lut.data() : nullptr, nullptr, &acc});
      (void)counter.finish("f");
      acc.commit();
      maskscan::test::add_to_grid_reference(want[group], grid.width, grid.height, counted_classes, ignore, counted, w,
                                            h);
      ++frames[group];
    }
    auto sets = acc.take();
    REQUIRE(sets.size() == want.size());
    for (auto& [group, counts] : want) {
      CAPTURE(group);
      const auto& set = sets.at(group);
      CHECK(set.width == grid.width);
      CHECK(set.height == grid.height);
      CHECK(set.frames == frames.at(group));
      if (from_values) {  // as many classes as the largest value sampled needs: the rest are zeros
        const std::size_t cells = std::size_t{grid.width} * grid.height;
        REQUIRE(set.counts.size() % cells == 0);
        REQUIRE(set.counts.size() <= counts.size());
        CHECK(std::all_of(counts.begin() + static_cast<std::ptrdiff_t>(set.counts.size()), counts.end(),
                          [](std::uint32_t n) { return n == 0; }));
        counts.resize(set.counts.size());
        if (!set.counts.empty())
          CHECK(std::any_of(set.counts.end() - static_cast<std::ptrdiff_t>(cells), set.counts.end(),
                            [](std::uint32_t n) { return n > 0; }));
      }
      CHECK(set.counts == counts);
    }
    CHECK(acc.take().empty());  // take() empties the accumulator
  }
}

TEST_CASE("grid_accumulator does not count a discarded frame", "[stats][heatmap-grid]") {
  maskscan::detail::grid_accumulator acc({2, 1}, 2, {});
  maskscan::detail::frame_counter counter(2, {});
  const auto feed = [&](const label_plane& plane) {
    counter.begin(plane.width, plane.height);
    acc.begin(plane.width, plane.height);
    accumulate_plane(plane, {counter, nullptr, nullptr, nullptr, &acc});
    (void)counter.finish("f");
  };
  feed(plane8(2, 1, {0, 1}));
  acc.discard_frame();
  acc.commit();                      // nothing begun any more: a no-op
  feed(plane8(4, 1, {1, 1, 0, 0}));  // columns (2j + 1) 4 / 4 = 1 and 3: values 1 and 0
  acc.commit();
  const auto sets = acc.take();
  REQUIRE(sets.size() == 1);
  CHECK(sets.at("").frames == 1);
  // (class, column): class 0 at column 1, class 1 at column 0.
  CHECK(sets.at("").counts == std::vector<std::uint32_t>{0, 1, 1, 0});
}

TEST_CASE("grid_accumulator keeps a set without classes when nothing sampled counts", "[stats][heatmap-grid]") {
  // Classes from values, every sample ignored: the set has no class yet, then grows with the next frame.
  maskscan::detail::grid_accumulator acc({2, 2}, 0, {5}, true);
  maskscan::detail::frame_counter counter(0, {5}, true);
  const auto feed = [&](const label_plane& plane) {
    counter.begin(plane.width, plane.height);
    acc.begin(plane.width, plane.height);
    accumulate_plane(plane, {counter, nullptr, nullptr, nullptr, &acc});
    (void)counter.finish("f");
    acc.commit();
  };
  feed(plane8(2, 2, {5, 5, 5, 5}));
  auto sets = acc.take();
  REQUIRE(sets.size() == 1);
  CHECK(sets.at("").frames == 1);
  CHECK(sets.at("").counts.empty());
  feed(plane8(2, 2, {5, 5, 5, 5}));
  feed(plane8(2, 2, {5, 1, 5, 5}));
  sets = acc.take();
  CHECK(sets.at("").frames == 2);
  CHECK(sets.at("").counts == std::vector<std::uint32_t>{0, 0, 0, 0, 0, 1, 0, 0});  // class 1 at cell (0, 1)

  // A class map without classes: nothing ever counts.
  maskscan::detail::grid_accumulator none({3, 1}, 0, {});
  maskscan::detail::frame_counter none_counter(0, {});
  none_counter.begin(3, 1);
  none.begin(3, 1);
  accumulate_plane(plane8(3, 1, {0, 1, 2}), {none_counter, nullptr, nullptr, nullptr, &none});
  none.commit();
  CHECK(none.take().at("").counts.empty());
}

TEST_CASE("heatmaps that cannot be allocated are an error naming them, and nothing half-made is left",
          "[stats][env-faults]") {
  // 65536 classes of 65535 x 65535: over a petabyte, more than any address space, so the allocation
  // fails on every machine (and under the sanitizers, whose presets let it return null).
  maskscan::detail::heatmap_accumulator acc(65536, {});
  acc.begin(2, 1);
  acc.add_run(0, 0, 2, 1);
  try {
    acc.begin(65535, 65535, "g");
    FAIL("the allocation succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::not_enough_memory);
    CHECK_THAT(e.what(),
               Catch::Contains("not enough memory for the 65535x65535 heatmaps of group 'g' of 65536 classes"));
  }
  // Before: the set's map entry was made before its memory, and the next frame of that size (or
  // take()) wrote into the empty set: SIGSEGV.
  CHECK_THROWS_AS(acc.begin(65535, 65535, "g"), std::system_error);
  acc.begin(2, 1);
  acc.add_run(0, 1, 2, 1);
  const auto sets = acc.take();
  REQUIRE(sets.size() == 1);
  const auto& set = sets.at(heatmap_key{"", 2, 1});
  CHECK(set.frames == 2);
  CHECK(set.counts[1 * 2 + 0] == 1);  // class 1, x 0
  CHECK(set.counts[1 * 2 + 1] == 2);  // class 1, x 1
}
