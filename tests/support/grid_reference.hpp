#pragma once
// Grid heatmaps (scan_options::heatmap_grid) computed the plain way, from the definition in
// docs/statistics.md: cell (i, j) of a Wg x Hg grid takes the frame's pixel at row
// floor((2i + 1) H / (2 Hg)), column floor((2j + 1) W / (2 Wg)). It shares no code with the
// library's grid_accumulator (not even grid_sample), so the two check each other.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace maskscan::test {

/// Adds one frame of `width` x `height` values (row-major, the values as counted: after any remap)
/// to `counts`, classes x grid_height x grid_width, ordered (class, row, column). Values that are
/// ignore-listed or not below `classes` are not counted.
inline void add_to_grid_reference(std::vector<std::uint32_t>& counts, std::uint32_t grid_width,
                                  std::uint32_t grid_height, std::size_t classes,
                                  const std::vector<std::uint32_t>& ignore, const std::vector<std::uint32_t>& values,
                                  std::uint32_t width, std::uint32_t height) {
  counts.resize(classes * grid_width * grid_height, 0);
  for (std::uint64_t i = 0; i < grid_height; ++i)
    for (std::uint64_t j = 0; j < grid_width; ++j) {
      const std::uint64_t y = (2 * i + 1) * height / (2 * grid_height);
      const std::uint64_t x = (2 * j + 1) * width / (2 * grid_width);
      const std::uint32_t v = values.at(y * width + x);
      if (v >= classes || std::find(ignore.begin(), ignore.end(), v) != ignore.end()) continue;
      ++counts[(v * grid_height + i) * grid_width + j];
    }
}

}  // namespace maskscan::test
