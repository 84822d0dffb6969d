// Limits reject a frame before its memory is allocated, the same way for every concurrency setting.
#include <catch2/catch.hpp>

#include <maskscan/scan.hpp>

#include "support/mixed_dataset.hpp"

using namespace maskscan;

TEST_CASE("max_heatmap_bytes rejects frames whose heatmaps would be too large, identically for every setting",
          "[pipeline][limits]") {
  const test::mixed_dataset data;
  scan_options base;
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
