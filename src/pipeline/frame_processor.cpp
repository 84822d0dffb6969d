#include "pipeline/frame_processor.hpp"

#include <chrono>


namespace maskscan::detail {

frame_processor::frame_processor(const scan_options& options)
    : heatmaps_enabled_(options.heatmaps),
      counter_(options.class_names.size(), options.ignore),
      heatmaps_(options.class_names.size(), options.ignore) {
  limits_.max_pixels = options.max_pixels;
}

frame_outcome frame_processor::process(std::span<const std::byte> bytes, const std::string& name) {
  diagnostics diag;
  if (const auto ec = decode_png(bytes, limits_, plane_, diag))
    return file_error{name, static_cast<errc>(ec.value()), std::move(diag.message)};
  accumulate_plane(plane_, counter_, heatmaps_enabled_ ? &heatmaps_ : nullptr);
  return counter_.finish(name);
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
