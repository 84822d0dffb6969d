#include "stats/frame_stats.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#if defined(__x86_64__)
#include <immintrin.h>

#include <maskscan/options.hpp>
#include <maskscan/text.hpp>

#include "core/out_of_memory.hpp"
#endif

namespace maskscan::detail {
namespace {

std::uint32_t run_end_scalar(const std::uint8_t* row, std::uint32_t x, std::uint32_t width, std::uint8_t value) {
  // Eight ids at a time: XOR with the value broadcast; the lowest non-zero byte ends the run.
  const std::uint64_t pattern = 0x0101010101010101ULL * value;
  for (; x + 8 <= width; x += 8) {
    std::uint64_t word;
    std::memcpy(&word, row + x, 8);
    if (const std::uint64_t diff = word ^ pattern) return x + static_cast<std::uint32_t>(std::countr_zero(diff)) / 8;
  }
  while (x < width && row[x] == value) ++x;
  return x;
}

#if defined(__x86_64__)
std::uint32_t run_end_sse2(const std::uint8_t* row, std::uint32_t start, std::uint32_t width) noexcept {
  const std::uint8_t value = row[start];
  const __m128i pattern = _mm_set1_epi8(static_cast<char>(value));
  std::uint32_t x = start + 1;
  for (; x + 16 <= width; x += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x));
    const auto equal = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, pattern)));
    if (equal != 0xFFFFu) return x + static_cast<std::uint32_t>(std::countr_zero(~equal));
  }
  return run_end_scalar(row, x, width, value);
}

__attribute__((target("avx2"))) std::uint32_t run_end_avx2(const std::uint8_t* row, std::uint32_t start,
                                                           std::uint32_t width) noexcept {
  const std::uint8_t value = row[start];
  const __m256i pattern = _mm256_set1_epi8(static_cast<char>(value));
  std::uint32_t x = start + 1;
  for (; x + 32 <= width; x += 32) {
    const __m256i block = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + x));
    const auto equal = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(block, pattern)));
    if (equal != 0xFFFFFFFFu) return x + static_cast<std::uint32_t>(std::countr_zero(~equal));
  }
  return run_end_scalar(row, x, width, value);
}

using run_end_fn = std::uint32_t (*)(const std::uint8_t*, std::uint32_t, std::uint32_t) noexcept;
const run_end_fn best_run_end = __builtin_cpu_supports("avx2") ? run_end_avx2 : run_end_sse2;
#endif

}  // namespace

std::uint32_t run_end(const std::uint8_t* row, std::uint32_t start, std::uint32_t width) noexcept {
#if defined(__x86_64__)
  return best_run_end(row, start, width);
#else
  return run_end_scalar(row, start + 1, width, row[start]);
#endif
}

frame_counter::frame_counter(std::size_t classes, std::vector<std::uint32_t> ignore, bool from_values)
    : classes_(from_values ? value_classes : classes),
      from_values_(from_values),
      ignore_(std::move(ignore)),
      histogram_(std::size_t{1} << 16, 0) {
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
  std::ranges::sort(touched_);
  std::size_t classes = classes_;
  if (from_values_) {  // as many classes as the largest value that is not ignored needs
    classes = 0;
    for (const auto value : touched_)
      if (value < classes_ && !std::ranges::binary_search(ignore_, value)) classes = std::size_t{value} + 1;
  }
  row.class_pixels.assign(classes, 0);
  for (const auto value : touched_) {
    const auto n = std::exchange(histogram_[value], 0);
    if (std::ranges::binary_search(ignore_, value))
      row.ignored.push_back({value, n});
    else if (value < classes_)
      row.class_pixels[value] = n;
    else
      row.out_of_range.push_back({value, n});
  }
  touched_.clear();
  return row;
}

grid_accumulator::grid_accumulator(grid_size grid, std::size_t classes, const std::vector<std::uint32_t>& ignore,
                                   bool from_values)
    : grid_(grid),
      classes_(from_values ? value_classes : classes),
      from_values_(from_values),
      counted_(std::size_t{1} << 16, 0),
      rows_(grid.height),
      columns_(grid.width),
      samples_(std::size_t{grid.width} * grid.height) {
  std::fill_n(counted_.begin(), std::min(classes_, counted_.size()), 1);
  for (const auto v : ignore)
    if (v < counted_.size()) counted_[v] = 0;
}

void grid_accumulator::begin(std::uint32_t width, std::uint32_t height, const std::string& group) {
  if (width != width_ || height != height_) {
    width_ = width;
    height_ = height;
    for (std::uint32_t i = 0; i < grid_.height; ++i) rows_[i] = grid_sample(i, grid_.height, height);
    for (std::uint32_t j = 0; j < grid_.width; ++j) columns_[j] = grid_sample(j, grid_.width, width);
  }
  if (!current_ || *current_group_ != group) {
    auto it = sets_.find(group);
    if (it == sets_.end()) {  // made whole before it enters the map, as heatmap_accumulator::begin
      heatmap_set set;
      set.width = grid_.width;
      set.height = grid_.height;
      // From values: no class yet; commit() grows the set to what its samples need.
      const std::size_t classes = from_values_ ? 0 : classes_, values = classes * grid_.width * grid_.height;
      naming_allocation([&] { set.counts.assign(values, 0); },
                        [&] {
                          return fmt::format("the {} heatmap grid{} of {} classes ({})", to_string(grid_),
                                             group.empty() ? "" : fmt::format(" of group '{}'", printable_name(group)),
                                             classes, byte_size(values * sizeof(std::uint32_t)));
                        });
      it = sets_.emplace(group, std::move(set)).first;
    }
    current_group_ = &it->first;
    current_ = &it->second;
  }
  // A frame without pixels has nothing to sample (and rows_ would point at no row).
  next_row_ = width == 0 || height == 0 ? grid_.height : 0;
  begun_ = true;
}

void grid_accumulator::commit() {
  if (!begun_) return;
  begun_ = false;
  heatmap_set& set = *current_;
  ++set.frames;
  if (width_ == 0 || height_ == 0) return;
  const std::size_t cells = samples_.size();
  const std::size_t sampled = std::size_t{next_row_} * grid_.width;  // all of them once every row has come
  const std::uint8_t* counted = counted_.data();
  if (from_values_) {  // counts are (class, cell): more classes are zeros appended
    std::uint32_t needed = 0;
    for (std::size_t k = 0; k < sampled; ++k) needed = std::max(needed, counted[samples_[k]] ? samples_[k] + 1 : 0);
    if (needed * cells > set.counts.size())
      naming_allocation([&] { set.counts.resize(needed * cells, 0); },
                        [&] {
                          return fmt::format("the {} heatmap grid of {} classes ({})", to_string(grid_), needed,
                                             byte_size(needed * cells * sizeof(std::uint32_t)));
                        });
  }
  if (set.counts.empty()) return;  // no class (yet): no sample counts
  // One table lookup a cell: a sample that counts adds 1 to its class's cell, any other adds 0 to
  // class 0's (a cell that exists: the set has a class).
  std::uint32_t* counts = set.counts.data();
  const std::uint32_t* samples = samples_.data();
  for (std::size_t k = 0; k < sampled; ++k) {
    const std::uint32_t v = samples[k], add = counted[v];
    counts[(add ? std::size_t{v} * cells : 0) + k] += add;
  }
}

std::map<std::string, heatmap_set> grid_accumulator::take() {
  begun_ = false;
  current_ = nullptr;
  current_group_ = nullptr;
  return std::exchange(sets_, {});
}

void accumulate_plane(const label_plane& plane, const frame_sinks& sinks) {
  for (std::uint32_t y = 0; y < plane.height; ++y) {
    const std::size_t offset = std::size_t{y} * plane.width;
    if (plane.depth == 16)
      accumulate_row(y, plane.u16.data() + offset, plane.width, sinks);
    else
      accumulate_row(y, plane.u8.data() + offset, plane.width, sinks);
  }
}

std::vector<std::uint32_t> make_value_lut(std::uint32_t instance_divisor, const std::vector<value_remap>& remap) {
  if (instance_divisor == 0 && remap.empty()) return {};
  std::vector<std::uint32_t> lut(std::size_t{1} << 16);
  std::vector<std::uint32_t> remapped(lut.size());
  for (std::uint32_t v = 0; v < remapped.size(); ++v) remapped[v] = v;
  for (const auto& r : remap) {
    if (r.from >= remapped.size() || r.to >= remapped.size())
      throw std::invalid_argument(fmt::format("remap {} -> {}: values must be below 65536", r.from, r.to));
    remapped[r.from] = r.to;
  }
  for (std::uint32_t v = 0; v < lut.size(); ++v) {
    const std::uint32_t divided = instance_divisor && v >= instance_divisor ? v / instance_divisor : v;
    lut[v] = remapped[divided];
  }
  return lut;
}

}  // namespace maskscan::detail
