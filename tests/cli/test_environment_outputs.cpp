// Faults of the environment on the output side (issue 13), run as a user runs the CLI: a scan
// never reads its own results, two runs never write one destination, a failed or killed rewrite
// never leaves a summary.json beside files of another run, every destination is checked before any
// input is read, a full disk or a file size limit is a clear error, and a killed run's temporaries
// are cleaned up by the next one. docs/robustness.md, "Environment faults tried".
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

#include "support/child_process.hpp"
#include "support/results.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
using test::csv_rows;
using test::quote;
using test::run_cli;
using test::run_shell;
using test::summary_of;
namespace fs = std::filesystem;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

std::uint64_t frames_scanned(const fs::path& dir) {
  return summary_of(dir).at("frames_scanned").to_number<std::uint64_t>();
}

/// A WoodScape-like folder of `frames` frames of width x height (names 00000_FV.png, ...).
void synth(const fs::path& dir, unsigned frames, unsigned seed, unsigned width = 64, unsigned height = 48) {
  const auto r =
      run_cli("synth " + quote(dir) + " --frames " + std::to_string(frames) + " --width " + std::to_string(width) +
              " --height " + std::to_string(height) + " --seed " + std::to_string(seed));
  REQUIRE(r.status == 0);
}

/// Every file below `dir` whose name holds ".tmp." (a temporary of an atomic write).
std::vector<fs::path> temporaries_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path());
  return out;
}

std::size_t pngs_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.path().extension() == ".png";
  return n;
}

/// A process id that is not running: a child that has exited and been reaped.
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

/// The lock file's field `key` (pid, host, started, command), once its holder has written it; ""
/// if it did not within 30 s.
std::string lock_field(const fs::path& lock, const std::string& key) {
  const auto deadline = clock_type::now() + std::chrono::seconds(30);
  while (clock_type::now() < deadline) {
    std::error_code ec;
    if (fs::exists(lock, ec)) {
      const auto text = test::read_file(lock);
      if (text.find("command=") != std::string::npos) {
        const auto at = text.find(key + "=");
        if (at != std::string::npos) return text.substr(at + key.size() + 1, text.find('\n', at) - at - key.size() - 1);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

/// Writes `text` into the FIFO `fifo` once its reader has opened it (within 30 s), then closes it.
bool feed_fifo(const fs::path& fifo, const std::string& text) {
  const auto deadline = clock_type::now() + std::chrono::seconds(30);
  int fd = -1;
  while ((fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 && errno == ENXIO &&
         clock_type::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

/// A scan that takes its --out (and --save-state) and then waits, reading its frame list from a
/// FIFO, until the test feeds it: a run in progress for as long as the test needs.
struct waiting_scan {
  fs::path fifo;
  test::child_process child;
  waiting_scan(const fs::path& work, const fs::path& data, const fs::path& out, const fs::path& state)
      : fifo(make_fifo(work / "list.fifo")),
        child({MASKSCAN_CLI, "scan", "--files-from", fifo.string(), "--root", data.string(), "--no-progress", "--out",
               out.string(), "--save-state", state.string()}) {}
  static fs::path make_fifo(const fs::path& p) {
    REQUIRE(::mkfifo(p.c_str(), 0666) == 0);
    return p;
  }
};

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}
}  // namespace

TEST_CASE("A scan leaves out its own --out and earlier maskscan results inside the input, and says so",
          "[cli][env-faults]") {
  test::temp_dir work;
  const fs::path data = work / "data", out = data / "results";
  synth(data, 6, 1);
  const std::string scan = "scan " + quote(data) + " --labels woodscape --heatmaps --no-progress ";

  const auto first = run_cli(scan + "--report --out " + quote(out));
  REQUIRE(first.status == 0);
  CHECK(frames_scanned(out) == 6);
  REQUIRE(pngs_in(out / "images") > 0);  // the report's pictures: PNGs inside the input now

  // Run again: its own results are not frames (before: 6 + the report's pictures, each an error).
  const auto second = run_cli(scan + "--report --force --out " + quote(out));
  CAPTURE(second.err);
  CHECK(second.status == 0);
  CHECK(frames_scanned(out) == 6);
  CHECK(second.err.find("left out 1 directory below " + data.string() + " that holds maskscan results") !=
        std::string::npos);
  CHECK(second.err.find(": results; ") != std::string::npos);
  CHECK(second.err.find("--include-results") != std::string::npos);

  // Another scan's results inside the input (a copy of them) are left out too, without --out.
  fs::create_directories(data / "old");
  fs::copy(out, data / "old" / "results", fs::copy_options::recursive);
  // A summary.json that is not maskscan's leaves its folder's masks in.
  fs::create_directories(data / "notes");
  test::write_file(data / "notes" / "summary.json", "{\"schema_version\": 1, \"tool\": \"labelme\"}\n");
  fs::copy_file(data / "00000_FV.png", data / "notes" / "extra_FV.png");
  const auto third = run_cli(scan + "--out " + quote(work / "elsewhere"));
  CAPTURE(third.err);
  CHECK(third.status == 0);
  CHECK(frames_scanned(work / "elsewhere") == 7);  // 6 + notes/extra_FV.png
  CHECK(third.err.find("left out 2 directories") != std::string::npos);
  CHECK(third.err.find("old/results") != std::string::npos);

  // --out the input itself: its report pictures are left out (the root is always listed).
  synth(work / "flat", 6, 1);
  for (int i = 0; i < 2; ++i) {
    const auto same = run_cli("scan " + quote(work / "flat") +
                              " --labels woodscape --heatmaps --no-progress --report "
                              "--force --out " +
                              quote(work / "flat"));
    CAPTURE(i, same.err);
    CHECK(same.status == 0);
    CHECK(frames_scanned(work / "flat") == 6);
  }

  // Asked for, they are scanned: every PNG below the input.
  const auto all = run_cli(scan + "--include-results --force --out " + quote(work / "elsewhere"));
  CAPTURE(all.err);
  CHECK(all.err.find("left out") == std::string::npos);
  CHECK(frames_scanned(work / "elsewhere") +
            summary_of(work / "elsewhere").at("frames_skipped").to_number<std::uint64_t>() ==
        pngs_in(data));
}

TEST_CASE("A second run on an --out or --save-state in use is refused at once, naming the holder",
          "[cli][env-faults][lock]") {
  test::temp_dir work;
  const fs::path data = work / "data", out = work / "out", state = work / "s.state";
  synth(data, 3, 1);
  REQUIRE(run_cli("scan " + quote(data) + " --no-progress --save-state " + quote(work / "a.state")).status == 0);

  waiting_scan first(work.path(), data, out, state);
  const auto pid = lock_field(out / ".maskscan.lock", "pid");
  REQUIRE_FALSE(pid.empty());
  REQUIRE_FALSE(lock_field(work / "s.state.lock", "pid").empty());
  const std::string holder = "is in use by maskscan pid " + pid + " on host ";

  const auto t0 = clock_type::now();
  const auto same_out = run_cli("scan " + quote(data) + " --no-progress --out " + quote(out));
  CAPTURE(same_out.err);
  CHECK(same_out.status == 1);
  CHECK(same_out.err.find("--out " + out.string() + " " + holder) != std::string::npos);
  CHECK(same_out.err.find("since ") != std::string::npos);
  CHECK(same_out.err.find("--files-from " + first.fifo.string()) != std::string::npos);  // its command

  const auto same_state = run_cli("scan " + quote(data) + " --no-progress --save-state " + quote(state));
  CAPTURE(same_state.err);
  CHECK(same_state.status == 1);
  CHECK(same_state.err.find("--save-state " + state.string() + " " + holder) != std::string::npos);

  const auto merge_out = run_cli("merge " + quote(work / "a.state") + " --out " + quote(out));
  CAPTURE(merge_out.err);
  CHECK(merge_out.status == 1);
  CHECK(merge_out.err.find("--out " + out.string() + " " + holder) != std::string::npos);

  const auto merge_state = run_cli("merge " + quote(work / "a.state") + " --save-state " + quote(state));
  CAPTURE(merge_state.err);
  CHECK(merge_state.status == 1);
  CHECK(merge_state.err.find("--save-state " + state.string() + " " + holder) != std::string::npos);
  CHECK(seconds_since(t0) < 10);  // refused at once, not after waiting

  // The first run was not disturbed: it finishes with its own results, and leaves no lock file.
  REQUIRE(feed_fifo(first.fifo, "00000_FV.png\n00001_MVL.png\n00002_MVR.png\n"));
  CHECK(first.child.wait() == 0);
  CAPTURE(first.child.output());
  CHECK(frames_scanned(out) == 3);
  CHECK_FALSE(fs::exists(out / ".maskscan.lock"));
  CHECK_FALSE(fs::exists(work / "s.state.lock"));
  CHECK(fs::exists(state));
}

TEST_CASE("A run killed with SIGKILL leaves no lock that stops the next run", "[cli][env-faults][lock]") {
  test::temp_dir work;
  const fs::path data = work / "data", out = work / "out", state = work / "s.state";
  synth(data, 3, 1);
  {
    waiting_scan killed(work.path(), data, out, state);
    REQUIRE_FALSE(lock_field(out / ".maskscan.lock", "pid").empty());
    killed.child.signal(SIGKILL);
    CHECK(killed.child.wait() == 128 + SIGKILL);
  }
  CHECK(fs::exists(out / ".maskscan.lock"));  // the file stays, but nobody holds its lock
  const auto next =
      run_cli("scan " + quote(data) + " --no-progress --out " + quote(out) + " --save-state " + quote(state));
  CAPTURE(next.err);
  CHECK(next.status == 0);  // no --force needed: a stale lock file is not a result
  CHECK(frames_scanned(out) == 3);
  CHECK_FALSE(fs::exists(out / ".maskscan.lock"));
}

TEST_CASE("A --force rewrite that fails half-way leaves no summary.json that disagrees with frames.csv",
          "[cli][env-faults]") {
  // The promise (docs/outputs.md): if summary.json exists, every file it names is complete and of
  // its run. A rewrite replaces frames.csv first: the old summary.json must be gone by then.
  test::temp_dir work;
  synth(work / "a", 4, 1);
  synth(work / "b", 6, 2, 128, 96);
  const auto check_consistent = [](const fs::path& dir) {
    INFO(dir);
    if (!fs::exists(dir / "summary.json")) return;
    CHECK(frames_scanned(dir) == csv_rows(dir / "frames.csv"));
  };

  SECTION("a later output cannot be written (weights.csv is a directory)") {
    const fs::path out = work / "out";
    REQUIRE(run_cli("scan " + quote(work / "a") + " --no-progress --out " + quote(out)).status == 0);
    REQUIRE(frames_scanned(out) == 4);
    fs::remove(out / "weights.csv");
    fs::create_directories(out / "weights.csv" / "in-the-way");
    const auto r = run_cli("scan " + quote(work / "b") + " --no-progress --force --out " + quote(out));
    CAPTURE(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find((out / "weights.csv").string() + ": cannot rename into place: ") != std::string::npos);
    CHECK(csv_rows(out / "frames.csv") == 6);  // the new one
    CHECK_FALSE(fs::exists(out / "summary.json"));
    check_consistent(out);
    CHECK(temporaries_in(out).empty());
  }
  SECTION("grouped: the top summary.json goes before any group's files are replaced") {
    const fs::path out = work / "grouped";
    const std::string group_by = " --group-by '_(FV|RV|MVL|MVR)\\.png$'";
    REQUIRE(run_cli("scan " + quote(work / "a") + " --no-progress" + group_by + " --out " + quote(out)).status == 0);
    fs::remove(out / "weights.csv");
    fs::create_directories(out / "weights.csv" / "in-the-way");
    const auto r = run_cli("scan " + quote(work / "b") + " --no-progress --force" + group_by + " --out " + quote(out));
    CAPTURE(r.err);
    CHECK(r.status == 1);
    CHECK_FALSE(fs::exists(out / "summary.json"));
    for (const auto& g : fs::directory_iterator(out / "groups")) check_consistent(g.path());
  }
  SECTION("the file size limit stops the heatmaps (ulimit -f)") {
    const fs::path out = work / "limited";
    REQUIRE(run_cli("scan " + quote(work / "a") + " --labels woodscape --heatmaps --no-progress --out " + quote(out))
                .status == 0);
    // b's heatmaps are 10 x 128 x 96 x 4 = 480 KiB; its frames.csv a few hundred bytes.
    const auto r = run_shell("bash -c " + quote("ulimit -f 200; exec " + std::string(MASKSCAN_CLI) + " scan " +
                                                (work / "b").string() +
                                                " --labels woodscape --heatmaps --no-progress "
                                                "--force --out " +
                                                out.string()));
    CAPTURE(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("heatmaps_128x96.npy: cannot write: File too large") != std::string::npos);
    CHECK(csv_rows(out / "frames.csv") == 6);
    CHECK_FALSE(fs::exists(out / "summary.json"));
    check_consistent(out);
    CHECK(temporaries_in(out).empty());
  }
}

TEST_CASE("Every output destination is checked before any input is read", "[cli][env-faults]") {
  // The input is a FIFO list: a run that opened it before failing on its outputs would wait for a
  // writer and never end; one that checks its outputs first fails at once.
  test::temp_dir work;
  fs::permissions(work.path(), fs::perms::all);  // nobody (below) must reach the FIFO and the CLI
  const fs::path fifo = work / "list.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0666) == 0);
  REQUIRE(::chmod(fifo.c_str(), 0666) == 0);
  const auto run = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), {"scan", "--files-from", fifo.string(), "--no-progress"});
    return argv;
  };

  SECTION("a --save-state in a folder that does not exist") {
    auto argv = run({MASKSCAN_CLI});
    argv.insert(argv.end(), {"--out", (work / "out").string(), "--save-state", (work / "missing/s.state").string()});
    const auto t0 = clock_type::now();
    test::child_process child(argv);
    const int status = child.wait(std::chrono::seconds(20));
    CAPTURE(child.output());
    CHECK(status == 1);  // -1: it waited for the input
    CHECK(seconds_since(t0) < 10);
    CHECK(child.output().find("--save-state " + (work / "missing/s.state").string() +
                              ": cannot write there: the folder " + (work / "missing").string() + " does not exist") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(work / "out"));  // nothing left behind
  }
  SECTION("a read-only --out") {
    const fs::path out = work / "read-only";
    fs::create_directories(out);
    fs::permissions(out, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    std::vector<std::string> prefix{MASKSCAN_CLI};
    if (::geteuid() == 0) {
      // Root writes anywhere: the CLI runs as nobody instead (a copy it may run, as in T4 of the
      // bad inputs).
      const fs::path setpriv = "/usr/bin/setpriv";
      if (!fs::exists(setpriv)) {
        WARN("running as root without " << setpriv << ": a read-only --out cannot be tested here");
        return;
      }
      const fs::path cli = work / "maskscan";
      fs::copy_file(MASKSCAN_CLI, cli);
      fs::permissions(cli, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
      prefix = {setpriv.string(), "--reuid=65534", "--regid=65534", "--clear-groups", cli.string()};
      if (run_shell(setpriv.string() + " --reuid=65534 --regid=65534 --clear-groups " + cli.string() + " --help")
              .status != 0) {
        WARN("uid 65534 cannot run " << cli << ": a read-only --out cannot be tested here");
        return;
      }
    }
    for (const fs::path& target : {out, out / "sub"}) {
      auto argv = run(prefix);
      argv.insert(argv.end(), {"--out", target.string()});
      const auto t0 = clock_type::now();
      test::child_process child(argv);
      const int status = child.wait(std::chrono::seconds(20));
      CAPTURE(target, child.output());
      CHECK(status == 1);
      CHECK(seconds_since(t0) < 10);
      CHECK(child.output().find("--out " + target.string() + ": cannot ") != std::string::npos);
      CHECK(child.output().find("Permission denied") != std::string::npos);
    }
  }
}

TEST_CASE("A file size limit or a full disk is a write error naming the output and the cause, no temporary left",
          "[cli][env-faults]") {
  test::temp_dir work;
  synth(work / "data", 4, 1);
  // 10 classes x 64 x 48 x 4 = 120 KiB of heatmaps; frames.csv and weights.csv are a few hundred bytes.
  const std::string scan = std::string(MASKSCAN_CLI) + " scan " + (work / "data").string() +
                           " --labels woodscape --heatmaps --no-progress --out ";

  SECTION("ulimit -f: no SIGXFSZ death (exit 153), but exit 1 and the cause") {
    const fs::path out = work / "out";
    const auto r = run_shell("bash -c " + quote("ulimit -f 64; exec " + scan + out.string()));
    CAPTURE(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("maskscan: " + (out / "heatmaps_64x48.npy").string() + ": cannot write: File too large") !=
          std::string::npos);
    CHECK(r.err.find(".tmp.") == std::string::npos);  // the output's name, not its temporary's
    CHECK(temporaries_in(out).empty());
    CHECK_FALSE(fs::exists(out / "summary.json"));
  }
  SECTION("a full file system (a 64 KiB tmpfs)") {
    // A private mount namespace: the tmpfs goes away with the shell, and nothing is mounted here.
    const fs::path mnt = work / "mnt";
    fs::create_directories(mnt);
    const auto probe = run_shell("unshare -m sh -c " + quote("mount -t tmpfs -o size=64k tmpfs " + mnt.string()));
    if (probe.status != 0) {
      WARN("cannot mount a tmpfs here (" << probe.err << "): a full disk is tested with ulimit -f only");
      return;
    }
    const auto r =
        run_shell("unshare -m sh -c " +
                  quote("mount -t tmpfs -o size=64k tmpfs " + mnt.string() + " && { " + scan + (mnt / "out").string() +
                        "; echo \"status $?\"; ls -a " + (mnt / "out").string() + "; }"));
    CAPTURE(r.out, r.err);
    CHECK(r.out.find("status 1\n") != std::string::npos);
    CHECK(r.err.find("maskscan: " + (mnt / "out" / "heatmaps_64x48.npy").string() +
                     ": cannot write: No space left on device") != std::string::npos);
    CHECK(r.out.find(".tmp.") == std::string::npos);  // no temporary left in the listing
    CHECK(r.out.find("summary.json") == std::string::npos);
  }
}

TEST_CASE("A run removes the temporaries that a killed run left among its outputs, and nothing else",
          "[cli][env-faults]") {
  test::temp_dir work;
  const fs::path data = work / "data", out = work / "out", state = work / "s.state";
  synth(data, 4, 1);
  REQUIRE(run_cli("scan " + quote(data) + " --no-progress --heatmaps --report --out " + quote(out)).status == 0);
  const auto dead = std::to_string(dead_pid());
  const auto live = std::to_string(::getpid());  // this test: a writer still running
  const std::vector<fs::path> stale{
      out / ("frames.csv.tmp." + dead + ".0"), out / ("heatmaps_64x48.npy.tmp." + dead + ".3"),
      out / ("summary.json.tmp." + dead + ".7"), out / "images" / "heatmaps" / ("grid.png.tmp." + dead + ".2"),
      work / ("s.state.tmp." + dead + ".1")};
  const std::vector<fs::path> kept{out / "notes.tmp.txt",                       // not a temporary's name
                                   out / ("frames.csv.tmp." + live + ".0"),     // its writer runs
                                   out / ("mine.csv.tmp." + dead + ".0"),       // not a maskscan output
                                   work / ("other.state.tmp." + dead + ".0")};  // beside, of another file
  for (const auto& f : stale) test::write_file(f, "half");
  for (const auto& f : kept) test::write_file(f, "keep");

  const auto r = run_cli("scan " + quote(data) + " --no-progress --heatmaps --force --out " + quote(out) +
                         " --save-state " + quote(state));
  CAPTURE(r.err);
  CHECK(r.status == 0);
  for (const auto& f : stale) CHECK_FALSE(fs::exists(f));
  for (const auto& f : kept) CHECK(test::read_file(f) == "keep");
  CHECK(r.err.find("removed 4 temporary files that an earlier run left in " + out.string()) != std::string::npos);
  CHECK(r.err.find("removed 1 temporary file that an earlier run left in " + work.path().string()) !=
        std::string::npos);

  // Without --force: a folder holding only a killed run's temporaries (and its lock file) is empty.
  const fs::path fresh = work / "fresh";
  fs::create_directories(fresh);
  test::write_file(fresh / ("frames.csv.tmp." + dead + ".0"), "half");
  test::write_file(fresh / ".maskscan.lock", "pid=1\n");
  const auto again = run_cli("scan " + quote(data) + " --no-progress --out " + quote(fresh));
  CAPTURE(again.err);
  CHECK(again.status == 0);
  CHECK(temporaries_in(fresh).empty());
}
