// The synthetic RGB "photos": reproducible, the mask's size, consistent with the mask, and written by
// synthesize_dataset beside the masks without changing them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spng.h>

#include <maskscan/synth.hpp>

#include "support/test_data.hpp"

namespace {
namespace fs = std::filesystem;
namespace test = maskscan::test;

struct decoded {
  spng_ihdr ihdr{};
  std::vector<std::uint8_t> pixels;
};

decoded decode_file(const fs::path& file) {
  const auto bytes = test::read_file(file);
  const std::unique_ptr<spng_ctx, decltype(&spng_ctx_free)> c(spng_ctx_new(0), &spng_ctx_free);
  REQUIRE(spng_set_png_buffer(c.get(), bytes.data(), bytes.size()) == 0);
  decoded d;
  REQUIRE(spng_get_ihdr(c.get(), &d.ihdr) == 0);
  std::size_t size = 0;
  REQUIRE(spng_decoded_image_size(c.get(), SPNG_FMT_PNG, &size) == 0);
  d.pixels.resize(size);
  REQUIRE(spng_decode_image(c.get(), d.pixels.data(), size, SPNG_FMT_PNG, 0) == 0);
  return d;
}

std::string frame_name(std::uint64_t i) {
  const char* cameras[] = {"FV", "MVL", "MVR", "RV"};
  char name[32];
  std::snprintf(name, sizeof name, "%05u_%s.png", static_cast<unsigned>(i), cameras[i % 4]);
  return name;
}

/// Mean of one channel over the pixels of a class (nullopt: the class is not in the mask).
std::optional<double> mean_of(const std::vector<std::uint8_t>& photo, const std::vector<std::uint8_t>& mask,
                              std::uint8_t id, int channel) {
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i] == id) sum += photo[i * 3 + static_cast<std::size_t>(channel)], ++n;
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}
}  // namespace

TEST_CASE("A synthetic photo is a pure function of seed and index, the size of its mask", "[synth][photo]") {
  const auto a = maskscan::synth_photo(7, 3, 320, 240);
  CHECK(a.size() == std::size_t{320} * 240 * 3);
  CHECK(a == maskscan::synth_photo(7, 3, 320, 240));
  CHECK(a != maskscan::synth_photo(8, 3, 320, 240));
  CHECK(a != maskscan::synth_photo(7, 4, 320, 240));
  for (const auto& [w, h] : {std::pair{1u, 1u}, std::pair{2u, 3u}, std::pair{17u, 5u}})
    CHECK(maskscan::synth_photo(1, 0, w, h).size() == std::size_t{w} * h * 3);
}

TEST_CASE("A synthetic photo shows its mask: grey road, bright lane marks, black outside the lens", "[synth][photo]") {
  int with_lanes = 0;
  for (std::uint64_t index = 0; index < 8; ++index) {
    CAPTURE(index);
    const auto mask = maskscan::synth_mask(1, index, 640, 483);
    const auto photo = maskscan::synth_photo(1, index, 640, 483);
    // The road is grey: its channels differ little, and lane marks are brighter than it.
    const auto r = mean_of(photo, mask, 1, 0), g = mean_of(photo, mask, 1, 1), b = mean_of(photo, mask, 1, 2);
    REQUIRE(g);
    CHECK(std::abs(*r - *g) < 12);
    CHECK(std::abs(*g - *b) < 12);
    if (const auto lanes = mean_of(photo, mask, 2, 1)) {
      CHECK(*lanes > *g + 40);
      ++with_lanes;
    }
    // The corners lie outside the fisheye image circle: black.
    for (const std::size_t corner : {std::size_t{0}, std::size_t{639}, std::size_t{640} * 482})
      for (int k = 0; k < 3; ++k) CHECK(photo[corner * 3 + static_cast<std::size_t>(k)] == 0);
  }
  CHECK(with_lanes >= 4);
}

TEST_CASE("synthesize_dataset with rgb_dir writes a photo per mask and leaves the masks as they were",
          "[synth][photo][dataset]") {
  test::temp_dir plain, with_rgb;
  maskscan::synth_options options;
  options.frames = 5;
  options.width = 96;
  options.height = 72;
  options.seed = 3;
  options.threads = 2;
  const auto mask_bytes = maskscan::synthesize_dataset(plain.path(), options);
  options.rgb_dir = with_rgb / "rgb_images";
  const auto all_bytes = maskscan::synthesize_dataset(with_rgb / "gtLabels", options);
  std::uint64_t photo_bytes = 0;
  for (std::uint64_t i = 0; i < options.frames; ++i) {
    const auto name = frame_name(i);
    CAPTURE(name);
    CHECK(test::read_file(with_rgb / "gtLabels" / name) == test::read_file(plain / name));
    const auto photo = decode_file(options.rgb_dir / name);
    CHECK(photo.ihdr.width == options.width);
    CHECK(photo.ihdr.height == options.height);
    CHECK(photo.ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR);
    CHECK(photo.ihdr.bit_depth == 8);
    CHECK(photo.pixels == maskscan::synth_photo(options.seed, i, options.width, options.height));
    photo_bytes += fs::file_size(options.rgb_dir / name);
  }
  CHECK(all_bytes == mask_bytes + photo_bytes);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(options.rgb_dir)) ++entries;
  CHECK(entries == options.frames);
}
