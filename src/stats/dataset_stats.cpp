#include <maskscan/stats.hpp>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "stats/frame_stats.hpp"

namespace maskscan {

dataset_stats make_stats(std::vector<std::string> class_names, std::vector<std::uint32_t> ignore,
                         bool heatmaps) {
  std::ranges::sort(ignore);
  ignore.erase(std::unique(ignore.begin(), ignore.end()), ignore.end());  // not ranges::unique: clang 14 (fuzz/)
  dataset_stats stats;
  stats.class_names = std::move(class_names);
  stats.ignore = std::move(ignore);
  stats.has_heatmaps = heatmaps;
  return stats;
}

void normalize(dataset_stats& stats) {
  std::ranges::sort(stats.frames);
  std::ranges::sort(stats.errors);
}

void merge(dataset_stats& into, const dataset_stats& other) {
  if (&into == &other) {  // inserting a vector's own range into itself is undefined
    const dataset_stats copy = other;
    merge(into, copy);
    return;
  }
  if (into.class_names != other.class_names)
    throw std::invalid_argument("cannot merge statistics with different class lists");
  if (into.ignore != other.ignore)
    throw std::invalid_argument("cannot merge statistics with different ignore values");
  if (into.has_heatmaps != other.has_heatmaps)
    throw std::invalid_argument("cannot merge statistics with and without heatmaps");

  // Every check before the first change: a merge that throws leaves `into` as it was.
  for (const auto& [key, heat] : other.heatmaps)
    if (const auto it = into.heatmaps.find(key); it != into.heatmaps.end() && it->second.counts.size() != heat.counts.size())
      throw std::invalid_argument(fmt::format("heatmaps of {}x{} differ in class count", key.first, key.second));
  into.frames.insert(into.frames.end(), other.frames.begin(), other.frames.end());
  into.errors.insert(into.errors.end(), other.errors.begin(), other.errors.end());
  detail::add_heatmaps(into.heatmaps, other.heatmaps);
  normalize(into);
}

dataset_totals compute_totals(const dataset_stats& stats) {
  dataset_totals t;
  const auto classes = stats.class_names.size();
  t.classes.resize(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    t.classes[c].id = static_cast<std::uint32_t>(c);
    t.classes[c].name = stats.class_names[c];
  }
  std::map<std::uint32_t, value_total> ignored;
  std::map<std::uint32_t, value_total> out_of_range;
  auto add_values = [](std::map<std::uint32_t, value_total>& into, const std::vector<value_pixels>& values,
                       std::uint64_t& sum) {
    for (const auto& v : values) {
      auto& total = into[v.value];
      total.value = v.value;
      total.pixels += v.pixels;
      total.frames += v.pixels > 0;
      sum += v.pixels;
    }
  };

  for (const auto& row : stats.frames) {
    ++t.frames;
    t.pixels += std::uint64_t{row.width} * row.height;
    for (std::size_t c = 0; c < classes && c < row.class_pixels.size(); ++c) {
      t.classes[c].pixels += row.class_pixels[c];
      t.classes[c].frames_present += row.class_pixels[c] > 0;
      t.labelled_pixels += row.class_pixels[c];
    }
    add_values(ignored, row.ignored, t.ignored_pixels);
    add_values(out_of_range, row.out_of_range, t.out_of_range_pixels);
  }
  for (auto& c : t.classes)
    c.fraction = t.labelled_pixels ? static_cast<double>(c.pixels) / static_cast<double>(t.labelled_pixels) : 0.0;
  for (auto& [v, total] : ignored) t.ignored.push_back(total);
  for (auto& [v, total] : out_of_range) t.out_of_range.push_back(total);
  t.skipped = stats.errors.size();
  return t;
}

namespace detail {
void add_heatmaps(std::map<resolution, heatmap_set>& into, std::map<resolution, heatmap_set> from) {
  for (auto& [key, heat] : from) {
    auto [it, inserted] = into.try_emplace(key, std::move(heat));
    if (inserted) continue;
    auto& mine = it->second;
    if (mine.counts.size() != heat.counts.size())
      throw std::invalid_argument(fmt::format("heatmaps of {}x{} differ in class count", key.first, key.second));
    mine.frames += heat.frames;
    std::ranges::transform(mine.counts, heat.counts, mine.counts.begin(), std::plus<>{});
  }
}
}  // namespace detail

}  // namespace maskscan
