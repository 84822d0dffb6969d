// The maskscan executable, run as a user runs it.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>

#include <sys/wait.h>
#include <boost/json.hpp>

#include "support/mixed_dataset.hpp"
#include "support/run_cli.hpp"

namespace {
using namespace maskscan;
using test::quote;
using test::run_cli;
}  // namespace

TEST_CASE("help (--help) explains every flag of every subcommand", "[cli]") {
  const auto scan_help = run_cli("scan --help");
  CHECK(scan_help.status == 0);
  for (const char* flag : {"--out",
                           "--heatmaps",
                           "--workers",
                           "--io-depth",
                           "--queue-depth",
                           "--io",
                           "--serial",
                           "--decoder",
                           "--num-classes",
                           "--class-names",
                           "--ignore",
                           "--max-pixels",
                           "--max-file-bytes",
                           "--save-state",
                           "--progress",
                           "--no-progress",
                           "--max-heatmap-bytes",
                           "--resume",
                           "--strict",
                           "--force",
                           "--files-from",
                           "--root",
                           "--min-component-pixels",
                           "--repeat-threshold",
                           "--labels",
                           "--include-results"}) {
    CAPTURE(flag);
    CHECK(scan_help.out.find(flag) != std::string::npos);
  }
  const auto synth_help = run_cli("synth --help");
  for (const char* flag : {"--frames", "--width", "--height", "--seed", "--filter", "--threads"})
    CHECK(synth_help.out.find(flag) != std::string::npos);
  CHECK(run_cli("--help").out.find("Exit status: 0") != std::string::npos);
  CHECK(scan_help.out.find("Exit status: 0") != std::string::npos);
  const auto merge_help = run_cli("merge --help");
  for (const char* flag : {"--out", "--save-state", "--force", "--prefix"})
    CHECK(merge_help.out.find(flag) != std::string::npos);
}

TEST_CASE("scan of the real CamVid folder reproduces expected_counts.json with every concurrency flag", "[cli][real]") {
  const auto camvid = test::data_root() / "real/gray8_ids/camvid_segnet";
  const auto expected = test::load_expected_counts(camvid.parent_path() / "expected_counts.json");
  const std::string flags = GENERATE(as<std::string>{}, "--serial", "--workers 1", "--workers 2", "--workers 4",
                                     "--workers 8", "--io-depth 1", "--io-depth 4", "--io-depth 64", "--queue-depth 1",
                                     "--queue-depth 2", "--queue-depth 16", "--io threads", "--io auto",
                                     "--decoder spng", "--decoder fast", "--serial --decoder spng");
  CAPTURE(flags);
  test::temp_dir out;
  const auto r = run_cli("scan " + quote(camvid) + " --num-classes 11 --ignore 11 --heatmaps --no-progress " + flags +
                         " --out " + quote(out.path()));
  REQUIRE(r.status == 0);

  std::istringstream csv(test::read_file(out / "frames.csv"));
  std::string line;
  std::getline(csv, line);
  CHECK(line ==
        "path,group,width,height,pixels_class_0,pixels_class_1,pixels_class_2,pixels_class_3,"
        "pixels_class_4,pixels_class_5,pixels_class_6,pixels_class_7,pixels_class_8,pixels_class_9,"
        "pixels_class_10,ignored,out_of_range");  // no repeat_factor without --repeat-threshold
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    std::istringstream fields(line);
    std::string path, group, field;
    std::getline(fields, path, ',');
    std::getline(fields, group, ',');
    CAPTURE(path);
    CHECK(group.empty());
    const auto& e = expected.at("camvid_segnet/" + path);
    std::vector<std::uint64_t> values;
    std::vector<std::string> cells;
    while (std::getline(fields, field, ',')) cells.push_back(field);
    REQUIRE(cells.size() == 2 + 11 + 2);
    for (const auto& cell : cells) values.push_back(std::stoull(cell));
    CHECK(values[0] == 480);
    CHECK(values[1] == 360);
    for (std::uint32_t c = 0; c < 11; ++c) CHECK(values[2 + c] == (e.count(c) ? e.at(c) : 0));
    CHECK(values[13] == (e.count(11) ? e.at(11) : 0));
    CHECK(values[14] == 0);
  }
  CHECK(rows == 101);
  CHECK(std::filesystem::file_size(out / "heatmaps_480x360.npy") == 128 + 11u * 360 * 480 * 4);
}

TEST_CASE("scanning A and B separately and merging their states equals scanning A and B together", "[cli][merge]") {
  const test::mixed_dataset data;
  test::temp_dir work;
  const auto root = data.dir.path();
  // A = camvid + bad files, B = the synthetic frames; together they are the whole dataset.
  const std::string common = " --heatmaps --no-progress --num-classes 11 --ignore 11";
  REQUIRE(run_cli("scan " + quote(root) + common + " --out " + quote(work / "all")).status == 3);
  std::filesystem::create_directories(work / "a");
  std::filesystem::create_directories(work / "b");
  for (const char* sub : {"camvid", "bad"}) std::filesystem::rename(root / sub, work / "a" / sub);
  for (const char* sub : {"synth_64x48", "synth_33x17"}) std::filesystem::rename(root / sub, work / "b" / sub);
  CHECK(run_cli("scan " + quote(work / "a") + common + " --save-state " + quote(work / "a.state")).status == 3);
  CHECK(run_cli("scan " + quote(work / "b") + common + " --save-state " + quote(work / "b.state")).status == 0);
  const auto merged =
      run_cli("merge " + quote(work / "b.state") + " " + quote(work / "a.state") + " --out " + quote(work / "merged"));
  REQUIRE(merged.status == 0);

  CHECK(test::read_file(work / "merged/frames.csv") == test::read_file(work / "all/frames.csv"));
  for (const char* npy : {"heatmaps_480x360.npy", "heatmaps_64x48.npy", "heatmaps_33x17.npy"}) {
    CAPTURE(npy);
    CHECK(test::read_file(work / "merged" / npy) == test::read_file(work / "all" / npy));
  }
  CHECK(test::summary_data(test::read_file(work / "merged/summary.json")) ==
        test::summary_data(test::read_file(work / "all/summary.json")));
}

TEST_CASE("bad input gives clear errors and distinct exit statuses", "[cli]") {
  SECTION("a path that does not exist: exit 1, the message names the path") {
    const auto r = run_cli("scan /nonexistent/masks --no-progress");
    CHECK(r.status == 1);
    CHECK(r.err.find("/nonexistent/masks") != std::string::npos);
  }
  SECTION("some files skipped: exit 3, each listed with its cause, the rest counted") {
    const test::mixed_dataset data;
    test::temp_dir out;
    const auto r = run_cli("scan " + quote(data.dir.path()) + " --no-progress --out " + quote(out.path()));
    CHECK(r.status == 3);
    const auto summary = boost::json::parse(test::read_file(out / "summary.json")).as_object();
    CHECK(summary.at("frames_skipped").as_int64() == static_cast<std::int64_t>(data.bad_files));
    CHECK(summary.at("frames_scanned").as_int64() == 24 + 12 + 26);
    std::map<std::string, std::string> errors;
    for (const auto& e : summary.at("errors").as_array())
      errors[std::string(e.at("path").as_string())] = std::string(e.at("error").as_string());
    CHECK(errors == std::map<std::string, std::string>{{"bad/empty.png", "not_png"},
                                                       {"bad/not_a_png.png", "not_png"},
                                                       {"bad/rgb.png", "unsupported_color_type"},
                                                       {"bad/truncated.png", "corrupt_png"}});
    CHECK(r.out.find("bad/truncated.png") != std::string::npos);
  }
  SECTION("an unknown flag value: exit 2 (usage) with CLI11's message") {
    const auto r = run_cli("scan . --io nonsense");
    CHECK(r.status == 2);
    CHECK(r.err.find("--io") != std::string::npos);
  }
}
