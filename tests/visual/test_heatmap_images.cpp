// Heatmap images, encoded to PNG and decoded back with libspng: every map pixel against the
// colour the hand-built counts call for, the colour bar's order, the grid's area-averaged
// thumbnails, and the files write_heatmap_images leaves.
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <spng.h>
#include <catch2/catch.hpp>

#include "support/reference_png.hpp"
#include "support/test_data.hpp"
#include "visual/heatmap_images.hpp"
#include "visual/png_writer.hpp"

namespace {
namespace fs = std::filesystem;
using maskscan::heatmap_set;
using maskscan::detail::colormap;
using maskscan::detail::rgb8;

struct decoded {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> rgb;
  rgb8 at(std::uint32_t x, std::uint32_t y) const {
    const std::size_t i = (std::size_t{y} * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

decoded decode(const std::vector<std::uint8_t>& png) {
  decoded d;
  spng_ctx* c = spng_ctx_new(0);
  REQUIRE(c);
  REQUIRE(spng_set_png_buffer(c, png.data(), png.size()) == 0);
  spng_ihdr ihdr{};
  REQUIRE(spng_get_ihdr(c, &ihdr) == 0);
  std::size_t size = 0;
  REQUIRE(spng_decoded_image_size(c, SPNG_FMT_RGB8, &size) == 0);
  d.rgb.resize(size);
  REQUIRE(spng_decode_image(c, d.rgb.data(), size, SPNG_FMT_RGB8, 0) == 0);
  spng_ctx_free(c);
  d.width = ihdr.width;
  d.height = ihdr.height;
  return d;
}

decoded round_trip(const maskscan::detail::rgb_image& image) { return decode(maskscan::detail::encode_png(image)); }

// Colour -> its lowest index in the map's table (-1 for a colour not in it). Neighbouring entries
// can share a colour (viridis 112/113 and 129/130 round to the same 8-bit RGB), so order checks use
// this and value checks compare colours.
int index_of(colormap map, rgb8 colour) {
  const auto& table = maskscan::detail::table_of(map);
  for (int i = 0; i < 256; ++i)
    if (table[static_cast<std::size_t>(i)] == colour) return i;
  return -1;
}

// Whether `colour` is the colour of the exact value num / den (in [0, 1]) on the 256-entry table:
// entry round(255 * num / den), either neighbour when the product is a tie.
bool colour_matches(colormap map, rgb8 colour, double num, double den) {
  const auto& table = maskscan::detail::table_of(map);
  const double e = 255.0 * num / den;
  const auto entry = [&](double i) { return table[static_cast<std::size_t>(i)]; };
  if (std::abs(e - std::floor(e) - 0.5) < 1e-9) return colour == entry(std::floor(e)) || colour == entry(std::ceil(e));
  return colour == entry(static_cast<double>(std::lround(e)));
}

constexpr std::uint32_t W = 40, H = 30;
constexpr std::uint64_t frames = 10;
constexpr std::uint32_t hot_x = 27, hot_y = 8;

// Class 1: (x + y) % 7 frames at every pixel, except 9 frames at (hot_x, hot_y); class 0 holds
// the rest of each pixel's frames; class 2 is never present.
std::uint32_t count_of(std::size_t c, std::uint32_t x, std::uint32_t y) {
  const std::uint32_t one = x == hot_x && y == hot_y ? 9 : (x + y) % 7;
  return c == 0 ? static_cast<std::uint32_t>(frames) - one : c == 1 ? one : 0;
}

heatmap_set make_set() {
  heatmap_set set;
  set.width = W;
  set.height = H;
  set.frames = frames;
  for (std::size_t c = 0; c < 3; ++c)
    for (std::uint32_t y = 0; y < H; ++y)
      for (std::uint32_t x = 0; x < W; ++x) set.counts.push_back(count_of(c, x, y));
  return set;
}

const std::array<std::uint32_t, 3> max_counts{10, 9, 0};
const rgb8 white{255, 255, 255};

bool has_dark_pixel_in(const decoded& d, std::uint32_t x0, std::uint32_t x1, std::uint32_t y0, std::uint32_t y1) {
  for (std::uint32_t y = y0; y < y1 && y < d.height; ++y)
    for (std::uint32_t x = x0; x < x1 && x < d.width; ++x) {
      const rgb8 p = d.at(x, y);
      if (p[0] < 100 && p[1] < 100 && p[2] < 100) return true;
    }
  return false;
}

bool has_dark_pixel(const decoded& d, std::uint32_t y0, std::uint32_t y1) {
  for (std::uint32_t y = y0; y < y1; ++y)
    for (std::uint32_t x = 0; x < d.width; ++x) {
      const rgb8 p = d.at(x, y);
      if (p[0] < 100 && p[1] < 100 && p[2] < 100) return true;
    }
  return false;
}
}  // namespace

TEST_CASE("a class heatmap shows every pixel's fraction of frames on the class's own scale", "[heatmap-images]") {
  const auto set = make_set();
  const colormap map = GENERATE(colormap::viridis, colormap::magma);
  const std::size_t c = GENERATE(0u, 1u);
  CAPTURE(map == colormap::magma, c);
  const auto layout = maskscan::detail::layout_class_heatmap(set, c, "car");
  const auto d = round_trip(maskscan::detail::render_class_heatmap(set, c, "car", {map}));

  REQUIRE(d.width == layout.width);
  REQUIRE(d.height == layout.height);
  REQUIRE(layout.map_x >= 1);
  REQUIRE(layout.map_y >= 16 + 26 + 13);  // below the title (scale 2) and the caption
  REQUIRE(layout.bar_x >= layout.map_x + W + 1);
  REQUIRE(layout.bar_x + layout.bar_width < d.width);
  REQUIRE(layout.map_x + W < d.width);
  REQUIRE(layout.map_y + std::max(H, layout.bar_height) < d.height);

  // Every map pixel is the colour of count / max, and the top colour only where the count is max.
  int brightest = -1;
  std::set<std::pair<std::uint32_t, std::uint32_t>> at_brightest, expected_at_max;
  for (std::uint32_t y = 0; y < H; ++y)
    for (std::uint32_t x = 0; x < W; ++x) {
      CAPTURE(x, y);
      const rgb8 colour = d.at(layout.map_x + x, layout.map_y + y);
      REQUIRE(colour_matches(map, colour, count_of(c, x, y), max_counts[c]));
      const int index = index_of(map, colour);
      if (index > brightest) brightest = index, at_brightest.clear();
      if (index == brightest) at_brightest.emplace(x, y);
      if (count_of(c, x, y) == max_counts[c]) expected_at_max.emplace(x, y);
    }
  CHECK(brightest == 255);
  CHECK(at_brightest == expected_at_max);
  if (c == 1) CHECK(at_brightest == std::set<std::pair<std::uint32_t, std::uint32_t>>{{hot_x, hot_y}});

  // The ring around the map is background: the map is exactly where the layout says.
  for (std::uint32_t x = layout.map_x - 1; x <= layout.map_x + W; ++x) {
    CHECK(d.at(x, layout.map_y - 1) == white);
    CHECK(d.at(x, layout.map_y + H) == white);
  }
  for (std::uint32_t y = layout.map_y - 1; y <= layout.map_y + H; ++y) {
    CHECK(d.at(layout.map_x - 1, y) == white);
    CHECK(d.at(layout.map_x + W, y) == white);
  }
  // The title and the caption are drawn above the map.
  CHECK(has_dark_pixel(d, 0, 16 + 26));
  CHECK(has_dark_pixel(d, 16 + 26, layout.map_y));
}

TEST_CASE("a class heatmap's colour bar runs from the lowest colour at the bottom to the highest at the top",
          "[heatmap-images]") {
  const auto set = make_set();
  const colormap map = GENERATE(colormap::viridis, colormap::magma);
  const auto layout = maskscan::detail::layout_class_heatmap(set, 1, "car");
  const auto d = round_trip(maskscan::detail::render_class_heatmap(set, 1, "car", {map}));
  REQUIRE(layout.bar_height >= H);
  REQUIRE(layout.bar_width >= 4);
  for (std::uint32_t x = layout.bar_x; x < layout.bar_x + layout.bar_width; ++x) {
    CAPTURE(x);
    int previous = -1;
    for (std::uint32_t r = 0; r < layout.bar_height; ++r) {  // bottom to top
      const int index = index_of(map, d.at(x, layout.bar_y + layout.bar_height - 1 - r));
      CAPTURE(r);
      REQUIRE(index >= previous);
      previous = index;
    }
    CHECK(index_of(map, d.at(x, layout.bar_y + layout.bar_height - 1)) == 0);
    CHECK(index_of(map, d.at(x, layout.bar_y)) == 255);
  }
  // Tick labels (0%, 45%, 90%) right of the bar.
  bool labelled = false;
  for (std::uint32_t y = layout.bar_y; y < layout.bar_y + layout.bar_height && !labelled; ++y)
    for (std::uint32_t x = layout.bar_x + layout.bar_width + 1; x < d.width; ++x)
      if (d.at(x, y)[0] < 100) labelled = true;
  CHECK(labelled);
}

TEST_CASE("a class never present is the lowest colour throughout, map and bar", "[heatmap-images]") {
  auto set = make_set();
  const colormap map = GENERATE(colormap::viridis, colormap::magma);
  const bool no_frames = GENERATE(false, true);
  if (no_frames) {
    set.frames = 0;
    std::fill(set.counts.begin(), set.counts.end(), 0u);
  }
  const auto layout = maskscan::detail::layout_class_heatmap(set, 2, "bicycle");
  const auto d = round_trip(maskscan::detail::render_class_heatmap(set, 2, "bicycle", {map}));
  REQUIRE(d.width == layout.width);
  REQUIRE(d.height == layout.height);
  for (std::uint32_t y = 0; y < H; ++y)
    for (std::uint32_t x = 0; x < W; ++x) REQUIRE(index_of(map, d.at(layout.map_x + x, layout.map_y + y)) == 0);
  for (std::uint32_t r = 0; r < layout.bar_height; ++r)
    REQUIRE(index_of(map, d.at(layout.bar_x, layout.bar_y + r)) == 0);
}

TEST_CASE("a class heatmap refuses a class the set does not have and a malformed set", "[heatmap-images]") {
  auto set = make_set();
  CHECK_THROWS_AS(maskscan::detail::render_class_heatmap(set, 3, "x"), std::invalid_argument);
  set.counts.pop_back();
  CHECK_THROWS_AS(maskscan::detail::render_class_heatmap(set, 0, "x"), std::invalid_argument);
  heatmap_set empty;
  CHECK_THROWS_AS(maskscan::detail::render_class_heatmap(empty, 0, "x"), std::invalid_argument);
}

TEST_CASE("the grid shows each class as an area-averaged thumbnail, on the shared scale, in rows of ceil(sqrt) columns",
          "[heatmap-images]") {
  const auto set = make_set();
  const std::vector<std::string> names{"road", "car", "bicycle"};
  const colormap map = GENERATE(colormap::viridis, colormap::magma);
  const auto layout = maskscan::detail::layout_heatmap_grid(set, names, 20);
  const auto d = round_trip(maskscan::detail::render_heatmap_grid(set, names, 20, {map}));
  REQUIRE(d.width == layout.width);
  REQUIRE(d.height == layout.height);
  REQUIRE(layout.thumb_width == 20);  // a factor of 2 both ways
  REQUIRE(layout.thumb_height == 15);
  REQUIRE(layout.columns == 2);
  REQUIRE(layout.rows == 2);
  REQUIRE(layout.thumbs.size() == 3);
  // Row-major: 0 and 1 side by side, 2 under 0.
  CHECK(layout.thumbs[0].second == layout.thumbs[1].second);
  CHECK(layout.thumbs[1].first > layout.thumbs[0].first + 20);
  CHECK(layout.thumbs[2].first == layout.thumbs[0].first);
  CHECK(layout.thumbs[2].second > layout.thumbs[0].second + 15 + 13);
  CHECK(has_dark_pixel(d, 0, layout.thumbs[0].second));  // title and names above

  for (std::size_t c = 0; c < 3; ++c) {
    const auto [x0, y0] = layout.thumbs[c];
    REQUIRE(x0 + 20 < d.width);
    REQUIRE(y0 + 15 < d.height);
    for (std::uint32_t ty = 0; ty < 15; ++ty)
      for (std::uint32_t tx = 0; tx < 20; ++tx) {
        CAPTURE(c, tx, ty);
        const double sum = count_of(c, 2 * tx, 2 * ty) + count_of(c, 2 * tx + 1, 2 * ty) +
                           count_of(c, 2 * tx, 2 * ty + 1) + count_of(c, 2 * tx + 1, 2 * ty + 1);
        const rgb8 colour = d.at(x0 + tx, y0 + ty);
        // On the scale every class shares: the largest fraction of any class is 10 of 10 frames
        // (class 0), so log between 0.1% (a thousandth of 100%, already 1 x 10^k) and 100%.
        const double f = sum / 4 / frames;
        REQUIRE(colour_matches(map, colour, f > 0.001 ? std::log(f / 0.001) / std::log(1000.0) : 0.0, 1.0));
      }
    for (std::uint32_t tx = 0; tx < 20; ++tx) {  // nothing else touches the thumbnail's edges
      CHECK(d.at(x0 + tx, y0 - 1) == white);
    }
    for (std::uint32_t ty = 0; ty < 15; ++ty) {
      CHECK(d.at(x0 - 1, y0 + ty) == white);
      CHECK(d.at(x0 + 20, y0 + ty) == white);
    }
  }
}

namespace {
// Two classes of 10 frames whose columns hold the same fractions: road in x of 10 frames at column
// x (0..10), person in x % 4 (0..3). Person's maximum is 3, road's 10.
constexpr std::uint32_t cmp_w = 11, cmp_h = 4;
std::uint32_t compare_count(std::size_t c, std::uint32_t x) { return c == 0 ? x : x % 4; }
heatmap_set compare_set() {
  heatmap_set set;
  set.width = cmp_w;
  set.height = cmp_h;
  set.frames = 10;
  for (std::size_t c = 0; c < 2; ++c)
    for (std::uint32_t y = 0; y < cmp_h; ++y)
      for (std::uint32_t x = 0; x < cmp_w; ++x) set.counts.push_back(compare_count(c, x));
  return set;
}

/// One frame of width x height in which every pixel of each of `classes` classes counts `count`.
heatmap_set one_frame_set(std::uint32_t width, std::uint32_t height, std::size_t classes, std::uint32_t count) {
  heatmap_set set;
  set.width = width;
  set.height = height;
  set.frames = 1;
  set.counts.assign(classes * width * height, count);
  return set;
}

/// `set` as road and person in one grid, thumbnails at full size: its layout and its image decoded.
struct rendered_grid {
  maskscan::detail::heatmap_grid_layout layout;
  decoded image;
};
rendered_grid render_compare_grid(const heatmap_set& set, const maskscan::detail::heatmap_image_options& options = {}) {
  const std::vector<std::string> names{"road", "person"};
  return {maskscan::detail::layout_heatmap_grid(set, names, cmp_w),
          round_trip(maskscan::detail::render_heatmap_grid(set, names, cmp_w, options))};
}
}  // namespace

TEST_CASE("the grid puts every class on one scale: equal fractions in two classes are the same colour",
          "[heatmap-images]") {
  const colormap map = GENERATE(colormap::viridis, colormap::magma);
  CAPTURE(map == colormap::magma);
  const auto [layout, d] = render_compare_grid(compare_set(), {map});
  REQUIRE(layout.thumb_width == cmp_w);
  REQUIRE(layout.thumb_height == cmp_h);
  const auto colour = [&](std::size_t c, std::uint32_t x, std::uint32_t y) {
    return d.at(layout.thumbs[c].first + x, layout.thumbs[c].second + y);
  };
  // Person's 1, 2, 3 of 10 frames are road's colours at the same counts, not person's own maximum.
  for (std::uint32_t y = 0; y < cmp_h; ++y)
    for (std::uint32_t x = 0; x < cmp_w; ++x) {
      CAPTURE(x, y);
      CHECK(colour(1, x, y) == colour(0, compare_count(1, x), y));
    }
  CHECK(index_of(map, colour(1, 3, 0)) < 255);  // 3 of 10 frames is not the top of the scale
  CHECK(index_of(map, colour(0, 10, 0)) == 255);
  CHECK(index_of(map, colour(1, 0, 0)) == 0);
  // One order across classes: more frames, a colour at least as high.
  for (std::uint32_t a = 0; a < cmp_w; ++a)
    for (std::uint32_t b = 0; b < cmp_w; ++b)
      if (compare_count(0, a) < compare_count(1, b))
        CHECK(index_of(map, colour(0, a, 0)) <= index_of(map, colour(1, b, 0)));
}

TEST_CASE("the grid's colour bar runs low to high, left to right, and its ticks name the tiles' colours",
          "[heatmap-images]") {
  const colormap map = GENERATE(colormap::viridis, colormap::magma);
  CAPTURE(map == colormap::magma);
  const auto [layout, d] = render_compare_grid(compare_set(), {map});
  REQUIRE(d.width == layout.width);
  REQUIRE(d.height == layout.height);
  CHECK(layout.scale_top == 1.0);  // road at column 10: 10 of 10 frames
  CHECK(layout.scale_floor == Approx(0.001));
  REQUIRE(layout.bar_width >= 100);
  REQUIRE(layout.bar_height >= 4);
  REQUIRE(layout.bar_x + layout.bar_width <= d.width);
  REQUIRE(layout.bar_y + layout.bar_height < layout.thumbs[0].second);  // above the tiles

  // Present and monotonic: every row of the bar the same, its colour index never falling.
  int previous = -1;
  for (std::uint32_t x = layout.bar_x; x < layout.bar_x + layout.bar_width; ++x) {
    CAPTURE(x);
    const int index = index_of(map, d.at(x, layout.bar_y));
    REQUIRE(index >= previous);
    previous = index;
    for (std::uint32_t y = layout.bar_y; y < layout.bar_y + layout.bar_height; ++y)
      REQUIRE(d.at(x, y) == d.at(x, layout.bar_y));
  }
  CHECK(index_of(map, d.at(layout.bar_x, layout.bar_y)) == 0);
  CHECK(index_of(map, d.at(layout.bar_x + layout.bar_width - 1, layout.bar_y)) == 255);
  CHECK(d.at(layout.bar_x - 1, layout.bar_y) == white);
  CHECK(d.at(layout.bar_x + layout.bar_width, layout.bar_y) == white);

  // Labelled ticks: increasing, both ends, each with text under it; a tick at k of 10 frames has
  // the colour of a tile pixel holding the class in k frames (within one colour-table entry: the
  // tick sits on a whole pixel column of the bar).
  REQUIRE(layout.ticks.size() >= 4);
  CHECK(layout.ticks.front().x == layout.bar_x);
  CHECK(layout.ticks.back().x == layout.bar_x + layout.bar_width - 1);
  CHECK(layout.ticks.back().label == "100%");
  CHECK(layout.ticks.front().label == "<=0.1%");
  std::size_t matched = 0;
  for (std::size_t k = 0; k < layout.ticks.size(); ++k) {
    const auto& t = layout.ticks[k];
    CAPTURE(t.label, t.fraction);
    if (k > 0) CHECK(t.x > layout.ticks[k - 1].x);
    if (k > 0) CHECK(t.fraction > layout.ticks[k - 1].fraction);
    const std::uint32_t below = layout.bar_y + layout.bar_height + 5;  // under the tick mark itself
    CHECK(has_dark_pixel_in(d, t.x > 12 ? t.x - 12 : 0, t.x + 12, below, below + 15));
    const double frames_at_tick = t.fraction * 10;
    if (k == 0 || std::abs(frames_at_tick - std::round(frames_at_tick)) > 1e-9) continue;
    const auto x = static_cast<std::uint32_t>(std::lround(frames_at_tick));  // road's column of that count
    const int tile = index_of(map, d.at(layout.thumbs[0].first + x, layout.thumbs[0].second));
    CHECK(std::abs(index_of(map, d.at(t.x, layout.bar_y)) - tile) <= 1);
    ++matched;
  }
  CHECK(matched >= 2);  // 100% and at least one of 10%, 20%, 50%
}

TEST_CASE("a grid where no class is present is the lowest colour throughout, bar included", "[heatmap-images]") {
  auto set = compare_set();
  std::fill(set.counts.begin(), set.counts.end(), 0u);
  const auto [layout, d] = render_compare_grid(set);
  CHECK(layout.scale_top == 0);
  for (std::uint32_t x = layout.bar_x; x < layout.bar_x + layout.bar_width; ++x)
    REQUIRE(index_of(colormap::viridis, d.at(x, layout.bar_y)) == 0);
  for (const auto& [x0, y0] : layout.thumbs)
    for (std::uint32_t y = 0; y < cmp_h; ++y)
      for (std::uint32_t x = 0; x < cmp_w; ++x) REQUIRE(index_of(colormap::viridis, d.at(x0 + x, y0 + y)) == 0);
}

TEST_CASE("a thumbnail of a uniform class is uniform at any downscale factor", "[heatmap-images]") {
  heatmap_set set;
  set.width = W;
  set.height = H;
  set.frames = 8;
  set.counts.assign(std::size_t{W} * H, 5);
  const std::uint32_t thumb = GENERATE(1u, 7u, 17u, 39u, 40u, 500u);
  CAPTURE(thumb);
  const std::vector<std::string> names{"sky"};
  const auto layout = maskscan::detail::layout_heatmap_grid(set, names, thumb);
  const auto d = round_trip(maskscan::detail::render_heatmap_grid(set, names, thumb));
  CHECK(layout.thumb_width == std::min(thumb, W));
  CHECK(layout.thumb_height ==
        std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(H * double(layout.thumb_width) / W))));
  CHECK(layout.columns == 1);
  for (std::uint32_t y = 0; y < layout.thumb_height; ++y)
    for (std::uint32_t x = 0; x < layout.thumb_width; ++x)
      REQUIRE(index_of(colormap::viridis, d.at(layout.thumbs[0].first + x, layout.thumbs[0].second + y)) == 255);
}

TEST_CASE("the grid has at most four columns", "[heatmap-images]") {
  const auto [classes, columns, rows] = GENERATE(table<std::size_t, std::uint32_t, std::uint32_t>(
      {{1, 1, 1}, {2, 2, 1}, {4, 2, 2}, {5, 3, 2}, {10, 4, 3}, {19, 4, 5}, {34, 4, 9}}));
  CAPTURE(classes);
  const auto set = one_frame_set(4, 2, classes, 0);
  const std::vector<std::string> names(classes, "c");
  const auto layout = maskscan::detail::layout_heatmap_grid(set, names);
  CHECK(layout.columns == columns);
  CHECK(layout.rows == rows);
  CHECK_THROWS_AS(maskscan::detail::layout_heatmap_grid(set, std::span(names).first(classes - 1)),
                  std::invalid_argument);
}

TEST_CASE("write_heatmap_images writes one PNG a class, named by padded id and name, and the grid last",
          "[heatmap-images]") {
  const maskscan::test::temp_dir scratch;
  const fs::path dir = scratch.path() / "nested";
  const auto set = make_set();
  const std::vector<std::string> names{"void", "car / truck", ""};
  const auto written = maskscan::detail::write_heatmap_images(set, names, dir);
  const std::vector<fs::path> expected{dir / "00_void.png", dir / "01_car___truck.png", dir / "02__.png",
                                       dir / "grid.png"};
  CHECK(written == expected);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  CHECK(files == expected.size());  // no temporary left behind
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(expected[i]);
    const auto bytes = maskscan::test::read_file_bytes(expected[i]);
    const std::vector<std::uint8_t> png(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                        reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size());
    const auto d = decode(png);
    const auto image = i < 3 ? maskscan::detail::render_class_heatmap(set, i, names[i])
                             : maskscan::detail::render_heatmap_grid(set, names);
    CHECK(d.width == image.width);
    CHECK(d.height == image.height);
    CHECK(d.rgb == image.pixels);
  }
}

TEST_CASE("write_heatmap_images pads ids to the digits of the largest id", "[heatmap-images]") {
  const maskscan::test::temp_dir scratch;
  const fs::path dir = scratch.path() / "ids";
  const std::size_t classes = GENERATE(1u, 11u, 101u);
  CAPTURE(classes);
  const auto set = one_frame_set(2, 1, classes, 1);
  std::vector<std::string> names;
  for (std::size_t c = 0; c < classes; ++c) names.push_back("c" + std::to_string(c));
  const auto written = maskscan::detail::write_heatmap_images(set, names, dir);
  REQUIRE(written.size() == classes + 1);
  const std::string first = classes == 101 ? "000_c0.png" : "00_c0.png";
  CHECK(written.front().filename() == first);
  if (classes == 11) CHECK(written[10].filename() == "10_c10.png");
  if (classes == 101) CHECK(written[100].filename() == "100_c100.png");
  CHECK(written.back().filename() == "grid.png");
  for (const auto& f : written) CHECK(fs::is_regular_file(f));
}

TEST_CASE("write_heatmap_images names the directory it cannot create", "[heatmap-images]") {
  const maskscan::test::temp_dir scratch;
  const fs::path base = scratch.path() / "blocked";
  fs::create_directories(base);
  { std::ofstream(base / "file") << "x"; }
  const auto set = make_set();
  const std::vector<std::string> names{"a", "b", "c"};
  try {
    maskscan::detail::write_heatmap_images(set, names, base / "file" / "sub");
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains((base / "file" / "sub").string()));
  }
}

TEST_CASE("write_heatmap_images cuts a very long class name in the file name, not the picture", "[heatmap-images]") {
  const maskscan::test::temp_dir scratch;
  const auto set = one_frame_set(2, 1, 1, 1);
  const std::vector<std::string> names{std::string(300, 'x')};  // 300 bytes: no file system takes that name
  const auto written = maskscan::detail::write_heatmap_images(set, names, scratch.path());
  REQUIRE(written.size() == 2);
  std::string expected = "00_";
  expected.append(100, 'x');
  expected += ".png";
  CHECK(written.front().filename() == expected);
  CHECK(fs::is_regular_file(written.front()));
}

TEST_CASE("zoom_heatmap repeats each count over a square, keeping frames and classes",
          "[heatmap-images][heatmap-grid]") {
  const auto set = make_set();
  const std::uint32_t k = GENERATE(1u, 3u);
  const auto zoomed = maskscan::detail::zoom_heatmap(set, k);
  CHECK(zoomed.width == W * k);
  CHECK(zoomed.height == H * k);
  CHECK(zoomed.frames == set.frames);
  REQUIRE(zoomed.counts.size() == 3u * W * k * H * k);
  for (std::size_t c = 0; c < 3; ++c)
    for (std::uint32_t y = 0; y < H * k; ++y)
      for (std::uint32_t x = 0; x < W * k; ++x)
        REQUIRE(zoomed.counts[(c * H * k + y) * W * k + x] == count_of(c, x / k, y / k));
  CHECK_THROWS_AS(maskscan::detail::zoom_heatmap(set, 0), std::invalid_argument);
  CHECK_THROWS_AS(maskscan::detail::zoom_heatmap(set, 0x80000000u), std::invalid_argument);
}
