// The report's model: every figure report.html shows, computed from small hand-built statistics
// without writing a file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <maskscan/scan.hpp>
#include <maskscan/stats.hpp>

#include "visual/report_model.hpp"

using namespace maskscan;
using detail::make_report_model;

namespace {

frame_row row(std::string path, std::uint32_t w, std::uint32_t h, std::vector<std::uint64_t> pixels,
              std::string group = {}) {
  return {
      .path = std::move(path), .width = w, .height = h, .class_pixels = std::move(pixels), .group = std::move(group)};
}

/// Classes void (ignored), road, car, bike; three frames of 4x2 and 2x2: road 10 px in 3 frames, car 3 px in 2,
/// bike none; one skipped file of four in the source.
scan_result small_scan() {
  scan_result result;
  result.input = "masks";
  result.frames_total = 4;
  result.wall_seconds = 2;
  result.stats = make_stats({"void", "road", "car", "bike"}, {0}, false);
  result.stats.frames.push_back(row("a.png", 4, 2, {0, 4, 2, 0}));
  result.stats.frames.push_back(row("b.png", 4, 2, {0, 4, 1, 0}));
  result.stats.frames.push_back(row("c.png", 2, 2, {0, 2, 0, 0}));
  result.stats.frames[0].ignored = {{0, 2}};
  result.stats.frames[2].ignored = {{0, 2}};
  result.stats.errors.push_back({"d.png", errc::not_png, "not a PNG"});
  return result;
}

}  // namespace

TEST_CASE("The report model's headline counts frames, present classes and the imbalance", "[report][report_model]") {
  const auto scan = small_scan();
  const auto model = make_report_model(scan, {}, {});
  CHECK(model.headline.frames == 3);
  CHECK(model.headline.skipped == 1);
  CHECK(model.headline.skipped_share == Approx(0.25));
  CHECK(model.headline.classes_present == 2);  // road and car: void is ignored, bike absent
  CHECK(model.headline.classes == 4);
  CHECK(model.headline.labelled_pixels == 13);
  REQUIRE(model.headline.imbalance);
  CHECK(model.headline.imbalance->most == "road");
  CHECK(model.headline.imbalance->least == "car");
  CHECK(model.headline.imbalance->ratio == Approx(10.0 / 3.0));
  REQUIRE(model.frames_per_second);
  CHECK(*model.frames_per_second == Approx(2.0));  // three scanned and one skipped in 2 s
}

TEST_CASE("The report model's class table shows shares, frame shares and what an ignored value holds",
          "[report][report_model]") {
  const auto scan = small_scan();
  const auto model = make_report_model(scan, {}, {});
  CHECK(model.sizes == detail::frame_size_counts{{{2, 2}, 1}, {{4, 2}, 2}});
  const auto& rows = model.classes.rows;
  REQUIRE(rows.size() == 4);
  CHECK_FALSE(model.classes.present_only);
  CHECK(rows[0].ignored);
  CHECK(rows[0].pixels == 4);  // the ignored value's pixels, in two frames
  CHECK(rows[0].frames_present == 2);
  CHECK(rows[0].bar == 0);
  CHECK(rows[1].name == "road");
  CHECK(rows[1].pixels == 10);
  CHECK(rows[1].share == Approx(10.0 / 13.0));
  CHECK(rows[1].frames_share == Approx(1.0));
  CHECK(rows[1].bar == Approx(160.0));  // the largest share fills the bar
  CHECK(rows[2].share == Approx(3.0 / 13.0));
  CHECK(rows[2].frames_share == Approx(2.0 / 3.0));
  CHECK(rows[2].bar == Approx(160.0 * 3.0 / 10.0));
  CHECK(rows[3].pixels == 0);
  CHECK(rows[3].bar == 0);
}

TEST_CASE("The report model's co-occurrence shows the present classes in id order", "[report][report_model]") {
  const auto scan = small_scan();
  const auto model = make_report_model(scan, {}, {});
  CHECK(model.cooccurrence.shown == std::vector<std::uint32_t>{1, 2});
  CHECK_FALSE(model.cooccurrence.cut);
  REQUIRE(model.cooccurrence.matrix.size() == 4);
  CHECK(model.cooccurrence.matrix[1][2] == 2);
  CHECK(model.cooccurrence.matrix[1][1] == 3);
}

TEST_CASE("The report model's weight columns mark a column with one value for every class", "[report][report_model]") {
  auto scan = small_scan();
  balance_options balance;
  balance.repeat_threshold = 0.001;  // below every class's frame frequency: every factor is 1
  const auto model = make_report_model(scan, balance, {});
  REQUIRE(model.weight_columns.size() == 7);
  CHECK(model.weight_columns.back().header == std::string("repeat factor"));
  REQUIRE(model.weight_columns.back().uniform);
  CHECK(*model.weight_columns.back().uniform == 1.0);
  CHECK_FALSE(model.weight_columns.front().uniform);  // inverse frequency differs between road and car
  balance.enet_c = 1;
  CHECK_THROWS_AS(make_report_model(scan, balance, {}), std::invalid_argument);
}

TEST_CASE("The report model's groups hold each group's shares, and none for a group of skipped files only",
          "[report][report_model]") {
  scan_result scan;
  scan.input = "masks";
  scan.frames_total = 3;
  scan.stats = make_stats({"void", "road", "car"}, {0}, false);
  scan.stats.grouping = "directory";
  scan.stats.frames.push_back(row("left/a.png", 2, 2, {0, 3, 1}, "left"));
  scan.stats.frames.push_back(row("right/b.png", 2, 2, {0, 4, 0}, "right"));
  file_error skipped{"empty/c.png", errc::not_png, "not a PNG"};
  skipped.group = "empty";
  scan.stats.errors.push_back(skipped);
  const auto model = make_report_model(scan, {}, {});
  CHECK(model.totals.frames == 2);
  REQUIRE(model.groups.size() == 3);
  CHECK(model.groups[0].name == "empty");
  CHECK(model.groups[0].totals.skipped == 1);
  CHECK(model.groups[1].name == "left");
  CHECK(model.groups[1].table.rows[2].pixels == 1);
  REQUIRE(model.group_rows.size() == 2);  // road and car: void is ignored
  const auto& car = model.group_rows[1];
  CHECK(car.name == "car");
  REQUIRE(car.groups.size() == 3);
  CHECK_FALSE(car.groups[0]);
  REQUIRE(car.groups[1]);
  CHECK(car.groups[1]->pixels == Approx(0.25));
  CHECK(car.groups[1]->frames == Approx(1.0));
  REQUIRE(car.groups[2]);
  CHECK(car.groups[2]->pixels == 0);
}

TEST_CASE("The report model's Run rows say what produced the statistics", "[report][report_model]") {
  const auto scan = small_scan();
  report_options options;
  options.merged = true;
  const auto model = make_report_model(scan, {}, options);
  CHECK_FALSE(model.frames_per_second);  // merged statistics have no scan to time
  const auto has = [&](const std::string& key, const std::string& value) {
    return std::ranges::find(model.run, std::pair{key, value}) != model.run.end();
  };
  CHECK(has("input", "masks"));
  CHECK(has("frames", "4 in the source, 3 scanned, 1 skipped"));
  CHECK(has("ignore", "0"));
  CHECK(has("components", "no"));
  CHECK(has("balance", "enet-c=1.02, effective-beta=0.9999, effective-unit=frames, repeat-threshold=none"));
  CHECK(std::ranges::none_of(model.run, [](const auto& kv) { return kv.first == "concurrency"; }));
}
