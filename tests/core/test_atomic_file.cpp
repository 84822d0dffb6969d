// Outputs are written atomically, and a dying process can remove what it was half-way writing.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>

#include <sys/resource.h>

#include <maskscan/output.hpp>

#include "core/atomic_file.hpp"
#include "support/test_data.hpp"

using namespace maskscan;
namespace fs = std::filesystem;

namespace {
std::size_t files_in(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}
}  // namespace

TEST_CASE("a file is replaced whole or not at all", "[core][output]") {
  test::temp_dir dir;
  test::write_file(dir / "f.txt", "old");
  CHECK_THROWS(detail::write_file_atomically(dir / "f.txt", [](std::ostream& out) {
    out << "half of the new";
    throw std::runtime_error("the writer failed");
  }));
  CHECK(test::read_file(dir / "f.txt") == "old");
  CHECK(files_in(dir.path()) == 1);  // the temporary is gone
  detail::write_file_atomically(dir / "f.txt", [](std::ostream& out) { out << "new"; });
  CHECK(test::read_file(dir / "f.txt") == "new");
  CHECK(files_in(dir.path()) == 1);
}

TEST_CASE("remove_unfinished_outputs removes the temporary being written, nothing else", "[core][output][interrupt]") {
  test::temp_dir dir;
  test::write_file(dir / "done.json", "whole");
  std::size_t files_while_writing = 0, files_after_removal = 0;
  // What a second Ctrl-C does (the signal handler calls it, then _exit): here called in the middle
  // of a write, from the writing thread.
  CHECK_THROWS(detail::write_file_atomically(dir / "summary.json", [&](std::ostream& out) {
    out << "half a summ";
    out.flush();
    files_while_writing = files_in(dir.path());
    remove_unfinished_outputs();
    files_after_removal = files_in(dir.path());
  }));  // the rename then fails: its source is gone
  CHECK(files_while_writing == 2);
  CHECK(files_after_removal == 1);
  CHECK_FALSE(fs::exists(dir / "summary.json"));
  CHECK(test::read_file(dir / "done.json") == "whole");
  remove_unfinished_outputs();  // nothing registered: nothing happens
  CHECK(files_in(dir.path()) == 1);
}

TEST_CASE("a write that fails names the output and the system's cause, and leaves no temporary", "[core][env-faults]") {
  // What a full disk or a file size limit does: here RLIMIT_FSIZE (ulimit -f) with SIGXFSZ ignored,
  // as the CLI ignores it, so that write() fails with EFBIG.
  test::temp_dir dir;
  test::write_file(dir / "f.bin", "old");
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGXFSZ, &ignore, &previous);
  rlimit old_limit{};
  ::getrlimit(RLIMIT_FSIZE, &old_limit);
  rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  std::string message;
  try {
    detail::write_file_atomically(dir / "f.bin", [](std::ostream& out) { out << std::string(100000, 'x'); });
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &previous, nullptr);
  CHECK(message == (dir / "f.bin").string() + ": cannot write: File too large");
  CHECK(test::read_file(dir / "f.bin") == "old");
  CHECK(files_in(dir.path()) == 1);  // the temporary is gone
}

TEST_CASE("temporary names: what a stale temporary says about its output and its writer", "[core][env-faults]") {
  CHECK(detail::temporary_name("out/frames.csv", 123, 4) == "frames.csv.tmp.123.4");
  const auto t = detail::parse_temporary_name("heatmaps_64x48.npy.tmp.28308.3");
  REQUIRE(t);
  CHECK(t->output == "heatmaps_64x48.npy");
  CHECK(t->pid == 28308);
  for (const char* other :
       {"notes.tmp.txt", "frames.csv.tmp.12", "frames.csv.tmp..3", ".tmp.1.2", "a.tmp.x.1", "a.tmp.1.-2", "frames.csv"})
    CHECK_FALSE(detail::parse_temporary_name(other));
}
