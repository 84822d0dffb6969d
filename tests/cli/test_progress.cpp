// The progress line: format_progress as a pure function of a report and a width, and progress_line's
// throttling and redrawing, driven by hand-made reports (no clock, no terminal).
#include <catch2/catch.hpp>

#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/progress.hpp"  // in maskscan_cli_parts, which the tests link

#include <fmt/format.h>

namespace {

using maskscan::scan_progress;
using maskscan::cli::format_duration;
using maskscan::cli::format_progress;
using maskscan::cli::progress_line;

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string_view::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

/// The inside of the line's "[...]" bar.
std::string bar_of(const std::string& line) {
  REQUIRE(line.starts_with("["));
  const auto end = line.find("]  ");
  REQUIRE(end != std::string::npos);
  return line.substr(1, end - 1);
}

/// A bar's filled part in eighths of a cell ('#' and U+2588 are 8, U+258F..U+2589 are 1..7).
std::size_t filled_eighths(std::string_view bar) {
  const std::vector<std::pair<std::string_view, std::size_t>> glyphs = {
      {"█", 8}, {"▉", 7}, {"▊", 6}, {"▋", 5}, {"▌", 4}, {"▍", 3}, {"▎", 2}, {"▏", 1}, {"#", 8}};
  std::size_t n = 0;
  for (const auto& [glyph, eighths] : glyphs) n += count(bar, glyph) * eighths;
  return n;
}

}  // namespace

TEST_CASE("format_duration writes m:ss below an hour and h:mm:ss from an hour on, rounded down", "[progress]") {
  CHECK(format_duration(0) == "0:00");
  CHECK(format_duration(4) == "0:04");
  CHECK(format_duration(59.99) == "0:59");
  CHECK(format_duration(61) == "1:01");
  CHECK(format_duration(3599) == "59:59");
  CHECK(format_duration(3600) == "1:00:00");
  CHECK(format_duration(3723) == "1:02:03");
  CHECK(format_duration(360000) == "100:00:00");
  CHECK(format_duration(-3) == "0:00");
}

TEST_CASE("the progress line of the example: half the frames, 3 skipped, after 2 s", "[progress]") {
  // 412 frames in 2 s = 206 frames/s; 412 left = 2 s. Budget 99 columns, text 65, so 30 bar cells.
  const scan_progress p{412, 3, 824, 2.0};
  CHECK(format_progress(p, 100, false) ==
        "[###############---------------]  412/824 frames  (3 skipped)  206 frames/s  ETA 0:02  elapsed 0:02");
  CHECK(format_progress(p, 100, true) ==
        "[███████████████               ]  412/824 frames  (3 skipped)  206 frames/s  ETA 0:02  elapsed 0:02");
}

TEST_CASE("format_progress before any frame: an empty bar, no rate and no ETA yet", "[progress]") {
  const auto line = format_progress({0, 0, 800, 0.0}, 80, false);
  CAPTURE(line);
  CHECK(line.starts_with("["));
  CHECK(bar_of(line).find_first_not_of('-') == std::string::npos);
  CHECK(contains(line, "  0/800 frames"));
  CHECK(contains(line, "-- frames/s"));
  CHECK(contains(line, "ETA --"));
  CHECK(contains(line, "elapsed 0:00"));
  CHECK_FALSE(contains(line, "skipped"));
  // Time passes, no frame done: the rate is known (0), the ETA is not.
  const auto later = format_progress({0, 0, 800, 1.5}, 80, false);
  CHECK(contains(later, "0.0 frames/s"));
  CHECK(contains(later, "ETA --"));
  CHECK(contains(later, "elapsed 0:01"));
}

TEST_CASE("format_progress half-way: the rate over the whole run and the ETA from it", "[progress]") {
  const bool unicode = GENERATE(false, true);
  const unsigned columns = GENERATE(70u, 80u, 133u);
  CAPTURE(unicode, columns);
  // 400 of 800 after 4 s: 100 frames/s, 400 frames left = 4 s.
  const auto line = format_progress({400, 0, 800, 4.0}, columns, unicode);
  CAPTURE(line);
  CHECK(contains(line, "400/800 frames"));
  CHECK(contains(line, "100 frames/s"));
  CHECK(contains(line, "ETA 0:04"));
  CHECK(contains(line, "elapsed 0:04"));
  CHECK(code_points(line) == columns - 1);  // the bar takes the room the text leaves
  const auto bar = bar_of(line);
  const auto cells = code_points(bar);
  CHECK(filled_eighths(bar) == (unicode ? cells * 8 / 2 : cells / 2 * 8));
}

TEST_CASE("format_progress rounds the bar down, so it is full only when the scan is done", "[progress]") {
  // 799 of 800 = 99.875%: 39.95 of 40 cells. The text takes 52 columns, "[" "]" "  " 4, the last 1.
  const auto almost = format_progress({799, 0, 800, 8.0}, 40 + 52 + 4 + 1, true);
  CAPTURE(almost);
  const auto bar = bar_of(almost);
  REQUIRE(code_points(bar) == 40);
  CHECK(filled_eighths(bar) == 319);    // 39 full cells and 7/8
  CHECK(contains(almost, "ETA 0:01"));  // 0.01 s left, rounded up: "0:00" is for done only
}

TEST_CASE("format_progress when done: a full bar, the skipped count, no ETA", "[progress]") {
  const bool unicode = GENERATE(false, true);
  CAPTURE(unicode);
  const auto line = format_progress({800, 3, 800, 8.0}, 80, unicode);
  CAPTURE(line);
  const auto bar = bar_of(line);
  CHECK(filled_eighths(bar) == code_points(bar) * 8);
  CHECK(contains(line, "800/800 frames"));
  CHECK(contains(line, "(3 skipped)"));
  CHECK(contains(line, "100 frames/s"));
  CHECK(contains(line, "elapsed 0:08"));
  CHECK_FALSE(contains(line, "ETA"));
}

TEST_CASE("format_progress: slow rates keep a decimal and long ETAs are h:mm:ss", "[progress]") {
  // 1 frame in 10 s: 0.1 frames/s; 99,999 frames left = 999,990 s = 277:46:30.
  const auto line = format_progress({1, 0, 100000, 10.0}, 120, false);
  CAPTURE(line);
  CHECK(contains(line, "     1/100000 frames"));  // the count keeps the width of the total
  CHECK(contains(line, "0.1 frames/s"));
  CHECK(contains(line, "ETA 277:46:30"));
}

TEST_CASE(
    "the progress line never takes the terminal's last column, and narrow terminals drop the least useful parts first",
    "[progress]") {
  const bool unicode = GENERATE(false, true);
  const scan_progress p =
      GENERATE(scan_progress{0, 0, 824, 0.0}, scan_progress{412, 3, 824, 2.0}, scan_progress{824, 17, 824, 4.4},
               scan_progress{12345, 678, 9999999, 5000.0}, scan_progress{1, 0, 100000, 10.0});
  for (unsigned columns = 20; columns <= 200; ++columns) {
    CAPTURE(unicode, p.frames_done, p.frames_skipped, p.frames_total, p.elapsed_seconds, columns);
    const auto line = format_progress(p, columns, unicode);
    CAPTURE(line);
    CHECK(code_points(line) < columns);
    CHECK(contains(line, fmt::format("{}/{}", p.frames_done, p.frames_total)));
    if (columns >= 24) CHECK(contains(line, fmt::format("{}/{} frames", p.frames_done, p.frames_total)));
    // Whatever is shown is whole: the skipped count appears only after the ETA and never without the bar.
    if (contains(line, "skipped")) {
      CHECK(contains(line, fmt::format("({} skipped)", p.frames_skipped)));
      CHECK(line.starts_with("["));
      CHECK((p.frames_done == p.frames_total || contains(line, "ETA")));
    }
    if (contains(line, "elapsed")) CHECK(contains(line, "frames/s"));
    if (columns >= 110) {
      CHECK(line.starts_with("["));
      CHECK(contains(line, "elapsed"));
      CHECK(contains(line, "frames/s"));
      if (p.frames_skipped) CHECK(contains(line, "skipped"));
    }
  }
  CHECK(format_progress({412, 3, 824, 2.0}, 0, false).empty());
  CHECK(format_progress({412, 3, 824, 2.0}, 10, false) == "412/824");
  CHECK(format_progress({412, 3, 824, 2.0}, 5, false) == "412/");
}

TEST_CASE("progress_line draws the first report, then at most one per interval, and ends the line with the last",
          "[progress]") {
  std::ostringstream out;
  progress_line line(out, {.terminal = false, .unicode = false, .interval_seconds = 0.1}, [] { return 60u; });
  line.update({0, 0, 10, 0.00});  // drawn: the first
  line.update({1, 0, 10, 0.05});  // too soon
  line.update({2, 0, 10, 0.10});  // drawn
  line.update({3, 1, 10, 0.15});  // too soon
  line.update({9, 1, 10, 0.19});  // too soon
  CHECK_FALSE(line.finished());
  line.update({10, 1, 10, 0.20});  // drawn: the last, always
  CHECK(line.finished());
  line.update({10, 1, 10, 0.90});  // after the end: ignored
  const auto text = out.str();
  CAPTURE(text);
  CHECK(count(text, "\r") == 3);
  CHECK(count(text, "\n") == 1);
  CHECK(text.ends_with("\n"));
  CHECK(text.find('\x1b') == std::string::npos);  // not a terminal: no escape codes
  CHECK(contains(text, " 0/10 frames"));
  CHECK(contains(text, " 2/10 frames"));
  CHECK_FALSE(contains(text, " 1/10 frames"));
  CHECK_FALSE(contains(text, " 9/10 frames"));
  CHECK(contains(text, "10/10 frames  (1 skipped)"));
  // Not a terminal: a shorter line is padded with spaces over the longer one before it.
  std::size_t longest = 0;
  for (std::size_t at = text.find('\r'); at != std::string::npos;) {
    const auto next = text.find('\r', at + 1);
    auto drawn = text.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
    if (drawn.ends_with('\n')) drawn.pop_back();
    CHECK(code_points(drawn) >= longest);
    longest = std::max(longest, code_points(drawn));
    at = next;
  }
}

TEST_CASE("progress_line on a terminal clears the rest of the line after each redraw and asks for the width each time",
          "[progress]") {
  std::ostringstream out;
  unsigned columns = 100;
  progress_line line(out, {.terminal = true, .unicode = true, .interval_seconds = 0.1}, [&] { return columns; });
  line.update({1, 0, 4, 0.0});
  columns = 50;  // the terminal was resized
  line.update({4, 0, 4, 1.0});
  const auto text = out.str();
  CAPTURE(text);
  CHECK(count(text, "\x1b[K") == 2);
  const auto second = text.substr(text.rfind('\r') + 1);
  CHECK(second.ends_with("\x1b[K\n"));
  CHECK(code_points(second) - 4 == 49);  // the line (49 code points), ESC [ K and the newline
}

TEST_CASE("progress_line::finish ends the line before the last frame and ignores the reports after it", "[progress]") {
  std::ostringstream out;
  progress_line line(out, {}, [] { return 80u; });
  line.update({3, 0, 10, 0.0});
  line.finish({4, 1, 10, 0.01});
  line.update({5, 1, 10, 0.5});
  line.finish({6, 1, 10, 0.6});
  const auto text = out.str();
  CAPTURE(text);
  CHECK(count(text, "\r") == 2);
  CHECK(count(text, "\n") == 1);
  CHECK(text.ends_with("\n"));
  CHECK(contains(text, "4/10 frames  (1 skipped)"));
  CHECK_FALSE(contains(text, "5/10"));
}

TEST_CASE("stderr_progress writes to stderr and stops drawing once the scan says it is stopping", "[progress]") {
  std::ostringstream captured;
  auto* const saved = std::cerr.rdbuf(captured.rdbuf());
  {
    const auto on_progress =
        maskscan::cli::stderr_progress([](const scan_progress& p) { return p.frames_skipped > 0; });
    on_progress({1, 0, 10, 0.0});
    on_progress({2, 1, 10, 0.01});  // a skipped file under --strict: the line ends here
    on_progress({3, 1, 10, 0.5});
  }
  std::cerr.rdbuf(saved);
  const auto text = captured.str();
  CAPTURE(text);
  CHECK(count(text, "\r") == 2);
  CHECK(count(text, "\n") == 1);
  CHECK(text.ends_with("\n"));
  CHECK(contains(text, " 2/10 frames"));  // the width is the real terminal's, if there is one
  CHECK_FALSE(contains(text, " 3/10"));
}
