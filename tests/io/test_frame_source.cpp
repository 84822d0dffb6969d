// frame_source: listing a directory, and the frames left to resume a scan.
#include <catch2/catch.hpp>

#include <maskscan/scan.hpp>

#include "support/test_data.hpp"

using namespace maskscan;
namespace fs = std::filesystem;

namespace {
frame_row row(std::string path) {
  frame_row r;
  r.path = std::move(path);
  return r;
}
}  // namespace

TEST_CASE("remaining() keeps the frames without a row, retries skipped files, refuses strangers", "[io][resume]") {
  test::temp_dir dir;
  for (const char* name : {"a.png", "b.png", "c/d.png", "c/e.PNG"}) {
    fs::create_directories((dir / name).parent_path());
    test::write_file(dir / name, "x");
  }
  const auto source = frame_source::from_directory(dir.path());
  REQUIRE(source.size() == 4);

  dataset_stats done;
  done.frames = {row("c/d.png"), row("a.png")};  // any order
  done.errors = {file_error{"b.png", errc::corrupt_png, "bad"}};
  const auto rest = source.remaining(done);
  REQUIRE(rest.size() == 2);
  CHECK(rest.name(0) == "b.png");  // it was skipped: tried again
  CHECK(rest.name(1) == "c/e.PNG");
  CHECK(rest.file(1) == dir.path() / "c/e.PNG");
  CHECK(rest.root() == source.root());

  CHECK(source.remaining(dataset_stats{}).size() == 4);

  done.frames.push_back(row("zzz.png"));
  CHECK_THROWS_WITH(source.remaining(done), Catch::Contains("zzz.png") && Catch::Contains("another dataset"));
  done.frames.back() = row("0.png");  // sorts before every frame
  CHECK_THROWS_WITH(source.remaining(done), Catch::Contains("0.png"));
}

TEST_CASE("from_directory: a missing path is an error naming it, a directory named x.png is walked, not a frame",
          "[io]") {
  CHECK_THROWS_WITH(frame_source::from_directory("/nonexistent/masks"), Catch::Contains("/nonexistent/masks"));
  test::temp_dir dir;
  fs::create_directories(dir / "x.png");
  test::write_file(dir / "x.png/inner.png", "x");
  const auto source = frame_source::from_directory(dir.path());
  REQUIRE(source.size() == 1);
  CHECK(source.name(0) == "x.png/inner.png");
}
