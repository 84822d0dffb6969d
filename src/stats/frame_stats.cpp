#include "stats/frame_stats.hpp"

#include <algorithm>

namespace maskscan::detail {

frame_counter::frame_counter(std::size_t classes, std::vector<std::uint32_t> ignore)
    : classes_(classes), ignore_(std::move(ignore)), histogram_(std::size_t{1} << 16, 0) {
  std::ranges::sort(ignore_);
}

void frame_counter::begin(std::uint32_t width, std::uint32_t height) {
  width_ = width;
  height_ = height;
}

frame_row frame_counter::finish(std::string path) {
  frame_row row;
  row.path = std::move(path);
  row.width = width_;
  row.height = height_;
  row.class_pixels.assign(classes_, 0);
  std::ranges::sort(touched_);
  for (const auto value : touched_) {
    const auto n = std::exchange(histogram_[value], 0);
    if (std::ranges::binary_search(ignore_, value)) row.ignored.push_back({value, n});
    else if (value < classes_) row.class_pixels[value] = n;
    else row.out_of_range.push_back({value, n});
  }
  touched_.clear();
  return row;
}

heatmap_accumulator::heatmap_accumulator(std::size_t classes, const std::vector<std::uint32_t>& ignore)
    : classes_(classes), counted_(classes, true) {
  for (const auto v : ignore)
    if (v < classes) counted_[v] = false;
}

void heatmap_accumulator::begin(std::uint32_t width, std::uint32_t height) {
  auto [it, inserted] = sets_.try_emplace(resolution{width, height});
  current_ = &it->second;
  if (inserted) {
    current_->width = width;
    current_->height = height;
    current_->diff.assign(classes_ * height * (std::size_t{width} + 1), 0);
  }
  ++current_->frames;
}

std::map<resolution, heatmap_set> heatmap_accumulator::take() {
  std::map<resolution, heatmap_set> out;
  for (auto& [key, set] : sets_) {
    // Prefix sums in place: count (c, y, x) lands at index (c*H + y)*W + x, never after the
    // difference it is computed from at (c*H + y)*(W + 1) + x, which is read first.
    const std::size_t w = set.width, rows = classes_ * set.height;
    std::uint32_t* data = set.diff.data();
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint32_t* d = data + r * (w + 1);
      std::uint32_t* counts = data + r * w;
      std::uint32_t sum = 0;
      for (std::size_t x = 0; x < w; ++x) counts[x] = sum += d[x];
    }
    set.diff.resize(rows * w);
    heatmap_set heat;
    heat.width = set.width;
    heat.height = set.height;
    heat.frames = set.frames;
    heat.counts = std::move(set.diff);
    out.emplace(key, std::move(heat));
  }
  sets_.clear();
  current_ = nullptr;
  return out;
}

namespace {
template <class T>
void accumulate_rows(const T* ids, const label_plane& plane, frame_counter& counter, heatmap_accumulator* heat) {
  for (std::uint32_t y = 0; y < plane.height; ++y) {
    for_each_run(ids + std::size_t{y} * plane.width, plane.width, [&](std::uint32_t x0, std::uint32_t x1, std::uint32_t v) {
      counter.add_run(v, x1 - x0);
      if (heat) heat->add_run(y, x0, x1, v);
    });
  }
}
}  // namespace

void accumulate_plane(const label_plane& plane, frame_counter& counter, heatmap_accumulator* heat) {
  counter.begin(plane.width, plane.height);
  if (heat) heat->begin(plane.width, plane.height);
  if (plane.depth == 16) accumulate_rows(plane.u16.data(), plane, counter, heat);
  else accumulate_rows(plane.u8.data(), plane, counter, heat);
}

}  // namespace maskscan::detail
