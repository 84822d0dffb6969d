#include "visual/canvas.hpp"

#include <algorithm>
#include <cstring>

namespace maskscan::detail {

rgb_image::rgb_image(std::uint32_t w, std::uint32_t h, rgb8 background) { reset(w, h, background); }

void rgb_image::reset(std::uint32_t w, std::uint32_t h, rgb8 background) {
  width = w;
  height = h;
  const std::size_t bytes = std::size_t{w} * h * 3;
  // Pictures of one kind differ by a few columns (their labels): room for a bit more, so that the
  // next one fits in these pages.
  if (bytes > pixels.capacity()) {
    pixels = std::vector<std::uint8_t>();
    pixels.reserve(bytes + bytes / 8);
  }
  pixels.assign(bytes, background[0]);                                           // within the capacity: no new pages
  if (background[1] == background[0] && background[2] == background[0]) return;  // white, black: one memset
  for (std::size_t i = 0; i < pixels.size(); i += 3) std::memcpy(&pixels[i], background.data(), 3);
}

rgb8 rgb_image::get(std::uint32_t x, std::uint32_t y) const noexcept {
  const std::size_t i = (std::size_t{y} * width + x) * 3;
  return {pixels[i], pixels[i + 1], pixels[i + 2]};
}

void rgb_image::set(std::int64_t x, std::int64_t y, rgb8 colour) noexcept {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  std::memcpy(&pixels[(static_cast<std::size_t>(y) * width + static_cast<std::size_t>(x)) * 3], colour.data(), 3);
}

void rgb_image::fill_rect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h, rgb8 colour) noexcept {
  const std::int64_t x0 = std::max<std::int64_t>(x, 0), x1 = std::min<std::int64_t>(x + w, width);
  const std::int64_t y0 = std::max<std::int64_t>(y, 0), y1 = std::min<std::int64_t>(y + h, height);
  for (std::int64_t yy = y0; yy < y1; ++yy)
    for (std::int64_t xx = x0; xx < x1; ++xx) set(xx, yy, colour);
}

void rgb_image::blit(const rgb_image& src, std::int64_t x, std::int64_t y) noexcept {
  const std::int64_t x0 = std::max<std::int64_t>(x, 0), x1 = std::min<std::int64_t>(x + src.width, width);
  const std::int64_t y0 = std::max<std::int64_t>(y, 0), y1 = std::min<std::int64_t>(y + src.height, height);
  if (x0 >= x1) return;
  for (std::int64_t yy = y0; yy < y1; ++yy)
    std::memcpy(&pixels[(static_cast<std::size_t>(yy) * width + static_cast<std::size_t>(x0)) * 3],
                &src.pixels[(static_cast<std::size_t>(yy - y) * src.width + static_cast<std::size_t>(x0 - x)) * 3],
                static_cast<std::size_t>(x1 - x0) * 3);
}

}  // namespace maskscan::detail
