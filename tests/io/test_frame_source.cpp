// frame_source: listing a directory, and the frames left to resume a scan.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/time.h>

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

/// A row for the file `root / path` as it is now (size and modification time from stat(2)).
frame_row row(const fs::path& root, std::string path) {
  struct stat st {};
  REQUIRE(::stat((root / path).c_str(), &st) == 0);
  frame_row r = row(std::move(path));
  r.file_size = static_cast<std::uint64_t>(st.st_size);
  r.file_mtime_ns = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
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
  done.frames = {row(dir.path(), "c/d.png"), row(dir.path(), "a.png")};  // any order
  done.errors = {file_error{"b.png", errc::corrupt_png, "bad"}};
  const auto rest = source.remaining(done);
  REQUIRE(rest.size() == 2);
  CHECK(rest.name(0) == "b.png");  // it was skipped: tried again
  CHECK(rest.name(1) == "c/e.PNG");
  CHECK(rest.root() / rest.name(1) == dir.path() / "c/e.PNG");
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

TEST_CASE("remaining() refuses a state whose frames changed since they were scanned, naming them", "[io][resume]") {
  test::temp_dir dir;
  for (const char* name : {"a.png", "b.png", "c.png"}) test::write_file(dir / name, "xx");
  const auto source = frame_source::from_directory(dir.path());
  dataset_stats done;
  done.frames = {row(dir.path(), "a.png"), row(dir.path(), "b.png")};
  REQUIRE(source.remaining(done).size() == 1);

  SECTION("new content of another size") {
    test::write_file(dir / "b.png", "xyz");
    CHECK_THROWS_WITH(source.remaining(done), Catch::Contains("1 of the 2 frames") && Catch::Contains("b.png") &&
                                                  !Catch::Contains("a.png") && Catch::Contains("without --resume"));
  }
  SECTION("the same size, a new modification time (the file was replaced)") {
    const timeval times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};  // 2001
    REQUIRE(::utimes((dir / "a.png").c_str(), times) == 0);
    CHECK_THROWS_WITH(source.remaining(done), Catch::Contains("a.png") && !Catch::Contains("b.png"));
  }
  SECTION("deleted") {
    fs::remove(dir / "a.png");
    CHECK_THROWS_AS(source.remaining(done), std::invalid_argument);
  }
  SECTION("a row without the file's stamp is not taken on trust") {
    done.frames[0] = row("a.png");
    CHECK_THROWS_WITH(source.remaining(done), Catch::Contains("a.png"));
  }
}

TEST_CASE("from_paths refuses a frame listed twice: it would be counted twice", "[io]") {
  const fs::path root = "/data";
  CHECK(frame_source::from_paths({"/data/a.png", "/data/b.png"}, root).size() == 2);
  CHECK_THROWS_WITH(frame_source::from_paths({"/data/a.png", "/data/b.png", "/data/a.png"}, root),
                    Catch::Contains("'a.png' is listed twice"));
  // Two spellings of one path are one frame.
  CHECK_THROWS_WITH(frame_source::from_paths({"/data/x/../a.png", "/data/a.png"}, root),
                    Catch::Contains("'a.png' is listed twice"));
}

TEST_CASE("from_list reads one path per line, relative to the root or the list's folder", "[io][files-from]") {
  test::temp_dir dir;
  fs::create_directories(dir / "masks/cam");
  for (const char* name : {"masks/a.png", "masks/cam/b.png"}) test::write_file(dir / name, "x");
  SECTION("relative to the list's folder, CRLF and blank lines allowed, absolute paths kept") {
    test::write_file(dir / "masks/split.txt", "a.png\r\n\n  \n" + (dir / "masks/cam/b.png").string() + "\n");
    const auto source = frame_source::from_list(dir / "masks/split.txt");
    REQUIRE(source.size() == 2);
    CHECK(source.name(0) == "a.png");
    CHECK(source.name(1) == "cam/b.png");
    CHECK(source.root() / source.name(1) == dir / "masks/cam/b.png");
  }
  SECTION("relative to an explicit root; a listed file that does not exist is still a frame (the scan reports it)") {
    test::write_file(dir / "list.txt", "cam/b.png\nmissing.png\n");
    const auto source = frame_source::from_list(dir / "list.txt", dir / "masks");
    REQUIRE(source.size() == 2);
    CHECK(source.name(0) == "cam/b.png");
    CHECK(source.name(1) == "missing.png");
  }
  SECTION("a frame listed twice is refused with both lines") {
    test::write_file(dir / "masks/twice.txt", "a.png\ncam/b.png\n./a.png\n");
    CHECK_THROWS_WITH(frame_source::from_list(dir / "masks/twice.txt"),
                      Catch::Contains("line 3 lists 'a.png' again (line 1): it would be counted twice"));
    // Of several repeats, the first line that repeats a frame is named, with that frame's first line.
    test::write_file(dir / "masks/many.txt", "z.png\na.png\nz.png\na.png\ncam/../z.png\nq.png\n");
    CHECK_THROWS_WITH(frame_source::from_list(dir / "masks/many.txt"),
                      Catch::Contains("line 3 lists 'z.png' again (line 1)"));
    test::write_file(dir / "masks/later.txt", "b.png\nz.png\na.png\n\na.png\nz.png\n");
    CHECK_THROWS_WITH(frame_source::from_list(dir / "masks/later.txt"),
                      Catch::Contains("line 5 lists 'a.png' again (line 3)"));
  }
  SECTION("an empty list or a missing one is an error naming it") {
    test::write_file(dir / "empty.txt", "\n\n");
    CHECK_THROWS_WITH(frame_source::from_list(dir / "empty.txt"),
                      Catch::Contains("empty.txt") && Catch::Contains("no file"));
    CHECK_THROWS_WITH(frame_source::from_list(dir / "nope.txt"), Catch::Contains("nope.txt"));
  }
}

TEST_CASE("from_directory leaves out the directories it is told to and those holding a maskscan summary.json",
          "[io][env-faults]") {
  // A scan's --out inside its input holds report pictures (PNGs that are not masks); so does the
  // output of any earlier scan. A summary.json that is not maskscan's leaves its folder listed.
  test::temp_dir dir;
  const auto put = [&](const std::string& name, const std::string& bytes = "x") {
    fs::create_directories((dir / name).parent_path());
    test::write_file(dir / name, bytes);
  };
  const std::string maskscan_summary =
      "{\n  \"schema_version\": 2,\n  \"tool\": \"maskscan\",\n  \"input\": \"x\"\n}\n";
  put("a.png");
  put("summary.json", maskscan_summary);  // the root itself is always listed
  put("out/images/heatmaps/64x48/grid.png");
  put("old/summary.json", maskscan_summary);
  put("old/images/class_0.png");
  put("old/groups/FV/summary.json", maskscan_summary);
  put("foreign/summary.json", "{\"schema_version\": 1, \"tool\": \"labelme\", \"note\": \"maskscan\"}");
  put("foreign/w.png");
  put("notjson/summary.json", "tool: maskscan\n");
  put("notjson/v.png");

  const auto names = [](const frame_source& s) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < s.size(); ++i) out.push_back(s.name(i));
    return out;
  };
  std::vector<fs::path> left_out;
  // Any spelling of the excluded directory matches it.
  const auto source =
      frame_source::from_directory(dir.path(), {.exclude = {dir / "foreign/../out"}, .left_out = &left_out});
  CHECK(names(source) == std::vector<std::string>{"a.png", "foreign/w.png", "notjson/v.png"});
  std::ranges::sort(left_out);
  CHECK(left_out == std::vector<fs::path>{dir / "old", dir / "out"});

  // The default: results of earlier scans are left out, nothing else.
  CHECK(names(frame_source::from_directory(dir.path())) ==
        std::vector<std::string>{"a.png", "foreign/w.png", "notjson/v.png", "out/images/heatmaps/64x48/grid.png"});

  // Asked for: everything is listed (an explicit exclusion still holds).
  left_out.clear();
  CHECK(names(frame_source::from_directory(
            dir.path(), {.exclude = {dir / "out"}, .include_results = true, .left_out = &left_out})) ==
        std::vector<std::string>{"a.png", "foreign/w.png", "notjson/v.png", "old/images/class_0.png"});
  CHECK(left_out == std::vector<fs::path>{dir / "out"});
}
