#pragma once
// scan_options::max_memory: what a scan's large allocations will take, estimated before any frame
// is scanned, and the part of the budget that is left to the heatmaps (which heatmap_store keeps).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <maskscan/options.hpp>
#include <maskscan/source.hpp>

namespace maskscan::detail {

/// What the header of a source's first frame says (the sizes of a frame's buffers).
struct frame_probe {
  std::string name;
  std::uint32_t width = 0, height = 0;
  unsigned bits_per_pixel = 8;  ///< of the PNG's samples (all channels)
  std::uint64_t file_bytes = 0;
};

/// The probe of a PNG's bytes (its IHDR), or nullopt if they do not start like a PNG.
std::optional<frame_probe> probe_png(std::span<const std::byte> bytes, std::string name);

struct memory_item {
  std::string what;
  std::uint64_t bytes = 0;
};

struct memory_plan {
  std::vector<memory_item> items;  ///< the estimate, heatmaps last when there are any
  std::uint64_t total = 0;
  /// What the budget leaves to the heatmap sets (UINT64_MAX without a budget).
  std::uint64_t heatmap_allowance = UINT64_MAX;
  /// Where the heatmaps' budget comes from, for a refusal during the scan.
  std::string note;
};

/// The plan of a scan of `frames` frames in `groups` groups (options resolved). Throws an
/// option_error (std::invalid_argument) naming max_memory and every item when the estimate is over
/// it. Without a budget (max_memory 0) the plan is empty and allows everything.
memory_plan plan_memory(const scan_options& options, std::size_t frames, std::size_t groups,
                        const std::optional<frame_probe>& first);

/// plan_memory for a scan of `source`: with a budget, the first frame is read for its header.
memory_plan plan_scan_memory(const frame_source& source, const scan_options& options, std::size_t groups);

}  // namespace maskscan::detail
