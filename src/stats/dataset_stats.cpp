#include <maskscan/stats.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include <maskscan/grouping.hpp>
#include <maskscan/options.hpp>

#include "core/huge_pages.hpp"
#include "stats/frame_stats.hpp"

namespace maskscan {

dataset_stats make_stats(std::vector<std::string> class_names, std::vector<std::uint32_t> ignore, bool heatmaps) {
  std::ranges::sort(ignore);
  ignore.erase(std::unique(ignore.begin(), ignore.end()), ignore.end());  // not ranges::unique: clang 14 (fuzz/)
  dataset_stats stats;
  stats.class_names = std::move(class_names);
  stats.ignore = std::move(ignore);
  stats.has_heatmaps = heatmaps;
  return stats;
}

dataset_stats make_stats(const scan_options& options) { return make_stats(meaning_of(options)); }

dataset_stats make_stats(const scan_meaning& meaning) {
  dataset_stats stats;
  static_cast<scan_meaning&>(stats) = meaning;
  return stats;
}

void normalize(dataset_stats& stats) {
  stats.frames.sort();
  std::ranges::sort(stats.errors);
}

namespace {
void require_same_meaning(const dataset_stats& a, const dataset_stats& b) {
  if (a.classes_from_values != b.classes_from_values)
    throw std::invalid_argument(
        "cannot merge statistics of a class map with statistics whose classes are the values found");
  // Classes from values: lists of different lengths are widened (their names are the values).
  if (!a.classes_from_values && a.class_names != b.class_names)
    throw std::invalid_argument("cannot merge statistics with different class lists");
  if (a.ignore != b.ignore) throw std::invalid_argument("cannot merge statistics with different ignore values");
  if (a.ignore_names != b.ignore_names)
    throw std::invalid_argument("cannot merge statistics whose ignore values are named differently");
  if (a.has_heatmaps != b.has_heatmaps)
    throw std::invalid_argument("cannot merge statistics with and without heatmaps");
  if (a.heatmap_grid != b.heatmap_grid)
    throw std::invalid_argument(fmt::format("cannot merge statistics with different heatmap grids ({} and {})",
                                            a.heatmap_grid.empty() ? "none" : to_string(a.heatmap_grid),
                                            b.heatmap_grid.empty() ? "none" : to_string(b.heatmap_grid)));
  if (a.colours != b.colours) throw std::invalid_argument("cannot merge statistics with different colour tables");
  if (a.remap != b.remap) throw std::invalid_argument("cannot merge statistics with different value remaps");
  if (a.instance_divisor != b.instance_divisor)
    throw std::invalid_argument("cannot merge statistics with different instance divisors");
  if (a.components != b.components || a.min_component_pixels != b.min_component_pixels)
    throw std::invalid_argument("cannot merge statistics with different connected-component settings");
  if (a.grouping != b.grouping)
    throw std::invalid_argument(
        fmt::format("cannot merge statistics grouped differently ('{}' and '{}')", a.grouping, b.grouping));
  // A field without a sentence of its own above still refuses a merge.
  if (a.classes_from_values) {
    scan_meaning x = a, y = b;
    x.class_names.clear();
    y.class_names.clear();
    if (x != y) throw std::invalid_argument("cannot merge statistics of different meanings");
  } else if (static_cast<const scan_meaning&>(a) != b) {
    throw std::invalid_argument("cannot merge statistics of different meanings");
  }
}
}  // namespace

duplicate_frame::duplicate_frame(std::string path)
    : std::invalid_argument(fmt::format("frame '{}' is in both statistics: merging them would count it twice", path)),
      path_(std::move(path)) {}

namespace {
/// The frames of `stats` (rows and skipped files) by name, sorted; without the rows if `with_rows` is
/// false (rows on disk are read one at a time: a name of one would not outlive the next).
std::vector<std::string_view> frame_names(const dataset_stats& stats, bool with_rows = true) {
  std::vector<std::string_view> names;
  names.reserve((with_rows ? stats.frames.size() : 0) + stats.errors.size());
  if (with_rows)
    for (const auto& row : stats.frames.in_memory()) names.push_back(row.path);
  const auto rows = static_cast<std::ptrdiff_t>(names.size());
  for (const auto& e : stats.errors) names.push_back(e.path);
  // Rows and errors are each sorted after normalize(): one merge of the two runs, else a sort.
  if (std::is_sorted(names.begin(), names.begin() + rows) && std::is_sorted(names.begin() + rows, names.end()))
    std::inplace_merge(names.begin(), names.begin() + rows, names.end());
  else
    std::sort(names.begin(), names.end());
  return names;
}

/// The first name in both sorted lists, or in one of them twice.
const std::string_view* first_shared(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  for (const auto* list : {&a, &b})
    if (const auto twice = std::adjacent_find(list->begin(), list->end()); twice != list->end()) return &*twice;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();) {
    if (*i < *j)
      ++i;
    else if (*j < *i)
      ++j;
    else
      return &*i;
  }
  return nullptr;
}
}  // namespace

namespace {
/// Statistics of nothing that claim no shard (make_stats): they merge with any shard's.
bool empty_whole(const dataset_stats& stats) {
  return stats.shards.whole() && stats.frames.empty() && stats.errors.empty();
}

/// `items` and `more` in one sorted vector: merged in linear time when both are sorted, as
/// normalize() leaves them (a sort per merge made merging many states quadratic), else sorted.
void append_sorted(std::vector<file_error>& items, const std::vector<file_error>& more) {
  const auto middle = static_cast<std::ptrdiff_t>(items.size());
  const bool sorted = std::ranges::is_sorted(items) && std::ranges::is_sorted(more);
  items.insert(items.end(), more.begin(), more.end());
  if (sorted)
    std::inplace_merge(items.begin(), items.begin() + middle, items.end());
  else
    std::ranges::sort(items);
}

/// merge(), the statistics then holding `shards`.
void merge_into(dataset_stats& into, const dataset_stats& other, const shard_set& shards) {
  require_same_meaning(into, other);
  // Every check before the first change: a merge that throws leaves `into` as it was.
  // (This also refuses merge(x, x) of a non-empty x: every frame would count twice.)
  // Rows on disk: those are checked when read (check_frames_unique).
  const bool rows = !into.frames.spilled() && !other.frames.spilled();
  const auto mine = frame_names(into, rows), theirs = frame_names(other, rows);
  if (const auto* shared = first_shared(mine, theirs)) throw duplicate_frame(std::string(*shared));
  for (const dataset_stats* stats : {static_cast<const dataset_stats*>(&into), &other})
    for (const auto& [key, heat] : stats->heatmaps)
      if (heat.counts.size() != stats->class_names.size() * heat.width * heat.height)
        throw std::invalid_argument(
            fmt::format("heatmaps of {}x{} do not hold {} classes", key.width, key.height, stats->class_names.size()));
  for (const dataset_stats* stats : {static_cast<const dataset_stats*>(&into), &other})
    for (const auto& [group, heat] : stats->grid_heatmaps)
      if (heat.width != stats->heatmap_grid.width || heat.height != stats->heatmap_grid.height ||
          heat.counts.size() != stats->class_names.size() * heat.width * heat.height)
        throw std::invalid_argument(fmt::format("grid heatmaps of {}x{} do not hold {} classes on the {} grid",
                                                heat.width, heat.height, stats->class_names.size(),
                                                to_string(stats->heatmap_grid)));
  if (&into == &other) return;  // no frame in it: nothing to add
  // Classes from values: the shorter list is widened (a copy of `other`, or `into` once checked).
  if (into.classes_from_values && into.class_names.size() < other.class_names.size())
    detail::widen_classes(into, other.class_names.size());
  if (into.class_names.size() > other.class_names.size()) {
    auto wide = other;
    detail::widen_classes(wide, into.class_names.size());
    merge_into(into, wide, shards);
    return;
  }
  into.partial = into.partial || other.partial;
  into.shards = shards;
  if (!into.frames.spill().max_bytes) into.frames.spill_beyond(other.frames.spill());
  into.frames.append(other.frames);
  append_sorted(into.errors, other.errors);
  detail::add_heatmaps(into.heatmaps, other.heatmaps);
  detail::add_grid_heatmaps(into.grid_heatmaps, other.grid_heatmaps);
  for (const auto& [group, sizes] : other.component_sizes)
    detail::add_component_sizes(into.component_sizes[group], sizes);
}
}  // namespace

void merge(dataset_stats& into, const dataset_stats& other) {
  require_same_meaning(into, other);  // a different meaning is the first thing to say
  merge_into(into, other,
             empty_whole(other)  ? into.shards
             : empty_whole(into) ? other.shards
                                 : merge_shards(into.shards, other.shards));
}

dataset_stats complete_resumed(dataset_stats saved, const dataset_stats& rest) {
  // `rest` scanned the rest of the same shard: one shard, not two holding it.
  if (saved.shards != rest.shards && !empty_whole(rest))
    throw std::invalid_argument(
        fmt::format("the saved statistics hold {}, the rest {}", describe(saved.shards), describe(rest.shards)));
  const shard_set shards = saved.shards;
  saved.errors.clear();  // retried by `rest`
  saved.partial = false;
  merge_into(saved, rest, shards);  // partial if `rest` is
  return saved;
}

void check_frames_unique(const dataset_stats& stats) {
  if (!stats.frames.spilled()) {
    const auto names = frame_names(stats);
    if (const auto twice = std::ranges::adjacent_find(names); twice != names.end())
      throw duplicate_frame(std::string(*twice));
    return;
  }
  const auto skipped = frame_names(stats, false);
  if (const auto twice = std::ranges::adjacent_find(skipped); twice != skipped.end())
    throw duplicate_frame(std::string(*twice));
  auto e = skipped.begin();
  for (const auto& row : stats.frames) {  // reading two rows of one path throws
    while (e != skipped.end() && *e < row.path) ++e;
    if (e != skipped.end() && *e == row.path) throw duplicate_frame(row.path);
  }
}

std::string value_name(const dataset_stats& stats, std::uint32_t value) {
  if (value < stats.class_names.size()) return stats.class_names[value];
  const auto it = stats.ignore_names.find(value);
  return it == stats.ignore_names.end() ? std::string() : it->second;
}

dataset_totals compute_totals(const dataset_stats& stats) {
  dataset_totals t;
  const auto classes = stats.class_names.size();
  t.classes.resize(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    t.classes[c].id = static_cast<std::uint32_t>(c);
    t.classes[c].name = stats.class_names[c];
  }
  std::map<std::uint32_t, value_total> ignored, out_of_range, unknown_colours;
  auto add_values = [](std::map<std::uint32_t, value_total>& into, const std::vector<value_pixels>& values,
                       std::uint64_t& sum) {
    for (const auto& v : values) {
      auto& total = into[v.value];
      total.value = v.value;
      total.pixels += v.pixels;
      total.frames += v.pixels > 0;
      sum += v.pixels;
    }
  };

  for (const auto& row : stats.frames) {
    ++t.frames;
    t.pixels += std::uint64_t{row.width} * row.height;
    for (std::size_t c = 0; c < classes && c < row.class_pixels.size(); ++c) {
      t.classes[c].pixels += row.class_pixels[c];
      t.classes[c].frames_present += row.class_pixels[c] > 0;
      t.labelled_pixels += row.class_pixels[c];
    }
    add_values(ignored, row.ignored, t.ignored_pixels);
    add_values(out_of_range, row.out_of_range, t.out_of_range_pixels);
    add_values(unknown_colours, row.unknown_colours, t.unknown_colour_pixels);
  }
  for (auto& c : t.classes)
    c.fraction = t.labelled_pixels ? static_cast<double>(c.pixels) / static_cast<double>(t.labelled_pixels) : 0.0;
  for (auto& [v, total] : ignored) t.ignored.push_back(total);
  for (auto& [v, total] : out_of_range) t.out_of_range.push_back(total);
  for (auto& [v, total] : unknown_colours) t.unknown_colours.push_back(total);
  t.skipped = stats.errors.size();
  return t;
}

namespace {
/// Everything but the frames, errors, heatmaps and component sizes.
dataset_stats empty_like(const dataset_stats& stats) {
  dataset_stats out;
  static_cast<scan_meaning&>(out) = stats;
  out.partial = stats.partial;
  out.shards = stats.shards;
  out.frames.spill_beyond(stats.frames.spill());
  return out;
}

/// Adds `heat` into `sum`, a set of the same size (`what` names the kind in the error: their class
/// counts differ).
void add_set(heatmap_set& sum, const heatmap_set& heat, std::string_view what) {
  if (sum.counts.size() != heat.counts.size())
    throw std::invalid_argument(fmt::format("{} of {}x{} differ in class count", what, heat.width, heat.height));
  sum.frames += heat.frames;
  std::ranges::transform(sum.counts, heat.counts, sum.counts.begin(), std::plus<>{});
}

/// Adds the heatmaps and grid heatmaps of every group of `stats` into `out`'s ungrouped ones.
void add_heatmap_sums(dataset_stats& out, const dataset_stats& stats) {
  for (const auto& [key, heat] : stats.heatmaps) {  // summed in place: one copy per resolution
    auto [it, inserted] = out.heatmaps.try_emplace(heatmap_key{{}, key.width, key.height});
    heatmap_set& sum = it->second;
    if (inserted) {
      sum.width = heat.width;
      sum.height = heat.height;
      sum.frames = heat.frames;
      detail::assign_on_huge_pages(sum.counts, heat.counts.begin(), heat.counts.end(), heat.counts.size());
      continue;
    }
    add_set(sum, heat, "heatmaps");
  }
  for (const auto& [group, heat] : stats.grid_heatmaps) {
    auto [it, inserted] = out.grid_heatmaps.try_emplace(std::string(), heat);
    if (!inserted) add_set(it->second, heat, "grid heatmaps");
  }
}
}  // namespace

std::vector<std::string> group_names(const dataset_stats& stats) {
  std::set<std::string> names;
  for (const auto& row : stats.frames) names.insert(row.group);
  for (const auto& e : stats.errors) names.insert(e.group);
  for (const auto& [key, heat] : stats.heatmaps) names.insert(key.group);
  for (const auto& [group, heat] : stats.grid_heatmaps) names.insert(group);
  for (const auto& [name, sizes] : stats.component_sizes) names.insert(name);
  return {names.begin(), names.end()};
}

dataset_stats select_group(const dataset_stats& stats, const std::string& group, bool heatmaps) {
  auto out = empty_like(stats);
  for (const auto& row : stats.frames)
    if (row.group == group) out.frames.push_back(row);
  for (const auto& e : stats.errors)
    if (e.group == group) out.errors.push_back(e);
  if (heatmaps)
    for (const auto& [key, heat] : stats.heatmaps)
      if (key.group == group) out.heatmaps.emplace(key, heat);
  if (heatmaps)
    if (const auto it = stats.grid_heatmaps.find(group); it != stats.grid_heatmaps.end())
      out.grid_heatmaps.emplace(group, it->second);
  if (const auto it = stats.component_sizes.find(group); it != stats.component_sizes.end())
    out.component_sizes.emplace(group, it->second);
  return out;
}

std::map<std::string, dataset_stats> split_by_group(const dataset_stats& stats) {
  std::map<std::string, dataset_stats> groups;
  for (const auto& name : group_names(stats)) groups.emplace(name, select_group(stats, name));
  if (groups.empty()) groups.emplace(std::string{}, empty_like(stats));
  return groups;
}

dataset_stats ungroup(const dataset_stats& stats, bool heatmaps) {
  auto out = empty_like(stats);
  out.grouping.clear();
  out.frames = stats.frames;
  out.errors = stats.errors;
  out.frames.update([](frame_row& row) { row.group.clear(); });
  for (auto& e : out.errors) e.group.clear();
  if (heatmaps) add_heatmap_sums(out, stats);
  for (const auto& [group, sizes] : stats.component_sizes) detail::add_component_sizes(out.component_sizes[""], sizes);
  normalize(out);
  return out;
}

void prefix_frames(dataset_stats& stats, std::string_view prefix) {
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  const auto bad = [&](const char* why) {
    return std::invalid_argument(fmt::format("frame name prefix '{}': {}", prefix, why));
  };
  if (prefix.empty()) throw bad("empty");
  if (prefix.starts_with('/')) throw bad("it must be relative (frame names are relative to a root)");
  for (std::size_t start = 0; start <= prefix.size();) {
    const auto end = std::min(prefix.find('/', start), prefix.size());
    const auto part = prefix.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") throw bad("it has an empty, '.' or '..' component");
    start = end + 1;
  }
  const std::string head = std::string(prefix) + '/';
  stats.frames.update([&](frame_row& row) { row.path.insert(0, head); });
  for (auto& e : stats.errors) e.path.insert(0, head);
  normalize(stats);  // prefixing keeps each list's order, but rows sort by path first anyway
}

namespace detail {
void add_heatmaps(std::map<heatmap_key, heatmap_set>& into, std::map<heatmap_key, heatmap_set> from) {
  for (auto& [key, heat] : from) {
    auto [it, inserted] = into.try_emplace(key, std::move(heat));
    if (!inserted) add_set(it->second, heat, "heatmaps");
  }
}

void add_grid_heatmaps(std::map<std::string, heatmap_set>& into, std::map<std::string, heatmap_set> from) {
  for (auto& [group, heat] : from) {
    auto [it, inserted] = into.try_emplace(group, std::move(heat));
    if (inserted) continue;
    auto& mine = it->second;
    if (mine.width != heat.width || mine.height != heat.height || mine.counts.size() != heat.counts.size())
      throw std::invalid_argument(fmt::format("grid heatmaps of {}x{} and {}x{} ({} and {} counts) cannot be added",
                                              mine.width, mine.height, heat.width, heat.height, mine.counts.size(),
                                              heat.counts.size()));
    mine.frames += heat.frames;
    std::ranges::transform(mine.counts, heat.counts, mine.counts.begin(), std::plus<>{});
  }
}

void add_component_sizes(std::vector<size_histogram>& into, const std::vector<size_histogram>& from) {
  if (into.size() < from.size()) into.resize(from.size());
  for (std::size_t c = 0; c < from.size(); ++c)
    for (const auto& [size, count] : from[c]) into[c][size] += count;
}

void widen_heatmaps(std::map<heatmap_key, heatmap_set>& sets, std::size_t classes) {
  // Counts are (class, y, x): more classes are zeros appended.
  for (auto& [key, heat] : sets) heat.counts.resize(classes * heat.width * heat.height, 0);
}

void widen_heatmaps(std::map<std::string, heatmap_set>& grid_sets, std::size_t classes) {
  for (auto& [group, heat] : grid_sets) heat.counts.resize(classes * heat.width * heat.height, 0);
}

std::size_t classes_needed(const dataset_stats& stats) {
  std::size_t classes = stats.class_names.size();
  for (const auto& row : stats.frames) classes = std::max({classes, row.class_pixels.size(), row.instances.size()});
  return std::max({classes, classes_in_sets(stats.heatmaps), classes_in_sets(stats.grid_heatmaps),
                   classes_in_sizes(stats.component_sizes)});
}

void widen_classes(dataset_stats& stats, std::size_t classes) {
  if (classes < stats.class_names.size()) throw std::logic_error("widen_classes cannot narrow");
  stats.class_names = numbered_class_names(static_cast<std::uint32_t>(classes));
  stats.frames.update([&](frame_row& row) {
    row.class_pixels.resize(classes, 0);
    if (stats.components) row.instances.resize(classes, 0);
  });
  widen_heatmaps(stats.heatmaps, classes);
  widen_heatmaps(stats.grid_heatmaps, classes);
  for (auto& [group, sizes] : stats.component_sizes) sizes.resize(classes);
}
}  // namespace detail

}  // namespace maskscan
