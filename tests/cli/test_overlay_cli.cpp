// `maskscan overlay`, run as a user runs it: the PNG it writes (decoded with libspng), the class flags,
// and every way it refuses, each with its exit status and a message naming the file.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spng.h>

#include "support/reference_png.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
namespace test = maskscan::test;
using test::quote;
using test::run_cli;
namespace fs = std::filesystem;

struct rgb_file {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
};

rgb_file decode_rgb(const fs::path& file) {
  const auto bytes = test::read_file(file);
  const std::unique_ptr<spng_ctx, decltype(&spng_ctx_free)> c(spng_ctx_new(0), &spng_ctx_free);
  REQUIRE(spng_set_png_buffer(c.get(), bytes.data(), bytes.size()) == 0);
  spng_ihdr ihdr{};
  REQUIRE(spng_get_ihdr(c.get(), &ihdr) == 0);
  CHECK(ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR);
  std::size_t size = 0;
  REQUIRE(spng_decoded_image_size(c.get(), SPNG_FMT_RGB8, &size) == 0);
  rgb_file out{ihdr.width, ihdr.height, std::vector<std::uint8_t>(size)};
  REQUIRE(spng_decode_image(c.get(), out.rgb.data(), size, SPNG_FMT_RGB8, 0) == 0);
  return out;
}

void write_png(const fs::path& file, const test::png_header& h, const std::vector<std::uint8_t>& rows) {
  const auto png = test::encode_png(h, rows);
  test::write_file(file, std::string(reinterpret_cast<const char*>(png.data()), png.size()));
}

/// A 6x4 photo (every byte 100) and its mask: row y holds class y (0 void, 1 road, 2 lanemarks, 3 curb),
/// the last pixel of each row 255.
struct fixture {
  test::temp_dir dir;
  fs::path photo = dir / "photo.png", mask = dir / "mask.png", out = dir / "out" / "overlay.png";
  fixture() {
    write_png(photo, {6, 4, 8, 2, false}, std::vector<std::uint8_t>(6 * 4 * 3, 100));
    std::vector<std::uint8_t> ids;
    for (std::uint8_t y = 0; y < 4; ++y)
      for (std::uint8_t x = 0; x < 6; ++x) ids.push_back(x == 5 ? 255 : y);
    write_png(mask, {6, 4, 8, 0, false}, ids);
  }
  std::string args(const std::string& extra = {}) const {
    return "overlay --image " + quote(photo) + " --mask " + quote(mask) + " --out " + quote(out) + " " + extra;
  }
};

std::array<std::uint8_t, 3> pixel(const rgb_file& f, std::uint32_t x, std::uint32_t y) {
  const std::size_t i = (std::size_t{y} * f.width + x) * 3;
  return {f.rgb[i], f.rgb[i + 1], f.rgb[i + 2]};
}

}  // namespace

TEST_CASE("overlay --help explains every flag", "[overlay-cli]") {
  const auto help = run_cli("overlay --help");
  CHECK(help.status == 0);
  for (const char* flag : {"--image", "--mask", "--out", "--alpha", "--force", "--labels", "--remap", "--ignore",
                           "--instance-divisor", "--num-classes", "--class-names", "Exit status"}) {
    CAPTURE(flag);
    CHECK(help.out.find(flag) != std::string::npos);
  }
  CHECK(run_cli("--help").out.find("overlay") != std::string::npos);
  CHECK(run_cli("synth --help").out.find("--rgb") != std::string::npos);
}

TEST_CASE("overlay writes an RGB PNG of the photo's size with the classes blended in", "[overlay-cli]") {
  fixture f;
  const auto r = run_cli(f.args("--labels woodscape --alpha 0.5"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find(f.out.string()) != std::string::npos);
  const auto img = decode_rgb(f.out);
  CHECK(img.width == 6);
  CHECK(img.height == 4);
  // WoodScape's colours, alpha 0.5: (100 + c + 1) / 2.
  CHECK(pixel(img, 0, 0) == std::array<std::uint8_t, 3>{50, 50, 50});     // void (0, 0, 0)
  CHECK(pixel(img, 0, 1) == std::array<std::uint8_t, 3>{178, 50, 178});   // road (255, 0, 255)
  CHECK(pixel(img, 2, 2) == std::array<std::uint8_t, 3>{50, 50, 178});    // lanemarks (0, 0, 255)
  CHECK(pixel(img, 4, 3) == std::array<std::uint8_t, 3>{50, 178, 50});    // curb (0, 255, 0)
  CHECK(pixel(img, 5, 2) == std::array<std::uint8_t, 3>{100, 100, 100});  // 255: out of range
}

TEST_CASE("overlay reads the mask with the class flags of scan", "[overlay-cli]") {
  fixture f;
  SECTION("no class map: every value is a class, drawn in the Pascal VOC colour of its number + 1") {
    REQUIRE(run_cli(f.args("--alpha 1")).status == 0);
    const auto img = decode_rgb(f.out);
    CHECK(pixel(img, 0, 0) == std::array<std::uint8_t, 3>{128, 0, 0});      // value 0: VOC colour 1
    CHECK(pixel(img, 0, 1) == std::array<std::uint8_t, 3>{0, 128, 0});      // value 1: VOC colour 2
    CHECK(pixel(img, 5, 2) != std::array<std::uint8_t, 3>{100, 100, 100});  // value 255 is a class too
  }
  SECTION("--ignore leaves a class's pixels alone") {
    REQUIRE(run_cli(f.args("--labels woodscape --ignore 1 --alpha 1")).status == 0);
    const auto img = decode_rgb(f.out);
    CHECK(pixel(img, 0, 1) == std::array<std::uint8_t, 3>{100, 100, 100});
    CHECK(pixel(img, 0, 2) == std::array<std::uint8_t, 3>{0, 0, 255});
  }
  SECTION("--num-classes: VOC colours, and 255 is still out of range") {
    REQUIRE(run_cli(f.args("--num-classes 4 --alpha 1")).status == 0);
    const auto img = decode_rgb(f.out);
    CHECK(pixel(img, 0, 0) == std::array<std::uint8_t, 3>{128, 0, 0});
    CHECK(pixel(img, 0, 1) == std::array<std::uint8_t, 3>{0, 128, 0});
    CHECK(pixel(img, 5, 0) == std::array<std::uint8_t, 3>{100, 100, 100});
  }
  SECTION("--labels pascal-voc: 255 is its ignore value, class 1 aeroplane") {
    REQUIRE(run_cli(f.args("--labels pascal-voc --alpha 1")).status == 0);
    const auto img = decode_rgb(f.out);
    CHECK(pixel(img, 0, 1) == std::array<std::uint8_t, 3>{128, 0, 0});
    CHECK(pixel(img, 5, 1) == std::array<std::uint8_t, 3>{100, 100, 100});
  }
  SECTION("an unknown --labels is a usage error naming it") {
    const auto r = run_cli(f.args("--labels nosuchmap"));
    CHECK(r.status == 2);
    CHECK(r.err.find("nosuchmap") != std::string::npos);
  }
}

TEST_CASE("overlay refuses a bad alpha, missing and corrupt files and sizes that differ", "[overlay-cli]") {
  fixture f;
  for (const char* alpha : {"1.5", "-0.1", "half"}) {
    CAPTURE(alpha);
    const auto r = run_cli(f.args(std::string("--alpha ") + alpha));
    CHECK(r.status == 2);
    CHECK(r.err.find("--alpha") != std::string::npos);
  }
  CHECK(run_cli("overlay --image " + quote(f.photo) + " --mask " + quote(f.mask)).status == 2);  // no --out

  const auto missing = f.dir / "missing.png";
  for (const auto& args :
       {"overlay --image " + quote(missing) + " --mask " + quote(f.mask) + " --out " + quote(f.out),
        "overlay --image " + quote(f.photo) + " --mask " + quote(missing) + " --out " + quote(f.out)}) {
    const auto r = run_cli(args);
    CHECK(r.status == 1);
    CHECK(r.err.find(missing.string()) != std::string::npos);
  }

  const auto corrupt = test::data_root() / "pngsuite/xcrn0g04.png";
  for (const auto& args :
       {"overlay --image " + quote(corrupt) + " --mask " + quote(f.mask) + " --out " + quote(f.out),
        "overlay --image " + quote(f.photo) + " --mask " + quote(corrupt) + " --out " + quote(f.out)}) {
    const auto r = run_cli(args);
    CHECK(r.status == 1);
    CHECK(r.err.find(corrupt.string()) != std::string::npos);
  }

  const auto small = f.dir / "small.png";
  write_png(small, {4, 6, 8, 2, false}, std::vector<std::uint8_t>(4 * 6 * 3, 7));
  const auto r = run_cli("overlay --image " + quote(small) + " --mask " + quote(f.mask) + " --out " + quote(f.out));
  CHECK(r.status == 1);
  for (const std::string& part : {small.string(), f.mask.string(), std::string("4x6"), std::string("6x4")}) {
    CAPTURE(part);
    CHECK(r.err.find(part) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(f.out));
}

TEST_CASE("overlay does not overwrite --out without --force", "[overlay-cli]") {
  fixture f;
  fs::create_directories(f.out.parent_path());
  test::write_file(f.out, "keep me");
  const auto r = run_cli(f.args());
  CHECK(r.status == 1);
  CHECK(r.err.find(f.out.string()) != std::string::npos);
  CHECK(r.err.find("--force") != std::string::npos);
  CHECK(test::read_file(f.out) == "keep me");
  REQUIRE(run_cli(f.args("--force")).status == 0);
  CHECK(decode_rgb(f.out).width == 6);
}
