// The writers into a std::ostream give the bytes of the files write_outputs writes.
#include <catch2/catch.hpp>

#include <sstream>

#include <maskscan/output.hpp>

#include "support/results.hpp"

using namespace maskscan;

namespace {
template <class Write>
std::string written(Write&& write) {
  std::ostringstream out;
  write(out);
  return out.str();
}
}  // namespace

TEST_CASE("stream writers: summary.json, frames.csv, weights.csv, cooccurrence.csv and components.csv as the files",
          "[output]") {
  const auto& data = test::synthesized({.frames = 6, .width = 80, .height = 60, .seed = 3});
  scan_options o;
  o.labels = "woodscape";
  o.components = 4;
  o.group_by = R"(_(FV|RV|MVL|MVR)\.png$)";  // by camera
  const auto result = scan(frame_source::from_directory(data.path()), o);
  balance_options balance;
  balance.repeat_threshold = 0.5;
  test::temp_dir out;
  write_outputs(result, out.path(), balance);
  const auto& stats = result.stats;
  // The files at the top are of all frames: rows with their group; the rest of the groups summed.
  auto overall = ungroup(stats);
  overall.frames = stats.frames;
  overall.errors = stats.errors;
  overall.grouping = stats.grouping;
  CHECK(written([&](std::ostream& s) { write_frames_csv(overall, s, balance); }) ==
        test::read_file(out.path() / "frames.csv"));
  CHECK(written([&](std::ostream& s) { write_weights_csv(overall, balance, s); }) ==
        test::read_file(out.path() / "weights.csv"));
  CHECK(written([&](std::ostream& s) { write_cooccurrence_csv(overall, s); }) ==
        test::read_file(out.path() / "cooccurrence.csv"));
  CHECK(written([&](std::ostream& s) { write_components_csv(overall, s); }) ==
        test::read_file(out.path() / "components.csv"));
  write_summary_json(result, out.path() / "alone.json", balance);
  const auto summary = written([&](std::ostream& s) { write_summary_json(result, s, balance); });
  CHECK(summary == test::read_file(out.path() / "alone.json"));
  // The summary of a grouped scan written alone is the top one of the outputs, byte for byte: its
  // grouping and its groups included (a front-end's to_json() is the summary.json a user reads).
  CHECK(summary == test::read_file(out.path() / "summary.json"));
}
