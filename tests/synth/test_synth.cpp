// Tests for the synthetic WoodScape-like masks, their PNG encoding and the dataset writer.
#include <spng.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "maskscan/synth.hpp"

#include "support/test_data.hpp"

namespace fs = std::filesystem;
using maskscan::png_filter;

namespace {

struct decoded {
  std::uint32_t width = 0, height = 0;
  int bit_depth = 0, color_type = -1;
  std::vector<std::uint8_t> pixels;
};

/// Decodes a PNG with libspng, without any conversion (SPNG_FMT_PNG).
decoded decode_png(const std::vector<std::uint8_t>& png) {
  const std::unique_ptr<spng_ctx, decltype(&spng_ctx_free)> ctx(spng_ctx_new(0), &spng_ctx_free);
  REQUIRE(ctx);
  REQUIRE(spng_set_png_buffer(ctx.get(), png.data(), png.size()) == 0);
  spng_ihdr ihdr{};
  REQUIRE(spng_get_ihdr(ctx.get(), &ihdr) == 0);
  std::size_t size = 0;
  REQUIRE(spng_decoded_image_size(ctx.get(), SPNG_FMT_PNG, &size) == 0);
  decoded out{ihdr.width, ihdr.height, ihdr.bit_depth, ihdr.color_type, std::vector<std::uint8_t>(size)};
  REQUIRE(spng_decode_image(ctx.get(), out.pixels.data(), size, SPNG_FMT_PNG, 0) == 0);
  return out;
}

int max_id(const std::vector<std::uint8_t>& mask) {
  return mask.empty() ? -1 : *std::max_element(mask.begin(), mask.end());
}

std::vector<std::uint8_t> read_file(const fs::path& path) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(fs::file_size(path)));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  REQUIRE(got == bytes.size());
  return bytes;
}

using maskscan::test::temp_dir;

}  // namespace

TEST_CASE("A synthetic mask is a pure function of seed and index", "[synth]") {
  const auto a = maskscan::synth_mask(1, 7, 1280, 966);
  CHECK(a.size() == std::size_t{1280} * 966);
  CHECK(maskscan::synth_mask(1, 7, 1280, 966) == a);
  CHECK(maskscan::synth_mask(1, 8, 1280, 966) != a);
  CHECK(maskscan::synth_mask(2, 7, 1280, 966) != a);
}

TEST_CASE("Synthetic masks hold only the ten WoodScape class ids", "[synth]") {
  const std::array<std::array<std::uint32_t, 2>, 4> sizes{{{1280, 966}, {640, 483}, {97, 31}, {8, 8}}};
  for (const auto& [w, h] : sizes) {
    for (std::uint64_t index = 0; index < 8; ++index) {
      const auto mask = maskscan::synth_mask(3, index, w, h);
      REQUIRE(mask.size() == std::size_t{w} * h);
      CHECK(max_id(mask) <= 9);
    }
  }
}

TEST_CASE("Every class appears somewhere in a 50-frame set, road and void dominate", "[synth]") {
  std::array<std::uint64_t, 10> pixels{};
  std::array<int, 10> frames{};
  for (std::uint64_t index = 0; index < 50; ++index) {
    std::array<bool, 10> seen{};
    for (const std::uint8_t id : maskscan::synth_mask(1, index, 1280, 966)) {
      ++pixels[id];
      seen[id] = true;
    }
    for (std::size_t id = 0; id < 10; ++id) frames[id] += seen[id] ? 1 : 0;
  }
  for (std::size_t id = 0; id < 10; ++id) {
    INFO("class " << id);
    CHECK(frames[id] > 0);
  }
  // Like the real dataset: void and road hold most pixels, the two-wheelers and people very few.
  std::uint64_t total = 0;
  for (const auto n : pixels) total += n;
  CHECK(pixels[0] + pixels[1] > total * 8 / 10);
  for (const std::size_t rare : {4, 5, 7, 8}) {
    INFO("class " << rare);
    CHECK(pixels[rare] < total / 100);
  }
}

TEST_CASE("The corners of a full-size frame lie outside the fisheye image circle", "[synth]") {
  for (std::uint64_t index = 0; index < 8; ++index) {
    const auto mask = maskscan::synth_mask(1, index, 1280, 966);
    CHECK(mask[0] == 0);
    CHECK(mask[1279] == 0);
    CHECK(mask[std::size_t{965} * 1280] == 0);
    CHECK(mask.back() == 0);
  }
}

TEST_CASE("Tiny and odd frame sizes are drawn without going out of bounds", "[synth]") {
  const std::array<std::array<std::uint32_t, 2>, 9> sizes{
      {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 7}, {17, 5}, {1, 500}, {500, 1}, {5, 3}}};
  for (const auto& [w, h] : sizes) {
    for (std::uint64_t index = 0; index < 40; ++index) {
      const auto mask = maskscan::synth_mask(5, index, w, h);
      REQUIRE(mask.size() == std::size_t{w} * h);
      CHECK(max_id(mask) <= 9);
    }
  }
}

TEST_CASE("An encoded plane decodes back to exactly the same pixels", "[synth][png]") {
  const auto filter = GENERATE(png_filter::adaptive, png_filter::sub);
  const std::array<std::array<std::uint32_t, 2>, 5> sizes{{{1, 1}, {3, 7}, {17, 5}, {64, 48}, {1280, 966}}};
  for (const auto& [w, h] : sizes) {
    INFO(w << "x" << h << (filter == png_filter::sub ? " sub" : " adaptive"));
    const auto plane = maskscan::synth_mask(11, w + h, w, h);
    const auto png = maskscan::encode_gray8_png(plane, w, h, filter, 6);
    REQUIRE(png.size() > 8);
    CHECK(png[1] == 'P');
    const decoded d = decode_png(png);
    CHECK(d.width == w);
    CHECK(d.height == h);
    CHECK(d.bit_depth == 8);
    CHECK(d.color_type == SPNG_COLOR_TYPE_GRAYSCALE);
    CHECK(d.pixels == plane);
  }
}

TEST_CASE("The Sub-filter variant decodes to the same plane as the adaptive one", "[synth][png]") {
  const auto plane = maskscan::synth_mask(1, 2, 1280, 966);
  const auto adaptive = maskscan::encode_gray8_png(plane, 1280, 966, png_filter::adaptive, 6);
  const auto sub = maskscan::encode_gray8_png(plane, 1280, 966, png_filter::sub, 6);
  CHECK(adaptive != sub);                                        // different filters, different bytes ...
  CHECK(decode_png(sub).pixels == decode_png(adaptive).pixels);  // ... same picture
  CHECK(decode_png(sub).pixels == plane);
}

TEST_CASE("A full-size frame compresses to a size like a real WoodScape label PNG", "[synth][png]") {
  for (std::uint64_t index = 0; index < 4; ++index) {
    const auto plane = maskscan::synth_mask(1, index, 1280, 966);
    const auto png = maskscan::encode_gray8_png(plane, 1280, 966, png_filter::adaptive, 6);
    INFO("frame " << index << ": " << png.size() << " bytes");
    CHECK(png.size() > 3000);
    CHECK(png.size() < 30000);
  }
}

TEST_CASE("Encoding reports bad input instead of writing a broken PNG", "[synth][png]") {
  const std::vector<std::uint8_t> plane(12, 1);
  CHECK_THROWS_AS(maskscan::encode_gray8_png(plane, 5, 3, png_filter::adaptive, 6), std::invalid_argument);
  // A zero-sized image is refused by libspng itself; its message is passed on.
  CHECK_THROWS_AS(maskscan::encode_gray8_png({}, 0, 0, png_filter::adaptive, 6), std::runtime_error);
}

TEST_CASE("synthesize_dataset writes every frame, named by index and camera", "[synth][dataset]") {
  const temp_dir tmp;
  const fs::path dir = tmp.path() / "nested" / "masks";  // created on demand
  maskscan::synth_options options;
  options.frames = 9;
  options.width = 64;
  options.height = 48;
  options.seed = 42;
  options.threads = GENERATE(0u, 1u, 3u);

  const std::uint64_t bytes = maskscan::synthesize_dataset(dir, options);

  const char* cameras[] = {"FV", "MVL", "MVR", "RV"};
  std::uint64_t on_disk = 0;
  for (std::uint64_t i = 0; i < options.frames; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%05u_%s.png", static_cast<unsigned>(i), cameras[i % 4]);
    const fs::path file = dir / name;
    INFO(file);
    REQUIRE(fs::is_regular_file(file));
    on_disk += fs::file_size(file);
    const decoded d = decode_png(read_file(file));
    CHECK(d.pixels == maskscan::synth_mask(options.seed, i, options.width, options.height));
  }
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++entries;
  CHECK(entries == options.frames);  // no left-over .tmp files, nothing else
  CHECK(bytes == on_disk);
}

TEST_CASE("synthesize_dataset writes the Sub-filtered variant on request", "[synth][dataset]") {
  const temp_dir tmp;
  maskscan::synth_options options;
  options.frames = 2;
  options.width = 40;
  options.height = 30;
  options.filter = png_filter::sub;
  options.threads = 2;
  const std::uint64_t bytes = maskscan::synthesize_dataset(tmp.path(), options);
  CHECK(bytes == fs::file_size(tmp.path() / "00000_FV.png") + fs::file_size(tmp.path() / "00001_MVL.png"));
  CHECK(decode_png(read_file(tmp.path() / "00001_MVL.png")).pixels == maskscan::synth_mask(options.seed, 1, 40, 30));
}

TEST_CASE("synthesize_dataset names the file it could not write", "[synth][dataset]") {
  const temp_dir tmp;
  fs::create_directories(tmp.path() / "00002_MVR.png" / "blocker");  // a directory in the way
  maskscan::synth_options options;
  options.frames = 6;
  options.width = 16;
  options.height = 12;
  options.threads = 2;
  try {
    maskscan::synthesize_dataset(tmp.path(), options);
    FAIL("expected an exception");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("00002_MVR.png"));
  }
  CHECK_FALSE(fs::exists(tmp.path() / "00002_MVR.png.tmp"));
}

TEST_CASE("synthesize_dataset with no frames only creates the directory", "[synth][dataset]") {
  const temp_dir tmp;
  maskscan::synth_options options;
  options.frames = 0;
  CHECK(maskscan::synthesize_dataset(tmp.path() / "empty", options) == 0);
  CHECK(fs::is_directory(tmp.path() / "empty"));
  CHECK(fs::is_empty(tmp.path() / "empty"));
}
