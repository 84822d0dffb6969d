#include "stats/frame_stats.hpp"

#include <algorithm>
#include <bit>
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

#if defined(__x86_64__)
/// Bit i: row[at + i] != row[at + i - 1], for the 64 columns from `at` (>= 1).
__attribute__((target("avx2"))) std::uint64_t change_mask_avx2(const std::uint8_t* row, std::uint32_t at) noexcept {
  const __m256i* p = reinterpret_cast<const __m256i*>(row + at);
  const __m256i* left = reinterpret_cast<const __m256i*>(row + at - 1);
  const auto lo = static_cast<std::uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256(p), _mm256_loadu_si256(left))));
  const auto hi = static_cast<std::uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256(p + 1), _mm256_loadu_si256(left + 1))));
  return ~(std::uint64_t{hi} << 32 | lo);
}

std::uint64_t change_mask_sse2(const std::uint8_t* row, std::uint32_t at) noexcept {
  std::uint64_t equal = 0;
  for (std::uint32_t k = 0; k < 4; ++k) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + at + 16 * k));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + at + 16 * k - 1));
    equal |= std::uint64_t{static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)))} << (16 * k);
  }
  return ~equal;
}
#endif

std::uint64_t change_mask_scalar(const std::uint8_t* row, std::uint32_t at) noexcept {
  std::uint64_t changes = 0;
  for (std::uint32_t i = 0; i < 64; ++i) changes |= std::uint64_t{row[at + i] != row[at + i - 1]} << i;
  return changes;
}

/// run_changes with `mask` for 64 columns at a time. Masks have a change in a few columns of a
/// row: each is written to `out` without a branch (two slots a mask, taken or not, and the
/// pointer advanced by the count), and only a mask of more than two takes the loop.
template <std::uint64_t (*mask)(const std::uint8_t*, std::uint32_t) noexcept>
std::size_t run_changes_with(const std::uint8_t* row, std::uint32_t begin, std::uint32_t end,
                             std::uint32_t* out) noexcept {
  std::uint32_t* p = out;
  const auto put = [&](std::uint32_t at, std::uint64_t m) {
    const auto n = static_cast<std::uint32_t>(std::popcount(m));
    p[0] = at + static_cast<std::uint32_t>(std::countr_zero(m));  // 64 past the bits when m == 0: a slot
    m &= m - 1;                                                   // beyond the count, overwritten later
    p[1] = at + static_cast<std::uint32_t>(std::countr_zero(m));
    m &= m - 1;
    if (n > 2) [[unlikely]]
      for (std::uint32_t* q = p + 2; m; m &= m - 1) *q++ = at + static_cast<std::uint32_t>(std::countr_zero(m));
    p += n;
  };
  std::uint32_t x = begin;
  for (; end - x >= 64; x += 64) put(x, mask(row, x));
  if (x < end) {
    if (end >= 65) {  // the last 64 columns, without those done already (at least one column is)
      const std::uint32_t at = end - 64;
      put(at, mask(row, at) & (~std::uint64_t{0} << (x - at)));
    } else {
      for (; x < end; ++x)
        if (row[x] != row[x - 1]) *p++ = x;
    }
  }
  return static_cast<std::size_t>(p - out);
}

#if defined(__x86_64__)
// flatten: the mask and the bit instructions inline into the loop (a lambda or template does not
// take the caller's target on its own).
__attribute__((target("avx2,popcnt,bmi,bmi2"), flatten)) std::size_t run_changes_avx2(const std::uint8_t* row,
                                                                                      std::uint32_t begin,
                                                                                      std::uint32_t end,
                                                                                      std::uint32_t* out) noexcept {
  return run_changes_with<change_mask_avx2>(row, begin, end, out);
}
using run_changes_fn = std::size_t (*)(const std::uint8_t*, std::uint32_t, std::uint32_t, std::uint32_t*) noexcept;
const run_changes_fn best_run_changes =
    __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt")
        ? run_changes_avx2
        : run_changes_with<change_mask_sse2>;
#endif

}  // namespace

std::vector<run_changes_variant> run_changes_variants() {
  std::vector<run_changes_variant> variants{{"scalar", run_changes_with<change_mask_scalar>}};
#if defined(__x86_64__)
  variants.push_back({"sse2", run_changes_with<change_mask_sse2>});
  if (best_run_changes == run_changes_avx2) variants.push_back({"avx2", run_changes_avx2});
#endif
  return variants;
}

std::size_t run_changes(const std::uint8_t* row, std::uint32_t begin, std::uint32_t end, std::uint32_t* out) noexcept {
#if defined(__x86_64__)
  return best_run_changes(row, begin, end, out);
#else
  return run_changes_with<change_mask_scalar>(row, begin, end, out);
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
