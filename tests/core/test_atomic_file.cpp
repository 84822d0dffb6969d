// Outputs are written atomically, and a dying process can remove what it was half-way writing.
#include <catch2/catch.hpp>

#include <filesystem>

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
