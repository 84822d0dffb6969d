#pragma once
// Per-frame statistics over a decoded label plane: pure functions, no I/O, no threads.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

#include "decode/png_decoder.hpp"

namespace maskscan::detail {

/// Counts every value of `plane` into a frame row: class ids (< classes) into class_pixels,
/// ignore-listed values (which take precedence over a class id) into `ignored`, every other
/// value into `out_of_range`. `histogram` is scratch space reused across calls.
frame_row count_frame(const label_plane& plane, std::string path, std::size_t classes,
                      std::span<const std::uint32_t> ignore, std::vector<std::uint64_t>& histogram);

/// Adds one frame to the heatmap set of its resolution (created on first use): +1 at
/// (class, y, x) for every pixel holding a class id that is not ignore-listed.
void add_to_heatmaps(const label_plane& plane, std::size_t classes, std::span<const std::uint32_t> ignore,
                     std::map<resolution, heatmap_set>& heatmaps);

/// Adds every heatmap set of `from` into `into` (sets of a new resolution are moved over).
/// Throws std::invalid_argument if two sets of one resolution differ in class count.
void add_heatmaps(std::map<resolution, heatmap_set>& into, std::map<resolution, heatmap_set> from);

}  // namespace maskscan::detail
