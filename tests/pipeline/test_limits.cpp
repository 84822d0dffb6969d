// Limits reject a frame before its memory is allocated, the same way for every concurrency setting.
#include <catch2/catch.hpp>

#include <maskscan/grouping.hpp>
#include <maskscan/scan.hpp>

#include "support/mixed_dataset.hpp"

using namespace maskscan;

TEST_CASE("max_heatmap_bytes rejects frames whose heatmaps would be too large, identically for every setting",
          "[pipeline][limits]") {
  const test::mixed_dataset data;
  scan_options base;
  base.class_names = woodscape_class_names();  // ten classes, no colour table: bad/rgb.png stays refused
  base.heatmaps = true;
  // 10 classes x 64x48 x 4 bytes = 122,880 fits; CamVid's 480x360 (6.9 MB) does not.
  base.max_heatmap_bytes = 200'000;

  scan_options serial = base;
  serial.serial = true;
  serial.decoder = decoder_kind::spng;
  const auto reference = scan(data.source(), serial);
  std::size_t over_limit = 0;
  for (const auto& e : reference.stats.errors) {
    if (!e.path.starts_with("camvid/")) continue;
    ++over_limit;
    CHECK(e.code == errc::image_too_large);
    CHECK_THAT(e.message, Catch::Contains("480x360") && Catch::Contains("--max-heatmap-bytes"));
  }
  CHECK(over_limit == 26);
  CHECK(reference.stats.errors.size() == over_limit + data.bad_files);
  CHECK(reference.stats.heatmaps.size() == 2);  // 64x48 and 33x17 only

  const unsigned workers = GENERATE(1u, 2u, 4u);
  const auto decoder = GENERATE(decoder_kind::automatic, decoder_kind::spng);
  CAPTURE(workers, to_string(decoder));
  auto options = base;
  options.workers = workers;
  options.decoder = decoder;
  CHECK(scan(data.source(), options).stats == reference.stats);

  // Without heatmaps the limit has nothing to guard: every CamVid frame is counted.
  options.heatmaps = false;
  const auto counts = scan(data.source(), options);
  CHECK(counts.stats.errors.size() == data.bad_files);
}

TEST_CASE("max_heatmap_bytes counts the heatmaps of every group: each group has its own", "[pipeline][limits]") {
  const test::mixed_dataset data;
  scan_options base;
  base.class_names = woodscape_class_names();  // ten classes, no colour table: bad/rgb.png stays refused
  base.heatmaps = true;
  // Every top folder is a group: synth_64x48, synth_33x17, camvid, bad. 64x48 frames need 10 x 64 x 48
  // x 4 = 122,880 bytes per group: one group's set fits in 200,000 bytes (the test above), four do not.
  // 33x17 frames need 22,440 per group, 89,760 for four: they fit.
  base.max_heatmap_bytes = 200'000;
  base.group_by = "^([^/]+)/";
  REQUIRE(frame_grouper(base).count_groups(data.source()) == 4);
  const unsigned workers = GENERATE(0u, 1u, 2u);  // 0: serial
  CAPTURE(workers);
  auto options = base;
  options.serial = workers == 0;
  options.workers = workers == 0 ? 1 : workers;
  const auto result = scan(data.source(), options);
  std::size_t too_large_64x48 = 0;
  for (const auto& e : result.stats.errors)
    if (e.path.starts_with("synth_64x48/")) {
      ++too_large_64x48;
      CHECK(e.code == errc::image_too_large);
      CHECK_THAT(e.message,
                 Catch::Contains("64x48") && Catch::Contains("in each of 4 groups") && Catch::Contains("491520 bytes"));
    }
  CHECK(too_large_64x48 == 24);
  CHECK(result.stats.frames.size() == 12);  // synth_33x17 only
  for (const auto& row : result.stats.frames) CHECK(row.group == "synth_33x17");
  REQUIRE(result.stats.heatmaps.size() == 1);
  CHECK(result.stats.heatmaps.begin()->first == heatmap_key{"synth_33x17", 33, 17});

  // A limit that holds the four groups' 64x48 sets scans those frames too.
  options.max_heatmap_bytes = 4 * 122'880;
  const auto fits = scan(data.source(), options);
  CHECK(fits.stats.frames.size() == 12 + 24);
  CHECK(fits.stats.heatmaps.count(heatmap_key{"synth_64x48", 64, 48}) == 1);
}

TEST_CASE("max_heatmap_bytes judges the heatmap grid's sets: refused up front, per group, per frame from values",
          "[pipeline][limits][heatmap-grid]") {
  const test::mixed_dataset data;
  scan_options base;
  base.class_names = woodscape_class_names();  // ten classes
  base.heatmap_grid = {64, 48};                // 10 x 64 x 48 x 4 = 122,880 bytes per set

  // One set of the class map's classes over the limit: every frame would be refused, so the scan is.
  auto over = base;
  over.max_heatmap_bytes = 122'879;
  CHECK_THROWS_WITH(resolve_defaults(over), Catch::Contains("scan_options::heatmap_grid") && Catch::Contains("64x48") &&
                                                Catch::Contains("122880 bytes") &&
                                                Catch::Contains("max_heatmap_bytes"));
  CHECK_THROWS_AS(scan(data.source(), over), std::invalid_argument);
  over.max_heatmap_bytes = 122'880;
  CHECK_NOTHROW(resolve_defaults(over));

  // Four groups need four sets: every frame is refused, saying so, the same way for every setting.
  auto grouped = base;
  grouped.group_by = "^([^/]+)/";
  grouped.max_heatmap_bytes = 200'000;
  const unsigned workers = GENERATE(0u, 2u);  // 0: serial
  CAPTURE(workers);
  grouped.serial = workers == 0;
  grouped.workers = std::max(workers, 1u);
  const auto refused = scan(data.source(), grouped);
  CHECK(refused.stats.frames.empty());
  CHECK(refused.stats.grid_heatmaps.empty());
  std::size_t grid_errors = 0;
  for (const auto& e : refused.stats.errors)
    if (e.path.starts_with("synth_") || e.path.starts_with("camvid/")) {
      ++grid_errors;
      CHECK(e.code == errc::image_too_large);
      CHECK_THAT(e.message, Catch::Contains("64x48 heatmap grid") && Catch::Contains("in each of 4 groups") &&
                                Catch::Contains("491520 bytes") && Catch::Contains("--heatmap-grid"));
    }
  CHECK(grid_errors == 24 + 12 + 26);
  grouped.max_heatmap_bytes = 4 * 122'880;
  CHECK(scan(data.source(), grouped).stats.frames.size() == 24 + 12 + 26);

  // Classes from values: a frame is judged by its largest value. CamVid's frames hold values up to
  // 11 (12 classes: 147,456 bytes), the synthetic ones up to 9 (10 classes: 122,880 bytes).
  auto from_values = base;
  from_values.class_names.clear();
  from_values.labels.clear();
  from_values.max_heatmap_bytes = 140'000;
  from_values.serial = workers == 0;
  from_values.workers = std::max(workers, 1u);
  const auto r = scan(data.source(), from_values);
  std::size_t camvid_refused = 0;
  for (const auto& e : r.stats.errors)
    if (e.path.starts_with("camvid/")) {
      ++camvid_refused;
      CHECK_THAT(e.message, Catch::Contains("heatmap grid") && Catch::Contains("largest value + 1"));
    }
  CHECK(camvid_refused == 26);
  CHECK(r.stats.frames.size() == 24 + 12);
  CHECK(r.stats.grid_heatmaps.at("").frames == 24 + 12);
}
