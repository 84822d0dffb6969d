// The bitmap font against glyphs checked by hand from the misc-fixed 6x13 source, its width
// arithmetic, and clipping at every edge.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "visual/font.hpp"

namespace {
using maskscan::detail::rgb8;
using maskscan::detail::rgb_image;

constexpr rgb8 white{255, 255, 255};
constexpr rgb8 ink{10, 20, 30};

// Hand-checked 6x13 cells, '#' = ink.
const std::vector<std::string> glyph_I = {"......", "......", ".###..", "..#...", "..#...", "..#...", "..#...",
                                          "..#...", "..#...", "..#...", ".###..", "......", "......"};
const std::vector<std::string> glyph_minus = {"......", "......", "......", "......", "......", "......", "#####.",
                                              "......", "......", "......", "......", "......", "......"};
const std::vector<std::string> glyph_dot = {"......", "......", "......", "......", "......", "......", "......",
                                            "......", "......", "..#...", ".###..", "..#...", "......"};
const std::vector<std::string> glyph_question = {"......", "......", ".###..", "#...#.", "#...#.", "....#.", "...#..",
                                                 "..#...", "..#...", "......", "..#...", "......", "......"};

// The picture of `text` drawn in cells at (ox, oy), scale s, as the test expects it.
bool expected_ink(const std::vector<std::vector<std::string>>& glyphs, std::int64_t ox, std::int64_t oy, int s,
                  std::int64_t x, std::int64_t y) {
  const std::int64_t gx = x - ox, gy = y - oy;
  if (gx < 0 || gy < 0 || gy >= 13 * s) return false;
  const auto cell = static_cast<std::size_t>(gx / (6 * s));
  if (cell >= glyphs.size()) return false;
  const auto col = static_cast<std::size_t>((gx % (6 * s)) / s), row = static_cast<std::size_t>(gy / s);
  return glyphs[cell][row][col] == '#';
}

void check_picture(const rgb_image& image, const std::vector<std::vector<std::string>>& glyphs, std::int64_t ox,
                   std::int64_t oy, int s) {
  for (std::uint32_t y = 0; y < image.height; ++y)
    for (std::uint32_t x = 0; x < image.width; ++x) {
      CAPTURE(x, y);
      REQUIRE(image.get(x, y) == (expected_ink(glyphs, ox, oy, s, x, y) ? ink : white));
    }
}
}  // namespace

TEST_CASE("draw_text draws the misc-fixed glyphs of I, - and . pixel for pixel", "[font]") {
  const auto [text, glyph] = GENERATE(table<std::string_view, std::vector<std::string>>(
      {{"I", glyph_I}, {"-", glyph_minus}, {".", glyph_dot}, {"?", glyph_question}}));
  CAPTURE(text);
  rgb_image image(10, 17);
  maskscan::detail::draw_text(image, 2, 3, text, ink);
  check_picture(image, {glyph}, 2, 3, 1);
}

TEST_CASE("draw_text puts glyphs in consecutive 6-pixel cells and scales each pixel to a square", "[font]") {
  const int scale = GENERATE(1, 2, 3);
  CAPTURE(scale);
  rgb_image image(static_cast<std::uint32_t>(3 * 6 * scale + 5), static_cast<std::uint32_t>(13 * scale + 4));
  maskscan::detail::draw_text(image, 1, 2, "I-.", ink, scale);
  check_picture(image, {glyph_I, glyph_minus, glyph_dot}, 1, 2, scale);
}

TEST_CASE("bytes outside printable ASCII are drawn as one '?' each", "[font]") {
  rgb_image image(40, 15);
  maskscan::detail::draw_text(image, 0, 0, std::string_view("\x01\n\xc3\xa9", 4), ink);
  check_picture(image, {glyph_question, glyph_question, glyph_question, glyph_question}, 0, 0, 1);
  CHECK(maskscan::detail::text_width(std::string_view("\x01\n\xc3\xa9", 4)) == 24);
}

TEST_CASE("text_width and text_height are whole cells times the scale", "[font]") {
  using maskscan::detail::text_height;
  using maskscan::detail::text_width;
  CHECK(text_width("") == 0);
  CHECK(text_width("a") == 6);
  CHECK(text_width("0.42%") == 30);
  CHECK(text_width("0.42%", 2) == 60);
  CHECK(text_width("abc", 0) == 18);  // scale < 1 counts as 1
  CHECK(text_height() == 13);
  CHECK(text_height(2) == 26);
  CHECK(text_height(-1) == 13);
}

TEST_CASE("draw_text clips at every edge and never draws outside the image", "[font]") {
  const auto [ox, oy] = GENERATE(table<std::int64_t, std::int64_t>({{-3, -4},
                                                                    {-7, 0},
                                                                    {0, -12},
                                                                    {5, 9},
                                                                    {8, 2},
                                                                    {-100, -100},
                                                                    {100, 100},
                                                                    {4, -30},
                                                                    {INT64_MIN / 4, INT64_MAX / 4}}));
  const int scale = GENERATE(1, 2);
  CAPTURE(ox, oy, scale);
  rgb_image image(12, 14);
  const auto before_size = image.pixels.size();
  maskscan::detail::draw_text(image, ox, oy, "I.I", ink, scale);
  CHECK(image.pixels.size() == before_size);
  if (ox > -1000 && ox < 1000)
    check_picture(image, {glyph_I, glyph_dot, glyph_I}, ox, oy, scale);
  else
    CHECK(std::all_of(image.pixels.begin(), image.pixels.end(), [](std::uint8_t v) { return v == 255; }));
}

TEST_CASE("draw_text on an empty image does nothing", "[font]") {
  rgb_image image;
  maskscan::detail::draw_text(image, 0, 0, "abc", ink, 2);
  CHECK(image.pixels.empty());
}
