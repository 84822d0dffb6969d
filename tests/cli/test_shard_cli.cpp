// `scan --shard` and `merge` of the shards' states, as a job array runs them: the merged outputs are
// those of one pass, byte for byte, and a missing or repeated shard is said, not merged.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "support/results.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
using test::quote;
using test::run_cli;
namespace fs = std::filesystem;
namespace json = boost::json;

/// Every regular file below `dir`, relative, sorted.
std::vector<std::string> files_below(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), dir).generic_string());
  std::ranges::sort(files);
  return files;
}

/// summary.json without what says how the statistics were made (input, options, timing, backend):
/// the numbers, which one pass and a merge of shards must agree on.
json::object numbers_of(const fs::path& dir) {
  auto doc = test::summary_of(dir);
  for (const char* key : {"input", "options", "timing", "io_backend"}) doc.erase(key);
  return doc;
}
}  // namespace

TEST_CASE("cli shards: merge of every shard's state writes what one pass writes, byte for byte",
          "[cli][shard][merge]") {
  test::temp_dir work;
  REQUIRE(run_cli("synth " + quote(work / "data") + " --frames 40 --width 80 --height 60 --seed 19").status == 0);
  const std::string stats =
      " --labels woodscape --heatmaps --heatmap-grid 8x6 --components 8 --group-by '_(FV|RV|MVL|MVR)\\.png$'"
      " --no-progress";
  const auto one = run_cli("scan " + quote(work / "data") + stats + " --out " + quote(work / "one") + " --save-state " +
                           quote(work / "one.state"));
  INFO(one.err);
  REQUIRE(one.status == 0);
  // The shards' and the merge's rows in memory, or every row on disk in --spill-dir (which stays
  // empty: the files there have no name).
  fs::create_directory(work / "spill");
  const std::string rows = GENERATE(as<std::string>(), "", " --row-memory 1 --spill-dir ");
  const std::string row_flags = rows.empty() ? rows : rows + quote(work / "spill");
  CAPTURE(row_flags);

  const int count = 3;
  std::string states;
  std::size_t frames = 0;
  for (int i = 0; i < count; ++i) {
    const auto shard = std::to_string(i) + "/" + std::to_string(count);
    const auto state = work / ("shard" + std::to_string(i) + ".state");
    const auto r = run_cli("scan " + quote(work / "data") + stats + row_flags + " --shard " + shard + " --save-state " +
                           quote(state) + " --out " + quote(work / ("s" + std::to_string(i))));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("maskscan: shard " + shard + ": ") != std::string::npos);
    CHECK(r.out.find("these are the statistics of shard " + std::to_string(i) + " of 3 only") != std::string::npos);
    const auto summary = test::summary_of(work / ("s" + std::to_string(i)));
    CHECK(json::serialize(summary.at("shards")) == "{\"count\":3,\"held\":[" + std::to_string(i) + "]}");
    frames += summary.at("frames_scanned").to_number<std::size_t>();
    states += " " + quote(state);
  }
  CHECK(frames == 40);

  const auto merged = run_cli("merge" + states + row_flags + " --out " + quote(work / "merged") + " --save-state " +
                              quote(work / "merged.state"));
  INFO(merged.err);
  REQUIRE(merged.status == 0);
  const auto files = files_below(work / "one");
  CHECK(files == files_below(work / "merged"));
  CHECK(std::ranges::count(files, std::string("frames.csv")) == 1);
  CHECK(std::ranges::count_if(files, [](const auto& f) { return f.starts_with("groups/"); }) > 8);
  for (const auto& f : files) {
    INFO(f);
    if (f.ends_with("summary.json"))
      CHECK(numbers_of((work / "one" / f).parent_path()) == numbers_of((work / "merged" / f).parent_path()));
    else
      CHECK(test::read_file(work / "one" / f) == test::read_file(work / "merged" / f));
  }
  CHECK(test::summary_of(work / "merged").at("shards").is_null());
  CHECK(test::read_file(work / "merged.state") == test::read_file(work / "one.state"));
  CHECK(fs::is_empty(work / "spill"));
}

TEST_CASE("cli shards: a missing or repeated shard is refused, naming it, and nothing is written",
          "[cli][shard][merge]") {
  test::temp_dir work;
  REQUIRE(run_cli("synth " + quote(work / "data") + " --frames 12 --width 32 --height 24 --seed 3").status == 0);
  for (int i = 0; i < 3; ++i)
    REQUIRE(run_cli("scan " + quote(work / "data") + " --labels woodscape --no-progress --shard " + std::to_string(i) +
                    "/3 --save-state " + quote(work / (std::to_string(i) + ".state")))
                .status == 0);
  const auto state = [&](int i) { return fmt::format(" {}", quote(work / fmt::format("{}.state", i))); };
  const auto missing = run_cli("merge" + state(0) + state(2) + " --out " + quote(work / "m"));
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err, Catch::Contains("shard 1 of 3 missing"));
  const auto twice = run_cli("merge" + state(0) + state(1) + state(2) + state(1) + " --out " + quote(work / "m"));
  CHECK(twice.status == 1);
  CHECK_THAT(twice.err, Catch::Contains("shard 1 of 3 is given twice: " + (work / "1.state").string() + " and " +
                                        (work / "1.state").string()));
  CHECK_FALSE(fs::exists(work / "m"));

  const auto bad = run_cli("scan " + quote(work / "data") + " --shard 3/3");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::Contains("--shard 3/3: the index counts from 0"));
  const auto disagree = run_cli("scan " + quote(work / "data") + " --shard 1/3 --shard-count 4");
  CHECK(disagree.status == 2);
  CHECK_THAT(disagree.err, Catch::Contains("--shard 1/3 and --shard-count 4 disagree"));
  const auto lone_count = run_cli("scan " + quote(work / "data") + " --shard-count 4");
  CHECK(lone_count.status == 2);
  CHECK_THAT(lone_count.err, Catch::Contains("--shard-count requires --shard"));
  const auto tuning = run_cli("tune " + quote(work / "data") + " --shard 1/3");
  CHECK(tuning.status == 2);
  CHECK_THAT(tuning.err, Catch::Contains("--shard: tune measures a sample of the whole input"));
}

TEST_CASE("cli shards: --shard auto takes a job array's index from its environment and says which", "[cli][shard]") {
  test::temp_dir work;
  REQUIRE(run_cli("synth " + quote(work / "data") + " --frames 12 --width 32 --height 24 --seed 4").status == 0);
  const auto scan = " --labels woodscape --no-progress --shard auto";
  // env -i: no variable of the machine's own scheduler gets in.
  const auto slurm = run_cli("scan " + quote(work / "data") + scan,
                             "env -i SLURM_ARRAY_TASK_ID=6 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_MAX=7 "
                             "SLURM_ARRAY_TASK_COUNT=3");
  INFO(slurm.err);
  CHECK(slurm.status == 0);
  CHECK_THAT(slurm.err, Catch::Contains("--shard auto: shard 1/3 from the Slurm array (SLURM_ARRAY_TASK_ID=6"));
  const auto k8s = run_cli("scan " + quote(work / "data") + scan + " --shard-count 4", "env -i JOB_COMPLETION_INDEX=2");
  CHECK(k8s.status == 0);
  CHECK_THAT(k8s.err, Catch::Contains("--shard auto: shard 2/4 from the Kubernetes Indexed Job"));
  const auto aws = run_cli("scan " + quote(work / "data") + scan, "env -i AWS_BATCH_JOB_ARRAY_INDEX=0");
  CHECK(aws.status == 2);
  CHECK_THAT(aws.err, Catch::Contains("give --shard-count (the Job's array size)"));
  const auto none = run_cli("scan " + quote(work / "data") + scan, "env -i");
  CHECK(none.status == 2);
  CHECK_THAT(none.err, Catch::Contains("no job array index in the environment"));
}
