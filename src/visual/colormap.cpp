#include "visual/colormap.hpp"

#include <cmath>

namespace maskscan::detail {

const std::array<rgb8, 256>& table_of(colormap map) noexcept {
  return map == colormap::magma ? magma_table : viridis_table;
}

rgb8 colour_at(colormap map, double t) noexcept {
  if (!(t > 0)) t = 0;  // also NaN
  if (t > 1) t = 1;
  return table_of(map)[static_cast<std::size_t>(std::lround(t * 255.0))];
}

}  // namespace maskscan::detail
