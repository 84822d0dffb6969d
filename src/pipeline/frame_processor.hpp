#pragma once
// Decode + per-frame statistics for one frame at a time. One instance per worker (or one for the
// serial loop): it owns the reused label plane, the histogram scratch and the worker's batches of
// heatmap runs; the heatmaps themselves are the scan's heatmap_store, shared by its workers (a
// processor without one has a store of its own).
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>

#include <maskscan/grouping.hpp>
#include <maskscan/options.hpp>
#include <maskscan/resolved.hpp>
#include <maskscan/stats.hpp>

#include "decode/fast_png.hpp"
#include "decode/png_decoder.hpp"
#include "io/file_reader.hpp"
#include "stats/frame_stats.hpp"

namespace maskscan::detail {

using frame_outcome = std::variant<frame_row, file_error>;

/// What a worker accumulates beyond the per-frame rows, handed over at the end of a scan.
struct worker_totals {
  std::map<heatmap_key, heatmap_set> heatmaps;
  std::map<std::string, std::vector<size_histogram>> component_sizes;  ///< per group, per class
  std::map<std::string, heatmap_set> grid_heatmaps;                    ///< per group
};

class frame_processor {
 public:
  /// `groups`: how many groups the scan's frames fall into (1 without grouping); each group has
  /// heatmaps of its own, so the heatmap limit is judged on all of them.
  explicit frame_processor(const scan_options& options, std::size_t groups = 1);
  /// The same for a resolved scan, whose grouper the processors of a scan share, and whose
  /// heatmaps are `heatmaps` (make_heatmap_store; null: a store of its own).
  explicit frame_processor(std::shared_ptr<const resolved_scan> scan, std::size_t groups = 1,
                           std::shared_ptr<heatmap_store> heatmaps = nullptr);

  /// The frame's row (with `stamp`, the file as it was read), or why it could not be scanned.
  /// Throws std::system_error(not_enough_memory) naming what did not fit (out_of_memory).
  frame_outcome process(std::span<const std::byte> bytes, const std::string& name, const file_stamp& stamp = {});
  /// The heatmaps and component sizes of the frames processed so far; the processor starts afresh.
  /// With a shared heatmap store, the heatmaps are only flushed into it (take them from the store
  /// once every processor has been taken).
  /// The store of this processor's heatmaps.
  const std::shared_ptr<heatmap_store>& heatmaps() const noexcept { return heatmaps_.store(); }
  worker_totals take() {
    std::map<heatmap_key, heatmap_set> heatmaps;
    if (shares_heatmaps_)
      heatmaps_.flush();
    else
      heatmaps = heatmaps_.take();
    return {std::move(heatmaps), std::exchange(component_sizes_, {}),
            grid_ ? grid_->take() : std::map<std::string, heatmap_set>{}};
  }

 private:
  /// process() without naming the allocation that failed.
  frame_processor(std::shared_ptr<const resolved_scan> scan, const scan_options& options, std::size_t groups,
                  std::shared_ptr<heatmap_store> heatmaps);
  frame_outcome scan_frame(std::span<const std::byte> bytes, const std::string& name, const file_stamp& stamp);
  /// The fast path, fused: rows go to the counter while hot in cache. false: not handled.
  bool process_fast(std::span<const std::byte> bytes, const std::string& group);
  /// The sinks of a frame of `group`, begun (counter, heatmaps, components) for width x height.
  frame_sinks begin_frame(std::uint32_t width, std::uint32_t height, const std::string& group, bool use_lut);
  /// With heatmaps: the bytes one set of width x height needs for `classes`, if over max_heatmap_bytes.
  bool heatmap_too_large(std::uint32_t width, std::uint32_t height, std::size_t classes) const noexcept;
  /// The error of a frame whose heatmaps would be over max_heatmap_bytes.
  file_error heatmap_error(const std::string& name, std::uint32_t width, std::uint32_t height,
                           std::size_t classes) const;
  /// With a heatmap grid: whether its sets (all groups) for `classes` would be over max_heatmap_bytes.
  bool grid_too_large(std::size_t classes) const noexcept;
  file_error grid_error(const std::string& name, std::size_t classes) const;

  bool heatmaps_enabled_;
  bool from_values_;     // the classes are the values: a frame's class count is known once it is counted
  std::size_t classes_;  // from values: 0
  std::uint64_t max_heatmap_bytes_;
  grid_size grid_size_;
  std::size_t groups_;
  decoder_kind decoder_;
  std::shared_ptr<const resolved_scan> scan_;
  const frame_grouper& grouper_;       // scan_'s
  std::vector<std::uint32_t> lut_;     // instance divisor + remap (empty: none)
  std::vector<colour_entry> colours_;  // the colour table of RGB/RGBA masks
  decode_limits limits_;
  fast_png_scratch fast_scratch_;
  label_plane plane_;
  frame_counter counter_;
  bool shares_heatmaps_;
  heatmap_accumulator heatmaps_;
  std::optional<component_counter> components_;
  std::optional<grid_accumulator> grid_;
  std::map<std::string, std::vector<size_histogram>> component_sizes_;
};

/// The heatmap store of a scan whose workers share it: its classes, and `groups` (more than one:
/// the sums of the groups are charged to the budget), `budget` bytes (UINT64_MAX: none) and the
/// words that say where the budget comes from.
std::shared_ptr<heatmap_store> make_heatmap_store(const scan_options& options, std::size_t groups,
                                                  std::uint64_t budget = UINT64_MAX, std::string budget_note = {});

/// Turns frame outcomes, in whatever order they arrive, into the scan's dataset_stats, and
/// counts progress. Used by the coordinator coroutine and by the serial loop alike.
class result_builder {
 public:
  result_builder(std::shared_ptr<const resolved_scan> scan, std::uint64_t frames_total);
  void add(frame_outcome outcome);
  std::uint64_t frames_done() const noexcept { return done_; }
  /// Frames done and skipped so far, and the time since the builder was made.
  scan_progress progress() const;
  /// With stop_on_error: the first file that could not be scanned, in arrival order (else empty).
  const std::string& stopped_at() const noexcept { return stopped_at_; }
  /// Adds the workers' heatmaps and returns the normalized statistics.
  dataset_stats finish(std::vector<worker_totals> workers);

 private:
  dataset_stats add_up(std::vector<worker_totals> workers);
  std::shared_ptr<const resolved_scan> scan_;
  const scan_options& options_;   // scan_'s
  const frame_grouper& grouper_;  // scan_'s
  dataset_stats stats_;
  std::uint64_t frames_total_;
  std::uint64_t skipped_ = 0;
  std::uint64_t done_ = 0;
  std::string stopped_at_;
  double start_;
};

}  // namespace maskscan::detail
