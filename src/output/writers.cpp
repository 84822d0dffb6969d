#include <maskscan/output.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <regex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <maskscan/grouping.hpp>
#include <maskscan/text.hpp>

#include "core/atomic_file.hpp"
#include "output/csv.hpp"
#include "output/outputs.hpp"
#include "output/statistics_json.hpp"

namespace maskscan {
namespace json = boost::json;

namespace {

json::array value_totals_json(const std::vector<value_total>& values) {
  json::array out;
  for (const auto& v : values) out.push_back({{"value", v.value}, {"pixels", v.pixels}, {"frames", v.frames}});
  return out;
}

json::object options_json(const scan_options& o) {
  json::array ignore(o.ignore.begin(), o.ignore.end());
  json::object remap;
  for (const auto& r : o.remap) remap[std::to_string(r.from)] = r.to;
  json::array splits;
  for (const auto& s : o.splits) splits.push_back({{"name", s.name}, {"entries", s.frames.size()}});
  return {{"workers", o.workers},
          {"io_depth", o.io_depth},
          {"queue_depth", o.queue_depth},
          {"io", to_string(o.io)},
          {"decoder", to_string(o.decoder)},
          {"serial", o.serial},
          {"heatmaps", o.heatmaps},
          {"heatmap_grid", o.heatmap_grid.empty() ? json::value(nullptr) : json::value(to_string(o.heatmap_grid))},
          {"labels", o.labels},
          {"ignore", ignore},
          {"colours", o.colours.size()},
          {"remap", std::move(remap)},
          {"instance_divisor", o.instance_divisor},
          {"components", o.components},
          {"min_component_pixels", o.min_component_pixels},
          {"group_by", o.group_by},
          {"splits", std::move(splits)},
          {"max_pixels", o.max_pixels},
          {"max_file_bytes", o.max_file_bytes},
          {"max_heatmap_bytes", o.max_heatmap_bytes},
          {"max_memory", o.max_memory}};
}

/// Indented JSON (Boost.JSON 1.81 only serializes to one line): summary.json is read by people too.
void pretty_print(std::ostream& out, const json::value& v, int indent = 0) {
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  const std::string close_pad(static_cast<std::size_t>(indent), ' ');
  if (v.is_object() && !v.get_object().empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& [key, value] : v.get_object()) {
      out << (first ? "" : ",\n") << pad << json::serialize(json::string(printable_name(key))) << ": ";
      pretty_print(out, value, indent + 2);
      first = false;
    }
    out << '\n' << close_pad << '}';
  } else if (v.is_array() && !v.get_array().empty()) {
    const auto& array = v.get_array();
    const bool scalars = std::ranges::none_of(array, [](const json::value& e) { return e.is_structured(); });
    if (scalars) {  // short lists of scalars stay on one line
      out << '[';
      for (std::size_t i = 0; i < array.size(); ++i) {
        out << (i ? "," : "");
        pretty_print(out, array[i], indent);
      }
      out << ']';
      return;
    }
    out << "[\n";
    for (std::size_t i = 0; i < array.size(); ++i) {
      out << (i ? ",\n" : "") << pad;
      pretty_print(out, array[i], indent + 2);
    }
    out << '\n' << close_pad << ']';
  } else if (v.is_string()) {
    out << json::serialize(json::string(printable_name(v.get_string())));  // names from file names: maybe not UTF-8
  } else {
    out << json::serialize(v);
  }
}

using detail::csv_field;

/// The co-occurrence matrix is classes x classes: written for up to this many classes (ADE20K's 151
/// fit; 65536 numbered classes of a 16-bit scan would be a 32 GiB matrix).
constexpr std::size_t max_cooccurrence_classes = 1024;
bool cooccurrence_written(const dataset_stats& stats) { return stats.class_names.size() <= max_cooccurrence_classes; }

std::string heatmap_file_name(const heatmap_set& heat) {
  return fmt::format("heatmaps_{}x{}.npy", heat.width, heat.height);
}

std::string grid_file_name(const heatmap_set& grid) {
  return fmt::format("heatmaps_grid_{}x{}.npy", grid.width, grid.height);
}

/// The heatmap sets written with a set of statistics (pointers: a group's sets are not copied).
using heatmap_list = std::vector<const heatmap_set*>;
heatmap_list heatmaps_of(const dataset_stats& stats, const std::string* group = nullptr) {
  heatmap_list out;
  for (const auto& [key, heat] : stats.heatmaps)
    if (!group || key.group == *group) out.push_back(&heat);
  return out;
}

/// The grid heatmaps written with a set of statistics: the group's, or (ungrouped statistics) the
/// one set; null when there is none (no grid, or no frame scanned).
const heatmap_set* grid_of(const dataset_stats& stats, const std::string& group = {}) {
  const auto it = stats.grid_heatmaps.find(group);
  return it == stats.grid_heatmaps.end() ? nullptr : &it->second;
}

/// summary.json of `stats`: the whole scan's, or one group's (`group` names it).
json::object summary_doc(const scan_result& result, const dataset_stats& stats, const heatmap_list& heat_sets,
                         const heatmap_set* grid, const balance_options& balance, const std::string* group,
                         json::array groups) {
  const auto totals = compute_totals(stats);

  json::array classes;
  for (const auto& c : totals.classes) {
    const rgba* colour = class_colour(stats, c.id);
    classes.push_back({{"id", c.id},
                       {"name", c.name},
                       {"pixels", c.pixels},
                       {"fraction", c.fraction},
                       {"frames_present", c.frames_present},
                       {"colour", colour ? json::value(to_string(*colour)) : json::value(nullptr)}});
  }
  json::array unknown_colours;
  for (const auto& v : totals.unknown_colours)
    unknown_colours.push_back(
        {{"colour", to_string(rgba::unpack(v.value))}, {"pixels", v.pixels}, {"frames", v.frames}});
  json::array files_unknown_colours;
  for (const auto& row : stats.frames) {
    if (row.unknown_colours.empty()) continue;
    json::object values;
    for (const auto& v : row.unknown_colours) values[to_string(rgba::unpack(v.value))] = v.pixels;
    files_unknown_colours.push_back({{"path", row.path}, {"colours", std::move(values)}});
  }
  json::array errors;
  for (const auto& e : stats.errors)
    errors.push_back({{"path", e.path}, {"error", to_string(e.code)}, {"message", e.message}});
  json::array files_out_of_range;
  for (const auto& row : stats.frames) {
    if (row.out_of_range.empty()) continue;
    json::object values;
    for (const auto& v : row.out_of_range) values[std::to_string(v.value)] = v.pixels;
    files_out_of_range.push_back({{"path", row.path}, {"values", std::move(values)}});
  }
  json::array heatmaps;
  for (const heatmap_set* heat : heat_sets)
    heatmaps.push_back({{"file", heatmap_file_name(*heat)},
                        {"width", heat->width},
                        {"height", heat->height},
                        {"frames", heat->frames},
                        {"shape", json::array{stats.class_names.size(), heat->height, heat->width}}});
  // The grid: null when it was not asked for; without a frame scanned there is no set and no file.
  json::value heatmap_grid = nullptr;
  if (!stats.heatmap_grid.empty())
    heatmap_grid = json::object{
        {"file", grid ? json::value(grid_file_name(*grid)) : json::value(nullptr)},
        {"width", stats.heatmap_grid.width},
        {"height", stats.heatmap_grid.height},
        {"frames", grid ? grid->frames : 0},
        {"shape", json::array{stats.class_names.size(), stats.heatmap_grid.height, stats.heatmap_grid.width}}};

  const double fps =
      result.wall_seconds > 0 ? static_cast<double>(totals.frames + totals.skipped) / result.wall_seconds : 0.0;
  json::object doc{
      {"schema_version", summary_schema_version},
      {"tool", "maskscan"},
      {"input", result.input},
      {"options", options_json(result.options)},
      {"io_backend", to_string(result.io_used)},
      {"timing", {{"wall_seconds", result.wall_seconds}, {"frames_per_second", fps}}},
      {"partial", result.partial || stats.partial},
      {"stopped_at", result.stopped_at.empty() ? json::value(nullptr) : json::value(result.stopped_at)},
      {"shards", stats.shards.whole() ? json::value(nullptr)
                                      : json::value(json::object{{"count", stats.shards.count},
                                                                 {"held", json::value_from(stats.shards.held)}})},
      {"frames_total", result.frames_total},
      {"frames_scanned", totals.frames},
      {"frames_skipped", totals.skipped},
      {"pixels", totals.pixels},
      {"labelled_pixels", totals.labelled_pixels},
      {"ignored_pixels", totals.ignored_pixels},
      {"out_of_range_pixels", totals.out_of_range_pixels},
      {"unknown_colour_pixels", totals.unknown_colour_pixels},
      {"classes", std::move(classes)},
      {"ignored",
       [&] {  // each ignored value with its name, if the class map gives one
         auto values = value_totals_json(totals.ignored);
         for (auto& v : values) {
           auto& entry = v.as_object();
           const auto name =
               value_name(stats, static_cast<std::uint32_t>(entry.at("value").to_number<std::uint64_t>()));
           entry["name"] = name.empty() ? json::value(nullptr) : json::value(name);
         }
         return values;
       }()},
      {"out_of_range", value_totals_json(totals.out_of_range)},
      {"files_with_out_of_range", std::move(files_out_of_range)},
      {"unknown_colours", std::move(unknown_colours)},
      {"files_with_unknown_colours", std::move(files_unknown_colours)},
      {"weights", detail::balance_json(stats, balance)},
      {"cooccurrence",
       cooccurrence_written(stats) ? json::value(detail::cooccurrence_json(stats)) : json::value(nullptr)},
      {"components", stats.components ? json::value(detail::components_json(stats)) : json::value(nullptr)},
      {"heatmaps", std::move(heatmaps)},
      {"heatmap_grid", std::move(heatmap_grid)},
      {"errors", std::move(errors)},
      {"classes_from_values", stats.classes_from_values},
      {"warnings", json::value_from(class_map_warnings(stats))},
  };
  if (group) {
    doc["group"] = *group;
    // A group's own count: how many of the source's frames are in it is known only when the scan
    // finished (a partial scan has not seen all of them).
    doc["frames_total"] = result.partial ? json::value(nullptr) : json::value(totals.frames + totals.skipped);
  }
  doc["grouping"] = stats.grouping;
  if (!groups.empty()) doc["groups"] = std::move(groups);
  return doc;
}

void write_summary(const scan_result& result, const dataset_stats& stats, const heatmap_list& heat_sets,
                   const heatmap_set* grid, const std::filesystem::path& file, const balance_options& balance,
                   const std::string* group, json::array groups) {
  const auto doc = summary_doc(result, stats, heat_sets, grid, balance, group, std::move(groups));
  detail::write_file_atomically(
      file,
      [&](std::ostream& out) {
        pretty_print(out, doc);
        out << '\n';
      },
      detail::durability::synced);
}

/// Removes `dir`/summary.json, durably (the directory is synced), before any file it names is
/// replaced: a run that fails or is killed half-way then leaves no summary.json that disagrees with
/// the files beside it.
void remove_summary(const std::filesystem::path& dir) {
  const auto file = dir / "summary.json";
  if (::unlink(file.c_str()) != 0) {
    if (errno == ENOENT) return;
    throw std::runtime_error(fmt::format("{}: cannot remove the earlier results' summary before replacing them: {}",
                                         file.string(), std::strerror(errno)));
  }
  detail::sync_directory(dir);
}

/// Every file of one set of statistics into `dir`: an earlier summary.json is removed first and the
/// new one written last, so that a summary.json on disk means every file it names is complete and
/// of the same run (docs/outputs.md).
void write_dataset(const scan_result& result, const dataset_stats& stats, const heatmap_list& heat_sets,
                   const heatmap_set* grid, const std::filesystem::path& dir, const balance_options& balance,
                   const std::string* group, json::array groups) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(fmt::format("{}: cannot create the output directory ({})", dir.string(), ec.message()));
  remove_summary(dir);  // an earlier run's: from here on it would name files that are being replaced
  write_frames_csv(stats, dir / "frames.csv", balance);
  write_weights_csv(stats, balance, dir / "weights.csv");
  if (cooccurrence_written(stats)) write_cooccurrence_csv(stats, dir / "cooccurrence.csv");
  if (stats.components) write_components_csv(stats, dir / "components.csv");
  for (const heatmap_set* heat : heat_sets)
    write_heatmap_npy(*heat, stats.class_names.size(), dir / heatmap_file_name(*heat));
  if (grid) write_heatmap_npy(*grid, stats.class_names.size(), dir / grid_file_name(*grid));
  write_summary(result, stats, heat_sets, grid, dir / "summary.json", balance, group, std::move(groups));
}

/// A grouped scan's whole at the top of its outputs: the groups summed (their heatmaps too unless
/// `sum_heatmaps` is false: the caller has the sums), the rows keeping their group, so that
/// frames.csv of the whole says which group each frame is in and summary.json names the grouping.
dataset_stats overall_of(const dataset_stats& stats, bool sum_heatmaps) {
  auto overall = ungroup(stats, sum_heatmaps);
  overall.frames = stats.frames;
  overall.errors = stats.errors;
  overall.grouping = stats.grouping;
  return overall;
}

/// summary.json's "groups" of a grouped scan: each group's name, directory and frame counts.
json::array group_list(const dataset_stats& stats) {
  std::map<std::string, std::pair<std::size_t, std::size_t>> counts;  // group -> frames scanned, skipped
  const auto names = group_names(stats);
  for (const auto& name : names) counts[name];
  for (const auto& f : stats.frames) ++counts[f.group].first;
  for (const auto& e : stats.errors) ++counts[e.group].second;
  const auto directories = group_directories(names);
  json::array groups;
  for (const auto& name : names)
    groups.push_back({{"name", name},
                      {"directory", (std::filesystem::path("groups") / directories.at(name)).generic_string()},
                      {"frames_scanned", counts[name].first},
                      {"frames_skipped", counts[name].second}});
  return groups;
}

}  // namespace

void write_summary_json(const scan_result& result, const std::filesystem::path& file, const balance_options& balance) {
  if (result.stats.grouping.empty()) {
    write_summary(result, result.stats, heatmaps_of(result.stats), grid_of(result.stats), file, balance, nullptr, {});
  } else {
    const auto overall = overall_of(result.stats, true);
    write_summary(result, overall, heatmaps_of(overall), grid_of(overall), file, balance, nullptr,
                  group_list(result.stats));
  }
}

void write_summary_json(const scan_result& result, std::ostream& out, const balance_options& balance) {
  if (result.stats.grouping.empty()) {
    pretty_print(
        out, summary_doc(result, result.stats, heatmaps_of(result.stats), grid_of(result.stats), balance, nullptr, {}));
  } else {
    const auto overall = overall_of(result.stats, true);
    pretty_print(out, summary_doc(result, overall, heatmaps_of(overall), grid_of(overall), balance, nullptr,
                                  group_list(result.stats)));
  }
  out << '\n';
}

void write_frames_csv(const dataset_stats& stats, const std::filesystem::path& file, const balance_options& balance) {
  validate(balance);  // throws on invalid options before any file exists
  detail::write_file_atomically(
      file, [&](std::ostream& out) { write_frames_csv(stats, out, balance); }, detail::durability::synced);
}

void write_frames_csv(const dataset_stats& stats, std::ostream& out, const balance_options& balance) {
  // Per row as it is written: the rows may be read from disk one at a time (frame_rows). The
  // class weights (a pass over every row) only when there is a repeat factor to write.
  validate(balance);
  const bool repeat = balance.repeat_threshold.has_value();
  const auto classes = repeat ? class_weights(stats, balance) : std::vector<class_balance>{};
  {
    const bool colours = !stats.colours.empty(), components = stats.components != 0;
    // Every column name is unique by construction: class columns carry a prefix (a class may be
    // named "path", as one of ADE20K's is), class names are unique, and the fixed columns stay where
    // they are (group is always there, empty without grouping).
    out << "path,group,width,height";
    for (const auto& name : stats.class_names) out << ',' << csv_field("pixels_" + name);
    out << ",ignored,out_of_range";
    if (colours) out << ",unknown_colours";
    if (components)
      for (const auto& name : stats.class_names) out << ',' << csv_field("instances_" + name);
    if (repeat) out << ",repeat_factor";  // last: only with --repeat-threshold
    out << '\n';
    auto sum = [](const std::vector<value_pixels>& values) {
      std::uint64_t n = 0;
      for (const auto& v : values) n += v.pixels;
      return n;
    };
    for (const auto& row : stats.frames) {
      out << csv_field(row.path) << ',' << csv_field(row.group);
      fmt::print(out, ",{},{}", row.width, row.height);
      for (auto p : row.class_pixels) fmt::print(out, ",{}", p);
      fmt::print(out, ",{},{}", sum(row.ignored), sum(row.out_of_range));
      if (colours) fmt::print(out, ",{}", sum(row.unknown_colours));
      if (components)
        for (std::size_t c = 0; c < stats.class_names.size(); ++c)
          fmt::print(out, ",{}", c < row.instances.size() ? row.instances[c] : 0);
      if (repeat) fmt::print(out, ",{}", repeat_factor_of(row, classes));
      out << '\n';
    }
  }
}

void write_heatmap_npy(const heatmap_set& heat, std::size_t classes, const std::filesystem::path& file) {
  static_assert(std::endian::native == std::endian::little, ".npy writer assumes a little-endian host");
  if (heat.counts.size() != classes * heat.width * heat.height)
    throw std::logic_error("heatmap size does not match its shape");
  // NumPy format 1.0: magic, version, u16 header length, a dict padded with spaces to a multiple
  // of 64 bytes and ended by '\n'.
  std::string header = fmt::format("{{'descr': '<u4', 'fortran_order': False, 'shape': ({}, {}, {}), }}", classes,
                                   heat.height, heat.width);
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  detail::write_file_atomically(
      file,
      [&](std::ostream& out) {
        out.write("\x93NUMPY\x01\x00", 8);
        const auto len = static_cast<std::uint16_t>(header.size());
        out.put(static_cast<char>(len & 0xff));
        out.put(static_cast<char>(len >> 8));
        out << header;
        out.write(reinterpret_cast<const char*>(heat.counts.data()),
                  static_cast<std::streamsize>(heat.counts.size() * sizeof(std::uint32_t)));
      },
      detail::durability::synced);
}

void write_outputs(const scan_result& result, const std::filesystem::path& dir, const balance_options& balance) {
  detail::write_outputs(result, nullptr, dir, balance);
}

void detail::write_outputs(const scan_result& result, const dataset_stats* summed, const std::filesystem::path& dir,
                           const balance_options& balance) {
  (void)class_weights(result.stats, balance);  // invalid options are refused before anything is written
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) remove_summary(dir);  // before the groups' files are replaced
  if (result.stats.grouping.empty()) {
    write_dataset(result, result.stats, heatmaps_of(result.stats), grid_of(result.stats), dir, balance, nullptr, {});
    return;
  }
  // Grouped: each group in groups/<name>/, then the whole (groups summed) at the top.
  const auto names = group_names(result.stats);
  const auto directories = group_directories(names);
  for (const auto& name : names) {  // one group in memory at a time
    // The group's rows; its heatmaps and grid heatmaps are written from result.stats, not copied.
    const auto stats = select_group(result.stats, name, false);
    const auto sub = std::filesystem::path("groups") / directories.at(name);
    write_dataset(result, stats, heatmaps_of(result.stats, &name), grid_of(result.stats, name), dir / sub, balance,
                  &name, {});
  }
  const auto overall = overall_of(result.stats, summed == nullptr);
  const dataset_stats& sums = summed ? *summed : overall;
  write_dataset(result, overall, heatmaps_of(sums), grid_of(sums), dir, balance, nullptr, group_list(result.stats));
}

namespace {

/// The file names maskscan writes into an output directory (and each groups/<group>/).
bool is_output_name(const std::string& name) {
  static const std::set<std::string> fixed{"summary.json",     "frames.csv",     "weights.csv",
                                           "cooccurrence.csv", "components.csv", "report.html"};
  static const std::regex heatmaps(R"(heatmaps_(grid_)?[0-9]+x[0-9]+\.npy)");
  return fixed.contains(name) || std::regex_match(name, heatmaps);
}

/// True if process `pid` may still be writing its temporary: it exists and is not this process
/// (whose own temporaries are registered and removed by itself; a name with this process's pid is
/// left by an earlier process of that number, e.g. a container's first process).
bool writer_alive(long long pid) {
  if (pid <= 0 || pid == ::getpid() || pid > std::numeric_limits<pid_t>::max()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

/// Removes the stale temporaries directly in `dir` whose output name `wanted` accepts.
void remove_stale_in(const std::filesystem::path& dir, const std::function<bool(const std::string&)>& wanted,
                     std::vector<std::filesystem::path>& removed) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    const auto temp = detail::parse_temporary_name(name);
    if (!temp || !wanted(temp->output) || writer_alive(temp->pid)) continue;
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    if (::unlink(it->path().c_str()) == 0) removed.push_back(it->path());
  }
}

}  // namespace

std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> removed;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return removed;
  remove_stale_in(dir, is_output_name, removed);
  for (fs::directory_iterator it(dir / "groups", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) remove_stale_in(it->path(), is_output_name, removed);
  // images/ is the report's own tree: every temporary in it is one of its pictures.
  const auto any = [](const std::string&) { return true; };
  if (fs::is_directory(dir / "images", ec) && !fs::is_symlink(dir / "images", ec)) {
    remove_stale_in(dir / "images", any, removed);
    for (fs::recursive_directory_iterator it(dir / "images", ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) remove_stale_in(it->path(), any, removed);
  }
  if (!removed.empty()) detail::sync_directory(dir);
  return removed;
}

std::vector<std::filesystem::path> remove_stale_temporaries_of(const std::filesystem::path& file) {
  std::vector<std::filesystem::path> removed;
  const auto name = file.filename().string();
  const auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  remove_stale_in(
      dir, [&](const std::string& output) { return output == name; }, removed);
  if (file.parent_path().empty())  // name them as the file was given
    for (auto& p : removed) p = p.filename();
  return removed;
}

}  // namespace maskscan
