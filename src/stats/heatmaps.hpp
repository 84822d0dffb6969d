#pragma once
// Per-class heatmaps of full-size frames: one set of difference arrays per (group, frame size) for
// the whole scan, shared by its workers, and each worker's front end that batches its frames' runs
// and applies them to the shared sets.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

#include "core/huge_pages.hpp"

namespace maskscan::detail {

/// The heatmaps of one scan as run-length difference arrays: a run of class c on row y over
/// [x0, x1) costs +1 at x0 and -1 at x1 (mod 2^32, exact as long as a count fits in 32 bits);
/// take() turns them into counts with one prefix sum per row.
///
/// Each (group, frame size) has one set, whatever the number of workers: memory is the groups'
/// heatmaps once, not once per worker. Workers write to a set side by side: its rows are split
/// into bands, each behind a mutex, and a worker applies a batch band by band, starting where the
/// others are unlikely to be and taking the free bands first (heatmap_accumulator::flush).
///
/// With a budget (bytes), a set that would take the sets' total over it fails the scan: acquire()
/// throws out_of_memory naming the set and the budget. (Refusing frames instead would
/// make the result depend on which frames came first; whether the sets fit does not.) A grouped
/// scan also charges, per frame size, the set of all groups summed that its outputs will need.
class heatmap_store {
 public:
  struct set {
    set(std::uint32_t w, std::uint32_t h, std::size_t c, zeroed_array<std::uint32_t> d);
    const std::uint32_t width, height;
    const std::uint32_t band_rows;  ///< rows per band (the last band may have fewer)
    std::atomic<std::uint64_t> frames{0};
    /// Shared while runs are applied, exclusive while the set grows to more classes.
    std::shared_mutex layout;
    std::size_t classes;                  ///< in diff (guarded by layout)
    zeroed_array<std::uint32_t> diff;     ///< height x classes x (width + 1)
    std::unique_ptr<std::mutex[]> bands;  ///< one per band of rows
    std::size_t band_count() const noexcept { return (height + band_rows - 1) / band_rows; }
    std::size_t reserved = 0;  ///< classes the budget has granted (guarded by the store's mutex)
  };

  /// `classes` of the class map; `from_values`: sets start with no class and grow to what their
  /// frames' largest values need. `grouped`: the scan has more than one group (sums are charged).
  /// `budget`: bytes the sets may take in all (UINT64_MAX: no budget); `budget_note` says where it
  /// comes from in a refusal ("--max-memory 300.0 MB").
  heatmap_store(std::size_t classes, bool from_values, bool grouped = false, std::uint64_t budget = UINT64_MAX,
                std::string budget_note = {});

  /// The set of `key`, made if new, with room granted for `classes` (from values: a frame's largest
  /// value + 1, or 0; a set that exists is granted more room as its frames need it). Throws
  /// out_of_memory naming the set if the budget cannot take it or its memory cannot be had.
  set* acquire(const heatmap_key& key, std::size_t classes);
  /// The class ids a set may hold (from values: every 16-bit value), and whether they are values.
  std::size_t classes() const noexcept { return classes_; }
  bool from_values() const noexcept { return from_values_; }
  /// Grows `s` to `classes` (the caller holds s.layout exclusively).
  static void grow(set& s, std::size_t classes);
  /// A worker's place to start among a set's bands, spread so that workers seldom meet.
  std::size_t next_start() noexcept { return starts_.fetch_add(1, std::memory_order_relaxed); }

  /// The heatmaps as counts (every worker has flushed); the store is empty afterwards.
  std::map<heatmap_key, heatmap_set> take();

 private:
  static std::uint64_t set_bytes(const heatmap_key& key, std::size_t classes) noexcept;
  /// The budget's charge with sets at `classes` (the mutex held): sets plus, grouped, a sum per size.
  std::uint64_t charge_with(const heatmap_key& key, std::size_t classes) const;
  void check_budget(const heatmap_key& key, std::size_t classes) const;  // throws if over, the mutex held

  std::size_t classes_;
  bool from_values_, grouped_;
  std::uint64_t budget_;
  std::string budget_note_;
  std::mutex mutex_;  // sets_ (its nodes are stable) and every set's `reserved`
  std::map<heatmap_key, set> sets_;
  std::atomic<std::size_t> starts_{0};
};

/// A worker's heatmaps: the runs of its frames, batched per set and applied to the scan's shared
/// heatmap_store.
///
/// Memory traffic is the cost: a set is ~50 MB, and a frame's ~10^4 updates are scattered over all
/// of it. So (measured, each about halving the heatmap cost) the arrays live on transparent huge
/// pages (no TLB miss per update), are laid out (y, class, x) so that one frame row's updates fall
/// within a few KB, and runs are buffered for a batch of frames and applied row by row across the
/// batch: a frame row's window is then fetched once per batch, not per frame. Each set has its own
/// batch, so frames of interleaved groups still batch.
class heatmap_accumulator {
 public:
  /// A worker of a scan whose sets are `store`'s.
  heatmap_accumulator(std::shared_ptr<heatmap_store> store, const std::vector<std::uint32_t>& ignore);
  /// On its own (a store of its own, no budget). `from_values` (classes from values, `classes`
  /// ignored): each set holds as many classes as the largest value of its frames needs (take()
  /// then gives sets of different class counts: widen them to one, see widen_heatmaps).
  heatmap_accumulator(std::size_t classes, const std::vector<std::uint32_t>& ignore, bool from_values = false);

  /// Starts a frame of `group` ("" without grouping): each group has its own heatmaps. Throws
  /// out_of_memory (the store's) if a new set does not fit.
  void begin(std::uint32_t width, std::uint32_t height, const std::string& group = {});
  void add_run(std::uint32_t y, std::uint32_t x0, std::uint32_t x1, std::uint32_t value) {
    if (value < classes_ && counted_[value]) current_->runs.push_back({y, x0, x1, value});
  }
  /// Classes from values: grants the frame begun last room for `classes` (its largest value + 1);
  /// throws out_of_memory (the store's) if the budget cannot.
  void reserve(std::size_t classes);
  /// Takes back the frame begun last (its runs are dropped, it is not counted).
  void discard_frame();
  /// Applies every buffered run to the store: this worker's part is in it.
  void flush();
  /// flush(), then the store's heatmaps as counts (for an accumulator on its own, or the last
  /// user of a store); the store is empty afterwards.
  std::map<heatmap_key, heatmap_set> take();
  const std::shared_ptr<heatmap_store>& store() const noexcept { return store_; }

 private:
  struct run {
    std::uint32_t y, x0, x1, value;
  };
  struct batch {
    heatmap_store::set* set = nullptr;
    std::size_t granted = 0;               // classes the store has granted this worker's frames
    std::uint64_t frames = 0;              // begun and not discarded, not yet added to the set
    std::vector<run> runs;                 // the batch's runs, frame after frame, rows in order
    std::vector<std::size_t> frame_start;  // index in runs where each frame of the batch starts
  };
  static constexpr std::size_t batch_frames = 16;
  void flush(batch& b);  // applies the batch's runs to its set, band by band

  std::shared_ptr<heatmap_store> store_;
  std::size_t classes_;
  bool from_values_;
  std::vector<bool> counted_;  // per class id: not ignore-listed
  std::map<heatmap_key, batch> batches_;
  batch* current_ = nullptr;
  const heatmap_key* current_key_ = nullptr;
  std::size_t start_;                 // this worker's first band, as a fraction of the bands (see flush)
  std::vector<std::size_t> cursors_;  // flush's scratch: where each frame's runs of each band start
  std::vector<std::uint8_t> done_;    // flush's scratch: bands applied
};

}  // namespace maskscan::detail
