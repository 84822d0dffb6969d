#include "stats/heatmaps.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include <maskscan/text.hpp>

#include "core/out_of_memory.hpp"
#include "stats/frame_stats.hpp"

namespace maskscan::detail {
namespace {

using diff_vector = zeroed_array<std::uint32_t>;

/// About 32 bands a set: few enough that a batch takes few locks, enough that two workers seldom
/// want the same band at once.
constexpr std::uint32_t target_bands = 32;

/// How many runs ahead flush asks for a run's two counters. A batch's updates miss the cache (a set
/// is ~50 MB, a row's window ~50 KB, 16 frames' runs scattered over it); asking early keeps more
/// misses in flight. 16 measured best of 8/16/32 (maskscan_floor: the heatmap cost -15-20%).
constexpr std::size_t prefetch_distance = 16;

std::string set_name(const heatmap_key& key, std::size_t classes) {
  return fmt::format("the {}x{} heatmaps{} of {} classes", key.width, key.height,
                     key.group.empty() ? "" : fmt::format(" of group '{}'", printable_name(key.group)), classes);
}

}  // namespace

heatmap_store::set::set(std::uint32_t w, std::uint32_t h, std::size_t c, diff_vector d)
    : width(w),
      height(h),
      band_rows(std::max<std::uint32_t>(1, (h + target_bands - 1) / target_bands)),
      classes(c),
      diff(std::move(d)),
      bands(std::make_unique<std::mutex[]>(band_count())) {}

heatmap_store::heatmap_store(std::size_t classes, bool from_values, bool grouped, std::uint64_t budget,
                             std::string budget_note)
    : classes_(from_values ? value_classes : classes),
      from_values_(from_values),
      grouped_(grouped),
      budget_(budget),
      budget_note_(std::move(budget_note)) {}

std::uint64_t heatmap_store::set_bytes(const heatmap_key& key, std::size_t classes) noexcept {
  std::uint64_t bytes = std::uint64_t{key.height} * (std::uint64_t{key.width} + 1);
  for (const std::uint64_t factor : {std::uint64_t{classes}, std::uint64_t{sizeof(std::uint32_t)}})
    if (__builtin_mul_overflow(bytes, factor, &bytes)) return UINT64_MAX;
  return bytes;
}

std::uint64_t heatmap_store::charge_with(const heatmap_key& key, std::size_t classes) const {
  // Per frame size, grouped: the widest set of that size once more, for the sum of the groups.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> widest;
  std::uint64_t total = 0;
  const auto add = [&](const heatmap_key& k, std::size_t c) {
    const std::uint64_t bytes = set_bytes(k, c);
    total = bytes > UINT64_MAX - total ? UINT64_MAX : total + bytes;
    auto& w = widest[{k.width, k.height}];
    w = std::max(w, bytes);
  };
  bool counted = false;
  for (const auto& [k, s] : sets_) {
    const bool this_one = k == key;
    counted = counted || this_one;
    add(k, this_one ? std::max(s.reserved, classes) : s.reserved);
  }
  if (!counted) add(key, classes);
  if (grouped_)
    for (const auto& [size, bytes] : widest) total = bytes > UINT64_MAX - total ? UINT64_MAX : total + bytes;
  return total;
}

void heatmap_store::check_budget(const heatmap_key& key, std::size_t classes) const {
  const std::uint64_t bytes = charge_with(key, classes);
  if (bytes <= budget_) return;
  throw out_of_memory(fmt::format(
      "{} within {}: with them the heatmaps would take {} bytes{}, more than the {} bytes left to them; raise "
      "--max-memory, or scan with fewer groups or a --heatmap-grid",
      set_name(key, classes), budget_note_, bytes,
      grouped_ ? " (each group's sets, and per frame size the sum of the groups that the outputs need)" : "", budget_));
}

heatmap_store::set* heatmap_store::acquire(const heatmap_key& key, std::size_t classes) {
  if (!from_values_) classes = classes_;  // a class map's sets have all its classes from the start
  const std::lock_guard lock(mutex_);
  if (const auto it = sets_.find(key); it != sets_.end()) {
    set& s = it->second;
    if (classes > s.reserved) {
      check_budget(key, classes);
      s.reserved = classes;
    }
    return &s;
  }
  check_budget(key, classes);
  // The set is made whole before it enters the map: if its memory cannot be had, nothing is left
  // half-made for a later frame (or take()) to trip over. From values: no class yet; a flush grows
  // the set to what its runs need.
  const std::size_t made = from_values_ ? 0 : classes_;
  const std::size_t values = made * key.height * (std::size_t{key.width} + 1);
  diff_vector diff =
      naming_allocation([&] { return diff_vector(values); },
                        [&] {
                          return fmt::format("{} ({}; one set per frame size and group)", set_name(key, made),
                                             byte_size(values * sizeof(std::uint32_t)));
                        });
  set& s = sets_
               .emplace(std::piecewise_construct, std::forward_as_tuple(key),
                        std::forward_as_tuple(key.width, key.height, made, std::move(diff)))
               .first->second;
  s.reserved = std::max(made, classes);
  return &s;
}

void heatmap_store::grow(set& s, std::size_t classes) {
  const std::size_t stride = std::size_t{s.width} + 1, old_row = s.classes * stride, new_row = classes * stride;
  auto diff = naming_allocation([&] { return diff_vector(new_row * s.height); },
                                [&] {
                                  return fmt::format("the {}x{} heatmaps of {} classes ({})", s.width, s.height,
                                                     classes, byte_size(new_row * s.height * sizeof(std::uint32_t)));
                                });
  for (std::size_t y = 0; y < s.height; ++y)
    std::copy_n(s.diff.data() + y * old_row, old_row, diff.data() + y * new_row);
  s.diff = std::move(diff);
  s.classes = classes;
}

namespace {

/// The counts of a set, in heatmap_set's order (class, y, x), read off its differences (y, class,
/// x) by a prefix sum per row as they are asked for, so that the counts are written once, not zeroed
/// first. A random-access iterator only in what std::vector::assign asks of it: the distance,
/// and a pass in order (a value is right only after the one before it in its row was read).
class counts_iterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = std::uint32_t;
  using difference_type = std::ptrdiff_t;
  using pointer = const std::uint32_t*;
  using reference = std::uint32_t;

  counts_iterator(const std::uint32_t* diff, std::size_t width, std::size_t height, std::size_t classes,
                  std::size_t index)
      : diff_(diff), width_(width), height_(height), classes_(classes) {
    seek(index);
  }
  std::uint32_t operator*() const {
    // A new row starts its sum; within a row each value adds its difference to the one before.
    sum_ = x_ == 0 ? row_[0] : sum_ + row_[x_];
    return sum_;
  }
  counts_iterator& operator++() {
    ++index_;
    if (++x_ == width_) {
      x_ = 0;
      if (++y_ == height_) y_ = 0, ++c_;
      row_ = diff_ + (y_ * classes_ + c_) * (width_ + 1);
    }
    return *this;
  }
  counts_iterator operator++(int) {
    auto old = *this;
    ++*this;
    return old;
  }
  counts_iterator& operator--() {
    seek(index_ - 1);
    return *this;
  }
  counts_iterator& operator+=(difference_type n) {
    seek(static_cast<std::size_t>(static_cast<difference_type>(index_) + n));
    return *this;
  }
  friend difference_type operator-(const counts_iterator& a, const counts_iterator& b) {
    return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
  }
  friend bool operator==(const counts_iterator& a, const counts_iterator& b) { return a.index_ == b.index_; }

 private:
  void seek(std::size_t index) {
    index_ = index;
    x_ = index % width_;
    y_ = index / width_ % height_;
    c_ = index / width_ / height_;
    row_ = diff_ + (y_ * classes_ + c_) * (width_ + 1);
  }
  const std::uint32_t* diff_;
  std::size_t width_, height_, classes_;
  std::size_t index_ = 0, x_ = 0, y_ = 0, c_ = 0;
  const std::uint32_t* row_ = nullptr;
  mutable std::uint32_t sum_ = 0;
};

}  // namespace

std::map<heatmap_key, heatmap_set> heatmap_store::take() {
  const std::lock_guard lock(mutex_);
  std::map<heatmap_key, heatmap_set> out;
  for (auto it = sets_.begin(); it != sets_.end(); it = sets_.erase(it)) {
    const heatmap_key& key = it->first;  // not a structured binding: clang 14 (fuzz/) cannot capture one
    set& s = it->second;
    const std::size_t w = s.width, h = s.height, classes = s.classes, n = classes * h * w;
    heatmap_set heat;
    heat.width = s.width;
    heat.height = s.height;
    heat.frames = s.frames.load();
    naming_allocation(
        [&] {
          if (n)
            assign_on_huge_pages(heat.counts, counts_iterator(s.diff.data(), w, h, classes, 0),
                                 counts_iterator(s.diff.data(), w, h, classes, n), n);
        },
        [&] {
          return fmt::format("the {}x{} heatmap counts of {} classes ({})", w, h, classes,
                             byte_size(n * sizeof(std::uint32_t)));
        });
    out.emplace(key, std::move(heat));  // the set's differences are freed before the next set's counts are made
  }
  return out;
}

heatmap_accumulator::heatmap_accumulator(std::shared_ptr<heatmap_store> store, const std::vector<std::uint32_t>& ignore)
    : store_(std::move(store)),
      classes_(store_->classes()),
      from_values_(store_->from_values()),
      counted_(classes_, true),
      start_(store_->next_start()) {
  for (const auto v : ignore)
    if (v < classes_) counted_[v] = false;
}

heatmap_accumulator::heatmap_accumulator(std::size_t classes, const std::vector<std::uint32_t>& ignore,
                                         bool from_values)
    : heatmap_accumulator(std::make_shared<heatmap_store>(classes, from_values), ignore) {}

void heatmap_accumulator::begin(std::uint32_t width, std::uint32_t height, const std::string& group) {
  const bool same =
      current_ && current_key_->width == width && current_key_->height == height && current_key_->group == group;
  if (!same) {
    current_ = nullptr;  // until the set is had: after a failure, no run goes to another frame's set
    current_key_ = nullptr;
    heatmap_key key{group, width, height};
    auto it = batches_.find(key);
    if (it == batches_.end()) {
      heatmap_store::set* set = store_->acquire(key, 0);
      it = batches_.emplace(std::move(key), batch{}).first;
      it->second.set = set;
    }
    current_key_ = &it->first;
    current_ = &it->second;
  }
  if (current_->frame_start.size() == batch_frames) flush(*current_);
  current_->frame_start.push_back(current_->runs.size());
  ++current_->frames;
}

void heatmap_accumulator::reserve(std::size_t classes) {
  if (classes <= current_->granted) return;  // without asking the store (and taking its mutex) each frame
  store_->acquire(*current_key_, classes);   // the set exists: only the room it is granted grows
  current_->granted = classes;
}

void heatmap_accumulator::discard_frame() {
  if (!current_ || current_->frame_start.empty()) return;
  current_->runs.resize(current_->frame_start.back());
  current_->frame_start.pop_back();
  --current_->frames;
}

void heatmap_accumulator::flush(batch& b) {
  heatmap_store::set& set = *b.set;
  set.frames.fetch_add(std::exchange(b.frames, 0), std::memory_order_relaxed);
  if (b.frame_start.empty()) return;
  const auto& runs = b.runs;
  std::shared_lock layout(set.layout);
  if (from_values_) {
    std::size_t needed = 0;
    for (const auto& r : runs) needed = std::max<std::size_t>(needed, std::size_t{r.value} + 1);
    if (needed > set.classes) {
      layout.unlock();
      {
        const std::unique_lock grow(set.layout);
        if (needed > set.classes) heatmap_store::grow(set, needed);
      }
      layout.lock();
    }
  }
  const std::size_t classes = set.classes, stride = std::size_t{set.width} + 1;
  const std::size_t frames = b.frame_start.size(), bands = set.band_count(), band_rows = set.band_rows;
  b.frame_start.push_back(runs.size());
  // cursors_[f * (bands + 1) + k]: the first run of frame f on a row of band k or later.
  cursors_.resize(frames * (bands + 1));
  for (std::size_t f = 0; f < frames; ++f) {
    std::size_t i = b.frame_start[f];
    const std::size_t end = b.frame_start[f + 1];
    for (std::size_t k = 0; k <= bands; ++k) {
      while (i < end && runs[i].y < k * band_rows) ++i;
      cursors_[f * (bands + 1) + k] = i;
    }
  }
  const auto apply = [&](std::size_t k) {
    const std::uint32_t y0 = static_cast<std::uint32_t>(k * band_rows);
    const std::uint32_t y1 = static_cast<std::uint32_t>(std::min<std::size_t>(set.height, (k + 1) * band_rows));
    for (std::uint32_t y = y0; y < y1; ++y) {
      std::uint32_t* row = set.diff.data() + std::size_t{y} * classes * stride;
      for (std::size_t f = 0; f < frames; ++f) {
        std::size_t& i = cursors_[f * (bands + 1) + k];
        const std::size_t end = cursors_[f * (bands + 1) + k + 1];
        for (; i < end && runs[i].y == y; ++i) {
          if (i + prefetch_distance < end) {
            const run& ahead = runs[i + prefetch_distance];
            const std::uint32_t* a = set.diff.data() + (std::size_t{ahead.y} * classes + ahead.value) * stride;
            __builtin_prefetch(a + ahead.x0, 1);
            __builtin_prefetch(a + ahead.x1, 1);
          }
          std::uint32_t* d = row + runs[i].value * stride;
          ++d[runs[i].x0];
          --d[runs[i].x1];
        }
      }
    }
  };
  // Workers start at different bands (spread by the golden ratio) and take the free bands first;
  // the bands another worker holds are waited for at the end.
  const std::size_t first = static_cast<std::size_t>(static_cast<double>(start_) * 0.6180339887 * bands) % bands;
  done_.assign(bands, 0);
  std::size_t left = bands;
  for (std::size_t n = 0; n < bands; ++n) {
    const std::size_t k = (first + n) % bands;
    std::unique_lock band(set.bands[k], std::try_to_lock);
    if (!band) continue;
    apply(k);
    done_[k] = 1;
    --left;
  }
  for (std::size_t n = 0; left && n < bands; ++n) {
    const std::size_t k = (first + n) % bands;
    if (done_[k]) continue;
    const std::lock_guard band(set.bands[k]);
    apply(k);
    --left;
  }
  b.runs.clear();
  b.frame_start.clear();
}

void heatmap_accumulator::flush() {
  for (auto& [key, b] : batches_) flush(b);
}

std::map<heatmap_key, heatmap_set> heatmap_accumulator::take() {
  flush();
  batches_.clear();
  current_ = nullptr;
  current_key_ = nullptr;
  return store_->take();
}

}  // namespace maskscan::detail
