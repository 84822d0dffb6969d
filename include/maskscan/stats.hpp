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
  friend bool operator==(const frame_row&, const frame_row&) = default;
  friend auto operator<=>(const frame_row&, const frame_row&) = default;
};

/// Per-class heatmaps of one resolution: counts[(c * height + y) * width + x] is the number of
/// frames in which pixel (x, y) holds class c.
struct heatmap_set {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint64_t frames = 0;
  std::vector<std::uint32_t> counts;
  friend bool operator==(const heatmap_set&, const heatmap_set&) = default;
};

/// Key of heatmaps: (width, height).
using resolution = std::pair<std::uint32_t, std::uint32_t>;

struct dataset_stats {
  std::vector<std::string> class_names;
  std::vector<std::uint32_t> ignore;  ///< sorted, unique
  bool has_heatmaps = false;
  std::vector<frame_row> frames;      ///< sorted (by path first) after normalize()/merge()
  std::vector<file_error> errors;     ///< sorted (by path first) after normalize()/merge()
  std::map<resolution, heatmap_set> heatmaps;

  friend bool operator==(const dataset_stats&, const dataset_stats&) = default;
};

/// An empty value for the given class list and ignore values.
dataset_stats make_stats(std::vector<std::string> class_names, std::vector<std::uint32_t> ignore,
                         bool heatmaps);

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
  std::vector<class_total> classes;
  std::vector<value_total> ignored;       ///< per ignore-listed value that occurs
  std::vector<value_total> out_of_range;  ///< per other value that occurs
};
dataset_totals compute_totals(const dataset_stats& stats);

/// Versioned binary serialization (little-endian). save_state writes atomically (temp + rename).
/// load_state throws std::runtime_error naming the file and the cause for anything malformed.
void save_state(const dataset_stats& stats, const std::filesystem::path& file);
dataset_stats load_state(const std::filesystem::path& file);
inline constexpr std::uint32_t state_format_version = 1;

}  // namespace maskscan
