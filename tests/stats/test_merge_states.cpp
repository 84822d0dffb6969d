// resume_source / complete_resume and merge_states / merged_result: the library logic of
// `scan --resume` and `maskscan merge`, against one pass over the same frames.
#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

#include <maskscan/merge.hpp>
#include <maskscan/option_error.hpp>

#include "cli/option_flags.hpp"
#include "support/results.hpp"

using namespace maskscan;
namespace fs = std::filesystem;

namespace {
const fs::path& dataset() { return test::synthesized({.frames = 10, .width = 96, .height = 64, .seed = 14}).path(); }

scan_options options() {
  scan_options o;
  o.labels = "woodscape";
  o.heatmaps = true;
  o.heatmap_grid = {8, 6};
  o.components = 8;
  o.workers = 2;
  return resolve_defaults(o);
}

/// The dataset's frames split in two halves (by name), each a source of the same root.
std::pair<frame_source, frame_source> halves() {
  const auto all = frame_source::from_directory(dataset());
  std::vector<fs::path> a, b;
  for (std::size_t i = 0; i < all.size(); ++i) (i < all.size() / 2 ? a : b).push_back(all.root() / all.name(i));
  return {frame_source::from_paths(a, dataset()), frame_source::from_paths(b, dataset())};
}
}  // namespace

TEST_CASE("merge_states: two states of halves merge into the one-pass statistics, named as merge names them",
          "[stats][merge]") {
  const auto one_pass = scan(frame_source::from_directory(dataset()), options());
  REQUIRE(one_pass.stats.frames.size() == 10);
  auto [first, second] = halves();
  test::temp_dir dir;
  const std::vector<fs::path> states{dir.path() / "a.state", dir.path() / "b.state"};
  save_state(scan(std::move(first), options()).stats, states[0]);
  save_state(scan(std::move(second), options()).stats, states[1]);

  // Rows in memory, a run on disk per row, and a few rows a run.
  const row_spill spill{GENERATE(0u, 1u, 2000u), {}};
  CAPTURE(spill.max_bytes);
  const auto merged = merge_states(states, {}, spill);
  CHECK(merged.frames.spilled() == (spill.max_bytes != 0));
  CHECK(merged == one_pass.stats);
  const auto result = merged_result(merged, states);
  CHECK(result.stats == one_pass.stats);
  CHECK(result.options.labels == "woodscape");  // guessed from the class names
  CHECK(result.options.class_names == one_pass.options.class_names);
  CHECK(result.options.heatmaps);
  CHECK(result.options.heatmap_grid == grid_size{8, 6});
  CHECK(result.options.components == 8);
  CHECK(result.options.workers == 0);  // no scan ran
  CHECK(result.input == "merged: " + states[0].string() + ", " + states[1].string());
  CHECK(result.frames_total == 10);
  CHECK_FALSE(result.partial);
}

TEST_CASE("merge_states: a frame in two states is refused naming both files and the prefix option", "[stats][merge]") {
  auto [first, second] = halves();
  test::temp_dir dir;
  const std::vector<fs::path> states{dir.path() / "a.state", dir.path() / "b.state", dir.path() / "c.state"};
  const auto a = scan(std::move(first), options()).stats;
  save_state(a, states[0]);
  save_state(scan(std::move(second), options()).stats, states[1]);
  save_state(a, states[2]);
  // Found before the rows are added (in memory), or once they are all on disk.
  const row_spill spill{GENERATE(0u, 1u), {}};
  CAPTURE(spill.max_bytes);
  try {
    (void)merge_states(states, {}, spill);
    FAIL("merged a frame twice");
  } catch (const option_error& e) {
    CHECK(e.option() == "prefix");
    const auto frame = a.frames.front().path;
    CHECK_THAT(e.what(), Catch::StartsWith(states[0].string() + " and " + states[2].string() + " both hold frame '" +
                                           frame + "'"));
    CHECK_THAT(e.what(), Catch::EndsWith("give each state a prefix"));
    CHECK_THAT(cli::message_of(e), Catch::EndsWith("give each state a --prefix"));
  }
  // With a prefix per state they are frames of different folders.
  CHECK(merge_states(states, {"x", "y", "z"}).frames.size() == 10 + a.frames.size());
  CHECK_THROWS_AS(merge_states(states, {"x"}), option_error);
}

TEST_CASE("resume_source: a saved half continued gives the one-pass result", "[stats][merge]") {
  const auto source = frame_source::from_directory(dataset());
  const auto one_pass = scan(source, options());
  auto [first, second] = halves();
  auto saved = scan(std::move(first), options()).stats;
  saved.partial = true;  // as an interrupted scan saves it

  auto resumed = resume_source(source, saved, options());
  CHECK(resumed.remaining.size() == 5);
  CHECK(resumed.frames_total == 10);
  auto rest_options = options();
  rest_options.max_row_memory = GENERATE(0u, 1u);  // the rest's rows in memory, or on disk
  auto rest = scan(resumed.remaining, rest_options);
  const auto result = complete_resume(std::move(resumed), std::move(rest));
  CHECK(result.stats.frames.spilled() == (rest_options.max_row_memory != 0));
  CHECK(result.stats == one_pass.stats);
  CHECK(result.frames_total == 10);
  CHECK_FALSE(result.partial);

  // Another meaning (no heatmaps) cannot continue it.
  auto other = options();
  other.heatmaps = false;
  CHECK_THROWS_WITH(resume_source(source, saved, other), Catch::Contains("heatmaps"));
}

namespace {
scan_options shard_options(std::uint32_t index, std::uint32_t count) {
  auto o = options();
  o.shard = {index, count};
  return o;
}
}  // namespace

TEST_CASE("merge_states: the states of every shard merge into the one-pass statistics and state file, byte for byte",
          "[stats][merge][shard]") {
  const auto source = frame_source::from_directory(dataset());
  const auto one_pass = scan(source, options());
  test::temp_dir dir;
  save_state(one_pass.stats, dir.path() / "one.state");
  const std::uint64_t row_memory = GENERATE(0u, 1u);  // rows in memory, or on disk
  CAPTURE(row_memory);
  for (const std::uint32_t count : {1u, 2u, 3u, 4u}) {
    std::vector<fs::path> states;
    std::size_t frames = 0;
    for (std::uint32_t i = count; i-- > 0;) {  // any order
      auto o = shard_options(i, count);
      o.max_row_memory = row_memory;
      const auto shard = scan(source, o);
      CHECK(shard.frames_total == source.shard({i, count}).size());
      CHECK(shard.stats.frames.size() == shard.frames_total);
      CHECK(shard.stats.shards == shard_set_of({i, count}));
      frames += shard.stats.frames.size();
      states.push_back(dir.path() / ("s" + std::to_string(i) + ".state"));
      save_state(shard.stats, states.back());
      CHECK(load_state(states.back()) == shard.stats);  // the shard round-trips through the file
    }
    CHECK(frames == 10);
    const auto merged = merge_states(states, {}, {row_memory, {}});
    CHECK(merged == one_pass.stats);
    CHECK(merged.shards.whole());
    save_state(merged, dir.path() / "merged.state");
    CHECK(test::read_file(dir.path() / "merged.state") == test::read_file(dir.path() / "one.state"));
  }
}

TEST_CASE("merge_states: a missing shard, a shard given twice and shards of other counts are refused, naming them",
          "[stats][merge][shard]") {
  const auto source = frame_source::from_directory(dataset());
  test::temp_dir dir;
  const auto state = [&](std::uint32_t i, std::uint32_t count) {
    const auto file = dir.path() / (std::to_string(i) + "of" + std::to_string(count) + ".state");
    save_state(scan(source, shard_options(i, count)).stats, file);
    return file;
  };
  const auto a = state(0, 4), b = state(1, 4), c = state(2, 4), d = state(3, 4), other = state(1, 3);
  CHECK_THROWS_WITH(merge_states({a, b, d}), Catch::StartsWith("shard 2 of 4 missing: the 3 states given hold "
                                                               "shards 0, 1 and 3 of 4"));
  CHECK_THROWS_WITH(merge_states({c}), Catch::StartsWith("shards 0, 1 and 3 of 4 missing"));
  CHECK_THROWS_WITH(merge_states({a, b, c, d, b}),
                    Catch::StartsWith("shard 1 of 4 is given twice: " + b.string() + " and " + b.string()));
  const auto b_again = dir.path() / "copy.state";
  fs::copy_file(b, b_again);
  CHECK_THROWS_WITH(merge_states({b, a, b_again}),
                    Catch::StartsWith("shard 1 of 4 is given twice: " + b.string() + " and " + b_again.string()));
  CHECK_THROWS_WITH(merge_states({a, other}), Catch::Contains("shard 0 of 4 and shard 1 of 3 do not fit together"));
  save_state(scan(source, options()).stats, dir.path() / "whole.state");
  CHECK_THROWS_WITH(merge_states({a, dir.path() / "whole.state"}),
                    Catch::Contains("merge only with other shards of the same count"));
}

TEST_CASE("resume_source: a shard's saved half continued gives the shard's one-pass result, another shard is refused",
          "[stats][merge][shard]") {
  const auto source = frame_source::from_directory(dataset());
  const auto shard = source.shard({1, 2});
  REQUIRE(shard.size() >= 2);
  const auto one_pass = scan(source, shard_options(1, 2));
  auto saved = scan(shard.subset({0}), shard_options(1, 2)).stats;  // one frame done
  saved.partial = true;
  auto resumed = resume_source(source, saved, shard_options(1, 2));
  CHECK(resumed.frames_total == shard.size());
  CHECK(resumed.remaining.size() == shard.size() - 1);
  auto rest = scan(resumed.remaining, shard_options(1, 2));
  const auto result = complete_resume(std::move(resumed), std::move(rest));
  CHECK(result.stats == one_pass.stats);
  CHECK(result.frames_total == shard.size());
  try {
    (void)resume_source(source, saved, shard_options(0, 2));
    FAIL("resumed another shard");
  } catch (const option_error& e) {
    CHECK(e.option() == "shard");
    CHECK_THAT(e.what(), Catch::Contains("the saved statistics hold shard 1 of 2, but this scan is of shard 0 of 2"));
  }
  CHECK_THROWS_WITH(resume_source(source, saved, options()), Catch::Contains("but this scan is of the whole source"));
}

TEST_CASE("shards refuse a frame by the groups of the whole source, as one scan does, and merge to its result",
          "[stats][merge][shard]") {
  // Split "rare" holds one frame: the whole source has two groups, a shard without that frame one.
  // --max-heatmap-bytes between one and two groups' sets: one scan refuses every frame, and so must
  // every shard, whether or not the rare frame is in it.
  const auto source = frame_source::from_directory(dataset());
  auto o = options();
  o.heatmap_grid = {};
  o.components = 0;
  o.splits = {split{"rare", {source.name(0)}}};
  const std::uint64_t one_group = 10 * 96 * 64 * 4;  // woodscape's 10 classes x 96 x 64 x 4 bytes
  o.max_heatmap_bytes = one_group + one_group / 2;
  o = resolve_defaults(o);
  const auto one_pass = scan(source, o);
  REQUIRE(one_pass.stats.frames.empty());
  REQUIRE(one_pass.stats.errors.size() == 10);
  test::temp_dir dir;
  std::vector<fs::path> states;
  bool a_shard_without_the_rare_frame = false;
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto shard_o = o;
    shard_o.shard = {i, 3};
    for (const bool serial : {false, true}) {
      shard_o.serial = serial;
      const auto part = scan(source, shard_o);
      CHECK(part.stats.frames.empty());
      CHECK(part.stats.errors.size() == source.shard({i, 3}).size());
    }
    shard_o.serial = false;
    a_shard_without_the_rare_frame |= shard_of(source.name(0), 3) != i && source.shard({i, 3}).size() > 0;
    states.push_back(dir.path() / ("s" + std::to_string(i) + ".state"));
    save_state(scan(source, shard_o).stats, states.back());
  }
  CHECK(a_shard_without_the_rare_frame);
  CHECK(merge_states(states) == one_pass.stats);  // the errors' messages too
}

TEST_CASE("merge_states: shards with --prefix are refused, saying to merge each folder's shards first",
          "[stats][merge][shard]") {
  const auto source = frame_source::from_directory(dataset());
  test::temp_dir dir;
  auto o = shard_options(0, 2);
  save_state(scan(source, o).stats, dir.path() / "a0.state");
  save_state(scan(source, shard_options(1, 2)).stats, dir.path() / "a1.state");
  CHECK_THROWS_WITH(merge_states({dir.path() / "a0.state", dir.path() / "a1.state"}, {"a", "b"}),
                    Catch::Contains("with --prefix (states of different folders), merge each folder's shards first"));
}
