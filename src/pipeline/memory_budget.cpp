#include "pipeline/memory_budget.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include <maskscan/grouping.hpp>
#include <maskscan/option_error.hpp>
#include <maskscan/reader.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/stats.hpp>
#include <maskscan/text.hpp>

#include "core/out_of_memory.hpp"
#include "decode/png_bytes.hpp"

namespace maskscan::detail {
namespace {

/// a * b, saturated.
std::uint64_t times(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
std::uint64_t plus(std::uint64_t a, std::uint64_t b) noexcept { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

}  // namespace

std::optional<frame_probe> probe_png(std::span<const std::byte> bytes, std::string name) {
  static constexpr unsigned char signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  // Signature, IHDR's length and type, width, height, bit depth, colour type.
  if (bytes.size() < 26 || std::memcmp(bytes.data(), signature, 8) != 0 || std::memcmp(bytes.data() + 12, "IHDR", 4))
    return std::nullopt;
  frame_probe probe;
  probe.name = std::move(name);
  probe.width = load_be32(bytes.data() + 16);
  probe.height = load_be32(bytes.data() + 20);
  const unsigned depth = std::to_integer<unsigned>(bytes[24]), colour = std::to_integer<unsigned>(bytes[25]);
  const unsigned channels = colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
  probe.bits_per_pixel = depth * channels;
  probe.file_bytes = bytes.size();
  return probe;
}

memory_plan plan_memory(const scan_options& options, std::size_t frames, std::size_t groups,
                        const std::optional<frame_probe>& first) {
  memory_plan plan;
  if (options.max_memory == 0) return plan;
  groups = std::max<std::size_t>(groups, 1);
  const bool from_values = options.class_names.empty();
  // From values the classes are not known yet: the rows are estimated for 16, the heatmaps are
  // charged as frames need them.
  const std::size_t classes = from_values ? 16 : options.class_names.size();
  const unsigned workers = options.serial ? 1 : std::max(options.workers, 1u);
  const auto add = [&](std::string what, std::uint64_t bytes) {
    plan.total = plus(plan.total, bytes);
    plan.items.push_back({std::move(what), bytes});
  };

  // A row: its fixed part, a count per class, its path.
  {
    auto rows = times(frames, sizeof(frame_row) + classes * sizeof(std::uint64_t) + 64);
    if (options.max_row_memory) rows = std::min<std::uint64_t>(rows, options.max_row_memory);  // the rest on disk
    add(fmt::format("the per-frame rows ({} frames)", frames), rows);
  }
  const std::uint64_t histogram = std::uint64_t{1} << 19;  // 65536 counts of 8 bytes
  if (first) {
    const std::uint64_t pixels = times(first->width, first->height);
    const std::uint64_t filtered = filtered_image_bytes(first->width, first->height, first->bits_per_pixel, false);
    const std::uint64_t plane = times(pixels, first->bits_per_pixel > 8 ? 2 : 1);
    const std::uint64_t in_flight = std::max(options.queue_depth, 1u);
    add(fmt::format("the reads in flight ({} of {}, the first file's size)", in_flight, byte_size(first->file_bytes)),
        times(in_flight, first->file_bytes));
    add(fmt::format("the workers' decode buffers ({} x {} for {}x{} frames)", workers,
                    byte_size(plus(histogram, plus(filtered, plane))), first->width, first->height),
        times(workers, plus(histogram, plus(filtered, plane))));
  } else {
    add(fmt::format("the workers' counters ({} x {})", workers, byte_size(histogram)), times(workers, histogram));
  }
  if (!options.heatmap_grid.empty()) {
    const std::uint64_t set = times(times(options.heatmap_grid.width, options.heatmap_grid.height), classes * 4);
    const std::uint64_t sets = times(workers, groups) + (groups > 1 ? 1 : 0);
    add(fmt::format("the heatmap grid's sets ({} x {}: each worker's per group{})", sets, byte_size(set),
                    groups > 1 ? ", and their sum" : ""),
        times(sets, set));
  }
  std::uint64_t heatmaps = 0;
  if (options.heatmaps && first && !from_values) {
    const std::uint64_t set = times(times(first->height, std::uint64_t{first->width} + 1), classes * 4);
    const std::uint64_t sets = groups + (groups > 1 ? 1 : 0);
    heatmaps = times(sets, set);
    add(groups > 1 ? fmt::format("the heatmaps ({} groups' {}x{} sets and their sum: {} x {})", groups, first->width,
                                 first->height, sets, byte_size(set))
                   : fmt::format("the heatmaps (one {}x{} set of {})", first->width, first->height, byte_size(set)),
        heatmaps);
  }
  const std::uint64_t others = plan.total - std::min(plan.total, heatmaps);
  plan.heatmap_allowance = options.max_memory > others ? options.max_memory - others : 0;
  plan.note = fmt::format("--max-memory {} ({} of it for the rows and buffers)", byte_size(options.max_memory),
                          byte_size(others));
  if (plan.total <= options.max_memory) return plan;

  std::string list;
  for (const auto& item : plan.items)
    list += fmt::format("{}{}: {}", list.empty() ? "" : "; ", item.what, byte_size(item.bytes));
  using O = option_error;
  throw O({O::text("the memory budget "), O::name("max_memory"),
           O::text(fmt::format(
               " of {} is less than this scan needs, about {}, estimated from its {} frames{}{}: {}; raise it, or scan "
               "with fewer groups, a heatmap grid instead of full-size heatmaps, or fewer workers or frames in flight",
               byte_size(options.max_memory), byte_size(plan.total), frames,
               groups > 1 ? fmt::format(" in {} groups", groups) : std::string(),
               first ? fmt::format(" and its first frame, {} ({}x{})", printable_name(first->name), first->width,
                                   first->height)
                     : std::string(),
               list))});
}

memory_plan plan_scan_memory(const frame_source& source, const scan_options& options, std::size_t groups) {
  std::optional<frame_probe> first;
  if (options.max_memory != 0 && source.size() != 0) {
    std::vector<std::byte> bytes;
    diagnostics diag;
    frame_version stamp;
    if (!source.store()->read_blocking(source.name(0), bytes, options.max_file_bytes, diag, stamp))
      first = probe_png(bytes, source.name(0));
  }
  return plan_memory(options, source.size(), groups, first);
}

}  // namespace maskscan::detail

namespace maskscan {

void check_memory(const frame_source& source, const scan_options& options) {
  if (options.max_memory == 0) return;
  const scan_options resolved = resolve_defaults(options);
  const frame_source shard = source.shard(resolved.shard);
  (void)detail::plan_scan_memory(shard, resolved, frame_grouper(resolved).count_groups(source));
}

}  // namespace maskscan
