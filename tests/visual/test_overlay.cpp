// Overlays: blended pixels against values computed here from the formula, masks read as a scan reads
// them (ignore, out of range, remap, instance divisor, unknown colours), photos of every PNG kind to
// RGB (against hand-built files and PngSuite's interlaced/non-interlaced twins), and the helpers the
// report uses to find RGB frames beside masks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <maskscan/class_map.hpp>
#include <maskscan/options.hpp>
#include <maskscan/stats.hpp>

#include "support/planes.hpp"
#include "support/reference_png.hpp"
#include "support/test_data.hpp"
#include "visual/overlay.hpp"

namespace {
using namespace maskscan;
using detail::rgb8;
using detail::rgb_image;
namespace fs = std::filesystem;

rgb_image make_photo(std::uint32_t w, std::uint32_t h) {
  rgb_image photo(w, h);
  for (std::size_t i = 0; i < photo.pixels.size(); ++i) photo.pixels[i] = static_cast<std::uint8_t>(i * 37 + 11);
  return photo;
}

using test::plane16;
using test::plane8;

scan_options three_classes() {
  scan_options o;
  o.labels = "test";
  o.class_names = {"a", "b", "c"};
  o.ignore = {255};
  return o;
}

const std::vector<rgb8> palette3 = {{{200, 0, 0}}, {{0, 200, 0}}, {{10, 20, 250}}};

/// round((1 - alpha) * p + alpha * c), halves up, for alpha = num / 4, in integers only.
std::uint8_t blend_quarters(unsigned p, unsigned c, unsigned num) {
  return static_cast<std::uint8_t>(((4 - num) * p + num * c + 2) / 4);
}

std::vector<std::uint8_t> to_bytes(const std::vector<std::byte>& b) {
  std::vector<std::uint8_t> out(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) out[i] = static_cast<std::uint8_t>(b[i]);
  return out;
}

void write_bytes(const fs::path& file, const std::vector<std::byte>& bytes) {
  test::write_file(file, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::vector<std::byte> rgb_png(const rgb_image& img) {
  test::png_header h{img.width, img.height, 8, 2, false};
  return test::encode_png(h, img.pixels);
}

std::vector<std::byte> gray8_png(std::uint32_t w, std::uint32_t h, const std::vector<std::uint8_t>& ids) {
  return test::encode_png(test::png_header{w, h, 8, 0, false}, ids);
}

}  // namespace

TEST_CASE("render_overlay blends class pixels by alpha and leaves ignored and out-of-range pixels alone", "[overlay]") {
  const auto photo = make_photo(4, 2);
  // class 0, 1, 2, ignored 255, out of range 3 and 200, class 1, class 0
  const auto mask = plane8(4, 2, {0, 1, 2, 255, 3, 200, 1, 0});
  const unsigned quarters = GENERATE(0u, 1u, 2u, 4u);
  CAPTURE(quarters);
  const auto out = detail::render_overlay(photo, mask, palette3, three_classes(), quarters / 4.0);
  REQUIRE(out.width == 4);
  REQUIRE(out.height == 2);
  for (std::size_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    const unsigned id = mask.u8[i];
    for (std::size_t k = 0; k < 3; ++k) {
      const unsigned p = photo.pixels[i * 3 + k];
      const unsigned expected = id < 3 ? blend_quarters(p, palette3[id][k], quarters) : p;
      CHECK(unsigned{out.pixels[i * 3 + k]} == expected);
    }
  }
  if (quarters == 0) CHECK(out.pixels == photo.pixels);
  if (quarters == 4) CHECK(out.get(1, 0) == palette3[1]);
}

TEST_CASE("render_overlay reads values as a scan counts them: remap, instance divisor, unknown colours", "[overlay]") {
  const auto photo = make_photo(3, 2);
  SECTION("16-bit instance ids through the divisor, then the remap") {
    auto o = three_classes();
    o.instance_divisor = 1000;
    o.remap = {{1, 2}};  // class 1 is drawn as class 2
    const auto mask = plane16(3, 2, {2005, 0, 1, 1999, 3000, 255});
    const auto out = detail::render_overlay(photo, mask, palette3, o, 1.0);
    CHECK(out.get(0, 0) == palette3[2]);  // 2005 / 1000 = 2
    CHECK(out.get(1, 0) == palette3[0]);
    CHECK(out.get(2, 0) == palette3[2]);      // 1 -> 2
    CHECK(out.get(0, 1) == palette3[2]);      // 1999 / 1000 = 1 -> 2
    CHECK(out.get(1, 1) == photo.get(1, 1));  // 3: out of range
    CHECK(out.get(2, 1) == photo.get(2, 1));  // ignored
  }
  SECTION("a colour mask holds table values: no divisor or remap; unknown colours keep the photo") {
    auto o = three_classes();
    o.remap = {{1, 2}};
    const auto mask = plane16(3, 2, {1, detail::unknown_colour_marker, 0, 2, 255, detail::unknown_colour_marker}, true);
    const auto out = detail::render_overlay(photo, mask, palette3, o, 1.0);
    CHECK(out.get(0, 0) == palette3[1]);
    CHECK(out.get(1, 0) == photo.get(1, 0));
    CHECK(out.get(2, 0) == palette3[0]);
    CHECK(out.get(0, 1) == palette3[2]);
    CHECK(out.get(1, 1) == photo.get(1, 1));
    CHECK(out.get(2, 1) == photo.get(2, 1));
  }
  SECTION("classes without a palette entry keep the photo") {
    const auto mask = plane8(3, 2, {0, 1, 2, 2, 1, 0});
    const std::vector<rgb8> short_palette = {{{1, 2, 3}}};
    const auto out = detail::render_overlay(photo, mask, short_palette, three_classes(), 1.0);
    CHECK(out.get(0, 0) == rgb8{1, 2, 3});
    CHECK(out.get(1, 0) == photo.get(1, 0));
    CHECK(out.get(2, 0) == photo.get(2, 0));
  }
}

TEST_CASE("render_overlay refuses a bad alpha and a mask of another size", "[overlay]") {
  const auto photo = make_photo(4, 2);
  const auto mask = plane8(4, 2, std::vector<std::uint8_t>(8, 1));
  for (const double alpha : {-0.01, 1.01, std::numeric_limits<double>::quiet_NaN(), 2.0}) {
    CAPTURE(alpha);
    CHECK_THROWS_AS(detail::render_overlay(photo, mask, palette3, three_classes(), alpha), std::invalid_argument);
  }
  const auto other = plane8(2, 4, std::vector<std::uint8_t>(8, 1));
  CHECK_THROWS_WITH(detail::render_overlay(photo, other, palette3, three_classes(), 0.5),
                    Catch::Contains("4x2") && Catch::Contains("2x4"));
}

TEST_CASE("overlay_files names both files and both sizes when they differ", "[overlay]") {
  test::temp_dir dir;
  write_bytes(dir / "photo.png", rgb_png(make_photo(5, 3)));
  write_bytes(dir / "mask.png", gray8_png(3, 5, std::vector<std::uint8_t>(15, 1)));
  const auto options = resolve_defaults(scan_options{});
  CHECK_THROWS_WITH(detail::overlay_files(dir / "photo.png", dir / "mask.png", options, 0.5),
                    Catch::Contains((dir / "photo.png").string()) && Catch::Contains((dir / "mask.png").string()) &&
                        Catch::Contains("5x3") && Catch::Contains("3x5"));
}

TEST_CASE("overlay_files draws a WoodScape mask over a photo in WoodScape's colours", "[overlay]") {
  test::temp_dir dir;
  const auto photo = make_photo(4, 3);
  write_bytes(dir / "photo.png", rgb_png(photo));
  const std::vector<std::uint8_t> ids = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255};
  write_bytes(dir / "mask.png", gray8_png(4, 3, ids));
  auto options = scan_options{};
  options.labels = "woodscape";
  options.ignore = {9};
  options = resolve_defaults(options);
  const auto out = detail::overlay_files(dir / "photo.png", dir / "mask.png", options, 0.5);
  const auto woodscape = builtin_class_map("woodscape");
  for (std::uint32_t i = 0; i < 12; ++i) {
    CAPTURE(i);
    const rgb8 p = photo.get(i % 4, i / 4);
    rgb8 expected = p;
    if (ids[i] < 9) {
      const rgba* c = class_colour(woodscape, ids[i]);
      REQUIRE(c);
      expected = {blend_quarters(p[0], c->r, 2), blend_quarters(p[1], c->g, 2), blend_quarters(p[2], c->b, 2)};
    }
    CHECK(out.get(i % 4, i / 4) == expected);
  }
}

TEST_CASE("decode_rgb_png turns gray, gray+alpha, RGBA, 16-bit, palette and interlaced PNGs into RGB", "[overlay]") {
  const std::uint32_t w = 3, h = 2;
  SECTION("8-bit gray, interlaced or not") {
    const std::vector<std::uint8_t> g = {0, 7, 255, 128, 64, 1};
    for (const bool interlaced : {false, true}) {
      const auto img = detail::decode_rgb_png(test::encode_png({w, h, 8, 0, interlaced}, g));
      REQUIRE(img.width == w);
      for (std::uint32_t i = 0; i < g.size(); ++i) CHECK(img.get(i % w, i / w) == rgb8{g[i], g[i], g[i]});
    }
  }
  SECTION("RGBA and gray+alpha: alpha is dropped") {
    std::vector<std::uint8_t> rgba_rows, ga_rows;
    for (std::uint8_t i = 0; i < w * h; ++i) {
      const auto u8 = [](unsigned v) { return static_cast<std::uint8_t>(v); };
      rgba_rows.insert(rgba_rows.end(), {u8(10 * i), u8(200 - i), u8(i * i), u8(i * 40)});
      ga_rows.insert(ga_rows.end(), {u8(30 * i + 1), i});
    }
    const auto rgba_img = detail::decode_rgb_png(test::encode_png({w, h, 8, 6, false}, rgba_rows));
    const auto ga_img = detail::decode_rgb_png(test::encode_png({w, h, 8, 4, true}, ga_rows));
    for (std::uint32_t i = 0; i < w * h; ++i) {
      CAPTURE(i);
      CHECK(rgba_img.get(i % w, i / w) == rgb8{rgba_rows[i * 4], rgba_rows[i * 4 + 1], rgba_rows[i * 4 + 2]});
      CHECK(ga_img.get(i % w, i / w) == rgb8{ga_rows[i * 2], ga_rows[i * 2], ga_rows[i * 2]});
    }
  }
  SECTION("16-bit gray and RGB keep the high byte") {
    std::vector<std::uint8_t> gray16, rgb16;
    for (std::uint32_t i = 0; i < w * h; ++i) {
      gray16.insert(gray16.end(), {static_cast<std::uint8_t>(40 * i + 3), static_cast<std::uint8_t>(250 - i)});
      for (std::uint32_t k = 0; k < 3; ++k)
        rgb16.insert(rgb16.end(), {static_cast<std::uint8_t>(i * 30 + k * 70), 0x99});
    }
    const auto g = detail::decode_rgb_png(test::encode_png({w, h, 16, 0, false}, gray16));
    const auto c = detail::decode_rgb_png(test::encode_png({w, h, 16, 2, true}, rgb16));
    for (std::uint32_t i = 0; i < w * h; ++i) {
      CAPTURE(i);
      CHECK(g.get(i % w, i / w) == rgb8{gray16[i * 2], gray16[i * 2], gray16[i * 2]});
      CHECK(c.get(i % w, i / w) == rgb8{rgb16[i * 6], rgb16[i * 6 + 2], rgb16[i * 6 + 4]});
    }
  }
  SECTION("palette: each index becomes its PLTE colour") {
    // A gray file made into a palette file by hand: colour type 3 in IHDR and a PLTE before IDAT.
    const std::vector<std::uint8_t> idx = {0, 1, 2, 2, 1, 0};
    const auto gray = test::encode_png({w, h, 8, 0, false}, idx);
    const std::vector<std::uint8_t> plte = {255, 0, 0, 0, 128, 0, 9, 8, 7};
    std::vector<std::byte> png = test::png_signature_bytes();
    for (const auto& chunk : test::png_chunks(gray)) {
      const auto bytes = to_bytes(gray);
      std::vector<std::uint8_t> data(bytes.begin() + static_cast<std::ptrdiff_t>(chunk.offset + 8),
                                     bytes.begin() + static_cast<std::ptrdiff_t>(chunk.offset + 8 + chunk.length));
      if (chunk.type == "IHDR") data[9] = 3;
      if (chunk.type == "IDAT") {
        const auto p = test::make_chunk("PLTE", plte);
        png.insert(png.end(), p.begin(), p.end());
      }
      const auto c = test::make_chunk(chunk.type, data);
      png.insert(png.end(), c.begin(), c.end());
    }
    const auto img = detail::decode_rgb_png(png);
    for (std::uint32_t i = 0; i < w * h; ++i)
      CHECK(img.get(i % w, i / w) == rgb8{plte[idx[i] * 3], plte[idx[i] * 3 + 1], plte[idx[i] * 3 + 2]});
  }
}

TEST_CASE("decode_rgb_image gives the same RGB for PngSuite's interlaced and non-interlaced twins", "[overlay]") {
  const auto suite = test::data_root() / "pngsuite";
  std::size_t pairs = 0;
  for (const auto& entry : fs::directory_iterator(suite)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with("basi") || entry.path().extension() != ".png") continue;
    const auto twin = suite / ("basn" + name.substr(4));
    if (!fs::exists(twin)) continue;
    CAPTURE(name);
    const auto a = detail::decode_rgb_image(entry.path());
    const auto b = detail::decode_rgb_image(twin);
    CHECK(a.width == 32);
    CHECK(a.width == b.width);
    CHECK(a.height == b.height);
    CHECK(a.pixels == b.pixels);
    ++pairs;
  }
  CHECK(pairs >= 15);
}

TEST_CASE("decode_rgb_image names the file and the cause of what it cannot decode", "[overlay]") {
  const auto suite = test::data_root() / "pngsuite";
  for (const char* bad : {"xcrn0g04.png", "xd0n2c08.png", "xhdn0g08.png", "xs1n0g01.png", "xdtn0g01.png"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH(detail::decode_rgb_image(suite / bad),
                      Catch::Contains((suite / bad).string()) && Catch::Contains("libspng"));
  }
  test::temp_dir dir;
  CHECK_THROWS_WITH(detail::decode_rgb_image(dir / "missing.png"), Catch::Contains((dir / "missing.png").string()));
  test::write_file(dir / "text.png", "not a png at all");
  CHECK_THROWS_WITH(detail::decode_rgb_image(dir / "text.png"), Catch::Contains((dir / "text.png").string()));
  write_bytes(dir / "big.png", rgb_png(make_photo(4, 4)));
  CHECK_THROWS_WITH(detail::decode_rgb_image(dir / "big.png", 15), Catch::Contains("limit of 15"));
  CHECK(detail::decode_rgb_image(dir / "big.png", 16).width == 4);
  CHECK_THROWS_WITH(detail::decode_rgb_image(dir / "big.png", 16, 10), Catch::Contains("limit of 10"));
}

TEST_CASE("class_palette takes the class map's colours, else distinct Pascal VOC colours without black", "[overlay]") {
  SECTION("the woodscape map: WoodScape's colours") {
    scan_options woodscape;
    woodscape.labels = "woodscape";
    const auto palette = detail::class_palette(resolve_defaults(woodscape));
    REQUIRE(palette.size() == 10);
    CHECK(palette[1] == rgb8{255, 0, 255});  // road
    CHECK(palette[9] == rgb8{128, 128, 0});  // traffic_sign
  }
  SECTION("a built-in map with a colour table") {
    scan_options o;
    use_class_map(o, builtin_class_map("cityscapes"));
    const auto palette = detail::class_palette(o);
    REQUIRE(palette.size() == 34);
    CHECK(palette[7] == rgb8{128, 64, 128});  // road
    CHECK(palette[26] == rgb8{0, 0, 142});    // car
  }
  SECTION("numbered classes: the VOC colour map from index 1") {
    scan_options o;
    o.class_names = numbered_class_names(300);
    const auto palette = detail::class_palette(o);
    REQUIRE(palette.size() == 300);
    CHECK(palette[0] == rgb8{128, 0, 0});
    CHECK(palette[1] == rgb8{0, 128, 0});
    CHECK(palette[2] == rgb8{128, 128, 0});
    CHECK(palette[14] == rgb8{192, 128, 128});  // VOC's person, index 15
    const std::set<rgb8> distinct(palette.begin(), palette.end());
    CHECK(distinct.size() == palette.size());
    CHECK(distinct.count(rgb8{0, 0, 0}) == 0);
    CHECK(detail::class_palette(o) == palette);
  }
  SECTION("a table that lacks some classes: VOC colours for those") {
    scan_options o = three_classes();
    o.colours = {{{1, 2, 3, 255}, 1}};
    const auto palette = detail::class_palette(o);
    CHECK(palette[0] == detail::voc_colour(1));
    CHECK(palette[1] == rgb8{1, 2, 3});
    CHECK(palette[2] == detail::voc_colour(3));
  }
}

TEST_CASE("find_rgb_dir finds rgb_images beside WoodScape's mask folders", "[overlay]") {
  test::temp_dir dir;
  const auto root = dir.path();
  fs::create_directories(root / "semantic_annotations/gtLabels");
  fs::create_directories(root / "semantic_annotations/rgbLabels");
  fs::create_directories(root / "gtLabels");
  fs::create_directories(root / "other");
  test::write_file(root / "gtLabels/a.png", "x");
  SECTION("without rgb_images: nothing") {
    CHECK_FALSE(detail::find_rgb_dir(root / "semantic_annotations/gtLabels"));
    CHECK_FALSE(detail::find_rgb_dir(root / "gtLabels"));
  }
  SECTION("with rgb_images") {
    fs::create_directories(root / "rgb_images");
    for (const fs::path& masks : {root / "semantic_annotations/gtLabels", root / "semantic_annotations/rgbLabels",
                                  root / "semantic_annotations", root / "gtLabels", root / "gtLabels/",
                                  root / "gtLabels/a.png", root / "semantic_annotations/gtLabels/"}) {
      CAPTURE(masks);
      const auto found = detail::find_rgb_dir(masks);
      REQUIRE(found);
      CHECK(fs::equivalent(*found, root / "rgb_images"));
    }
    CHECK_FALSE(detail::find_rgb_dir(root / "other"));
    CHECK_FALSE(detail::find_rgb_dir(root));
    CHECK_FALSE(detail::find_rgb_dir(root / "missing"));
  }
  SECTION("rgb_images must be a directory") {
    test::write_file(root / "rgb_images", "a file");
    CHECK_FALSE(detail::find_rgb_dir(root / "gtLabels"));
  }
}

TEST_CASE("sample_frame_pairs picks frames with both files, spread over the dataset, deterministically", "[overlay]") {
  test::temp_dir dir;
  const auto masks = dir / "gtLabels", rgb = dir / "rgb_images";
  fs::create_directories(masks / "sub");
  fs::create_directories(rgb / "sub");
  dataset_stats stats = make_stats({"a", "b", "c", "d"}, {}, false);
  // 12 frames; frame k holds (k * 7) % 4 + 1 classes; frames 4 and 9 have no RGB frame, frame 10 no mask.
  for (int k = 0; k < 12; ++k) {
    frame_row row;
    row.path = (k % 3 == 0 ? "sub/frame_" : "frame_") + std::to_string(k) + ".png";
    row.class_pixels.assign(4, 0);
    const int classes = (k * 7) % 4 + 1;
    for (int c = 0; c < classes; ++c) row.class_pixels[static_cast<std::size_t>(c)] = 10;
    if (k != 10) test::write_file(masks / row.path, "m");
    if (k != 4 && k != 9) test::write_file(rgb / row.path, "r");
    stats.frames.push_back(row);
  }
  frame_row outside;
  outside.path = "../escape.png";
  outside.class_pixels.assign(4, 10);
  test::write_file(dir / "escape.png", "x");
  stats.frames.push_back(outside);

  const auto pairs = detail::sample_frame_pairs(stats, masks, rgb, 3);
  CHECK(pairs == detail::sample_frame_pairs(stats, masks, rgb, 3));
  REQUIRE(pairs.size() == 3);
  for (const auto& [name, path] : pairs) {
    CAPTURE(name);
    CHECK(fs::is_regular_file(path));
    CHECK(path == rgb / name);
    CHECK(fs::is_regular_file(masks / name));
  }
  // Eligible, in order: frames 0 1 2 3 5 6 7 8 11 (9 frames), with 1 4 3 2 4 3 2 1 2 classes.
  // Slices {0 1 2}, {3 5 6}, {7 8 11}: the most classes in each are frames 1, 5 and 7 (the first of
  // the tie with 11).
  CHECK(pairs[0].first == stats.frames[1].path);
  CHECK(pairs[1].first == stats.frames[5].path);
  CHECK(pairs[2].first == stats.frames[7].path);

  CHECK(detail::sample_frame_pairs(stats, masks, rgb, 0).empty());
  CHECK(detail::sample_frame_pairs(stats, masks, rgb, 100).size() == 9);
  CHECK(detail::sample_frame_pairs(stats, masks, dir / "nothing", 5).empty());

  // With the rows on disk (read one at a time, in path order), the same frames of the same order.
  auto sorted = stats;
  normalize(sorted);
  auto spilled = sorted;
  spilled.frames.spill_beyond({1, {}});
  REQUIRE(spilled.frames.spilled());
  CHECK(detail::sample_frame_pairs(spilled, masks, rgb, 3) == detail::sample_frame_pairs(sorted, masks, rgb, 3));
  CHECK(detail::sample_frame_pairs(spilled, masks, rgb, 100) == detail::sample_frame_pairs(sorted, masks, rgb, 100));
}
