#pragma once
// scan_meaning: what the numbers of a set of statistics mean (which values are which classes, which
// are ignored, how raw values are read, what is accumulated beside the counts, how frames are
// grouped). Two statistics can be merged only if their meanings agree; a state file and a JSON
// document carry it whole. Adding a field: docs/architecture.md, "Adding a field of meaning".
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <maskscan/class_map.hpp>

namespace maskscan {

/// The size of the common grid that grid heatmaps sample every frame onto (scan_options::heatmap_grid):
/// `width` columns x `height` rows of cells. 0x0: no grid heatmaps.
struct grid_size {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  bool empty() const noexcept { return width == 0 || height == 0; }
  friend bool operator==(const grid_size&, const grid_size&) = default;
  friend auto operator<=>(const grid_size&, const grid_size&) = default;
};

/// The largest grid side (columns or rows) scan_options::heatmap_grid accepts.
inline constexpr std::uint32_t max_grid_side = 4096;

/// The meaning of statistics, resolved from scan_options by meaning_of (dataset_stats holds it as
/// its base, so `stats.class_names` reads it). Equal meanings, and only those, merge (classes from
/// values excepted: their class lists are widened).
struct scan_meaning {
  /// No class map was given: every value below max_value_classes that occurs (and is not ignored)
  /// is a class, class k being the value k, named class_k; the list is as long as the largest such
  /// value needs. merge() widens the shorter of two such lists instead of refusing it.
  bool classes_from_values = false;
  std::vector<std::string> class_names;
  std::vector<std::uint32_t> ignore;  ///< sorted, unique
  /// Names of ignore values that are not class ids (class_map::ignore_names); see value_name.
  std::map<std::uint32_t, std::string> ignore_names;
  bool has_heatmaps = false;
  /// Heatmaps on a common grid (scan_options::heatmap_grid); 0x0: none.
  grid_size heatmap_grid;
  std::vector<colour_entry> colours;  ///< scan_options::colours, sorted
  std::vector<value_remap> remap;     ///< scan_options::remap, sorted
  std::uint32_t instance_divisor = 0;
  unsigned components = 0;                 ///< connectivity (4/8) of the components, 0 = not counted
  std::uint64_t min_component_pixels = 0;  ///< with components: smaller ones are specks, not instances
  std::string grouping;                    ///< how frames were grouped ("" = not grouped), frame_grouper::description

  friend bool operator==(const scan_meaning&, const scan_meaning&) = default;
};

/// Calls `visit(name, field)` for every field of `meaning` in declaration order (`Meaning` is
/// scan_meaning, const or not). The one list of the fields: the state file and the JSON form both
/// serialize through it, so a field added here is written and read by both.
template <class Meaning, class Visit>
void for_each_field(Meaning& meaning, Visit&& visit) {
  visit("classes_from_values", meaning.classes_from_values);
  visit("class_names", meaning.class_names);
  visit("ignore", meaning.ignore);
  visit("ignore_names", meaning.ignore_names);
  visit("has_heatmaps", meaning.has_heatmaps);
  visit("heatmap_grid", meaning.heatmap_grid);
  visit("colours", meaning.colours);
  visit("remap", meaning.remap);
  visit("instance_divisor", meaning.instance_divisor);
  visit("components", meaning.components);
  visit("min_component_pixels", meaning.min_component_pixels);
  visit("grouping", meaning.grouping);
}

struct scan_options;

/// The meaning of a scan with these options (resolve_defaults first): classes from the class map or
/// the values, ignore values sorted and unique, the names of ignore values that are not class ids,
/// colours and remap sorted, min_component_pixels only with components, the grouping described.
/// Throws std::invalid_argument for a bad group_by or splits.
scan_meaning meaning_of(const scan_options& options);

/// Sets the fields of `options` that `meaning` determines (class_names, ignore, ignore_names,
/// heatmaps, heatmap_grid, colours, remap, instance_divisor, components), as the options of a scan
/// that produced it would hold them; `labels` becomes the built-in class map whose names are the
/// meaning's class names, if there is one (a state file does not record the map's name).
void apply_meaning(scan_options& options, const scan_meaning& meaning);

/// The display colour of class `id` in the meaning's colour table (class_colour of a class_map).
const rgba* class_colour(const scan_meaning& meaning, std::uint32_t id);

/// The meaning as one line of JSON: an object with one member per field, named as the field
/// (colours as [[r, g, b, a, value], ...], remap as [[from, to], ...], ignore_names as
/// {"value": name}, heatmap_grid as [width, height]).
std::string to_json(const scan_meaning& meaning);
/// The inverse of to_json. Throws std::invalid_argument naming the member that is missing or of the
/// wrong type.
scan_meaning meaning_from_json(std::string_view json);

}  // namespace maskscan
