#pragma once
// An 8-bit RGB raster for the pictures maskscan draws (heatmaps, colour bars, overlays): plain
// pixels, clipped drawing, nothing more. Encoded to PNG by png_writer.hpp.
#include <cstdint>
#include <vector>

#include "visual/colormap.hpp"

namespace maskscan::detail {

struct rgb_image {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> pixels;  ///< rows top to bottom, 3 bytes (R, G, B) a pixel

  rgb_image() = default;
  rgb_image(std::uint32_t w, std::uint32_t h, rgb8 background = {255, 255, 255});

  /// Makes this a w x h image of `background`, in the memory it has when it is large enough (a
  /// picture drawn after another reuses its pages).
  void reset(std::uint32_t w, std::uint32_t h, rgb8 background = {255, 255, 255});

  rgb8 get(std::uint32_t x, std::uint32_t y) const noexcept;
  /// Sets one pixel; outside the image nothing happens.
  void set(std::int64_t x, std::int64_t y, rgb8 colour) noexcept;
  /// Fills the rectangle [x, x + w) x [y, y + h), clipped to the image.
  void fill_rect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h, rgb8 colour) noexcept;
  /// Copies `src` with its top-left corner at (x, y), clipped to this image.
  void blit(const rgb_image& src, std::int64_t x, std::int64_t y) noexcept;
};

}  // namespace maskscan::detail
