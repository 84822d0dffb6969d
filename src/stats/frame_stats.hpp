#pragma once
// Per-frame statistics, built from runs of equal ids row by row: pure code, no I/O, no threads.
// Label masks are long runs of one class, so the work per frame is proportional to the number of
// runs, not of pixels (a WoodScape frame: ~1.2 M pixels, a few thousand runs).
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

#include "decode/png_decoder.hpp"

namespace maskscan::detail {

/// Calls f(x0, x1, value) for every maximal run row[x0..x1) of one value, left to right.
template <class T, class F>
void for_each_run(const T* row, std::uint32_t width, F&& f) {
  std::uint32_t start = 0;
  while (start < width) {
    const T value = row[start];
    std::uint32_t x = start + 1;
    if constexpr (sizeof(T) == 1) {
      // Eight ids at a time: XOR with the run's value broadcast; the first non-zero byte ends it.
      const std::uint64_t pattern = 0x0101010101010101ULL * value;
      while (x + 8 <= width) {
        std::uint64_t word;
        std::memcpy(&word, row + x, 8);
        if (const std::uint64_t diff = word ^ pattern) {
          x += static_cast<std::uint32_t>(std::countr_zero(diff)) / 8;  // little-endian: lowest byte first
          break;  // row[x] != value now, so the loop below stops at once
        }
        x += 8;
      }
    }
    while (x < width && row[x] == value) ++x;
    f(start, x, static_cast<std::uint32_t>(value));
    start = x;
  }
}

/// Pixel counts of one frame per value, split into classes, ignored and out-of-range values.
class frame_counter {
 public:
  frame_counter(std::size_t classes, std::vector<std::uint32_t> ignore);
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
  std::vector<std::uint32_t> ignore_;  // sorted
  std::uint32_t width_ = 0, height_ = 0;
  std::vector<std::uint64_t> histogram_;  // 65536 entries: any 8- or 16-bit id
  std::vector<std::uint32_t> touched_;    // values with a non-zero count, to reset only those
};

/// Per-class heatmaps of every resolution seen, kept as run-length difference arrays: a run of
/// class c on row y over [x0, x1) costs +1 at x0 and -1 at x1 (mod 2^32, exact as long as a count
/// fits in 32 bits); take() turns them into counts with one prefix sum per row.
class heatmap_accumulator {
 public:
  heatmap_accumulator(std::size_t classes, const std::vector<std::uint32_t>& ignore);
  void begin(std::uint32_t width, std::uint32_t height);
  void add_run(std::uint32_t y, std::uint32_t x0, std::uint32_t x1, std::uint32_t value) {
    if (value >= classes_ || !counted_[value]) return;
    std::uint32_t* d = current_->diff.data() + (std::size_t{value} * current_->height + y) * (current_->width + 1);
    ++d[x0];
    --d[x1];
  }
  /// The accumulated heatmaps as counts; the accumulator is empty afterwards.
  std::map<resolution, heatmap_set> take();

 private:
  struct diff_set {
    std::uint32_t width = 0, height = 0;
    std::uint64_t frames = 0;
    std::vector<std::uint32_t> diff;  // classes x height x (width + 1)
  };
  std::size_t classes_;
  std::vector<bool> counted_;  // per class id: not ignore-listed
  std::map<resolution, diff_set> sets_;
  diff_set* current_ = nullptr;
};

/// Feeds a decoded plane to a counter and (optionally) heatmaps, row by row.
void accumulate_plane(const label_plane& plane, frame_counter& counter, heatmap_accumulator* heat);

/// Adds every heatmap set of `from` into `into` (sets of a new resolution are moved over).
/// Throws std::invalid_argument if two sets of one resolution differ in class count.
void add_heatmaps(std::map<resolution, heatmap_set>& into, std::map<resolution, heatmap_set> from);

}  // namespace maskscan::detail
