// scan_meaning: one value for what statistics mean, carried whole by JSON and the state file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <type_traits>

#include <maskscan/meaning.hpp>
#include <maskscan/options.hpp>
#include <maskscan/stats.hpp>

#include "support/test_data.hpp"

using namespace maskscan;

namespace {
/// Every field away from its default.
scan_meaning full_meaning() {
  scan_meaning m;
  m.classes_from_values = true;
  m.class_names = {"road", "car", "void"};
  m.ignore = {2, 255};
  m.ignore_names = {{255, "unlabelled"}};
  m.has_heatmaps = true;
  m.heatmap_grid = {64, 48};
  m.colours = {{{0, 0, 142, 255}, 1}, {{128, 64, 128, 255}, 0}};
  m.remap = {{7, 0}, {26, 1}};
  m.instance_divisor = 1000;
  m.components = 8;
  m.min_component_pixels = 16;
  m.grouping = "group-by:_(FV|RV)\\.png$";
  return m;
}
}  // namespace

TEST_CASE("scan_meaning: every field differs from its default in the test value", "[stats][meaning]") {
  const scan_meaning defaults, full = full_meaning();
  int fields = 0, differ = 0;
  for_each_field(full, [&](const char*, const auto&) { ++fields; });
  // Each field alone set back to its default makes the value different from the full one.
  for (int k = 0; k < fields; ++k) {
    auto m = full;
    int i = 0;
    for_each_field(m, [&](const char*, auto& field) {
      if (i++ == k) field = std::remove_reference_t<decltype(field)>{};
    });
    differ += m != full;
  }
  CHECK(fields == 12);
  CHECK(differ == fields);
  CHECK(defaults != full);
}

TEST_CASE("scan_meaning: the JSON form names every field and reads back equal", "[stats][meaning]") {
  const auto m = full_meaning();
  CHECK(to_json(m) ==
        R"({"classes_from_values":true,"class_names":["road","car","void"],"ignore":[2,255],)"
        R"("ignore_names":{"255":"unlabelled"},"has_heatmaps":true,"heatmap_grid":[64,48],)"
        R"("colours":[[0,0,142,255,1],[128,64,128,255,0]],"remap":[[7,0],[26,1]],"instance_divisor":1000,)"
        R"("components":8,"min_component_pixels":16,"grouping":"group-by:_(FV|RV)\\.png$"})");
  CHECK(meaning_from_json(to_json(m)) == m);
  CHECK(meaning_from_json(to_json(scan_meaning{})) == scan_meaning{});
  CHECK_THROWS_WITH(meaning_from_json(R"({"classes_from_values":1})"), Catch::Contains("'classes_from_values'"));
  CHECK_THROWS_WITH(meaning_from_json("[]"), Catch::Contains("not a JSON object"));
}

TEST_CASE("scan_meaning: the state file carries every field", "[stats][meaning]") {
  test::temp_dir dir;
  dataset_stats stats;
  static_cast<scan_meaning&>(stats) = full_meaning();
  save_state(stats, dir.path() / "s.state");
  const auto back = load_state(dir.path() / "s.state");
  CHECK(static_cast<const scan_meaning&>(back) == full_meaning());
  CHECK(back == stats);
}

TEST_CASE("scan_meaning: meaning_of resolves options as make_stats records them", "[stats][meaning]") {
  scan_options o;
  o.labels = "camvid11";
  o.ignore = {300, 300, 250};
  o.min_component_pixels = 9;
  o.group_by = "_(FV)";
  const auto resolved = resolve_defaults(o);
  auto m = meaning_of(resolved);
  CHECK_FALSE(m.classes_from_values);
  CHECK(m.class_names.size() == 11);
  CHECK(std::ranges::is_sorted(m.ignore));
  CHECK(std::ranges::adjacent_find(m.ignore) == m.ignore.end());
  CHECK(m.min_component_pixels == 0);  // without components the minimum size means nothing
  CHECK(m.grouping == "group-by:_(FV)");
  CHECK(static_cast<const scan_meaning&>(make_stats(resolved)) == m);
  o.components = 4;
  CHECK(meaning_of(resolve_defaults(o)).min_component_pixels == 9);
  CHECK(meaning_of(scan_options{}).classes_from_values);
}

TEST_CASE("scan_meaning: the display colour prefers an opaque entry, as a class map's", "[stats][meaning]") {
  scan_meaning m;
  m.colours = {{{0, 0, 0, 0}, 3}, {{10, 20, 30, 255}, 3}, {{1, 2, 3, 7}, 4}};
  REQUIRE(class_colour(m, 3));
  CHECK(*class_colour(m, 3) == rgba{10, 20, 30, 255});
  REQUIRE(class_colour(m, 4));
  CHECK(*class_colour(m, 4) == rgba{1, 2, 3, 7});
  CHECK(class_colour(m, 5) == nullptr);
}
