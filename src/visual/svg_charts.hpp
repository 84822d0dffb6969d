#pragma once
// Horizontal bar charts as standalone SVG (one row per category, so 150 classes still read): the
// class distribution and the class weights of the report. The SVG references nothing outside
// itself (no fonts, images, links or stylesheets), so the report works with the network off.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <maskscan/balance.hpp>
#include <maskscan/stats.hpp>

#include "visual/colormap.hpp"

namespace maskscan::detail {

/// How a panel prints its values (bar ends, tick labels).
enum class value_format {
  count,    ///< integers; 1,000 and more shortened to 3 digits: 952, 34.5k, 1.23M, 4.5B
  percent,  ///< fractions as percentages, 3 significant digits: 0.8667 -> 86.7%, 0.9999 -> 99.99% (not 100%)
  number,   ///< 3 significant digits: 0.577, 3.75, 12.3k, 1.23e-5
};

/// One column of bars, sharing the chart's category rows; its own axis, ticks and grid.
struct bar_panel {
  std::string title;
  /// One per category; nullopt = no bar, shown as "—". Values must be finite and >= 0.
  std::vector<std::optional<double>> values;
  /// Log axis: ticks at powers of ten, bars start at the lowest decade shown (at least half a
  /// decade below the smallest value, so its bar is seen); a 0 has no bar (its text says 0).
  /// Linear axis: from 0, ticks at 1, 2 or 5 x 10^k. Either ends 5% beyond the longest bar.
  bool log_scale = false;
  value_format format = value_format::number;
  /// Optional text at each bar's end instead of the formatted value ("" = the formatted value).
  std::vector<std::string> value_labels;
  /// A dashed vertical line at this value (e.g. weight 1), when it lies on the axis.
  std::optional<double> reference;
};

struct bar_chart {
  std::string title;
  std::string subtitle;  ///< a smaller grey line under the title ("" = none)
  std::vector<std::string> categories;
  /// One per category, or empty for one default colour (matplotlib's tab:blue).
  std::vector<rgb8> colours;
  std::vector<bar_panel> panels;  ///< side by side
  double plot_width = 240;        ///< width of each panel's axis, in px
};

/// The chart as an SVG document (UTF-8, no XML declaration, so it can also be inlined in HTML).
/// What tests and readers can rely on: each panel is a <g data-panel="p" data-scale="linear|log">
/// whose first <text> is its title (" (log scale)" appended on a log axis); each bar a <rect> with
/// data-panel, data-index (category index), data-category and data-value (the exact value in its
/// shortest round-trip form); each grid line (major tick) a <line> with data-panel and data-tick;
/// each row label a <text class="category" data-index>, each bar-end text a <text class="value"
/// data-panel data-index>. Labels longer than 40 characters are cut with "…" (the full name in a
/// <title>). Text is XML-escaped; bytes that are not valid UTF-8 or not allowed in XML become
/// U+FFFD. Same input, same bytes. Throws std::invalid_argument if a panel's values (or non-empty
/// value_labels, or non-empty colours) do not have one entry per category, a value is negative,
/// NaN or infinite, or plot_width is not positive.
std::string render_bar_chart_svg(const bar_chart& chart);

/// Pixels and frames present per class, in class id order: panel 0 the pixels of each class (with
/// its share of labelled pixels), panel 1 the frames in which it has at least one pixel. An
/// ignore-listed class is shown with " (ignored)" after its name and a grey bar of the pixels
/// that held its value (row.ignored plus any in class_pixels). class_colours[id] colours class id
/// (ids beyond it, or an empty span: the default colour).
std::string class_distribution_svg(const dataset_stats& stats, bool log_scale, std::span<const rgb8> class_colours);

/// The value every weighted class (one with an inverse_frequency) has for `weight`, when they all
/// have the same one (to 1e-9 relative): such a column sets no class apart from another, so it is
/// no information to show as one. nullopt when two differ or no class is weighted.
std::optional<double> uniform_weight(std::span<const class_balance> weights,
                                     std::optional<double> class_balance::*weight);

/// The six class weights of class_weights(stats, balance), one panel per kind (each its own axis,
/// log when the kind's weights span more than two decades), with a dashed line at weight 1. A kind
/// whose weights are uniform_weight says so in its title ("... - X for every class").
/// Absent and ignore-listed classes have no bar. Throws as class_weights for bad options.
std::string class_weights_svg(const dataset_stats& stats, const balance_options& balance,
                              std::span<const rgb8> class_colours);

}  // namespace maskscan::detail
