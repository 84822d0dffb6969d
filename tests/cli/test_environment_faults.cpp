// Faults of the environment, run as an unlucky user meets them: memory and thread limits
// (ulimit -v), absurd concurrency flags, a tiny open-file limit (ulimit -n), a scan blocked in a
// system call when the signal comes, and many scans of one input at once. Each must end with an
// error naming the cause, or with exact results, never with a crash or a hang.
// (FIFOs and devices named *.png: tests/io/test_file_reader.cpp.)
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <maskscan/options.hpp>
#include <maskscan/synth.hpp>

#include "support/child_process.hpp"
#include "support/results.hpp"
#include "support/run_cli.hpp"

extern char** environ;

namespace {
using namespace maskscan;
using Catch::Matchers::Contains;
using test::quote;
using test::run_cli;
using test::summary_of;
namespace fs = std::filesystem;

// Sanitizers reserve terabytes of address space for their shadow memory: under `ulimit -v` a
// sanitized binary cannot start at all. Their runtimes also open descriptors of their own (so a
// tiny `ulimit -n` means something else), and ThreadSanitizer runs a signal handler only when the
// thread leaves its system call (so a thread blocked in write(2) never sees the signal). Those
// cases run in the plain build only (the release stage of CI).
#ifdef MASKSCAN_SANITIZED
constexpr std::string_view sanitizers = MASKSCAN_SANITIZED;
#else
constexpr std::string_view sanitizers;
#endif
constexpr bool sanitized = !sanitizers.empty();
constexpr bool thread_sanitized = sanitizers.find("thread") != std::string_view::npos;

/// Four WoodScape-sized frames (1280x966): one heatmap set is 10 x 1280 x 966 x 4 bytes = 49.5 MB.
const test::temp_dir& full_size_frames() {
  synth_options o;
  o.frames = 4;
  o.seed = 5;
  return test::synthesized(o);
}

/// 200 small frames, for scans that run many at once.
const test::temp_dir& small_frames() { return test::synthesized(test::synth_frames(200, 160, 120, 6)); }

/// `maskscan <args>` under a shell limit (`ulimit -v 100000`), killed if it runs over a minute. The
/// output files are opened before the limit applies.
test::cli_result under_limit(const std::string& limit, const std::string& args) {
  return test::run_shell(fmt::format("{}; exec timeout -s KILL 60 {} {}", limit, MASKSCAN_CLI, args));
}

}  // namespace

TEST_CASE("Heatmaps that do not fit under ulimit -v end the scan with an error naming them, every time",
          "[cli][env-faults]") {
  if (sanitized) {
    WARN("skipped: a sanitized binary cannot run under ulimit -v");
    return;
  }
  // Before: SIGSEGV in heatmap_accumulator::flush, the map entry of a set whose memory had failed.
  for (const char* io : {"uring", "threads"}) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      CAPTURE(io, attempt);
      test::temp_dir out;
      // (--io-depth 2: with threads, 16 read threads would not start under this limit either.
      // MALLOC_ARENA_MAX=1: each thread that allocates would otherwise reserve a malloc arena of
      // 64 MB of address space, and which thread does so first — the compute thread resolving the
      // options, a worker, a read thread — would decide what fails under the limit, not the heatmaps.)
      const auto r = under_limit("ulimit -v 100000; export MALLOC_ARENA_MAX=1",
                                 fmt::format("scan {} --heatmaps --workers 2 --io-depth 2 --labels woodscape "
                                             "--no-progress --io {} --out {}",
                                             quote(full_size_frames().path()), io, quote(out.path() / "r")));
      CHECK(r.status == 1);
      CHECK_THAT(r.err, Contains("not enough memory for the 1280x966 heatmap"));
      CHECK_THAT(r.err, Contains("49.5 MB"));
      CHECK_FALSE(fs::exists(out.path() / "r" / "summary.json"));  // nothing claims to be a result
    }
  }
}

TEST_CASE("Compute threads the system refuses end the scan with an error, not a hang", "[cli][env-faults]") {
  if (sanitized) {
    WARN("skipped: a sanitized binary cannot run under ulimit -v");
    return;
  }
  // 64 threads need 64 x 8 MB of stack address space: more than 400 MB allows. Before: the pool's
  // started threads waited forever for work, the process hung at 0% CPU and ignored SIGTERM.
  const auto start = std::chrono::steady_clock::now();
  const auto r = under_limit("ulimit -v 400000", fmt::format("scan {} --workers 64 --io threads --io-depth 1 "
                                                             "--labels woodscape --no-progress",
                                                             quote(small_frames().path())));
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Contains("cannot start compute threads (--workers)"));
  CHECK_THAT(r.err, Contains("of 64 started"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("Worker, io-depth and queue-depth values beyond their bounds are usage errors", "[cli][env-faults]") {
  for (const auto& [flag, value, bound] : {std::tuple{"--workers", "100000", maskscan::max_workers},
                                           std::tuple{"--io-depth", "5000", maskscan::max_io_depth},
                                           std::tuple{"--queue-depth", "70000", maskscan::max_queue_depth}}) {
    CAPTURE(flag);
    const auto r = run_cli(fmt::format("scan {} {} {} --no-progress", quote(small_frames().path()), flag, value));
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(fmt::format("({}) {} is over the limit of {}", flag, value, bound)));
  }
  // At the bounds' other end the flags still work.
  CHECK(run_cli(
            fmt::format("scan {} --workers 1 --io-depth 1 --queue-depth 1 --no-progress", quote(small_frames().path())))
            .status == 0);
}

TEST_CASE("A tiny open-file limit is refused before the scan, and a small one still writes every result",
          "[cli][env-faults]") {
  if (sanitized) {
    WARN("skipped: a sanitizer runtime holds descriptors of its own");
    return;
  }
  for (const char* io : {"auto", "uring", "threads"}) {
    for (const int limit : {6, 8, 9, 16}) {
      CAPTURE(io, limit);
      test::temp_dir out;
      // Before: 8 hung; 6 failed with "State not recoverable"; 7 and 9 scanned everything, then lost
      // the results for want of a descriptor to write them.
      const auto r = under_limit(fmt::format("ulimit -n {}", limit),
                                 fmt::format("scan {} --io {} --no-progress --out {}", quote(small_frames().path()), io,
                                             quote(out.path() / "r")));
      CHECK(r.status == 1);
      const bool named = r.err.find(fmt::format("the open-file limit (ulimit -n {})", limit)) != std::string::npos ||
                         r.err.find("Too many open files") != std::string::npos;
      CHECK(named);
      CHECK_FALSE(fs::exists(out.path() / "r" / "summary.json"));
    }
    for (const int limit : {40, 64}) {
      CAPTURE(io, limit);
      test::temp_dir out;
      const auto r = under_limit(fmt::format("ulimit -n {}", limit),
                                 fmt::format("scan {} --io {} --no-progress --report --out {}",
                                             quote(small_frames().path()), io, quote(out.path() / "r")));
      CHECK(r.status == 0);
      REQUIRE(fs::exists(out.path() / "r" / "summary.json"));
      CHECK(summary_of(out.path() / "r").at("frames_scanned").as_int64() == 200);
      CHECK(fs::exists(out.path() / "r" / "report.html"));
    }
  }
}

TEST_CASE("SIGTERM ends a scan blocked in a system call (stderr to a full pipe) within the grace period",
          "[cli][env-faults][signals]") {
  if (thread_sanitized) {
    WARN("skipped: ThreadSanitizer defers signal handlers until the thread leaves its system call");
    return;
  }
  // A pipe nobody reads, filled to the brim: the first progress line blocks the scan's thread in
  // write(2), where it cannot see the cancellation. Before: the process waited forever.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(::fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
  const std::string chunk(4096, 'x');
  while (::write(fds[1], chunk.data(), chunk.size()) > 0) {
  }
  REQUIRE(::fcntl(fds[1], F_SETFL, 0) == 0);
  test::temp_dir out;
  const std::vector<std::string> argv{MASKSCAN_CLI, "scan",  small_frames().path().string(),
                                      "--progress", "--out", (out.path() / "r").string()};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // blocked by now
  const auto signalled = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  int status = 0;
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() - signalled < std::chrono::seconds(40))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto took = std::chrono::steady_clock::now() - signalled;
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ::close(fds[0]);
  REQUIRE(done == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(took < std::chrono::seconds(25));  // the grace period is 10 s without progress
  CHECK_FALSE(fs::exists(out.path() / "r" / "summary.json"));
  // No temporary file is left behind.
  if (fs::exists(out.path() / "r"))
    for (const auto& e : fs::directory_iterator(out.path() / "r"))
      CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("20 scans of one input at once each give the same exact result", "[cli][env-faults][load]") {
  test::temp_dir out;
  std::vector<std::unique_ptr<test::child_process>> scans;
  for (int i = 0; i < 20; ++i)
    scans.push_back(std::make_unique<test::child_process>(
        std::vector<std::string>{MASKSCAN_CLI, "scan", small_frames().path().string(), "--heatmaps", "--workers", "1",
                                 "--no-progress", "--out", (out.path() / std::to_string(i)).string()}));
  for (auto& s : scans) CHECK(s->wait() == 0);
  const auto first = summary_of(out.path() / "0");
  CHECK(first.at("frames_scanned").as_int64() == 200);
  for (int i = 1; i < 20; ++i) {
    CAPTURE(i);
    const auto other = summary_of(out.path() / std::to_string(i));
    CHECK(other.at("classes") == first.at("classes"));
    CHECK(test::read_file(out.path() / std::to_string(i) / "frames.csv") ==
          test::read_file(out.path() / "0" / "frames.csv"));
    CHECK(test::read_file(out.path() / std::to_string(i) / "heatmaps_160x120.npy") ==
          test::read_file(out.path() / "0" / "heatmaps_160x120.npy"));
  }
}
