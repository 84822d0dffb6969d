// Interruption, resume, --strict, --force and the exit statuses, run as a user runs the tool.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <sstream>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <maskscan/synth.hpp>

#include "support/child_process.hpp"
#include "support/mixed_dataset.hpp"
#include "support/results.hpp"
#include "support/run_cli.hpp"

namespace {
using namespace maskscan;
using test::csv_rows;
using test::quote;
using test::run_cli;
namespace fs = std::filesystem;

/// 600 frames of 640x480: long enough (~0.3 s) with one libspng worker to be interrupted half-way.
const test::temp_dir& long_dataset() {
  auto o = test::synth_frames(600, 640, 480, 11);
  o.filter = png_filter::sub;
  return test::synthesized(o);
}

std::vector<std::string> slow_scan(const fs::path& data, const fs::path& out, const fs::path& state) {
  return {MASKSCAN_CLI, "scan",          data.string(), "--heatmaps", "--decoder", "spng",       "--workers",
          "1",          "--queue-depth", "4",           "--io-depth", "1",         "--progress", "--out",
          out.string(), "--save-state",  state.string()};
}

bool has_temp_files(const fs::path& dir) {
  if (!fs::exists(dir)) return false;
  return std::ranges::any_of(fs::directory_iterator(dir), fs::directory_iterator{}, [](const auto& e) {
    return e.path().filename().string().find(".tmp.") != std::string::npos;
  });
}

}  // namespace

TEST_CASE(
    "SIGINT/SIGTERM: frames in flight are finished, partial results written, exit 130, and --resume completes "
    "them to exactly one full run",
    "[cli][interrupt]") {
  const int signo = GENERATE(SIGINT, SIGTERM);
  CAPTURE(signo);
  const auto& data = long_dataset();
  test::temp_dir work;
  const auto out = work / "out", state = work / "scan.state";

  test::child_process scan(slow_scan(data.path(), out, state));
  REQUIRE(scan.wait_for_output("frames/s"));  // the scan has started
  scan.signal(signo);
  const int status = scan.wait();
  INFO(scan.output());
  REQUIRE(status == 130);
  CHECK(scan.output().find("interrupted") != std::string::npos);
  CHECK(scan.output().find("--resume " + state.string()) != std::string::npos);

  const auto partial = test::summary_of(out);
  CHECK(partial.at("partial").as_bool());
  const auto scanned = partial.at("frames_scanned").as_int64();
  CHECK(scanned > 0);
  CHECK(scanned < 600);
  CHECK(partial.at("frames_total").as_int64() == 600);
  CHECK(csv_rows(out / "frames.csv") == static_cast<std::size_t>(scanned));
  CHECK_FALSE(has_temp_files(out));

  // Resume into the same directory and state file (--force: the directory holds the partial results).
  const auto resumed = run_cli("scan " + quote(data.path()) + " --heatmaps --no-progress --resume " + quote(state) +
                               " --save-state " + quote(state) + " --out " + quote(out) + " --force");
  INFO(resumed.err);
  REQUIRE(resumed.status == 0);
  CHECK(resumed.err.find(fmt::format("{} frames done, {} to scan", scanned, 600 - scanned)) != std::string::npos);

  const auto full = work / "full";
  REQUIRE(run_cli("scan " + quote(data.path()) + " --heatmaps --no-progress --out " + quote(full)).status == 0);
  CHECK(test::read_file(out / "frames.csv") == test::read_file(full / "frames.csv"));
  CHECK(test::read_file(out / "heatmaps_640x480.npy") == test::read_file(full / "heatmaps_640x480.npy"));
  CHECK(test::summary_data(test::read_file(out / "summary.json")) ==
        test::summary_data(test::read_file(full / "summary.json")));
  CHECK_FALSE(test::summary_of(out).at("partial").as_bool());
}

TEST_CASE("a second signal quits at once, exit 130, leaving no half-written file", "[cli][interrupt]") {
  const auto& data = long_dataset();
  test::temp_dir work;
  const auto out = work / "out";
  test::child_process scan(slow_scan(data.path(), out, work / "scan.state"));
  REQUIRE(scan.wait_for_output("frames/s"));
  scan.signal(SIGINT);
  REQUIRE(scan.wait_for_output("interrupt again"));
  scan.signal(SIGINT);
  const int status = scan.wait();
  INFO(scan.output());
  CHECK(status == 130);
  CHECK(scan.output().find("quitting now") != std::string::npos);
  CHECK_FALSE(has_temp_files(out));
  CHECK_FALSE(has_temp_files(work.path()));
  // Whatever exists is whole: summary.json is written last, so if it is there it parses.
  if (fs::exists(out / "summary.json")) CHECK_NOTHROW(test::summary_of(out));
}

TEST_CASE("scan --resume refuses a state from another dataset or other class options", "[cli][resume]") {
  const test::mixed_dataset data;
  test::temp_dir work;
  const auto state = work / "s.state";
  REQUIRE(run_cli("scan " + quote(data.dir.path() / "synth_64x48") + " --no-progress --save-state " + quote(state))
              .status == 0);
  SECTION("frames that are not in the input") {
    const auto r = run_cli("scan " + quote(data.dir.path() / "camvid") + " --no-progress --resume " + quote(state));
    CHECK(r.status == 1);
    CHECK(r.err.find("00000_FV.png") != std::string::npos);
    CHECK(r.err.find("another dataset") != std::string::npos);
  }
  SECTION("different classes") {
    const auto r = run_cli("scan " + quote(data.dir.path() / "synth_64x48") +
                           " --num-classes 11 --no-progress --resume " + quote(state));
    CHECK(r.status == 1);
    CHECK(r.err.find("--resume") != std::string::npos);
    CHECK(r.err.find("class") != std::string::npos);
  }
  SECTION("a resume of a finished scan scans nothing and gives the same result") {
    const auto r = run_cli("scan " + quote(data.dir.path() / "synth_64x48") + " --no-progress --resume " +
                           quote(state) + " --out " + quote(work / "out"));
    CHECK(r.status == 0);
    CHECK(r.err.find("24 frames done, 0 to scan") != std::string::npos);
    CHECK(test::summary_of(work / "out").at("frames_scanned").as_int64() == 24);
  }
}

TEST_CASE("scan --strict stops at the first bad file, names it, exit 4, and without it the scan goes on, exit 3",
          "[cli][strict]") {
  const test::mixed_dataset data;
  test::temp_dir work;
  const auto strict = run_cli("scan " + quote(data.dir.path()) +
                              " --strict --no-progress --workers 1 --queue-depth 1 "
                              "--out " +
                              quote(work / "strict"));
  CHECK(strict.status == 4);
  const auto s = test::summary_of(work / "strict");
  REQUIRE(s.at("stopped_at").is_string());
  const std::string stopped_at(s.at("stopped_at").as_string());
  CHECK(stopped_at.starts_with("bad/"));
  CHECK(strict.err.find("--strict") != std::string::npos);
  CHECK(strict.err.find(stopped_at) != std::string::npos);
  // queue-depth 1: nothing else was in flight, and frames are read in name order (bad/ < camvid/ <
  // synth_*), so the first bad file is the only frame done.
  CHECK(stopped_at == "bad/empty.png");
  CHECK(s.at("frames_skipped").as_int64() == 1);
  CHECK(s.at("frames_scanned").as_int64() == 0);
  CHECK(s.at("partial").as_bool());

  const auto lenient = run_cli("scan " + quote(data.dir.path()) + " --no-progress --out " + quote(work / "all"));
  CHECK(lenient.status == 3);
  CHECK(test::summary_of(work / "all").at("stopped_at").is_null());
}

TEST_CASE("existing results are not clobbered without --force", "[cli][force]") {
  const test::mixed_dataset data;
  test::temp_dir work;
  const auto input = quote(data.dir.path() / "synth_33x17");
  const auto out = work / "out";
  fs::create_directories(out);
  test::write_file(out / "notes.txt", "mine");
  test::write_file(out / "summary.json", "an earlier result");
  test::write_file(work / "s.state", "an earlier state");

  const auto refused = run_cli("scan " + input + " --no-progress --out " + quote(out));
  CHECK(refused.status == 1);
  CHECK(refused.err.find("--force") != std::string::npos);
  CHECK(test::read_file(out / "summary.json") == "an earlier result");

  const auto state_refused = run_cli("scan " + input + " --no-progress --save-state " + quote(work / "s.state"));
  CHECK(state_refused.status == 1);
  CHECK(test::read_file(work / "s.state") == "an earlier state");

  const auto forced = run_cli("scan " + input + " --no-progress --force --out " + quote(out) + " --save-state " +
                              quote(work / "s.state"));
  CHECK(forced.status == 0);
  CHECK(test::summary_of(out).at("frames_scanned").as_int64() == 12);
  CHECK(test::read_file(out / "notes.txt") == "mine");  // other files are kept

  test::write_file(work / "file", "x");
  CHECK(run_cli("scan " + input + " --no-progress --force --out " + quote(work / "file")).status == 1);
}

TEST_CASE("exit statuses: 1 for no input, 2 for a wrong command line", "[cli]") {
  test::temp_dir empty;
  fs::create_directories(empty / "sub.png");  // a directory named like a frame is not a frame
  const auto r = run_cli("scan " + quote(empty.path()) + " --no-progress");
  CHECK(r.status == 1);
  CHECK(r.err.find("no *.png files") != std::string::npos);
  CHECK(run_cli("scan").status == 2);
  CHECK(run_cli("scan . --workers many").status == 2);
  CHECK(run_cli("--help").status == 0);
}

TEST_CASE("20,000 files under `ulimit -n 128` are all scanned, whatever --io-depth asks", "[cli][fd]") {
  test::temp_dir data;
#ifdef MASKSCAN_SANITIZED
  constexpr std::uint32_t files = 2000;  // still 15x the descriptors: synthesizing 20,000 took a minute under TSan
#else
  constexpr std::uint32_t files = 20000;
#endif
  auto o = test::synth_frames(files, 8, 6);
  o.filter = png_filter::sub;
  synthesize_dataset(data.path(), o);
  const std::string io = GENERATE(as<std::string>{}, "auto", "threads");
  CAPTURE(io);
  test::temp_dir out;
  const auto r = run_cli(
      "scan " + quote(data.path()) + " --no-progress --io " + io + " --io-depth 1000 --out " + quote(out.path()),
      "ulimit -n 128 &&");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto s = test::summary_of(out.path());
  CHECK(s.at("frames_scanned").as_int64() == files);
  CHECK(s.at("frames_skipped").as_int64() == 0);
  CHECK(s.at("options").at("io_depth").as_int64() < 128);
}
