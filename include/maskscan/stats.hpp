#pragma once
// dataset_stats: the exact statistics of a set of frames, as a mergeable value.
// merge() is associative and commutative (every statistic is an integer sum and rows are kept
// sorted), and the value round-trips through a versioned binary file: shards, resumes and
// per-group statistics are all built on these two properties.
#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <maskscan/class_map.hpp>
#include <maskscan/errors.hpp>
#include <maskscan/frame_rows.hpp>
#include <maskscan/meaning.hpp>
#include <maskscan/shard.hpp>

namespace maskscan {

/// Without a class map (dataset_stats::classes_from_values) the values below this are classes and
/// larger ones are out of range: rows hold a count per class, so 16-bit masks of arbitrary values
/// (instance ids, depth) must not make every row hundreds of KB.
inline constexpr std::size_t max_value_classes = 1024;

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

/// The frame row (column) that grid row (column) `cell` of `cells` samples in a frame of `size` rows
/// (columns): the pixel nearest the cell's centre in normalised coordinates,
/// floor((cell + 0.5) * size / cells) = floor((2 cell + 1) size / (2 cells)), in exact integers.
/// Always < size for cell < cells.
constexpr std::uint32_t grid_sample(std::uint32_t cell, std::uint32_t cells, std::uint32_t size) noexcept {
  return static_cast<std::uint32_t>((2 * std::uint64_t{cell} + 1) * size / (2 * std::uint64_t{cells}));
}

/// Connected-component sizes of one class: size in pixels -> number of components of that size.
using size_histogram = std::map<std::uint64_t, std::uint64_t>;

/// What the values meant (the scan_meaning base: merge() requires it to be equal) and what was found.
struct dataset_stats : scan_meaning {
  // What was found:
  /// Only some of the frames the scan was given are here (it was cancelled, interrupted or stopped
  /// at a bad file). merge() keeps it: a merge of partial statistics is partial.
  bool partial = false;
  /// The shards of a sharded scan these statistics hold (scan_options::shard); whole by default.
  /// merge() unites them (merge_shards), refusing a shard held twice; statistics without a frame or
  /// an error that are whole (make_stats) take the other's shards.
  shard_set shards;
  frame_rows frames;               ///< sorted (by path first) after normalize()/merge()
  std::vector<file_error> errors;  ///< sorted (by path first) after normalize()/merge()
  std::map<heatmap_key, heatmap_set> heatmaps;
  /// With heatmap_grid: per group ("" without grouping) the grid heatmaps of its frames of every
  /// size, width x height = heatmap_grid: counts[(c * height + i) * width + j] is the number of frames
  /// whose pixel sampled for cell (i, j) (row grid_sample(i, height, frame height), column
  /// grid_sample(j, width, frame width)) holds class c; `frames` is the frames sampled.
  std::map<std::string, heatmap_set> grid_heatmaps;
  /// With components: per group ("" without grouping), per class id, the sizes of all components.
  std::map<std::string, std::vector<size_histogram>> component_sizes;

  friend bool operator==(const dataset_stats&, const dataset_stats&) = default;
};

/// An empty value for the given class list and ignore values.
dataset_stats make_stats(std::vector<std::string> class_names, std::vector<std::uint32_t> ignore, bool heatmaps);

struct scan_options;
/// An empty value for a scan with these options (classes, ignore, heatmaps, colours, remap, ...).
dataset_stats make_stats(const scan_options& options);
/// An empty value with this meaning.
dataset_stats make_stats(const scan_meaning& meaning);

/// Adds `other` into `into`. Throws std::invalid_argument if the class lists, ignore lists or
/// heatmap settings (per-size heatmaps, heatmap grid) differ (merging those would silently mix
/// different meanings of an id), and
/// duplicate_frame if a frame (a row or a skipped file) is in both, which would count it twice
/// (shards of different roots that hold equal relative names: prefix_frames first). A merge that
/// throws leaves `into` as it was. Rows and errors of both must be sorted (normalize()).
/// With rows on disk (frame_rows::spill_beyond, in either), a frame in both cannot be looked for
/// before the rows are added: check_frames_unique() finds it afterwards (and reading two rows of
/// one path throws duplicate_frame). `into` takes `other`'s bound if it has none.
void merge(dataset_stats& into, const dataset_stats& other);

/// Throws duplicate_frame for a frame held twice (two rows, two skipped files, or both).
void check_frames_unique(const dataset_stats& stats);

/// Completes an interrupted scan: `saved` holds what it saved (partial), `rest` the statistics of a
/// scan of `source.remaining(saved)`, which retried the files `saved` lists as skipped. Returns them
/// merged, saved's skipped files replaced by the retries; the result is partial only if `rest` is
/// (a plain merge() keeps `saved`'s partial flag, as it cannot know that `rest` completes it).
/// Throws as merge() does.
dataset_stats complete_resumed(dataset_stats saved, const dataset_stats& rest);

/// A frame that two statistics both hold: merging them would count it twice.
class duplicate_frame : public std::invalid_argument {
 public:
  explicit duplicate_frame(std::string path);
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// Renames every frame and skipped file to `prefix` + '/' + its name, so that statistics of
/// different roots that hold equal relative names (`a/x.png`, `b/x.png` both saved as `x.png`)
/// can be merged without counting a frame twice. Throws std::invalid_argument for a prefix that is
/// empty, absolute, or has an empty, "." or ".." component.
void prefix_frames(dataset_stats& stats, std::string_view prefix);

/// Sorts rows and errors into their canonical order (merge() does this itself).
void normalize(dataset_stats& stats);

/// What a value is called: its class name for a class id, else its name as an ignore value
/// (CamVid's 11 "Unlabelled"), else "" (an out-of-range value has no name).
std::string value_name(const dataset_stats& stats, std::uint32_t value);

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
  std::uint64_t pixels = 0;           ///< all pixels of all scanned frames
  std::uint64_t labelled_pixels = 0;  ///< pixels holding a class id
  std::uint64_t ignored_pixels = 0;
  std::uint64_t out_of_range_pixels = 0;
  std::uint64_t unknown_colour_pixels = 0;  ///< colour masks: pixels of colours not in the table
  std::vector<class_total> classes;
  std::vector<value_total> ignored;          ///< per ignore-listed value that occurs
  std::vector<value_total> out_of_range;     ///< per other value that occurs
  std::vector<value_total> unknown_colours;  ///< per unknown colour (value = rgba::packed())
};
dataset_totals compute_totals(const dataset_stats& stats);

/// What a reader of the numbers must be told about how the values were read, one sentence each
/// (summary.json "warnings", the CLI's stderr): that there was no class map and which built-in map
/// would name the values found; that more than 1% of the pixels are out of range or of colours not
/// in the colour table, with the built-in map the values fit (Cityscapes labelIds read as trainIds)
/// or what the colours look like (ADE20K's full format); that nothing was scanned because every
/// file failed for one reason (common_failure). Empty when there is nothing to say.
std::vector<std::string> class_map_warnings(const dataset_stats& stats);

/// When no frame was scanned and every file failed for the same reason: that reason in one
/// sentence with its fix ("all 26 files are RGB colour masks: give --labels FILE with their colour
/// table"). Empty otherwise.
std::string common_failure(const dataset_stats& stats);

/// Versioned binary serialization (little-endian). save_state writes atomically (temp + rename).
/// load_state throws std::runtime_error naming the file and the cause for anything malformed.
void save_state(const dataset_stats& stats, const std::filesystem::path& file);
dataset_stats load_state(const std::filesystem::path& file);
/// The bytes save_state writes, in memory (to send statistics between processes: MPI ranks, Dask
/// workers), and their inverse; `name` names the bytes in load_state's errors.
std::vector<char> state_bytes(const dataset_stats& stats);
dataset_stats stats_from_state_bytes(const std::vector<char>& bytes, const std::string& name);
inline constexpr std::uint32_t state_format_version = 4;

/// The groups that occur (in frames, errors, heatmaps, grid heatmaps or component sizes), sorted.
std::vector<std::string> group_names(const dataset_stats& stats);

/// The statistics of one group: its frames, errors, heatmaps and grid heatmaps (unless `heatmaps` is
/// false) and component sizes.
dataset_stats select_group(const dataset_stats& stats, const std::string& group, bool heatmaps = true);

/// The statistics of each group (keyed by group name), each a complete dataset_stats whose
/// heatmaps and component sizes are those of the group. Without grouping: one entry, "".
std::map<std::string, dataset_stats> split_by_group(const dataset_stats& stats);

/// The statistics as if no grouping had been asked for: groups dropped, heatmaps, grid heatmaps and
/// component sizes of all groups summed. ungroup(grouped scan) == ungrouped scan of the same frames.
/// With `heatmaps` false, no heatmap or grid heatmap is summed (they are a copy of a set per frame
/// size: for when the caller has the sums already), as select_group.
dataset_stats ungroup(const dataset_stats& stats, bool heatmaps = true);

}  // namespace maskscan
