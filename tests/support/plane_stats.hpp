#pragma once
// Plane-level wrappers over the library's run machinery, in the shape the stats tests use.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stats/frame_stats.hpp"

namespace maskscan::test {

/// One frame_counter reused across frames, as a worker reuses its own; made on first use.
struct reused_counter {
  std::optional<detail::frame_counter> counter;
};

inline frame_row count_frame(const detail::label_plane& plane, std::string path, std::size_t classes,
                             const std::vector<std::uint32_t>& ignore, reused_counter& reused) {
  if (!reused.counter) reused.counter.emplace(classes, ignore);
  reused.counter->begin(plane.width, plane.height);
  detail::accumulate_plane(plane, {*reused.counter});
  return reused.counter->finish(std::move(path));
}

/// Adds one frame's heatmap into `into`, through a heatmap_accumulator of its own.
inline void add_to_heatmaps(const detail::label_plane& plane, std::size_t classes,
                            const std::vector<std::uint32_t>& ignore, std::map<heatmap_key, heatmap_set>& into) {
  detail::frame_counter counter(classes, ignore);
  detail::heatmap_accumulator heat(classes, ignore);
  counter.begin(plane.width, plane.height);
  heat.begin(plane.width, plane.height);
  detail::accumulate_plane(plane, {counter, &heat});
  detail::add_heatmaps(into, heat.take());
}

}  // namespace maskscan::test
