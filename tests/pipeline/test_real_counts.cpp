// Per-file counts on real datasets nobody here made must equal expected_counts.json
// (computed independently with PIL + numpy), and dataset totals must equal their sums.
#include <catch2/catch.hpp>

#include <maskscan/scan.hpp>

#include "support/test_data.hpp"

namespace {
using namespace maskscan;

test::value_counts counts_of(const frame_row& row) {
  test::value_counts counts;
  for (std::size_t v = 0; v < row.class_pixels.size(); ++v)
    if (row.class_pixels[v]) counts[static_cast<std::uint32_t>(v)] = row.class_pixels[v];
  for (const auto& v : row.out_of_range) counts[v.value] = v.pixels;
  for (const auto& v : row.ignored) counts[v.value] = v.pixels;
  return counts;
}
}  // namespace

TEST_CASE("per-file counts of the real gray and palette folders equal expected_counts.json", "[pipeline][real]") {
  const std::string family = GENERATE("gray8_ids", "palette");
  const bool serial = GENERATE(false, true);
  CAPTURE(family, serial);
  const auto dir = test::data_root() / "real" / family;
  const auto expected = test::load_expected_counts(dir / "expected_counts.json");

  scan_options options;
  options.class_names = numbered_class_names(256);  // every 8-bit value is a class; 16-bit ones are out of range
  options.serial = serial;
  const auto result = scan(frame_source::from_directory(dir), options);

  REQUIRE(result.stats.errors.empty());
  REQUIRE(result.stats.frames.size() == expected.size());
  std::vector<std::uint64_t> expected_class_totals(256);
  std::uint64_t expected_out_of_range = 0;
  for (const auto& row : result.stats.frames) {
    CAPTURE(row.path);
    REQUIRE(expected.count(row.path) == 1);
    CHECK(counts_of(row) == expected.at(row.path));
    for (const auto& [value, n] : expected.at(row.path)) {
      if (value < 256)
        expected_class_totals[value] += n;
      else
        expected_out_of_range += n;
    }
  }
  const auto totals = compute_totals(result.stats);
  for (std::size_t c = 0; c < 256; ++c) CHECK(totals.classes[c].pixels == expected_class_totals[c]);
  CHECK(totals.out_of_range_pixels == expected_out_of_range);
}

TEST_CASE("CamVid scanned with 11 classes and --ignore 11 keeps the unlabelled pixels out of the classes",
          "[pipeline][real]") {
  const auto dir = test::data_root() / "real/gray8_ids/camvid_segnet";
  const auto expected = test::load_expected_counts(dir.parent_path() / "expected_counts.json");
  scan_options options;
  options.class_names = numbered_class_names(11);
  options.ignore = {11};
  const auto result = scan(frame_source::from_directory(dir), options);
  REQUIRE(result.stats.frames.size() == 101);
  std::uint64_t ignored = 0, labelled = 0;
  for (const auto& row : result.stats.frames) {
    const auto& e = expected.at("camvid_segnet/" + row.path);
    for (std::uint32_t c = 0; c < 11; ++c) CHECK(row.class_pixels[c] == (e.count(c) ? e.at(c) : 0));
    ignored += e.count(11) ? e.at(11) : 0;
    for (std::uint32_t c = 0; c < 11; ++c) labelled += e.count(c) ? e.at(c) : 0;
    CHECK(row.out_of_range.empty());
  }
  const auto totals = compute_totals(result.stats);
  CHECK(totals.ignored_pixels == ignored);
  CHECK(totals.labelled_pixels == labelled);
  CHECK(totals.pixels == 101u * 480u * 360u);
}
