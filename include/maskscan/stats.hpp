#pragma once
// dataset_stats: the exact statistics of a set of frames, as a mergeable value.
// merge() is associative and commutative (every statistic is an integer sum and rows are kept
// sorted), and the value round-trips through a versioned binary file: shards, resumes and
// per-group statistics are all built on these two properties.
#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <maskscan/class_map.hpp>
#include <maskscan/errors.hpp>

namespace maskscan {

/// A pixel value and how many pixels of a frame hold it.
struct value_pixels {
  std::uint32_t value = 0;
  std::uint64_t pixels = 0;
  friend bool operator==(const value_pixels&, const value_pixels&) = default;
  friend auto operator<=>(const value_pixels&, const value_pixels&) = default;
};

/// One scanned frame. `path` is relative to the scanned root (generic form, '/' separators).
struct frame_row {
  std::string path;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint64_t> class_pixels;  ///< one entry per class id
  std::vector<value_pixels> ignored;        ///< ignore-listed values present, ascending by value
  std::vector<value_pixels> out_of_range;   ///< other values >= class count, ascending by value
  /// Colour masks: colours not in the colour table (value = rgba::packed()), ascending.
  std::vector<value_pixels> unknown_colours;
  /// With connected components: the number of components of each class (else empty).
  std::vector<std::uint32_t> instances;
  std::string group;  ///< with grouping: the frame's group (else empty)
  friend bool operator==(const frame_row&, const frame_row&) = default;
  friend auto operator<=>(const frame_row&, const frame_row&) = default;
};

/// Per-class heatmaps of one resolution (of one group): counts[(c * height + y) * width + x] is the
/// number of frames in which pixel (x, y) holds class c.
struct heatmap_set {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint64_t frames = 0;
  std::vector<std::uint32_t> counts;
  friend bool operator==(const heatmap_set&, const heatmap_set&) = default;
};

/// Key of heatmaps: the group (empty without grouping) and the resolution.
struct heatmap_key {
  std::string group;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  friend bool operator==(const heatmap_key&, const heatmap_key&) = default;
  friend auto operator<=>(const heatmap_key&, const heatmap_key&) = default;
};

/// Connected-component sizes of one class: size in pixels -> number of components of that size.
using size_histogram = std::map<std::uint64_t, std::uint64_t>;

struct dataset_stats {
  // What the values meant (merge() requires all of these to be equal):
  std::vector<std::string> class_names;
  std::vector<std::uint32_t> ignore;  ///< sorted, unique
  bool has_heatmaps = false;
  std::vector<colour_entry> colours;  ///< scan_options::colours
  std::vector<value_remap> remap;     ///< scan_options::remap
  std::uint32_t instance_divisor = 0;
  unsigned components = 0;            ///< connectivity (4/8) of the components, 0 = not counted
  std::string grouping;               ///< how frames were grouped ("" = not grouped), see describe_grouping

  // What was found:
  std::vector<frame_row> frames;      ///< sorted (by path first) after normalize()/merge()
  std::vector<file_error> errors;     ///< sorted (by path first) after normalize()/merge()
  std::map<heatmap_key, heatmap_set> heatmaps;
  /// With components: per group ("" without grouping), per class id, the sizes of all components.
  std::map<std::string, std::vector<size_histogram>> component_sizes;

  friend bool operator==(const dataset_stats&, const dataset_stats&) = default;
};

/// An empty value for the given class list and ignore values.
dataset_stats make_stats(std::vector<std::string> class_names, std::vector<std::uint32_t> ignore,
                         bool heatmaps);

struct scan_options;
/// An empty value for a scan with these options (classes, ignore, heatmaps, colours, remap, ...).
dataset_stats make_stats(const scan_options& options);

/// Adds `other` into `into`. Throws std::invalid_argument if the class lists, ignore lists or
/// heatmap settings differ (merging those would silently mix different meanings of an id).
void merge(dataset_stats& into, const dataset_stats& other);

/// Sorts rows and errors into their canonical order (merge() does this itself).
void normalize(dataset_stats& stats);

/// Totals derived from the rows.
struct value_total {
  std::uint32_t value = 0;
  std::uint64_t pixels = 0;
  std::uint64_t frames = 0;  ///< frames in which the value occurs
};
struct class_total {
  std::uint32_t id = 0;
  std::string name;
  std::uint64_t pixels = 0;
  std::uint64_t frames_present = 0;
  double fraction = 0;  ///< pixels / labelled pixels (ignored and out-of-range pixels excluded)
};
struct dataset_totals {
  std::uint64_t frames = 0;
  std::uint64_t skipped = 0;
  std::uint64_t pixels = 0;            ///< all pixels of all scanned frames
  std::uint64_t labelled_pixels = 0;   ///< pixels holding a class id
  std::uint64_t ignored_pixels = 0;
  std::uint64_t out_of_range_pixels = 0;
  std::uint64_t unknown_colour_pixels = 0;  ///< colour masks: pixels of colours not in the table
  std::vector<class_total> classes;
  std::vector<value_total> ignored;          ///< per ignore-listed value that occurs
  std::vector<value_total> out_of_range;     ///< per other value that occurs
  std::vector<value_total> unknown_colours;  ///< per unknown colour (value = rgba::packed())
};
dataset_totals compute_totals(const dataset_stats& stats);

/// Versioned binary serialization (little-endian). save_state writes atomically (temp + rename).
/// load_state throws std::runtime_error naming the file and the cause for anything malformed.
void save_state(const dataset_stats& stats, const std::filesystem::path& file);
dataset_stats load_state(const std::filesystem::path& file);
inline constexpr std::uint32_t state_format_version = 2;

/// The groups that occur (in frames, errors, heatmaps or component sizes), sorted.
std::vector<std::string> group_names(const dataset_stats& stats);

/// The statistics of one group: its frames, errors, heatmaps (unless `heatmaps` is false) and
/// component sizes.
dataset_stats select_group(const dataset_stats& stats, const std::string& group, bool heatmaps = true);

/// The statistics of each group (keyed by group name), each a complete dataset_stats whose
/// heatmaps and component sizes are those of the group. Without grouping: one entry, "".
std::map<std::string, dataset_stats> split_by_group(const dataset_stats& stats);

/// The statistics as if no grouping had been asked for: groups dropped, heatmaps and component
/// sizes of all groups summed. ungroup(grouped scan) == ungrouped scan of the same frames.
dataset_stats ungroup(const dataset_stats& stats);

}  // namespace maskscan
