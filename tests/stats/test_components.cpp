// component_counter against answers worked out by hand on tiny masks, and against a plain flood fill
// over the whole 2-D array of ids (4- and 8-neighbourhood) on random masks.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include <maskscan/stats.hpp>

#include "stats/components.hpp"

namespace {

using maskscan::size_histogram;
using maskscan::detail::component_counter;

struct mask {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint32_t> ids;  // row-major
  std::uint32_t at(std::uint32_t x, std::uint32_t y) const { return ids[std::size_t{y} * width + x]; }
};

mask make_mask(std::uint32_t w, std::uint32_t h, std::vector<std::uint32_t> ids) {
  REQUIRE(ids.size() == std::size_t{w} * h);
  return mask{w, h, std::move(ids)};
}

struct result {
  std::vector<std::uint32_t> instances;
  std::vector<size_histogram> sizes;
  friend bool operator==(const result&, const result&) = default;
};

/// The reference: flood fill from every not yet visited pixel of a labelled class.
result flood_fill(const mask& m, std::size_t classes, const std::vector<std::uint32_t>& ignore, unsigned connectivity) {
  auto labelled = [&](std::uint32_t v) {
    if (v >= classes) return false;
    for (const std::uint32_t i : ignore)
      if (i == v) return false;
    return true;
  };
  result r;
  r.instances.assign(classes, 0);
  r.sizes.resize(classes);
  std::vector<bool> seen(m.ids.size(), false);
  std::vector<std::pair<std::int64_t, std::int64_t>> stack;
  for (std::uint32_t y0 = 0; y0 < m.height; ++y0)
    for (std::uint32_t x0 = 0; x0 < m.width; ++x0) {
      const std::uint32_t v = m.at(x0, y0);
      if (!labelled(v) || seen[std::size_t{y0} * m.width + x0]) continue;
      std::uint64_t pixels = 0;
      seen[std::size_t{y0} * m.width + x0] = true;
      stack.assign(1, {x0, y0});
      while (!stack.empty()) {
        const auto [x, y] = stack.back();
        stack.pop_back();
        ++pixels;
        for (std::int64_t dy = -1; dy <= 1; ++dy)
          for (std::int64_t dx = -1; dx <= 1; ++dx) {
            if (dx == 0 && dy == 0) continue;
            if (connectivity == 4 && dx != 0 && dy != 0) continue;
            const std::int64_t nx = x + dx, ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= m.width || ny >= m.height) continue;
            const std::size_t i = static_cast<std::size_t>(ny) * m.width + static_cast<std::size_t>(nx);
            if (seen[i] || m.ids[i] != v) continue;
            seen[i] = true;
            stack.push_back({nx, ny});
          }
      }
      ++r.instances[v];
      ++r.sizes[v][pixels];
    }
  return r;
}

/// Feeds one frame as maximal runs per row; with a split generator, some runs are cut into two adjacent
/// pieces of the same value.
void feed(component_counter& counter, const mask& m, std::mt19937* split = nullptr) {
  counter.begin(m.width, m.height);
  for (std::uint32_t y = 0; y < m.height; ++y)
    for (std::uint32_t x0 = 0; x0 < m.width;) {
      std::uint32_t x1 = x0 + 1;
      while (x1 < m.width && m.at(x1, y) == m.at(x0, y)) ++x1;
      if (split && x1 - x0 >= 2 && (*split)() % 2 == 0) {
        const std::uint32_t cut = x0 + 1 + static_cast<std::uint32_t>((*split)() % (x1 - x0 - 1));
        counter.add_run(y, x0, cut, m.at(x0, y));
        counter.add_run(y, cut, x1, m.at(x0, y));
      } else {
        counter.add_run(y, x0, x1, m.at(x0, y));
      }
      x0 = x1;
    }
}

result count(const mask& m, std::size_t classes, const std::vector<std::uint32_t>& ignore, unsigned connectivity,
             std::mt19937* split = nullptr) {
  component_counter counter(classes, ignore, connectivity);
  feed(counter, m, split);
  result r;
  counter.finish(r.instances, r.sizes);
  return r;
}

/// Both the counter and the flood fill must give `expected`.
void check(const mask& m, std::size_t classes, const std::vector<std::uint32_t>& ignore, unsigned connectivity,
           const result& expected) {
  CAPTURE(connectivity);
  CHECK(flood_fill(m, classes, ignore, connectivity) == expected);
  CHECK(count(m, classes, ignore, connectivity) == expected);
}

result expect(std::vector<std::uint32_t> instances, std::vector<size_histogram> sizes) {
  return result{std::move(instances), std::move(sizes)};
}

}  // namespace

TEST_CASE("components: two diagonal pixels are two components with 4-connectivity, one with 8", "[components]") {
  const mask m = make_mask(2, 2,
                           {1, 0,  //
                            0, 1});
  check(m, 2, {}, 4, expect({2, 2}, {{{1, 2}}, {{1, 2}}}));
  check(m, 2, {}, 8, expect({1, 1}, {{{2, 1}}, {{2, 1}}}));
}

TEST_CASE("components: a U shape joins two earlier components in its last row", "[components]") {
  const mask u = make_mask(3, 3,
                           {1, 0, 1,  //
                            1, 0, 1,  //
                            1, 1, 1});
  for (const unsigned conn : {4u, 8u}) check(u, 2, {}, conn, expect({1, 1}, {{{2, 1}}, {{7, 1}}}));
  const mask n = make_mask(3, 3,
                           {1, 1, 1,  //
                            1, 0, 1,  //
                            1, 0, 1});
  for (const unsigned conn : {4u, 8u}) check(n, 2, {}, conn, expect({1, 1}, {{{2, 1}}, {{7, 1}}}));
  // A W: three prongs joined at the bottom, the last of them by the rightmost run.
  const mask w = make_mask(5, 3,
                           {1, 0, 1, 0, 1,  //
                            1, 0, 1, 0, 1,  //
                            1, 1, 1, 1, 1});
  check(w, 2, {}, 4, expect({2, 1}, {{{2, 2}}, {{11, 1}}}));
  check(w, 2, {}, 8, expect({2, 1}, {{{2, 2}}, {{11, 1}}}));
}

TEST_CASE("components: a spiral is one component of each class", "[components]") {
  const mask m = make_mask(7, 7, {1, 1, 1, 1, 1, 1, 1,  //
                                  0, 0, 0, 0, 0, 0, 1,  //
                                  1, 1, 1, 1, 1, 0, 1,  //
                                  1, 0, 0, 0, 1, 0, 1,  //
                                  1, 0, 1, 1, 1, 0, 1,  //
                                  1, 0, 0, 0, 0, 0, 1,  //
                                  1, 1, 1, 1, 1, 1, 1});
  for (const unsigned conn : {4u, 8u}) check(m, 2, {}, conn, expect({1, 1}, {{{18, 1}}, {{31, 1}}}));
  // Three prongs of 2 and two of 0 from the top: the outer prongs of 2 meet only in the last row, the
  // prongs of 0 in row 3, and the middle prong of 2 touches no other 2 (not even diagonally).
  const mask s = make_mask(5, 5, {2, 0, 2, 0, 2,  //
                                  2, 0, 2, 0, 2,  //
                                  2, 0, 2, 0, 2,  //
                                  2, 0, 0, 0, 2,  //
                                  2, 2, 2, 2, 2});
  for (const unsigned conn : {4u, 8u}) check(s, 3, {}, conn, expect({1, 0, 2}, {{{9, 1}}, {}, {{3, 1}, {13, 1}}}));
}

TEST_CASE("components: one run touching many runs above and below", "[components]") {
  const mask comb = make_mask(7, 3, {1, 0, 1, 0, 1, 0, 1,  //
                                     1, 1, 1, 1, 1, 1, 1,  //
                                     0, 1, 0, 1, 0, 1, 0});
  // 4-connectivity: the 0s of row 0 and of row 2 are all single pixels. 8-connectivity: still, no two
  // of them touch (row 1 is all 1s, and zeros of one row are two apart).
  check(comb, 2, {}, 4, expect({7, 1}, {{{1, 7}}, {{14, 1}}}));
  check(comb, 2, {}, 8, expect({7, 1}, {{{1, 7}}, {{14, 1}}}));
  // A staircase: every run touches the one above it only diagonally; with 8-connectivity the two
  // triangles of 0 touch diagonally across it, at (1, 0)-(0, 1) and so on.
  const mask stairs = make_mask(4, 4,
                                {1, 0, 0, 0,  //
                                 0, 1, 0, 0,  //
                                 0, 0, 1, 0,  //
                                 0, 0, 0, 1});
  check(stairs, 2, {}, 4, expect({2, 4}, {{{6, 2}}, {{1, 4}}}));
  check(stairs, 2, {}, 8, expect({1, 1}, {{{12, 1}}, {{4, 1}}}));
}

TEST_CASE("components: a 3x3 checkerboard", "[components]") {
  const mask m = make_mask(3, 3,
                           {0, 1, 0,  //
                            1, 0, 1,  //
                            0, 1, 0});
  check(m, 2, {}, 4, expect({5, 4}, {{{1, 5}}, {{1, 4}}}));
  check(m, 2, {}, 8, expect({1, 1}, {{{5, 1}}, {{4, 1}}}));
}

TEST_CASE("components: a single row, a single column and a single pixel", "[components]") {
  const std::vector<std::uint32_t> ids{0, 0, 1, 1, 0, 2, 2, 2};
  const result answer = expect({2, 1, 1}, {{{1, 1}, {2, 1}}, {{2, 1}}, {{3, 1}}});
  for (const unsigned conn : {4u, 8u}) {
    check(make_mask(8, 1, ids), 3, {}, conn, answer);
    check(make_mask(1, 8, ids), 3, {}, conn, answer);
    check(make_mask(1, 1, {0}), 1, {}, conn, expect({1}, {{{1, 1}}}));
    check(make_mask(1, 1, {1}), 2, {1}, conn, expect({0, 0}, {{}, {}}));
  }
}

TEST_CASE("components: classes that do not occur have no components", "[components]") {
  const mask m = make_mask(4, 2,
                           {0, 0, 2, 2,  //
                            2, 2, 2, 0});
  for (const unsigned conn : {4u, 8u})
    check(m, 4, {}, conn, expect({2, 0, 1, 0}, {{{1, 1}, {2, 1}}, {}, {{5, 1}}, {}}));
}

TEST_CASE("components: ignore-listed and out-of-range values are not counted and connect nothing", "[components]") {
  // Class 2 is ignore-listed, 7 is out of range (3 classes).
  const mask m = make_mask(3, 3,
                           {1, 7, 1,  //
                            2, 2, 2,  //
                            1, 2, 1});
  for (const unsigned conn : {4u, 8u}) check(m, 3, {2}, conn, expect({0, 4, 0}, {{}, {{1, 4}}, {}}));
  // A row of nothing but not-labelled values between two runs of class 0: two components.
  const mask gap = make_mask(2, 3,
                             {0, 0,  //
                              7, 2,  //
                              0, 0});
  for (const unsigned conn : {4u, 8u}) check(gap, 3, {2}, conn, expect({2, 0, 0}, {{{2, 2}}, {}, {}}));
  // Ignoring an id >= classes changes nothing.
  for (const unsigned conn : {4u, 8u}) check(m, 3, {2, 9}, conn, expect({0, 4, 0}, {{}, {{1, 4}}, {}}));
}

TEST_CASE("components: adjacent runs of one value on a row are connected", "[components]") {
  for (const unsigned conn : {4u, 8u}) {
    CAPTURE(conn);
    component_counter counter(2, {}, conn);
    counter.begin(4, 1);
    counter.add_run(0, 0, 2, 1);
    counter.add_run(0, 2, 4, 1);
    result r;
    counter.finish(r.instances, r.sizes);
    CHECK(r == expect({0, 1}, {{}, {{4, 1}}}));

    // 1 0 1 over a row of 1s fed as three single pixels: one component of 5 pixels.
    counter.begin(3, 2);
    counter.add_run(0, 0, 1, 1);
    counter.add_run(0, 1, 2, 0);
    counter.add_run(0, 2, 3, 1);
    counter.add_run(1, 0, 1, 1);
    counter.add_run(1, 1, 2, 1);
    counter.add_run(1, 2, 3, 1);
    counter.finish(r.instances, r.sizes);
    CHECK(r == expect({1, 1}, {{{1, 1}}, {{4, 1}, {5, 1}}}));  // sizes accumulate over the two frames
  }
}

TEST_CASE("components: sizes and coordinates near the 32-bit limit", "[components]") {
  constexpr std::uint32_t w = 0xFFFFFFFFu;
  for (const unsigned conn : {4u, 8u}) {
    CAPTURE(conn);
    component_counter counter(2, {}, conn);
    counter.begin(w, 2);
    counter.add_run(0, 0, w - 1, 1);
    counter.add_run(0, w - 1, w, 0);
    counter.add_run(1, 0, 1, 0);
    counter.add_run(1, 1, w, 1);
    result r;
    counter.finish(r.instances, r.sizes);
    CHECK(r == expect({2, 1}, {{{1, 2}}, {{2 * std::uint64_t{w - 1}, 1}}}));
  }
}

TEST_CASE("components: connectivity other than 4 or 8 is rejected", "[components]") {
  CHECK_THROWS_AS(component_counter(2, {}, 6), std::invalid_argument);
  CHECK_THROWS_AS(component_counter(2, {}, 0), std::invalid_argument);
}

namespace {

/// Random masks of 1..64 x 1..64 with 2-5 class values, an ignore-listed one and an out-of-range one;
/// `smooth` is the chance that a pixel copies its left or upper neighbour (blobs, spirals, long runs).
std::vector<mask> random_masks(std::uint32_t seed, int count) {
  std::mt19937 rng(seed);
  std::vector<mask> masks;
  for (int i = 0; i < count; ++i) {
    mask m;
    m.width = 1 + rng() % 64;
    m.height = 1 + rng() % 64;
    const std::uint32_t values = 4 + rng() % 4;  // 2-5 classes 0 .. values-3, then 7 (ignored), 9 (out of range)
    const double smooth = std::vector<double>{0.0, 0.5, 0.8, 0.95}[rng() % 4];
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    m.ids.resize(std::size_t{m.width} * m.height);
    for (std::uint32_t y = 0; y < m.height; ++y)
      for (std::uint32_t x = 0; x < m.width; ++x) {
        std::uint32_t v;
        if (unit(rng) < smooth && (x > 0 || y > 0)) {
          v = (y == 0 || (x > 0 && rng() % 2 == 0)) ? m.at(x - 1, y) : m.at(x, y - 1);
        } else {
          const auto k = static_cast<std::uint32_t>(rng() % values);
          v = k + 2 < values ? k : (k + 2 == values ? 7 : 9);
        }
        m.ids[std::size_t{y} * m.width + x] = v;
      }
    masks.push_back(std::move(m));
  }
  return masks;
}

constexpr std::size_t random_classes = 8;  // ids 0..7; 7 ignore-listed, 9 out of range
const std::vector<std::uint32_t> random_ignore{7};

}  // namespace

TEST_CASE("components: random masks match a flood fill at both connectivities", "[components]") {
  const std::vector<mask> masks = random_masks(20240611, 200);
  std::mt19937 split(7);
  for (const unsigned conn : {4u, 8u})
    for (std::size_t i = 0; i < masks.size(); ++i) {
      CAPTURE(conn, i, masks[i].width, masks[i].height);
      const result expected = flood_fill(masks[i], random_classes, random_ignore, conn);
      REQUIRE(count(masks[i], random_classes, random_ignore, conn) == expected);
      REQUIRE(count(masks[i], random_classes, random_ignore, conn, &split) == expected);
    }
}

TEST_CASE("components: a larger random blob mask matches a flood fill", "[components]") {
  std::mt19937 rng(99);
  mask m;
  m.width = 517;
  m.height = 301;
  m.ids.resize(std::size_t{m.width} * m.height);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::uint32_t y = 0; y < m.height; ++y)
    for (std::uint32_t x = 0; x < m.width; ++x) {
      std::uint32_t v = static_cast<std::uint32_t>(rng() % 5);
      if (unit(rng) < 0.97 && (x > 0 || y > 0))
        v = (y == 0 || (x > 0 && rng() % 3 != 0)) ? m.at(x - 1, y) : m.at(x, y - 1);
      m.ids[std::size_t{y} * m.width + x] = v;
    }
  for (const unsigned conn : {4u, 8u}) {
    CAPTURE(conn);
    CHECK(count(m, 4, {}, conn) == flood_fill(m, 4, {}, conn));
  }
}

TEST_CASE("components: a counter reused over many frames matches fresh counters", "[components]") {
  const std::vector<mask> masks = random_masks(31337, 120);
  for (const unsigned conn : {4u, 8u}) {
    CAPTURE(conn);
    component_counter reused(random_classes, random_ignore, conn);
    std::vector<size_histogram> all_sizes(2);  // smaller than the class count: finish() resizes it
    all_sizes[0][12345] = 1;                   // and adds to what is there
    std::vector<size_histogram> expected_sizes(random_classes);
    expected_sizes[0][12345] = 1;
    for (std::size_t i = 0; i < masks.size(); ++i) {
      CAPTURE(i);
      if (i % 10 == 3) {  // an abandoned frame: begin() must drop it
        reused.begin(masks[i].width, masks[i].height);
        reused.add_run(0, 0, 1, 0);
      }
      feed(reused, masks[i]);
      result r;
      reused.finish(r.instances, r.sizes);
      const result fresh = count(masks[i], random_classes, random_ignore, conn);
      REQUIRE(r == fresh);
      std::vector<std::uint32_t> instances{1, 2, 3};  // overwritten, not added to
      feed(reused, masks[i]);
      reused.finish(instances, all_sizes);
      REQUIRE(instances == fresh.instances);
      for (std::size_t c = 0; c < random_classes; ++c)
        for (const auto& [size, n] : fresh.sizes[c]) expected_sizes[c][size] += n;
    }
    CHECK(all_sizes == expected_sizes);
  }
}
