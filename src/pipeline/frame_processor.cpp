#include "pipeline/frame_processor.hpp"

#include <chrono>
#include <cstdint>

#include <fmt/format.h>

#include <maskscan/text.hpp>

#include "core/out_of_memory.hpp"

namespace maskscan::detail {

frame_processor::frame_processor(const scan_options& options, std::size_t groups)
    : frame_processor(detail_share_resolved(options), groups) {}

frame_processor::frame_processor(std::shared_ptr<const resolved_scan> scan, std::size_t groups,
                                 std::shared_ptr<heatmap_store> heatmaps)
    : frame_processor(scan, scan->options(), groups, std::move(heatmaps)) {}

std::shared_ptr<heatmap_store> make_heatmap_store(const scan_options& options, std::size_t groups, std::uint64_t budget,
                                                  std::string budget_note) {
  return std::make_shared<heatmap_store>(options.class_names.size(), classes_from_values(options), groups > 1, budget,
                                         std::move(budget_note));
}

frame_processor::frame_processor(std::shared_ptr<const resolved_scan> scan, const scan_options& options,
                                 std::size_t groups, std::shared_ptr<heatmap_store> heatmaps)
    : heatmaps_enabled_(options.heatmaps),
      from_values_(classes_from_values(options)),
      classes_(options.class_names.size()),
      max_heatmap_bytes_(options.max_heatmap_bytes),
      grid_size_(options.heatmap_grid),
      groups_(std::max<std::size_t>(groups, 1)),
      decoder_(options.decoder),
      scan_(std::move(scan)),
      grouper_(scan_->grouper()),
      lut_(make_value_lut(options.instance_divisor, options.remap)),
      colours_(options.colours),
      counter_(options.class_names.size(), options.ignore, from_values_),
      shares_heatmaps_(heatmaps != nullptr),
      heatmaps_(heatmaps ? std::move(heatmaps) : make_heatmap_store(options, groups), options.ignore) {
  limits_.max_pixels = options.max_pixels;
  if (options.components)
    components_.emplace(options.class_names.size(), options.ignore, options.components, from_values_,
                        options.min_component_pixels);
  if (!options.heatmap_grid.empty())
    grid_.emplace(options.heatmap_grid, options.class_names.size(), options.ignore, from_values_);
}

frame_sinks frame_processor::begin_frame(std::uint32_t width, std::uint32_t height, const std::string& group,
                                         bool use_lut) {
  counter_.begin(width, height);
  heatmap_accumulator* heat = heatmaps_enabled_ ? &heatmaps_ : nullptr;
  if (heat) heat->begin(width, height, group);
  component_counter* components = components_ ? &*components_ : nullptr;
  if (components) components->begin(width, height);
  grid_accumulator* grid = grid_ ? &*grid_ : nullptr;
  if (grid) grid->begin(width, height, group);
  return {counter_, heat, use_lut && !lut_.empty() ? lut_.data() : nullptr, components, grid};
}

namespace {
/// Bytes of the heatmap sets of one frame size for all groups, saturated at 2^64 - 1.
std::uint64_t heatmap_bytes(std::size_t classes, std::uint32_t width, std::uint32_t height,
                            std::size_t groups) noexcept {
  std::uint64_t bytes = std::uint64_t{width} * height;  // < 2^64: both are 32-bit
  for (const std::uint64_t factor :
       {std::uint64_t{classes}, std::uint64_t{sizeof(std::uint32_t)}, std::uint64_t{groups}})
    if (__builtin_mul_overflow(bytes, factor, &bytes)) return UINT64_MAX;
  return bytes;
}
}  // namespace

bool frame_processor::heatmap_too_large(std::uint32_t width, std::uint32_t height, std::size_t classes) const noexcept {
  return heatmaps_enabled_ && heatmap_bytes(classes, width, height, groups_) > max_heatmap_bytes_;
}

file_error frame_processor::heatmap_error(const std::string& name, std::uint32_t width, std::uint32_t height,
                                          std::size_t classes) const {
  return file_error{name, errc::image_too_large,
                    fmt::format("its {}x{} heatmaps for {} classes{}{} would need {} bytes, more than the limit of {} "
                                "(--max-heatmap-bytes); raise it or scan without --heatmaps",
                                width, height, classes, from_values_ ? " (its largest value + 1)" : "",
                                groups_ > 1 ? fmt::format(" in each of {} groups", groups_) : std::string(),
                                heatmap_bytes(classes, width, height, groups_), max_heatmap_bytes_)};
}

bool frame_processor::grid_too_large(std::size_t classes) const noexcept {
  return grid_ && heatmap_bytes(classes, grid_size_.width, grid_size_.height, groups_) > max_heatmap_bytes_;
}

file_error frame_processor::grid_error(const std::string& name, std::size_t classes) const {
  return file_error{
      name, errc::image_too_large,
      fmt::format("the {}x{} heatmap grid for {} classes{}{} would need {} bytes, more than the limit of {} "
                  "(--max-heatmap-bytes); raise it or choose a coarser --heatmap-grid",
                  grid_size_.width, grid_size_.height, classes, from_values_ ? " (its largest value + 1)" : "",
                  groups_ > 1 ? fmt::format(" in each of {} groups", groups_) : std::string(),
                  heatmap_bytes(classes, grid_size_.width, grid_size_.height, groups_), max_heatmap_bytes_)};
}

bool frame_processor::process_fast(std::span<const std::byte> bytes, const std::string& group) {
  std::uint32_t width = 0, height = 0;
  std::optional<frame_sinks> sinks;
  const auto status = decode_png_fast(
      bytes, fast_scratch_,
      [&](std::uint32_t w, std::uint32_t h) {
        width = w;
        height = h;
        // Over a limit: the reference path below reports it.
        return std::uint64_t{w} * h <= limits_.max_pixels && !heatmap_too_large(w, h, classes_);
      },
      [&](std::uint32_t y, std::span<const std::uint8_t> ids) {
        // The fast path validated the whole file before this first row.
        if (y == 0) sinks.emplace(begin_frame(width, height, group, true));
        accumulate_row(y, ids.data(), width, *sinks);
      });
  return status == fast_status::decoded;
}

frame_outcome frame_processor::process(std::span<const std::byte> bytes, const std::string& name,
                                       const file_stamp& stamp) {
  return naming_allocation([&] { return scan_frame(bytes, name, stamp); },
                           [&] {
                             return fmt::format("scanning {} (a {}-byte PNG): its label plane, runs or statistics",
                                                printable_name(name), bytes.size());
                           });
}

frame_outcome frame_processor::scan_frame(std::span<const std::byte> bytes, const std::string& name,
                                          const file_stamp& stamp) {
  // The grid's size does not depend on the frame: with a class map, over the limit is known now.
  if (!from_values_ && grid_too_large(classes_)) return grid_error(name, classes_);
  const std::string group = grouper_.group_of(name);
  auto finish = [&]() -> frame_outcome {
    frame_row row = counter_.finish(name);
    // From values, a frame's class count is known only now: one over the limit is taken back.
    if (from_values_) {
      const std::size_t classes = row.class_pixels.size();
      const bool heat = heatmap_too_large(row.width, row.height, classes), grid = grid_too_large(classes);
      if (heat || grid) {
        heatmaps_.discard_frame();
        if (grid_) grid_->discard_frame();
        return heat ? heatmap_error(name, row.width, row.height, classes) : grid_error(name, classes);
      }
    }
    // From values: the frame's largest value is charged to the heatmaps' budget now.
    if (from_values_ && heatmaps_enabled_) heatmaps_.reserve(row.class_pixels.size());
    if (grid_) grid_->commit();
    row.group = group;
    row.file_size = stamp.size;
    row.file_mtime_ns = stamp.mtime_ns;
    if (components_) {
      auto& sizes = component_sizes_[group];
      components_->finish(row.instances, sizes);
    }
    return row;
  };
  if (decoder_ != decoder_kind::spng && process_fast(bytes, group)) return finish();
  // Not handled by the fast path (not eligible, or anything wrong with it): the reference decoder
  // gives the authoritative result, or the error with its cause.
  diagnostics diag;
  if (const auto ec = decode_png(bytes, limits_, plane_, diag, colours_))
    return file_error{name, static_cast<errc>(ec.value()), std::move(diag.message)};
  if (decoder_ == decoder_kind::fast)
    return file_error{name, errc::not_fast_decodable,
                      "a valid PNG the fast decoder does not handle (it takes non-interlaced 8-bit gray or "
                      "palette PNGs without ancillary chunks but tRNS); use --decoder auto"};
  if (heatmap_too_large(plane_.width, plane_.height, classes_))
    return heatmap_error(name, plane_.width, plane_.height, classes_);
  // A colour plane holds table values already: no divisor or remap. Its unknown-colour marker is
  // not a class (it is >= 65535 > any class id the table may hold), so heatmaps and components skip
  // it; the counter sees it as a value of its own, which is replaced by the colours it stands for.
  accumulate_plane(plane_, begin_frame(plane_.width, plane_.height, group, !plane_.from_colours));
  frame_outcome outcome = finish();
  auto* done = std::get_if<frame_row>(&outcome);
  if (!done) return outcome;
  frame_row& row = *done;
  if (plane_.from_colours) {
    const auto is_marker = [](const value_pixels& v) { return v.value == unknown_colour_marker; };
    std::erase_if(row.out_of_range, is_marker);
    std::erase_if(row.ignored, is_marker);
    row.unknown_colours = plane_.unknown_colours;
  }
  return row;
}

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

result_builder::result_builder(std::shared_ptr<const resolved_scan> scan, std::uint64_t frames_total)
    : scan_(std::move(scan)),
      options_(scan_->options()),
      grouper_(scan_->grouper()),
      stats_(make_stats(scan_->meaning())),
      frames_total_(frames_total),
      start_(now_seconds()) {
  // One row per frame, allocated once: a vector growing by doubling holds the old rows and twice
  // their room at once while it moves them. With a bound, room for what it holds.
  check_spill_directory({options_.max_row_memory, options_.spill_directory});
  stats_.frames.spill_beyond({options_.max_row_memory, options_.spill_directory});
  naming_allocation([&] { stats_.frames.reserve(frames_total); },
                    [&] { return fmt::format("the per-frame rows of the scan ({} frames)", frames_total); });
}

scan_progress result_builder::progress() const { return {done_, skipped_, frames_total_, now_seconds() - start_}; }

void result_builder::add(frame_outcome outcome) {
  naming_allocation(
      [&] {
        if (auto* row = std::get_if<frame_row>(&outcome)) {
          stats_.frames.push_back(std::move(*row));
        } else {
          auto& error = std::get<file_error>(outcome);
          error.group = grouper_.group_of(error.path);
          if (options_.stop_on_error && stopped_at_.empty()) stopped_at_ = error.path;
          stats_.errors.push_back(std::move(error));
          ++skipped_;
        }
      },
      [&] { return fmt::format("the per-frame rows of the scan ({} frames so far)", done_); });
  ++done_;
}

dataset_stats result_builder::finish(std::vector<worker_totals> workers) {
  const auto n = workers.size();
  return naming_allocation(
      [&] { return add_up(std::move(workers)); },
      [&] { return fmt::format("the scan's totals: the heatmaps and component sizes of {} workers added up", n); });
}

dataset_stats result_builder::add_up(std::vector<worker_totals> workers) {
  if (stats_.classes_from_values) {  // every row, set and histogram to the class count of the largest value
    std::size_t classes = classes_needed(stats_);
    for (const auto& w : workers)
      classes = std::max({classes, classes_in_sets(w.heatmaps), classes_in_sets(w.grid_heatmaps),
                          classes_in_sizes(w.component_sizes)});
    widen_classes(stats_, classes);
    for (auto& w : workers) {
      widen_heatmaps(w.heatmaps, classes);
      widen_heatmaps(w.grid_heatmaps, classes);
      for (auto& [group, sizes] : w.component_sizes) sizes.resize(classes);
    }
  }
  for (auto& w : workers) {
    add_heatmaps(stats_.heatmaps, std::move(w.heatmaps));
    add_grid_heatmaps(stats_.grid_heatmaps, std::move(w.grid_heatmaps));
    for (const auto& [group, sizes] : w.component_sizes) add_component_sizes(stats_.component_sizes[group], sizes);
  }
  normalize(stats_);
  return std::move(stats_);
}

}  // namespace maskscan::detail
