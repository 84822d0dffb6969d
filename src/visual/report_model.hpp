#pragma once
// What report.html shows, as numbers and names: computed from the statistics and options alone (no
// files, no HTML), so that every figure of the page can be tested without writing a report.
// report.cpp renders it.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <maskscan/balance.hpp>
#include <maskscan/report.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/stats.hpp>

namespace maskscan::detail {

/// Above this many classes, the report leaves out the per-class charts and heatmap images (their
/// size grows with the classes: 65,536 classes would make gigabytes) and lists present classes only.
inline constexpr std::size_t report_class_limit = 256;
/// Heatmap images are made for this many frame sizes at most, the most common ones.
inline constexpr std::size_t heatmap_sizes_shown = 4;
/// Classes shown at most in the co-occurrence table (the most frequent ones).
inline constexpr std::size_t cooccurrence_classes_shown = 30;
/// Above this many classes the co-occurrence table is left out.
inline constexpr std::size_t cooccurrence_class_limit = 1024;
/// Skipped files listed at most (all of them are in summary.json).
inline constexpr std::size_t skipped_files_listed = 500;

/// One row of a class table: an ignored id shows what its value holds, and no share.
struct report_class_row {
  std::uint32_t id = 0;
  std::string name;
  bool ignored = false;
  std::uint64_t pixels = 0;
  std::uint64_t frames_present = 0;
  double share = 0;         ///< of the labelled pixels (0 for an ignored id)
  double frames_share = 0;  ///< of the frames scanned
  double bar = 0;           ///< the share bar's width in px (0 to 160, at least 1 for a class with pixels)
};

struct report_class_table {
  std::vector<report_class_row> rows;
  /// Above report_class_limit classes only the present ones are listed; the number of classes.
  bool present_only = false;
  std::size_t classes = 0;
};

/// The class table of `stats` (whose totals are `totals`).
report_class_table class_table_of(const dataset_stats& stats, const dataset_totals& totals);

/// The most common class against the rarest present one (none if fewer than two are present).
struct report_imbalance {
  double ratio = 0;
  std::string most, least;
};

/// The cards at the top of the page.
struct report_headline {
  std::uint64_t frames = 0;
  std::uint64_t skipped = 0;
  double skipped_share = 0;  ///< of the frames in the source
  std::size_t classes_present = 0;
  std::size_t classes = 0;
  std::uint64_t labelled_pixels = 0;
  std::optional<report_imbalance> imbalance;
};

/// Frame sizes (width, height) and how many frames have each.
using frame_size_counts = std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t>;
frame_size_counts frame_sizes(const dataset_stats& stats);

bool is_ignored(const dataset_stats& stats, std::uint32_t id);

/// The heatmap sets of `group`'s most common frame sizes (at most heatmap_sizes_shown), most frames
/// first. Pointers into `stats`.
std::vector<const heatmap_set*> most_common_sizes(const dataset_stats& stats, const std::string& group = {});

/// A grid set is drawn zoomed by a whole factor to at least 256 px wide (each cell a square of
/// pixels), as long as its longer side stays within 1024 px.
std::uint32_t grid_zoom(const heatmap_set& grid);

/// The co-occurrence table: the classes present in the most frames, in id order.
struct report_cooccurrence {
  std::vector<std::uint32_t> shown;
  bool cut = false;                                ///< more classes are present than shown
  bool too_many_classes = false;                   ///< above cooccurrence_class_limit: no table
  std::vector<std::vector<std::uint64_t>> matrix;  ///< cooccurrence(overall), when a table is shown
};

/// One method's column of the weights table; `uniform` when every weighted class has the same
/// value (the column then sets no class apart and is left out of the table).
struct report_weight_column {
  const char* header;
  std::optional<double> class_balance::*weight;
  std::optional<double> uniform;
};

/// One group: its totals, table and heatmap sets (pointers into the scan's statistics).
struct report_group {
  std::string name;
  std::string directory;  ///< as write_outputs names groups/<dir>/
  dataset_totals totals;
  report_class_table table;
  frame_size_counts sizes;
  const heatmap_set* grid = nullptr;
  std::vector<const heatmap_set*> size_sets;  ///< empty above report_class_limit classes
};

/// A group's share of a class's pixels and of its frames; none when every file of the group was skipped.
struct report_group_share {
  double pixels = 0;
  double frames = 0;
};
struct report_group_row {
  std::uint32_t id = 0;
  std::string name;
  std::vector<std::optional<report_group_share>> groups;
};

/// Everything report.html shows. Refers to the scan_result it was made from, which must outlive it.
struct report_model {
  const scan_result* result = nullptr;
  const dataset_stats* overall = nullptr;    ///< the scan's statistics, or all groups summed
  std::unique_ptr<dataset_stats> ungrouped;  ///< owns *overall for a grouped scan, unless it was given
  balance_options balance;
  report_options options;

  dataset_totals totals;  ///< of all frames (groups summed): every section reads the same totals
  report_headline headline;
  frame_size_counts sizes;
  report_class_table classes;

  const heatmap_set* grid = nullptr;  ///< the overall grid set, if any
  std::vector<const heatmap_set*> size_sets;

  std::vector<class_balance> weights;
  std::vector<report_weight_column> weight_columns;

  report_cooccurrence cooccurrence;
  std::vector<component_summary> components;  ///< with components counted

  std::vector<report_group> groups;
  std::vector<report_group_row> group_rows;

  /// Frames handled per second of wall time (scanned and skipped); none for merged statistics or no time.
  std::optional<double> frames_per_second;
  /// The Run section: what produced the statistics, as (what, value) text.
  std::vector<std::pair<std::string, std::string>> run;
};

/// The model of `result`'s report. Throws std::invalid_argument for bad balance options. A grouped
/// scan's groups are summed into the model, unless `summed` has them (ungroup(result.stats), which
/// then must outlive the model).
report_model make_report_model(const scan_result& result, const balance_options& balance, const report_options& options,
                               const dataset_stats* summed = nullptr);

}  // namespace maskscan::detail
