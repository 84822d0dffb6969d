#include "pipeline/frame_processor.hpp"

#include <chrono>

#include "stats/frame_stats.hpp"

namespace maskscan::detail {

frame_processor::frame_processor(const scan_options& options)
    : classes_(options.class_names.size()),
      ignore_(options.ignore),
      heatmaps_enabled_(options.heatmaps) {
  limits_.max_pixels = options.max_pixels;
}

frame_outcome frame_processor::process(std::span<const std::byte> bytes, const std::string& name) {
  diagnostics diag;
  if (const auto ec = decode_png(bytes, limits_, plane_, diag))
    return file_error{name, static_cast<errc>(ec.value()), std::move(diag.message)};
  auto row = count_frame(plane_, name, classes_, ignore_, histogram_);
  if (heatmaps_enabled_) add_to_heatmaps(plane_, classes_, ignore_, heatmaps_);
  return row;
}

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

result_builder::result_builder(const scan_options& options, std::uint64_t frames_total)
    : options_(options),
      stats_(make_stats(options.class_names, options.ignore, options.heatmaps)),
      start_(now_seconds()) {
  progress_.frames_total = frames_total;
}

void result_builder::add(frame_outcome outcome) {
  ++done_;
  if (auto* row = std::get_if<frame_row>(&outcome)) {
    stats_.frames.push_back(std::move(*row));
  } else {
    stats_.errors.push_back(std::move(std::get<file_error>(outcome)));
    ++progress_.frames_skipped;
  }
  if (options_.on_progress) {
    progress_.frames_done = done_;
    progress_.elapsed_seconds = now_seconds() - start_;
    options_.on_progress(progress_);
  }
}

dataset_stats result_builder::finish(std::vector<std::map<resolution, heatmap_set>> worker_heatmaps) {
  for (auto& h : worker_heatmaps) add_heatmaps(stats_.heatmaps, std::move(h));
  normalize(stats_);
  return std::move(stats_);
}

}  // namespace maskscan::detail
