// print_summary's table, read back as a person or awk reads it: columns found by their positions
// (in code points), bars measured in eighths of a cell against shares computed by hand.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <maskscan/output.hpp>
#include <maskscan/scan.hpp>

#include "output/summary_table.hpp"

namespace {

using maskscan::scan_result;

/// A whitespace-separated cell of a table line and where it lies, in code points.
struct cell {
  std::string text;
  std::size_t begin = 0, end = 0;
};

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// The cells of a line, separated by two or more spaces (class names in these tests have no double space).
std::vector<cell> cells(std::string_view line) {
  std::vector<cell> out;
  std::size_t column = 0;
  std::optional<cell> current;
  std::size_t spaces = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (continuation(c)) {
      current->text += c;
      continue;
    }
    if (c == ' ') {
      ++spaces;
    } else {
      if (current && spaces >= 2) {
        out.push_back(*current);
        current.reset();
      }
      if (current) current->text.append(spaces, ' ');
      if (!current) current = cell{{}, column, 0};
      current->text += c;
      current->end = column + 1;
      spaces = 0;
    }
    ++column;
  }
  if (current) out.push_back(*current);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Length of a bar in eighths of a cell: U+2588 is 8, U+258F..U+2589 are 1..7, '#' is 8.
std::size_t bar_eighths(std::string_view bar) {
  static const std::vector<std::pair<std::string, std::size_t>> glyphs = {
      {"█", 8}, {"▉", 7}, {"▊", 6}, {"▋", 5}, {"▌", 4}, {"▍", 3}, {"▎", 2}, {"▏", 1}, {"#", 8}};
  std::size_t n = 0;
  while (!bar.empty()) {
    bool known = false;
    for (const auto& [glyph, eighths] : glyphs)
      if (bar.starts_with(glyph)) {
        n += eighths;
        bar.remove_prefix(glyph.size());
        known = true;
        break;
      }
    if (!known) FAIL("not a bar glyph: " << std::string(bar));
  }
  return n;
}

/// road 700, car 355, person 1, bicycle 0 labelled pixels; id 4 is ignored (50 pixels in 2 frames).
scan_result hand_built(const std::string& long_name = "bicycle") {
  scan_result r;
  r.stats = maskscan::make_stats({"road", "car", "person", long_name, "unlabeled"}, {4, 255}, false);
  r.stats.frames.push_back({"a.png", 40, 20, {400, 355, 1, 0, 0}, {{4, 30}, {255, 14}}, {}});
  r.stats.frames.push_back({"b.png", 20, 20, {300, 0, 0, 0, 0}, {{4, 20}}, {{9, 80}}});
  r.stats.errors.push_back({"c.png", maskscan::errc::corrupt_png, "bad CRC in IDAT"});
  r.options.class_names = r.stats.class_names;
  r.options.workers = 2;
  r.wall_seconds = 0.5;
  return r;
}

std::string summary(const scan_result& r, bool unicode) {
  std::ostringstream out;
  maskscan::print_summary(r, out, unicode);
  return out.str();
}

}  // namespace

TEST_CASE("the summary table lines up its columns and draws bars proportional to each class's share",
          "[summary-table]") {
  const bool unicode = GENERATE(true, false);
  const std::string name = GENERATE(std::string("bicycle"), std::string("a-class-name-far-longer-than-the-others"),
                                    std::string("Straße-ÄÖÜ"));
  CAPTURE(unicode, name);
  const auto text = summary(hand_built(name), unicode);
  CAPTURE(text);
  const auto lines = lines_of(text);
  REQUIRE(lines.size() >= 8);

  const auto header = cells(lines[0]);
  REQUIRE(header.size() == 7);
  CHECK(header[0].text == "id");
  CHECK(header[1].text == "class");
  CHECK(header[2].text == "pixels");
  CHECK(header[3].text == "share");
  CHECK(header[4].text == "frames");
  CHECK(header[5].text == "frames %");
  CHECK(header[6].text == "bar");

  struct want_row {
    std::string id, name, pixels, share, frames, frames_percent;
    std::size_t bar_eighths;  // unicode: of 240; ASCII: whole cells of 30, times 8
  };
  // Labelled pixels: 700 + 355 + 1 = 1056. The largest class (road) fills all 30 cells.
  const std::vector<want_row> want = {
      {"0", "road", "700", "66.288%", "2", "100.0%", 240},
      // 355 / 700 * 240 = 121.7 eighths -> 122 (15 cells and 2/8); ASCII: 15.2 cells -> 15
      {"1", "car", "355", "33.617%", "1", "50.0%", unicode ? 122u : 15u * 8},
      // 1 / 700 * 240 = 0.34 eighths, which would round to nothing: the thinnest mark instead
      {"2", "person", "1", "0.095%", "1", "50.0%", unicode ? 1u : 8u},
      {"3", name, "0", "0.000%", "0", "0.0%", 0},
      {"4", "unlabeled", "50", "ignored", "2", "100.0%", 0},
  };
  std::optional<std::size_t> bar_column;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& w = want[i];
    CAPTURE(lines[i + 1]);
    const auto row = cells(lines[i + 1]);
    REQUIRE(row.size() == (w.bar_eighths ? 7u : 6u));
    CHECK(row[0].text == w.id);
    CHECK(row[1].text == w.name);
    CHECK(row[2].text == w.pixels);
    CHECK(std::stoull(row[2].text) == std::stoull(w.pixels));  // parseable as a plain number
    CHECK(row[3].text == w.share);
    CHECK(row[4].text == w.frames);
    CHECK(row[5].text == w.frames_percent);
    // Numbers are right-aligned under their headers, the class name left-aligned under its header.
    CHECK(row[0].end == header[0].end);
    CHECK(row[1].begin == header[1].begin);
    for (std::size_t c = 2; c < 6; ++c) CHECK(row[c].end == header[c].end);
    if (w.bar_eighths) {
      CHECK(row[6].begin == header[6].begin);
      if (bar_column) CHECK(row[6].begin == *bar_column);
      bar_column = row[6].begin;
      CHECK(bar_eighths(row[6].text) == w.bar_eighths);
    }
    CHECK(lines[i + 1].back() != ' ');
  }
  if (!unicode) {  // nothing but the class names is outside ASCII
    auto rest = text;
    rest.erase(rest.find(name), name.size());
    for (const char c : rest) CHECK(static_cast<unsigned char>(c) < 0x80);
  }

  // The lines after the table are as they were.
  CHECK(lines[6] == "ignored pixels: 64 (4 unlabeled: 50, 255: 14)");  // per value, named where the map names it
  CHECK(lines[7] == "out-of-range pixels: 80 (values not in the class list; see summary.json)");
  CHECK(lines[8] == "2 frames scanned, 1 skipped in 0.50 s (6 frames/s, io=threads, workers=2)");
  CHECK(lines[9] == "skipped c.png: bad CRC in IDAT");
}

TEST_CASE("a class with a share below 0.0005% shows <0.001% and still a mark", "[summary-table]") {
  scan_result r;
  r.stats = maskscan::make_stats({"sky", "bird"}, {}, false);
  r.stats.frames.push_back({"a.png", 2000, 1000, {1'999'999, 1}, {}, {}});
  const auto lines = lines_of(summary(r, true));
  REQUIRE(lines.size() >= 3);
  const auto bird = cells(lines[2]);
  REQUIRE(bird.size() == 7);
  CHECK(bird[3].text == "<0.001%");
  CHECK(bar_eighths(bird[6].text) == 1);
  CHECK(bar_eighths(cells(lines[1])[6].text) == 240);
}

TEST_CASE("a summary of no frames has no bars and zero shares", "[summary-table]") {
  scan_result r;
  r.stats = maskscan::make_stats({"sky", "bird"}, {}, false);
  const auto lines = lines_of(summary(r, true));
  REQUIRE(lines.size() == 4);
  CHECK(cells(lines[1]).size() == 6);
  CHECK(cells(lines[1])[3].text == "0.000%");
  CHECK(cells(lines[2])[5].text == "0.0%");
  CHECK(lines[3].starts_with("0 frames scanned, 0 skipped"));
}

TEST_CASE("share_bar rounds to the nearest eighth, never draws nothing for a non-zero count, never overflows",
          "[summary-table]") {
  using maskscan::detail::share_bar;
  CHECK(share_bar(0, 100, 30, true).empty());
  CHECK(share_bar(0, 0, 30, true).empty());
  CHECK(bar_eighths(share_bar(100, 100, 30, true)) == 240);
  CHECK(bar_eighths(share_bar(50, 100, 30, true)) == 120);
  CHECK(share_bar(50, 100, 30, true) == "███████████████");
  CHECK(share_bar(1, 8 * 30, 30, true) == "▏");
  CHECK(share_bar(7, 8 * 30, 30, true) == "▉");
  CHECK(share_bar(1, 1'000'000'000'000, 30, true) == "▏");
  CHECK(share_bar(1, 1'000'000'000'000, 30, false) == "#");
  CHECK(share_bar(49, 100, 30, false) == std::string(15, '#'));  // 14.7 cells
  CHECK(bar_eighths(share_bar(UINT64_MAX, UINT64_MAX, 30, true)) == 240);
}

TEST_CASE("the locale decides Unicode bars as setlocale would: the first of LC_ALL, LC_CTYPE, LANG that is set",
          "[summary-table]") {
  using maskscan::detail::utf8_locale;
  CHECK(utf8_locale(nullptr, nullptr, "en_US.UTF-8"));
  CHECK(utf8_locale(nullptr, nullptr, "de_DE.utf8"));
  CHECK(utf8_locale(nullptr, "C.Utf-8", "C"));
  CHECK(utf8_locale("", "", "en_GB.UTF8"));  // empty values count as unset
  CHECK_FALSE(utf8_locale("C", nullptr, "en_US.UTF-8"));
  CHECK_FALSE(utf8_locale(nullptr, "POSIX", "en_US.UTF-8"));
  CHECK_FALSE(utf8_locale(nullptr, nullptr, "en_US.ISO-8859-1"));
  CHECK_FALSE(utf8_locale(nullptr, nullptr, nullptr));
}

TEST_CASE("print_summary without a style draws eighth blocks under a UTF-8 locale and '#' under C", "[summary-table]") {
  const char* saved = std::getenv("LC_ALL");
  const std::optional<std::string> previous = saved ? std::optional<std::string>(saved) : std::nullopt;
  const auto text = [](const char* locale) {
    ::setenv("LC_ALL", locale, 1);
    std::ostringstream out;
    maskscan::print_summary(hand_built(), out);
    return out.str();
  };
  const auto utf8 = text("C.UTF-8"), c = text("C");
  if (previous)
    ::setenv("LC_ALL", previous->c_str(), 1);
  else
    ::unsetenv("LC_ALL");
  CHECK(utf8 == summary(hand_built(), true));
  CHECK(c == summary(hand_built(), false));
  CHECK(utf8.find("█") != std::string::npos);
  CHECK(c.find("#") != std::string::npos);
}
