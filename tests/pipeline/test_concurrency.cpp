// Every statistic is an exact integer sum merged in arrival order, so every concurrency setting
// must give byte-identical results. The reference is the serial loop.
#include <catch2/catch.hpp>

#include <maskscan/output.hpp>
#include <maskscan/scan.hpp>

#include <boost/json.hpp>

#include "io/file_reader.hpp"
#include "support/mixed_dataset.hpp"

namespace {
using namespace maskscan;

/// The outputs a user compares: frames.csv, every heatmap .npy, and summary.json without the
/// fields that describe the run itself (test::summary_data).
std::map<std::string, std::string> output_files(const scan_result& result, const test::temp_dir& dir) {
  const auto out = dir.path() / "out";
  std::filesystem::remove_all(out);
  write_outputs(result, out);
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    auto bytes = test::read_file(entry.path());
    if (entry.path().filename() == "summary.json") bytes = boost::json::serialize(test::summary_data(bytes));
    files[entry.path().filename().string()] = std::move(bytes);
  }
  return files;
}
}  // namespace

TEST_CASE("results are byte-identical for every workers, io-depth, queue-depth, I/O backend and decoder setting",
          "[pipeline][concurrency]") {
  static const test::mixed_dataset data;
  static const test::temp_dir out;

  scan_options base;
  base.heatmaps = true;
  base.heatmap_grid = {9, 4};
  base.class_names = numbered_class_names(11);
  base.ignore = {11};
  static const auto reference = [&] {
    auto o = base;
    o.serial = true;
    o.decoder = decoder_kind::spng;  // the reference decoder in the plain loop
    return scan(data.source(), o);
  }();
  static const auto reference_files = output_files(reference, out);
  REQUIRE(reference.stats.errors.size() == data.bad_files);
  REQUIRE(reference.stats.frames.size() == 24 + 12 + 26);
  REQUIRE(reference.stats.heatmaps.size() == 3);               // 64x48, 33x17, 480x360
  REQUIRE(reference.stats.grid_heatmaps.at("").frames == 62);  // all three sizes on one grid
  // summary.json, frames.csv, weights.csv, cooccurrence.csv, 3 .npy, the grid's .npy
  REQUIRE(reference_files.size() == 8);

  const unsigned workers = GENERATE(1u, 2u, 4u, 8u);
  const unsigned io_depth = GENERATE(1u, 4u, 64u);
  // Rows beyond 4 KB on disk (frame_rows) at one queue depth.
  const std::uint64_t row_memory = GENERATE(0u, 4096u);
  const unsigned queue_depth = GENERATE(1u, 2u, 16u);
  const io_backend io = GENERATE(io_backend::threads, io_backend::uring);
  const decoder_kind decoder = GENERATE(decoder_kind::automatic, decoder_kind::spng);
  if (row_memory && queue_depth != 16) return;
  if (io == io_backend::uring && !detail::io_uring_available()) {
    WARN("io_uring is not available here: only the threads backend is compared");
    return;
  }
#ifdef MASKSCAN_SANITIZED
  // Sanitized (20-60x slower here), the reference decoder is compared at io-depth 4 only: 96 of the
  // 144 settings, every workers, queue-depth and backend with each decoder. The release stage runs all.
  if (decoder == decoder_kind::spng && io_depth != 4) return;
  if (row_memory && workers != 2) return;
#endif
  CAPTURE(workers, io_depth, queue_depth, to_string(io), to_string(decoder), row_memory);

  auto o = base;
  o.workers = workers;
  o.io_depth = io_depth;
  o.queue_depth = queue_depth;
  o.io = io;
  o.decoder = decoder;
  o.max_row_memory = row_memory;
  const auto result = scan(data.source(), o);
  CHECK(result.io_used == io);
  CHECK_FALSE(result.partial);
  REQUIRE(result.stats == reference.stats);
  CHECK(result.input == reference.input);
  REQUIRE(output_files(result, out) == reference_files);
}

TEST_CASE("the fast decoder alone skips what it does not handle and counts the rest exactly", "[pipeline][decode]") {
  static const test::mixed_dataset data;
  scan_options o;
  o.serial = true;
  o.decoder = decoder_kind::spng;
  o.heatmap_grid = {5, 3};
  const auto reference = scan(data.source(), o);
  o.decoder = decoder_kind::fast;
  const auto fast = scan(data.source(), o);
  // Every frame of the mixed set is a plain 8-bit gray PNG: all are handled, identically.
  CHECK(fast.stats.frames == reference.stats.frames);
  CHECK(fast.stats.errors == reference.stats.errors);
  CHECK(fast.stats.grid_heatmaps == reference.stats.grid_heatmaps);
  CHECK(fast.stats.grid_heatmaps.at("").frames == 62);

  // A valid interlaced PNG is not handled by the fast path: skipped with its own error.
  test::temp_dir dir;
  std::filesystem::copy_file(test::data_root() / "pngsuite/basi0g08.png", dir / "interlaced.png");
  const auto r = scan(frame_source::from_directory(dir.path()), o);
  REQUIRE(r.stats.errors.size() == 1);
  CHECK(r.stats.errors[0].code == errc::not_fast_decodable);
  o.decoder = decoder_kind::automatic;
  CHECK(scan(frame_source::from_directory(dir.path()), o).stats.frames.size() == 1);
}

TEST_CASE("100 groups: outputs byte-identical for every workers and queue setting, each group's heatmaps its frames'",
          "[pipeline][concurrency]") {
  // 200 frames, grouped by the last two digits of their number: 100 groups of 2 frames.
  static const auto& dir = test::synthesized(test::synth_frames(200, 40, 30));
  const auto source = frame_source::from_directory(dir.path());
  scan_options base;
  base.class_names = woodscape_class_names();
  base.heatmaps = true;
  base.heatmap_grid = {8, 6};
  base.group_by = "([0-9]{2})_[A-Z]+\\.png$";
  static const test::temp_dir out;
  // Every file under out/, groups/<g>/ included (summary.json without what describes the run).
  const auto all_outputs = [&](const scan_result& result) {
    std::filesystem::remove_all(out.path() / "out");
    write_outputs(result, out.path() / "out");
    std::map<std::string, std::string> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(out.path() / "out")) {
      if (!entry.is_regular_file()) continue;
      auto bytes = test::read_file(entry.path());
      if (entry.path().filename() == "summary.json") bytes = boost::json::serialize(test::summary_data(bytes));
      files[std::filesystem::relative(entry.path(), out.path()).string()] = std::move(bytes);
    }
    return files;
  };
  static const auto reference = [&] {
    auto o = base;
    o.serial = true;
    o.decoder = decoder_kind::spng;
    return scan(source, o);
  }();
  static const auto reference_files = all_outputs(reference);
  REQUIRE(reference.stats.heatmaps.size() == 100);
  REQUIRE(reference.stats.grid_heatmaps.size() == 100);
  REQUIRE(reference_files.size() > 100 * 5);
  // Each group's heatmaps hold, summed over pixels and classes, exactly its frames' class pixels.
  std::map<std::string, std::uint64_t> pixels, heat;
  for (const auto& row : reference.stats.frames)
    for (const auto p : row.class_pixels) pixels[row.group] += p;
  for (const auto& [key, set] : reference.stats.heatmaps)
    for (const auto c : set.counts) heat[key.group] += c;
  CHECK(heat == pixels);

  const unsigned workers = GENERATE(1u, 2u, 4u, 8u);
  const unsigned queue_depth = GENERATE(2u, 128u);
  // The rows in memory, or beyond a bound of one row or of a few on disk (frame_rows), which every
  // group's outputs then read.
  const std::uint64_t row_memory = GENERATE(0u, 1u, 3000u);
  CAPTURE(workers, queue_depth, row_memory);
  auto o = base;
  o.workers = workers;
  o.queue_depth = queue_depth;
  o.max_row_memory = row_memory;
  o.io_depth = std::min(queue_depth, 16u);
  const auto result = scan(source, o);
  CHECK(result.stats.frames.spilled() == (row_memory != 0));
  REQUIRE(result.stats == reference.stats);
  CHECK(all_outputs(result) == reference_files);
}
