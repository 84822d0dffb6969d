#include "stats/frame_stats.hpp"

#include <algorithm>

namespace maskscan::detail {
namespace {

template <class T>
void histogram_of(std::span<const T> ids, std::vector<std::uint64_t>& histogram) {
  histogram.assign(std::size_t{1} << (8 * sizeof(T)), 0);
  for (const T v : ids) ++histogram[v];
}

template <class T>
std::span<const T> ids_of(const label_plane& plane) {
  if constexpr (sizeof(T) == 1) return {plane.u8.data(), plane.pixels()};
  else return {plane.u16.data(), plane.pixels()};
}

bool is_ignored(std::span<const std::uint32_t> ignore, std::uint32_t v) {
  return std::ranges::binary_search(ignore, v);
}

template <class T>
void add_heat(const label_plane& plane, std::size_t classes, std::span<const std::uint32_t> ignore,
              heatmap_set& heat) {
  // A lookup table turns "is this value a counted class" into one load per pixel.
  const std::size_t values = std::size_t{1} << (8 * sizeof(T));
  std::vector<bool> counted(values);
  for (std::size_t v = 0; v < values && v < classes; ++v)
    counted[v] = !is_ignored(ignore, static_cast<std::uint32_t>(v));
  const std::size_t plane_size = plane.pixels();
  std::uint32_t* counts = heat.counts.data();
  const auto ids = ids_of<T>(plane);
  for (std::size_t p = 0; p < plane_size; ++p) {
    const T v = ids[p];
    if (counted[v]) ++counts[v * plane_size + p];
  }
}

}  // namespace

frame_row count_frame(const label_plane& plane, std::string path, std::size_t classes,
                      std::span<const std::uint32_t> ignore, std::vector<std::uint64_t>& histogram) {
  if (plane.depth == 16) histogram_of(ids_of<std::uint16_t>(plane), histogram);
  else histogram_of(ids_of<std::uint8_t>(plane), histogram);

  frame_row row;
  row.path = std::move(path);
  row.width = plane.width;
  row.height = plane.height;
  row.class_pixels.assign(classes, 0);
  for (std::size_t v = 0; v < histogram.size(); ++v) {
    const auto n = histogram[v];
    if (n == 0) continue;
    const auto value = static_cast<std::uint32_t>(v);
    if (is_ignored(ignore, value)) row.ignored.push_back({value, n});
    else if (v < classes) row.class_pixels[v] = n;
    else row.out_of_range.push_back({value, n});
  }
  return row;
}

void add_to_heatmaps(const label_plane& plane, std::size_t classes, std::span<const std::uint32_t> ignore,
                     std::map<resolution, heatmap_set>& heatmaps) {
  auto [it, inserted] = heatmaps.try_emplace(resolution{plane.width, plane.height});
  auto& heat = it->second;
  if (inserted) {
    heat.width = plane.width;
    heat.height = plane.height;
    heat.counts.assign(classes * plane.pixels(), 0);
  }
  ++heat.frames;
  if (plane.depth == 16) add_heat<std::uint16_t>(plane, classes, ignore, heat);
  else add_heat<std::uint8_t>(plane, classes, ignore, heat);
}

}  // namespace maskscan::detail
