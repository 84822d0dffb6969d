// scan_options::max_memory: a scan that would not fit is refused before any frame, naming what it
// needs; heatmaps of a size that shows up later fail the scan when they do not fit; where the
// boundary lies does not depend on the concurrency setting.
#include <catch2/catch.hpp>

#include <string>
#include <system_error>

#include <maskscan/option_error.hpp>
#include <maskscan/scan.hpp>

#include "pipeline/memory_budget.hpp"
#include "support/results.hpp"
#include "support/run_cli.hpp"

using namespace maskscan;
using namespace maskscan::detail;

namespace {

/// a/: 24 frames of 64x48 (the first frame), b/: 12 of 33x17.
const test::temp_dir& two_sizes() {
  static const test::temp_dir dir;
  static const bool made = [] {
    synthesize_dataset(dir / "a", test::synth_frames(24, 64, 48));
    synthesize_dataset(dir / "b", test::synth_frames(12, 33, 17, 7));
    return true;
  }();
  (void)made;
  return dir;
}

scan_options with_setting(scan_options o, unsigned workers) {
  o.serial = workers == 0;
  o.workers = std::max(workers, 1u);
  return o;
}

constexpr std::uint64_t set_64x48 = 48 * 65 * 10 * 4, set_33x17 = 17 * 34 * 10 * 4;  // rows x (w + 1) x classes x 4

}  // namespace

TEST_CASE("plan_memory: without a budget nothing is refused, with one what does not fit is listed",
          "[stats][heatmap-store][limits]") {
  scan_options o;
  o.class_names = numbered_class_names(10);
  o.heatmaps = true;
  o.workers = 2;
  o.queue_depth = 128;
  const frame_probe first{"00000_FV.png", 1280, 966, 8, 8000};
  CHECK(plan_memory(o, 8234, 4, first).heatmap_allowance == UINT64_MAX);

  const std::uint64_t set = 966ull * 1281 * 10 * 4;  // 49.5 MB
  o.max_memory = 400'000'000;
  const auto plan = plan_memory(o, 8234, 4, first);
  REQUIRE(plan.items.size() == 4);  // rows, reads, buffers, heatmaps
  CHECK(plan.items.back().bytes == 5 * set);
  CHECK(plan.items[1].bytes == 128 * 8000);
  CHECK(plan.heatmap_allowance == o.max_memory - (plan.total - 5 * set));

  o.max_memory = 200'000'000;
  try {
    (void)plan_memory(o, 8234, 4, first);
    FAIL("a plan over the budget was accepted");
  } catch (const option_error& e) {
    CHECK(e.option() == "max_memory");
    CHECK_THAT(e.message([](std::string_view) { return std::string("--max-memory"); }),
               Catch::Contains("the memory budget --max-memory of 200.0 MB is less than this scan needs") &&
                   Catch::Contains("8234 frames in 4 groups and its first frame, 00000_FV.png (1280x966)") &&
                   Catch::Contains("the heatmaps (4 groups' 1280x966 sets and their sum: 5 x 49.5 MB)"));
  }
  // A grid instead of full-size heatmaps fits: each worker's grid set per group, and their sum.
  o.heatmaps = false;
  o.heatmap_grid = {64, 48};
  CHECK(plan_memory(o, 8234, 4, first).items.back().bytes == (2 * 4 + 1) * 64 * 48 * 10 * 4);
}

TEST_CASE("max_memory: a scan over the budget is refused before any frame, naming what it needs, at every setting",
          "[pipeline][limits][memory]") {
  const auto source = frame_source::from_directory(two_sizes().path());
  scan_options o;
  o.class_names = woodscape_class_names();
  o.heatmaps = true;
  o.group_by = "^([^/]+)/";  // a, b
  o.max_memory = 300'000;    // the heatmaps alone: 2 groups' sets and their sum at 64x48, 3 x 124,800 bytes
  const unsigned workers = GENERATE(0u, 1u, 2u, 4u);  // 0: serial
  CAPTURE(workers);
  o = with_setting(o, workers);
  try {
    check_memory(source, o);
    FAIL("check_memory accepted it");
  } catch (const option_error& e) {
    CHECK(e.option() == "max_memory");
    CHECK_THAT(e.what(), Catch::Contains("the memory budget max_memory of 300.0 kB is less than this scan needs") &&
                             Catch::Contains("36 frames in 2 groups and its first frame, a/00000_FV.png (64x48)") &&
                             Catch::Contains("the heatmaps (2 groups' 64x48 sets and their sum: 3 x 124.8 kB)"));
  }
  CHECK_THROWS_WITH(scan(source, o), Catch::Contains("the memory budget max_memory of 300.0 kB"));
  o.max_memory = 4'000'000;  // the workers' counters alone are 512 KiB each
  CHECK_NOTHROW(check_memory(source, o));
  CHECK(scan(source, o).stats.frames.size() == 36);
}

TEST_CASE(
    "max_memory: heatmaps of a frame size seen later fail the scan when they do not fit, at the same "
    "boundary for every setting",
    "[pipeline][limits][memory]") {
  const auto source = frame_source::from_directory(two_sizes().path());
  scan_options o;
  o.class_names = woodscape_class_names();
  o.heatmaps = true;
  const auto reference = scan(source, o);
  REQUIRE(reference.stats.heatmaps.size() == 2);

  const unsigned workers = GENERATE(0u, 1u, 2u, 4u);
  CAPTURE(workers);
  o = with_setting(o, workers);
  // The rows and buffers as the plan counts them for this setting; the rest is the heatmaps'.
  auto planned = o;
  planned.max_memory = UINT64_MAX;
  const auto plan = plan_scan_memory(source, planned, 1);
  REQUIRE(plan.items.back().bytes == set_64x48);  // up front: the first frame's size only
  const std::uint64_t others = plan.total - set_64x48;

  o.max_memory = others + set_64x48 + set_33x17;  // exactly what both sizes' sets take
  const auto fits = scan(source, o);
  CHECK(fits.stats == reference.stats);

  o.max_memory -= 1;
  try {
    (void)scan(source, o);
    FAIL("the scan went past its budget");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::not_enough_memory);
    CHECK_THAT(e.what(), Catch::Contains("heatmaps of 10 classes within --max-memory") &&
                             Catch::Contains("would take 147920 bytes, more than the 147919 bytes left") &&
                             Catch::Contains("raise --max-memory"));
  }
}

TEST_CASE("cli --max-memory: sizes with units, refused up front with exit status 2 naming the flag",
          "[pipeline][limits][memory][cli]") {
  const auto dir = test::quote(two_sizes().path());
  const auto refused =
      test::run_cli("scan " + dir + " --labels woodscape --heatmaps --group-by '^([^/]+)/' --max-memory 300kB");
  CHECK(refused.status == 2);
  CHECK_THAT(refused.err, Catch::Contains("the memory budget --max-memory of 300.0 kB is less than this scan needs"));
  CHECK(refused.out.empty());
  const auto fits =
      test::run_cli("scan " + dir + " --labels woodscape --heatmaps --group-by '^([^/]+)/' --max-memory 4MiB");
  CHECK(fits.status == 0);
  const auto help = test::run_cli("scan --help");
  CHECK_THAT(help.out, Catch::Contains("--max-memory"));
}
