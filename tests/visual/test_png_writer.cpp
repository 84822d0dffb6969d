// encode_rgb_png against libspng's decoder (the reference): size, colour type and every byte back.
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include <spng.h>
#include <catch2/catch.hpp>

#include "visual/png_writer.hpp"

namespace {
struct decoded {
  spng_ihdr ihdr{};
  std::vector<std::uint8_t> rgb;
};
decoded decode(const std::vector<std::uint8_t>& png) {
  decoded d;
  spng_ctx* c = spng_ctx_new(0);
  REQUIRE(c);
  REQUIRE(spng_set_png_buffer(c, png.data(), png.size()) == 0);
  REQUIRE(spng_get_ihdr(c, &d.ihdr) == 0);
  std::size_t size = 0;
  REQUIRE(spng_decoded_image_size(c, SPNG_FMT_RGB8, &size) == 0);
  d.rgb.resize(size);
  REQUIRE(spng_decode_image(c, d.rgb.data(), size, SPNG_FMT_RGB8, 0) == 0);
  spng_ctx_free(c);
  return d;
}
}  // namespace

TEST_CASE("encode_rgb_png writes an 8-bit RGB PNG that decodes to the same bytes", "[png-writer]") {
  std::mt19937 rng(7);
  for (const auto& [w, h] : {std::pair{1u, 1u}, std::pair{3u, 2u}, std::pair{97u, 31u}, std::pair{640u, 1u}}) {
    CAPTURE(w, h);
    std::vector<std::uint8_t> rgb(std::size_t{w} * h * 3);
    for (auto& v : rgb) v = static_cast<std::uint8_t>(rng());
    const auto png = maskscan::detail::encode_rgb_png(w, h, rgb);
    const auto d = decode(png);
    CHECK(d.ihdr.width == w);
    CHECK(d.ihdr.height == h);
    CHECK(d.ihdr.bit_depth == 8);
    CHECK(d.ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR);
    CHECK(d.rgb == rgb);
  }
}

TEST_CASE("encode_rgb_png refuses a buffer of the wrong size", "[png-writer]") {
  std::vector<std::uint8_t> rgb(11);
  CHECK_THROWS_AS(maskscan::detail::encode_rgb_png(2, 2, rgb), std::invalid_argument);
}
