#include "visual/report_model.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <maskscan/class_map.hpp>
#include <maskscan/grouping.hpp>

#include "stats/balance_detail.hpp"
#include "stats/component_totals.hpp"
#include "visual/svg_charts.hpp"

namespace maskscan::detail {
namespace {

/// A grid set is drawn at least this wide, its longer side at most max_grid_image_side.
constexpr std::uint32_t min_grid_image_width = 256;
constexpr std::uint32_t max_grid_image_side = 1024;

report_headline headline_of(const scan_result& result, const dataset_stats& overall, const dataset_totals& totals) {
  report_headline h;
  h.frames = totals.frames;
  h.skipped = totals.skipped;
  h.skipped_share =
      result.frames_total ? static_cast<double>(totals.skipped) / static_cast<double>(result.frames_total) : 0;
  for (const auto& c : totals.classes) h.classes_present += c.pixels > 0 && !is_ignored(overall, c.id);
  h.classes = overall.class_names.size();
  h.labelled_pixels = totals.labelled_pixels;
  const class_total* most = nullptr;
  const class_total* least = nullptr;
  for (const auto& c : totals.classes) {
    if (c.pixels == 0 || is_ignored(overall, c.id)) continue;
    if (!most || c.pixels > most->pixels) most = &c;
    if (!least || c.pixels < least->pixels) least = &c;
  }
  if (most && least && most != least)
    h.imbalance = report_imbalance{static_cast<double>(most->pixels) / static_cast<double>(least->pixels), most->name,
                                   least->name};
  return h;
}

report_cooccurrence cooccurrence_of(const dataset_stats& overall, const dataset_totals& totals) {
  report_cooccurrence out;
  for (const auto& c : totals.classes)
    if (c.frames_present > 0 && !is_ignored(overall, c.id)) out.shown.push_back(c.id);
  if (out.shown.empty()) return out;
  std::ranges::stable_sort(out.shown, [&](std::uint32_t a, std::uint32_t b) {
    return totals.classes[a].frames_present > totals.classes[b].frames_present;
  });
  out.cut = out.shown.size() > cooccurrence_classes_shown;
  if (out.cut) out.shown.resize(cooccurrence_classes_shown);
  std::ranges::sort(out.shown);
  out.too_many_classes = overall.class_names.size() > cooccurrence_class_limit;
  if (!out.too_many_classes) out.matrix = cooccurrence(overall);
  return out;
}

std::vector<report_weight_column> weight_columns_of(const std::vector<class_balance>& weights,
                                                    const balance_options& balance) {
  std::vector<report_weight_column> columns{
      {"inverse frequency", &class_balance::inverse_frequency, {}},
      {"inverse sqrt", &class_balance::inverse_sqrt_frequency, {}},
      {"median frequency (present)", &class_balance::median_frequency_present, {}},
      {"median frequency (all)", &class_balance::median_frequency_all, {}},
      {"ENet", &class_balance::enet, {}},
      {"effective number", &class_balance::effective_number, {}}};
  if (balance.repeat_threshold) columns.push_back({"repeat factor", &class_balance::repeat_factor, {}});
  for (auto& c : columns) c.uniform = uniform_weight(weights, c.weight);
  return columns;
}

void add_groups(report_model& m) {
  const dataset_stats& stats = m.result->stats;
  const auto names = group_names(stats);
  const auto directories = group_directories(names);
  const bool many = stats.class_names.size() > report_class_limit;
  for (const auto& name : names) {
    report_group g;
    g.name = name;
    g.directory = directories.at(name);
    {  // not kept: with many groups, each one's rows would be a copy of up to --row-memory
      const auto group = select_group(stats, name, false);
      g.totals = compute_totals(group);
      g.table = class_table_of(group, g.totals);
      g.sizes = frame_sizes(group);
    }
    if (!many) {
      if (const auto it = stats.grid_heatmaps.find(name); it != stats.grid_heatmaps.end()) g.grid = &it->second;
      g.size_sets = most_common_sizes(stats, name);
    }
    m.groups.push_back(std::move(g));
  }
  for (std::uint32_t c = 0; c < stats.class_names.size(); ++c) {
    if (is_ignored(stats, c)) continue;
    if (many && m.totals.classes[c].pixels == 0) continue;
    report_group_row row{c, stats.class_names[c], {}};
    for (const auto& g : m.groups) {
      if (g.totals.frames == 0) {
        row.groups.emplace_back();
        continue;
      }
      const auto& ct = g.totals.classes[c];
      row.groups.push_back(report_group_share{
          ct.fraction, static_cast<double>(ct.frames_present) / static_cast<double>(g.totals.frames)});
    }
    m.group_rows.push_back(std::move(row));
  }
}

std::vector<std::pair<std::string, std::string>> run_rows(const scan_result& result, const balance_options& balance,
                                                          const report_options& options) {
  const auto& o = result.options;
  std::vector<std::pair<std::string, std::string>> rows;
  if (!options.command_line.empty()) rows.emplace_back("command", options.command_line);
  rows.emplace_back("input", result.input);
  rows.emplace_back("maskscan", MASKSCAN_VERSION);
  if (options.merged) rows.emplace_back("source", "merged from state files (maskscan merge): no scan timing to show");
  rows.emplace_back("frames", fmt::format("{} in the source, {} scanned, {} skipped{}", result.frames_total,
                                          result.stats.frames.size(), result.stats.errors.size(),
                                          result.partial ? " (partial)" : ""));
  if (!options.merged)
    rows.emplace_back("concurrency",
                      o.serial ? std::string("serial (one plain loop)")
                               : fmt::format("io={}, workers={}, io-depth={}, queue-depth={}",
                                             to_string(result.io_used), o.workers, o.io_depth, o.queue_depth));
  if (!options.merged) rows.emplace_back("decoder", to_string(o.decoder));
  std::string labels = o.labels.empty() ? std::string("(none: class names from flags or a state file)") : o.labels;
  const auto builtins = builtin_class_map_names();
  if (std::ranges::find(builtins, o.labels) != builtins.end() &&
      builtin_class_map(o.labels).names != result.stats.class_names)
    labels += " (class names replaced by --num-classes / --class-names)";
  rows.emplace_back("labels", labels);
  rows.emplace_back("classes", fmt::format("{}", result.stats.class_names.size()));
  std::string ignore;
  for (const auto v : result.stats.ignore) ignore += fmt::format("{}{}", ignore.empty() ? "" : ", ", v);
  rows.emplace_back("ignore", ignore.empty() ? "none" : ignore);
  if (!result.stats.remap.empty())
    rows.emplace_back("remap", fmt::format("{} values remapped", result.stats.remap.size()));
  if (result.stats.instance_divisor)
    rows.emplace_back("instance divisor", fmt::format("{}", result.stats.instance_divisor));
  {
    const auto& s = result.stats;
    const std::string grid = s.heatmap_grid.empty() ? std::string() : "on a " + to_string(s.heatmap_grid) + " grid";
    rows.emplace_back("heatmaps", s.has_heatmaps ? (grid.empty() ? "per frame size" : "per frame size and " + grid)
                                                 : (grid.empty() ? "no" : grid));
  }
  rows.emplace_back("components", result.stats.components
                                      ? fmt::format("{}-connected, specks below {} pixels", result.stats.components,
                                                    result.stats.min_component_pixels)
                                      : "no");
  if (!result.stats.grouping.empty()) rows.emplace_back("grouping", result.stats.grouping);
  if (!options.merged)
    rows.emplace_back("limits", fmt::format("max-pixels={}, max-file-bytes={}, max-heatmap-bytes={}, max-memory={}",
                                            o.max_pixels, o.max_file_bytes, o.max_heatmap_bytes,
                                            o.max_memory ? fmt::format("{}", o.max_memory) : "none"));
  rows.emplace_back("balance", fmt::format("enet-c={}, effective-beta={}, effective-unit={}, repeat-threshold={}",
                                           balance.enet_c, balance.effective_beta, to_string(balance.unit),
                                           balance.repeat_threshold ? fmt::format("{}", *balance.repeat_threshold)
                                                                    : std::string("none")));
  return rows;
}

}  // namespace

bool is_ignored(const dataset_stats& stats, std::uint32_t id) { return std::ranges::binary_search(stats.ignore, id); }

frame_size_counts frame_sizes(const dataset_stats& stats) {
  frame_size_counts sizes;
  for (const auto& row : stats.frames) ++sizes[{row.width, row.height}];
  return sizes;
}

std::uint32_t grid_zoom(const heatmap_set& grid) {
  const std::uint32_t wanted = (min_grid_image_width + grid.width - 1) / grid.width;
  const std::uint32_t most = max_grid_image_side / std::max(grid.width, grid.height);
  return std::max(1u, std::min(wanted, most));
}

std::vector<const heatmap_set*> most_common_sizes(const dataset_stats& stats, const std::string& group) {
  std::vector<const heatmap_set*> sets;
  for (const auto& [key, set] : stats.heatmaps)
    if (key.group == group) sets.push_back(&set);
  std::ranges::stable_sort(sets, [](const heatmap_set* a, const heatmap_set* b) { return a->frames > b->frames; });
  if (sets.size() > heatmap_sizes_shown) sets.resize(heatmap_sizes_shown);
  return sets;
}

report_class_table class_table_of(const dataset_stats& stats, const dataset_totals& totals) {
  report_class_table table;
  table.classes = stats.class_names.size();
  table.present_only = table.classes > report_class_limit;
  double largest = 0;
  for (const auto& c : totals.classes) largest = std::max(largest, c.fraction);
  // An ignored id holds no class pixels (ignoring wins): its row shows what the value holds.
  std::map<std::uint32_t, const value_total*> ignored_values;
  for (const auto& v : totals.ignored) ignored_values[v.value] = &v;
  for (const auto& c : totals.classes) {
    report_class_row row{c.id, c.name, is_ignored(stats, c.id), c.pixels, c.frames_present, c.fraction, 0, 0};
    if (row.ignored) {
      const auto it = ignored_values.find(c.id);
      row.pixels = it == ignored_values.end() ? 0 : it->second->pixels;
      row.frames_present = it == ignored_values.end() ? 0 : it->second->frames;
    }
    if (table.present_only && row.pixels == 0) continue;
    row.frames_share = totals.frames ? static_cast<double>(row.frames_present) / static_cast<double>(totals.frames) : 0;
    const double bar = largest > 0 ? 160.0 * c.fraction / largest : 0;
    row.bar = row.ignored ? 0.0 : row.pixels && bar < 1 ? 1.0 : bar;
    if (row.ignored) row.share = 0;
    table.rows.push_back(std::move(row));
  }
  return table;
}

report_model make_report_model(const scan_result& result, const balance_options& balance, const report_options& options,
                               const dataset_stats* summed) {
  report_model m;
  m.result = &result;
  m.balance = balance;
  m.options = options;
  if (!result.stats.grouping.empty() && summed) {
    m.overall = summed;
  } else if (!result.stats.grouping.empty()) {
    m.ungrouped = std::make_unique<dataset_stats>(ungroup(result.stats));
    m.overall = m.ungrouped.get();
  } else {
    m.overall = &result.stats;
  }
  const dataset_stats& overall = *m.overall;
  m.totals = compute_totals(overall);
  m.headline = headline_of(result, overall, m.totals);
  m.sizes = frame_sizes(overall);
  m.classes = class_table_of(overall, m.totals);
  if (const auto it = overall.grid_heatmaps.find(""); it != overall.grid_heatmaps.end()) m.grid = &it->second;
  if (overall.has_heatmaps) m.size_sets = most_common_sizes(overall);
  m.weights = class_weights(overall, balance);
  m.weight_columns = weight_columns_of(m.weights, balance);
  m.cooccurrence = cooccurrence_of(overall, m.totals);
  if (overall.components) m.components = component_totals(overall);
  if (!result.stats.grouping.empty()) add_groups(m);
  if (!options.merged && result.wall_seconds > 0)
    m.frames_per_second = static_cast<double>(m.totals.frames + m.totals.skipped) / result.wall_seconds;
  m.run = run_rows(result, balance, options);
  return m;
}

}  // namespace maskscan::detail
