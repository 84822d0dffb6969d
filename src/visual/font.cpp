#include "visual/font.hpp"

#include <algorithm>
#include <climits>

namespace maskscan::detail {

int text_width(std::string_view text, int scale) noexcept {
  const auto w = static_cast<long long>(text.size()) * font_cell_width * std::max(scale, 1);
  return static_cast<int>(std::min<long long>(w, INT_MAX));
}

int text_height(int scale) noexcept { return font_cell_height * std::max(scale, 1); }

void draw_text(rgb_image& image, std::int64_t x, std::int64_t y, std::string_view text, rgb8 colour,
               int scale) noexcept {
  const std::int64_t s = std::max(scale, 1);
  const std::int64_t cell_w = font_cell_width * s;
  if (y >= std::int64_t{image.height} || y + font_cell_height * s <= 0) return;
  for (const char byte : text) {
    if (x >= std::int64_t{image.width}) return;
    if (x + cell_w > 0) {
      const auto c = static_cast<unsigned char>(byte);
      const bool printable = c >= 0x20 && c <= 0x7E;
      const auto& glyph = font_glyphs[static_cast<std::size_t>((printable ? c : '?') - font_first_char)];
      for (int row = 0; row < font_cell_height; ++row) {
        const unsigned bits = glyph[static_cast<std::size_t>(row)];
        if (bits == 0) continue;
        for (int col = 0; col < font_cell_width; ++col)
          if ((bits >> (font_cell_width - 1 - col)) & 1U) image.fill_rect(x + col * s, y + row * s, s, s, colour);
      }
    }
    x += cell_w;
  }
}

}  // namespace maskscan::detail
