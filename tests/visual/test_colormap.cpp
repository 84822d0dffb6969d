// The heatmap colour maps: matplotlib's endpoints, and lightness that only grows (what makes them
// perceptual: more frames reads as brighter on any display, and in grayscale print).
#include <cmath>

#include <catch2/catch.hpp>

#include "visual/colormap.hpp"

using namespace maskscan::detail;

namespace {
/// CIE L* of an sRGB colour (D65), 0..100.
double lightness(const rgb8& c) {
  auto linear = [](std::uint8_t v) {
    const double s = v / 255.0;
    return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
  };
  const double y = 0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2]);
  return y > 216.0 / 24389.0 ? 116.0 * std::cbrt(y) - 16.0 : y * 24389.0 / 27.0;
}
}  // namespace

TEST_CASE("colour maps: matplotlib's endpoints and middle", "[colormap]") {
  // matplotlib 3.6: viridis(0.0) = #440154, viridis(0.5) = #21918c, viridis(1.0) = #fde725;
  // magma(0.0) = #000004, magma(1.0) = #fcfdbf.
  CHECK(colour_at(colormap::viridis, 0.0) == rgb8{0x44, 0x01, 0x54});
  CHECK(colour_at(colormap::viridis, 128.0 / 255.0) == rgb8{0x21, 0x91, 0x8c});
  CHECK(colour_at(colormap::viridis, 1.0) == rgb8{0xfd, 0xe7, 0x25});
  CHECK(colour_at(colormap::magma, 0.0) == rgb8{0x00, 0x00, 0x04});
  CHECK(colour_at(colormap::magma, 1.0) == rgb8{0xfc, 0xfd, 0xbf});
  // Clamped, and NaN is the lowest colour.
  CHECK(colour_at(colormap::viridis, -3.0) == colour_at(colormap::viridis, 0.0));
  CHECK(colour_at(colormap::viridis, 7.0) == colour_at(colormap::viridis, 1.0));
  CHECK(colour_at(colormap::viridis, std::nan("")) == colour_at(colormap::viridis, 0.0));
}

TEST_CASE("colour maps: lightness grows along the whole map", "[colormap]") {
  for (const auto map : {colormap::viridis, colormap::magma}) {
    const auto& t = table_of(map);
    // Rounding to 8 bits leaves a few neighbours equal or 0.03 darker (e.g. viridis 94/95); over
    // 4 entries lightness always grows.
    for (std::size_t i = 1; i < t.size(); ++i) {
      CAPTURE(i);
      CHECK(lightness(t[i]) > lightness(t[i - 1]) - 0.1);
      if (i >= 4) CHECK(lightness(t[i]) > lightness(t[i - 4]));
    }
  }
}
