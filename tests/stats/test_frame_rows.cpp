// frame_rows: rows beyond a bound go to unnamed files and come back in canonical order, equal to
// the rows sorted in memory (the truth here: std::ranges::sort of the same rows).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

#include "support/test_data.hpp"

using namespace maskscan;

namespace {
/// `n` rows of every kind of field, in a shuffled order: paths in folders, three classes, some
/// ignored, out-of-range and unknown-colour values, instances and groups.
std::vector<frame_row> some_rows(std::size_t n, unsigned seed = 7) {
  std::mt19937_64 random(seed);
  std::vector<frame_row> rows;
  for (std::size_t i = 0; i < n; ++i) {
    frame_row row;
    row.path = "d" + std::to_string(i % 7) + "/frame_" + std::to_string(i) + ".png";
    row.width = 16 + static_cast<std::uint32_t>(i % 5);
    row.height = 9;
    row.class_pixels = {random() % 100, random() % 3, i};
    if (i % 3 == 0) row.ignored = {{255, random() % 50 + 1}};
    if (i % 4 == 0) row.out_of_range = {{7, 1}, {300, random() % 9 + 1}};
    if (i % 11 == 0) row.unknown_colours = {{0xff00ffff, 4}};
    if (i % 2 == 0) row.instances = {1, 0, static_cast<std::uint32_t>(i % 9)};
    row.group = i % 5 == 0 ? "" : "g" + std::to_string(i % 3);
    row.file_size = 1000 + i;
    row.file_mtime_ns = -static_cast<std::int64_t>(i) * 1'000'003;
    rows.push_back(std::move(row));
  }
  std::ranges::shuffle(rows, random);
  return rows;
}

std::vector<frame_row> sorted(std::vector<frame_row> rows) {
  std::ranges::sort(rows);
  return rows;
}
}  // namespace

TEST_CASE("frame_rows: rows beyond the bound go to disk and come back in order as sorted in memory", "[stats][rows]") {
  const auto rows = some_rows(600);
  // One row a run (eight runs of a level merged into one of the next), a few rows a run, and a
  // bound never reached.
  const std::uint64_t bound = GENERATE(1u, 3000u, 100000000u);  // 600 runs, ~60, none
  CAPTURE(bound);
  frame_rows spilled;
  spilled.spill_beyond({bound, {}});
  for (const auto& row : rows) spilled.push_back(row);
  CHECK(spilled.spilled() == (bound < 100000000u));
  CHECK(spilled.size() == 600);
  spilled.sort();
  CHECK(spilled.to_vector() == sorted(rows));
  CHECK(spilled.to_vector() == spilled.to_vector());  // read again, the same

  frame_rows in_memory(rows);
  in_memory.sort();
  CHECK(spilled == in_memory);
  CHECK(in_memory == spilled);

  // A copy shares what is on disk and goes on by itself.
  auto copy = spilled;
  auto extra = rows.front();
  extra.path = "0-first.png";
  copy.push_back(extra);
  copy.sort();  // in memory rows keep the order they were added in until sorted
  CHECK(copy.size() == 601);
  CHECK(spilled.size() == 600);
  CHECK(copy.to_vector().front() == extra);
  CHECK(spilled.to_vector() == sorted(rows));

  // Changed row by row, on disk too.
  copy.update([](frame_row& row) { row.path.insert(0, "p/"); });
  auto prefixed = sorted(rows);
  prefixed.insert(prefixed.begin(), extra);
  for (auto& row : prefixed) row.path.insert(0, "p/");
  CHECK(copy.to_vector() == prefixed);

  if (spilled.spilled()) {
    CHECK_THROWS_AS(spilled[0], std::logic_error);
    CHECK_THROWS_AS(spilled.in_memory(), std::logic_error);
  }
  spilled.clear();
  CHECK(spilled.empty());
  CHECK_FALSE(spilled.spilled());
}

TEST_CASE("frame_rows: appended rows on disk or not come back in order", "[stats][rows]") {
  const auto rows = some_rows(300, 11);
  const std::vector<frame_row> first(rows.begin(), rows.begin() + 120), second(rows.begin() + 120, rows.end());
  const std::uint64_t bound = GENERATE(0u, 1u, 5000u);
  CAPTURE(bound);
  frame_rows a(first), b(second);
  a.sort();
  b.sort();
  a.spill_beyond({bound, {}});
  b.spill_beyond({bound, {}});
  a.append(b);
  CHECK(a.size() == 300);
  CHECK(a.to_vector() == sorted(rows));
}

TEST_CASE("frame_rows: two rows of one frame on disk are found when they are read", "[stats][rows]") {
  auto rows = some_rows(40);
  rows.push_back(rows[17]);
  rows.back().class_pixels[0] += 1;  // the same frame, other counts
  frame_rows spilled;
  spilled.spill_beyond({1, {}});
  for (const auto& row : rows) spilled.push_back(row);
  CHECK_THROWS_MATCHES(spilled.to_vector(), duplicate_frame,
                       Catch::Matchers::Predicate<duplicate_frame>(
                           [&](const duplicate_frame& d) { return d.path() == rows[17].path; }, "names the frame"));

  dataset_stats stats = make_stats({"a", "b", "c"}, {}, false);
  stats.frames.spill_beyond({1, {}});
  for (std::size_t i = 0; i < 40; ++i) stats.frames.push_back(rows[i]);
  CHECK_NOTHROW(check_frames_unique(stats));
  stats.errors.push_back({rows[3].path, errc::io_error, "gone"});  // a frame both counted and skipped
  CHECK_THROWS_WITH(check_frames_unique(stats), Catch::Contains(rows[3].path));
}

TEST_CASE("frame_rows: the files on disk have no name and a directory that cannot hold them is named",
          "[stats][rows]") {
  test::temp_dir dir;
  {
    frame_rows spilled;
    spilled.spill_beyond({1, dir.path()});
    for (const auto& row : some_rows(50)) spilled.push_back(row);
    REQUIRE(spilled.spilled());
    CHECK(std::filesystem::is_empty(dir.path()));
    CHECK(spilled.size() == 50);
  }
  // Said by check_spill_directory (a scan's start), else when the bound is first reached.
  const row_spill missing{1, dir.path() / "missing"};
  CHECK_THROWS_WITH(check_spill_directory(missing),
                    Catch::Contains((dir.path() / "missing").string()) && Catch::Contains("No such file"));
  frame_rows nowhere;
  nowhere.spill_beyond(missing);
  CHECK_THROWS_WITH(nowhere.push_back(some_rows(1).front()), Catch::Contains((dir.path() / "missing").string()));
  CHECK_NOTHROW(check_spill_directory({0, dir.path() / "missing"}));  // no bound: no files
}

TEST_CASE("frame_rows: statistics with rows on disk round-trip through a state file and merge as in memory",
          "[stats][rows]") {
  const auto rows = some_rows(200, 3);
  dataset_stats whole = make_stats({"a", "b", "c"}, {255}, false);
  whole.frames = frame_rows(rows);
  normalize(whole);
  dataset_stats x = make_stats({"a", "b", "c"}, {255}, false), y = x;
  x.frames.spill_beyond({2000, {}});
  for (std::size_t i = 0; i < rows.size(); ++i) (i % 3 ? x : y).frames.push_back(rows[i]);
  normalize(x);
  normalize(y);
  merge(x, y);
  REQUIRE(x.frames.spilled());
  CHECK(x == whole);
  test::temp_dir dir;
  save_state(x, dir.path() / "x.state");
  save_state(whole, dir.path() / "whole.state");
  CHECK(test::read_file(dir.path() / "x.state") == test::read_file(dir.path() / "whole.state"));
  CHECK(compute_totals(x).classes.at(2).pixels == compute_totals(whole).classes.at(2).pixels);
  // Grouped and ungrouped views read the rows from disk as well.
  for (const auto& name : group_names(whole)) CHECK(select_group(x, name) == select_group(whole, name));
  CHECK(ungroup(x) == ungroup(whole));
}

TEST_CASE("frame_rows: rows that grow in place go to disk beyond the bound", "[stats][rows]") {
  // Classes from values widened to 1024 (detail::widen_classes): each row grows by 8 KB.
  const auto rows = some_rows(40);
  frame_rows bounded;
  bounded.spill_beyond({40000, {}});
  for (const auto& row : rows) bounded.push_back(row);
  REQUIRE_FALSE(bounded.spilled());
  bounded.update([](frame_row& row) { row.class_pixels.resize(1024, 0); });
  CHECK(bounded.spilled());
  auto widened = sorted(rows);
  for (auto& row : widened) row.class_pixels.resize(1024, 0);
  CHECK(bounded.to_vector() == widened);
}

TEST_CASE("frame_rows: a merge of runs that finds a frame twice leaves every run readable", "[stats][rows]") {
  // A row a run: the eighth run merges the first eight, which hold frame 2 twice.
  auto rows = some_rows(7);
  rows.insert(rows.begin() + 3, rows[2]);
  frame_rows spilled;
  spilled.spill_beyond({1, {}});
  std::size_t added = 0;
  try {
    for (const auto& row : rows) {
      spilled.push_back(row);
      ++added;
    }
    FAIL("the merge of the runs did not find the frame held twice");
  } catch (const duplicate_frame& d) {
    CHECK(d.path() == rows[2].path);
  }
  CHECK(added == 7);  // the eighth row was written, its merge with the others threw
  CHECK(spilled.size() == 8);
  CHECK(spilled.spilled());
  CHECK_THROWS_AS(spilled.to_vector(), duplicate_frame);  // still there to read, and still twice
}
