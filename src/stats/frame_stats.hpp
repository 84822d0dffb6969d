#pragma once
// Per-frame statistics, built from runs of equal ids row by row: pure code, no I/O, no threads.
// Label masks are long runs of one class, so the work per frame is proportional to the number of
// runs, not of pixels (a WoodScape frame: ~1.2 M pixels, a few thousand runs).
#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

#include "decode/png_decoder.hpp"
#include "stats/components.hpp"
#include "stats/heatmaps.hpp"

namespace maskscan::detail {

/// The columns x in [begin, end) where row[x] != row[x - 1] (begin >= 1), in order, into `out`,
/// which has room for end - begin + 2 entries; returns how many. SIMD: 64 columns at a time, 32
/// ids a compare with AVX2 where the CPU has it, else 16 with SSE2.
std::size_t run_changes(const std::uint8_t* row, std::uint32_t begin, std::uint32_t end, std::uint32_t* out) noexcept;
/// Every implementation of run_changes this CPU can run, the one run_changes uses among them (tests).
struct run_changes_variant {
  const char* name;
  std::size_t (*find)(const std::uint8_t*, std::uint32_t, std::uint32_t, std::uint32_t*) noexcept;
};
std::vector<run_changes_variant> run_changes_variants();

/// Calls f(x0, x1, value) for every maximal run row[x0..x1) of one value, left to right.
template <class F>
void for_each_run(const std::uint8_t* row, std::uint32_t width, F&& f) {
  if (width == 0) return;
  // The changes are found a segment at a time, then the runs between them visited in a loop whose
  // branches are predictable: a scan for each run's end would mispredict once a run.
  constexpr std::uint32_t segment = 2048;
  std::uint32_t changes[segment + 2];
  std::uint32_t start = 0;
  for (std::uint32_t x = 1; x < width;) {
    const std::uint32_t end = width - x > segment ? x + segment : width;
    const std::size_t n = run_changes(row, x, end, changes);
    for (std::size_t k = 0; k < n; ++k) {
      f(start, changes[k], static_cast<std::uint32_t>(row[start]));
      start = changes[k];
    }
    x = end;
  }
  f(start, width, static_cast<std::uint32_t>(row[start]));
}
template <class F>
void for_each_run(const std::uint16_t* row, std::uint32_t width, F&& f) {
  for (std::uint32_t start = 0; start < width;) {
    std::uint32_t end = start + 1;
    while (end < width && row[end] == row[start]) ++end;
    f(start, end, static_cast<std::uint32_t>(row[start]));
    start = end;
  }
}

/// The classes a worker provisions when the classes are the values (no class map).
inline constexpr std::size_t value_classes = max_value_classes;

/// Pixel counts of one frame per value, split into classes, ignored and out-of-range values.
class frame_counter {
 public:
  /// `from_values` (classes from values, `classes` ignored): every value that is not ignored is a
  /// class, and a row's class_pixels is as long as its largest such value needs (the scan widens
  /// rows to one length at the end).
  frame_counter(std::size_t classes, std::vector<std::uint32_t> ignore, bool from_values = false);
  void begin(std::uint32_t width, std::uint32_t height);
  void add_run(std::uint32_t value, std::uint32_t length) {
    auto& n = histogram_[value];
    if (n == 0) touched_.push_back(value);
    n += length;
  }
  /// The frame's row (ignore-listed values take precedence over class ids); ready for the next frame.
  frame_row finish(std::string path);

 private:
  std::size_t classes_;
  bool from_values_;
  std::vector<std::uint32_t> ignore_;  // sorted
  std::uint32_t width_ = 0, height_ = 0;
  std::vector<std::uint64_t> histogram_;  // 65536 entries: any 8- or 16-bit id
  std::vector<std::uint32_t> touched_;    // values with a non-zero count, to reset only those
};

/// Per-class heatmaps on a common grid (scan_options::heatmap_grid): each frame, whatever its size,
/// is sampled at grid.height rows x grid.width columns (grid_sample), and cell (i, j) of class c
/// counts the frames whose sample there holds c. Only the rows that grid rows map to are looked at,
/// one lookup per cell, so a frame costs grid cells, not pixels; the counts are direct (no
/// difference arrays: a set is small). A frame's samples are kept until commit(), so that a frame
/// refused after its rows were seen (classes from values over the limit) can be dropped.
class grid_accumulator {
 public:
  /// `from_values` (classes from values, `classes` ignored): a set holds as many classes as the
  /// largest value sampled into it needs (take() then gives sets of different class counts).
  grid_accumulator(grid_size grid, std::size_t classes, const std::vector<std::uint32_t>& ignore,
                   bool from_values = false);
  /// Starts a frame of width x height of `group` ("" without grouping): each group has its own set.
  void begin(std::uint32_t width, std::uint32_t height, const std::string& group = {});
  /// Row y of the frame begun (rows must come in order, 0 first): the cells that sample it take its
  /// values, through `lut` when there is one (frame_sinks::lut; like the ids, its values are 16-bit).
  template <class T>
  void sample_row(std::uint32_t y, const T* row, const std::uint32_t* lut) {
    for (; next_row_ < grid_.height && rows_[next_row_] == y; ++next_row_) {
      std::uint32_t* out = samples_.data() + std::size_t{next_row_} * grid_.width;
      for (std::uint32_t j = 0; j < grid_.width; ++j) {
        const std::uint32_t raw = row[columns_[j]];
        out[j] = lut ? lut[raw] : raw;
      }
    }
  }
  /// Adds the samples of the frame begun last to its group's set.
  void commit();
  /// Drops the frame begun last (it is not counted).
  void discard_frame() noexcept { begun_ = false; }
  /// The sets by group; the accumulator is empty afterwards.
  std::map<std::string, heatmap_set> take();

 private:
  grid_size grid_;
  std::size_t classes_;
  bool from_values_;
  std::vector<std::uint8_t> counted_;     // per 16-bit value: a class id that is not ignore-listed
  std::vector<std::uint32_t> rows_;       // the frame row each grid row samples
  std::vector<std::uint32_t> columns_;    // the frame column each grid column samples
  std::uint32_t width_ = 0, height_ = 0;  // of the frame rows_ and columns_ are for
  std::uint32_t next_row_ = 0;            // grid rows sampled so far
  bool begun_ = false;                    // a frame is begun and neither committed nor discarded
  std::vector<std::uint32_t> samples_;    // the frame's value at each cell, row-major
  std::map<std::string, heatmap_set> sets_;
  heatmap_set* current_ = nullptr;
  const std::string* current_group_ = nullptr;
};

/// Where the runs of a frame go. `lut` (65536 entries, or null for none) turns raw values into the
/// values counted: the instance divisor and the remap (scan_options) folded into one table.
struct frame_sinks {
  frame_counter& counter;
  heatmap_accumulator* heat = nullptr;
  const std::uint32_t* lut = nullptr;
  component_counter* components = nullptr;
  grid_accumulator* grid = nullptr;
};

/// One row of a frame into the sinks: the hot loop of a scan.
template <class T>
void accumulate_row(std::uint32_t y, const T* row, std::uint32_t width, const frame_sinks& sinks) {
  for_each_run(row, width, [&](std::uint32_t x0, std::uint32_t x1, std::uint32_t raw) {
    const std::uint32_t value = sinks.lut ? sinks.lut[raw] : raw;
    sinks.counter.add_run(value, x1 - x0);
    if (sinks.heat) sinks.heat->add_run(y, x0, x1, value);
    if (sinks.components) sinks.components->add_run(y, x0, x1, value);
  });
  if (sinks.grid) sinks.grid->sample_row(y, row, sinks.lut);
}

/// Feeds a decoded plane to the sinks row by row (counter.begin, heat->begin and grid->begin must
/// have been called).
void accumulate_plane(const label_plane& plane, const frame_sinks& sinks);

/// The value table of scan_options' instance divisor and remap: lut[raw] = remap(divide(raw)) for
/// every 16-bit raw value. Empty when neither is set (values count as they are).
std::vector<std::uint32_t> make_value_lut(std::uint32_t instance_divisor, const std::vector<value_remap>& remap);

/// Adds every heatmap set of `from` into `into` (sets of a new key are moved over).
/// Throws std::invalid_argument if two sets of one key differ in class count.
void add_heatmaps(std::map<heatmap_key, heatmap_set>& into, std::map<heatmap_key, heatmap_set> from);
/// Adds component size histograms class by class.
void add_component_sizes(std::vector<size_histogram>& into, const std::vector<size_histogram>& from);

/// Adds grid heatmap sets group by group (sets of a new group are moved over).
/// Throws std::invalid_argument if two sets of one group differ in size or class count.
void add_grid_heatmaps(std::map<std::string, heatmap_set>& into, std::map<std::string, heatmap_set> from);

/// Classes from values: gives every set `classes` classes (the new ones all zero).
void widen_heatmaps(std::map<heatmap_key, heatmap_set>& sets, std::size_t classes);
void widen_heatmaps(std::map<std::string, heatmap_set>& grid_sets, std::size_t classes);
/// The most classes a heatmap set of `sets` holds (any map whose values are heatmap_set).
template <class Map>
std::size_t classes_in_sets(const Map& sets) {
  std::size_t classes = 0;
  for (const auto& [key, heat] : sets)
    if (const std::size_t cells = std::size_t{heat.width} * heat.height)
      classes = std::max(classes, heat.counts.size() / cells);
  return classes;
}
/// The most classes a group's component size histograms hold.
inline std::size_t classes_in_sizes(const std::map<std::string, std::vector<size_histogram>>& sizes) {
  std::size_t classes = 0;
  for (const auto& [group, per_class] : sizes) classes = std::max(classes, per_class.size());
  return classes;
}
/// Classes from values: the classes the rows, heatmaps and component sizes of `stats` need.
std::size_t classes_needed(const dataset_stats& stats);
/// Classes from values: widens `stats` to `classes` classes (numbered names, zero counts), so that
/// statistics of different largest values merge.
void widen_classes(dataset_stats& stats, std::size_t classes);

}  // namespace maskscan::detail
