// heatmap_store and heatmap_accumulator: workers on threads writing one store give, for every
// interleaving, the counts of a per-pixel loop over the definition; the budget refuses what does not
// fit, naming it.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "stats/frame_stats.hpp"
#include "stats/heatmaps.hpp"
#include "support/planes.hpp"

using namespace maskscan;
using namespace maskscan::detail;

namespace {

struct frame {
  label_plane plane;
  std::string group;
};

/// Frames of a few sizes and groups, made of runs of random length and value (< `values`).
std::vector<frame> random_frames(std::size_t n, std::uint32_t values, unsigned seed) {
  std::mt19937 rng(seed);
  const std::pair<std::uint32_t, std::uint32_t> sizes[] = {{37, 29}, {64, 5}, {1, 70}};
  const char* groups[] = {"a", "b", "c"};
  std::vector<frame> frames;
  for (std::size_t i = 0; i < n; ++i) {
    const auto [w, h] = sizes[rng() % 3];
    std::vector<std::uint8_t> ids(std::size_t{w} * h);
    for (std::size_t k = 0; k < ids.size();) {
      const std::size_t run = 1 + rng() % 20;
      const auto v = static_cast<std::uint8_t>(rng() % values);
      for (std::size_t j = 0; j < run && k < ids.size(); ++j) ids[k++] = v;
    }
    frames.push_back({test::plane8(w, h, std::move(ids)), groups[rng() % 3]});
  }
  return frames;
}

/// The definition, pixel by pixel: counts[(c * h + y) * w + x] = frames whose pixel (x, y) is c.
std::map<heatmap_key, heatmap_set> per_pixel(const std::vector<frame>& frames, std::size_t classes,
                                             std::uint32_t ignored) {
  std::map<heatmap_key, heatmap_set> out;
  for (const auto& f : frames) {
    const auto& p = f.plane;
    auto& set = out[heatmap_key{f.group, p.width, p.height}];
    set.width = p.width;
    set.height = p.height;
    set.counts.resize(classes * p.width * p.height);
    ++set.frames;
    for (std::uint32_t y = 0; y < p.height; ++y)
      for (std::uint32_t x = 0; x < p.width; ++x) {
        const std::uint32_t c = p.u8[std::size_t{y} * p.width + x];
        if (c != ignored && c < classes) ++set.counts[(std::size_t{c} * p.height + y) * p.width + x];
      }
  }
  return out;
}

/// Frames i with i % threads == t go to thread t, each with an accumulator of its own on `store`.
void accumulate_on_threads(const std::vector<frame>& frames, const std::shared_ptr<heatmap_store>& store,
                           const std::vector<std::uint32_t>& ignore, unsigned threads) {
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      heatmap_accumulator heat(store, ignore);
      frame_counter counter(store->from_values() ? 0 : store->classes(), ignore, store->from_values());
      for (std::size_t i = t; i < frames.size(); i += threads) {
        const auto& p = frames[i].plane;
        counter.begin(p.width, p.height);
        heat.begin(p.width, p.height, frames[i].group);
        accumulate_plane(p, {counter, &heat});
        const auto row = counter.finish("f");
        if (store->from_values()) heat.reserve(row.class_pixels.size());
      }
      heat.flush();
    });
  for (auto& t : pool) t.join();
}

}  // namespace

TEST_CASE("heatmap_store: workers on threads sharing the sets count what a per-pixel loop counts",
          "[stats][heatmap-store]") {
  const unsigned threads = GENERATE(1u, 2u, 3u, 8u);
  const unsigned seed = GENERATE(1u, 2u);
  CAPTURE(threads, seed);
  const auto frames = random_frames(300, 7, seed);
  const std::vector<std::uint32_t> ignore{3};
  const auto expected = per_pixel(frames, 7, 3);
  REQUIRE(expected.size() == 9);  // 3 sizes x 3 groups

  auto store = std::make_shared<heatmap_store>(7, false, true);
  accumulate_on_threads(frames, store, ignore, threads);
  const auto sets = store->take();
  CHECK(sets == expected);
  CHECK(store->take().empty());  // taken once
}

TEST_CASE("heatmap_store: classes from values grow the shared sets while workers write them",
          "[stats][heatmap-store]") {
  const unsigned threads = GENERATE(1u, 4u);
  CAPTURE(threads);
  const auto frames = random_frames(200, 40, 5);
  auto store = std::make_shared<heatmap_store>(0, true);
  accumulate_on_threads(frames, store, {}, threads);
  auto sets = store->take();
  // Each set holds as many classes as its largest value needs; widened, they are the definition's.
  widen_heatmaps(sets, 40);
  CHECK(sets == per_pixel(frames, 40, UINT32_MAX));
}

TEST_CASE("heatmap_store's budget: a set that does not fit is refused naming it, and grouped a sum per size counts",
          "[stats][heatmap-store]") {
  // 2 classes of 10x4: 4 rows x 11 differences x 2 classes x 4 bytes = 352 bytes a set.
  SECTION("grouped: the first group's set and the sum of its size, then a second group's set") {
    heatmap_store store(2, false, true, 1000, "--max-memory 1.2 kB");
    CHECK(store.acquire({"a", 10, 4}, 0) != nullptr);  // 352 + its size's sum 352 = 704
    try {
      (void)store.acquire({"b", 10, 4}, 0);  // 1056
      FAIL("a set over the budget was made");
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::not_enough_memory);
      CHECK_THAT(e.what(), Catch::Contains("the 10x4 heatmaps of group 'b' of 2 classes within --max-memory 1.2 kB") &&
                               Catch::Contains("would take 1056 bytes") &&
                               Catch::Contains("more than the 1000 bytes left"));
    }
    CHECK(store.acquire({"a", 10, 4}, 0) != nullptr);  // a set that exists is no new charge
    CHECK(store.take().size() == 1);
  }
  SECTION("ungrouped: no sum; two sizes fit exactly") {
    heatmap_store store(2, false, false, 352 + 2 * 3 * 6 * 4);
    CHECK(store.acquire({"", 10, 4}, 0) != nullptr);
    CHECK(store.acquire({"", 5, 3}, 0) != nullptr);  // 3 rows x 6 x 2 x 4 = 144
    CHECK_THROWS_AS(store.acquire({"", 1, 1}, 0), std::system_error);
  }
  SECTION("classes from values: a frame's largest value is charged when it is known") {
    heatmap_store store(0, true, false, 352);
    REQUIRE(store.acquire({"", 10, 4}, 0) != nullptr);
    store.acquire({"", 10, 4}, 2);
    CHECK_THROWS_WITH(store.acquire({"", 10, 4}, 3), Catch::Contains("the 10x4 heatmaps of 3 classes"));
    store.acquire({"", 10, 4}, 1);  // less than granted: nothing to charge
  }
}
