#pragma once
// The pictures of a scan: heatmap images, class charts, sample overlays, and one self-contained
// report.html that shows them with every table (docs/report.md).
#include <cstddef>
#include <filesystem>
#include <string>

#include <maskscan/balance.hpp>
#include <maskscan/compute_pool.hpp>
#include <maskscan/scan.hpp>

namespace maskscan {

/// The perceptual colour map of heatmap images (matplotlib's data).
enum class heatmap_colormap { viridis, magma };

struct report_options {
  heatmap_colormap colormap = heatmap_colormap::viridis;
  /// RGB frames for sample overlays, same relative names as the masks. Empty: looked for beside
  /// the masks in WoodScape's layout (rgb_images/ next to semantic_annotations/gtLabels/).
  std::filesystem::path rgb_dir;
  std::size_t overlays = 4;    ///< sample overlays in the report (0: none)
  double overlay_alpha = 0.5;  ///< mask opacity over the RGB frame, in [0, 1]
  std::string command_line;    ///< shown under "Run" (the CLI passes its argv)
  /// Non-empty: RGB frames are used only where they resolve, symlinks followed, inside this folder
  /// (a service's root); a folder found beside the masks is used only if it lies inside it.
  std::filesystem::path confine_rgb_to;
  /// The statistics were merged from state files (maskscan merge): there is no scan whose timing,
  /// concurrency and limits the report could show, and no masks to overlay.
  bool merged = false;
};

/// Writes `dir/report.html`, one file with every image embedded (no network needed), and the
/// same pictures as files under `dir/images/`: class_distribution.svg, class_distribution_log.svg,
/// class_weights.svg; heatmaps/<W>x<H>/<id>_<class>.png and grid.png per resolution (with groups
/// also heatmaps/<group>/<W>x<H>/), and overlays/ when RGB frames were found. Returns the path of
/// report.html. Throws std::invalid_argument for bad options, std::runtime_error naming the file
/// that could not be written. The report of a partial scan says so at the top.
///
/// The pictures are drawn, encoded and written in parallel, each once (the page embeds the bytes
/// of the file), on `result.options.workers` threads but at most one per hardware thread, the calling
/// thread one of them and the others started for the report and ended before it returns. The
/// files and the page are the same byte for byte whatever the number of threads.
std::filesystem::path write_report(const scan_result& result, const std::filesystem::path& dir,
                                   const balance_options& balance = {}, const report_options& options = {});

/// write_report drawing on the threads of `pool` (shared with scans and other reports) and the
/// calling thread, which draws the pictures no thread of the pool has started, in order: so it may
/// itself be a thread of the pool. Returns once every picture is written; nothing is left on the pool.
std::filesystem::path write_report(const scan_result& result, const std::filesystem::path& dir,
                                   const balance_options& balance, const report_options& options, compute_pool& pool);

/// write_outputs(result, dir, balance), then write_report(result, dir, balance, options): the same
/// files, with the groups of a grouped scan summed once for both instead of once by each (ungroup:
/// with heatmaps, a set of counts per frame size to allocate and add up). Bad options are refused
/// before anything is written. Returns the path of report.html.
std::filesystem::path write_outputs_and_report(const scan_result& result, const std::filesystem::path& dir,
                                               const balance_options& balance = {}, const report_options& options = {});

}  // namespace maskscan
