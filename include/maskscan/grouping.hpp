#pragma once
// Which group a frame belongs to: by a regular expression over its relative path (`--group-by`)
// or by lists of frames (`--split NAME=LISTFILE`). Every statistic is kept per group as well as
// overall, in one pass (dataset_stats: frame_row::group, heatmaps and component sizes per group).
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <maskscan/options.hpp>

namespace maskscan {

/// Group of frames a --group-by expression does not match.
inline constexpr std::string_view unmatched_group = "unmatched";
/// Group of frames no --split list names.
inline constexpr std::string_view unlisted_group = "unlisted";

class frame_source;
namespace detail {
struct group_expression;  // the compiled --group-by expression (Boost.Regex, behind the compiled library)
}

class frame_grouper {
 public:
  /// No grouping: every frame is in group "".
  frame_grouper() = default;
  /// From scan_options::group_by / splits. Throws std::invalid_argument naming the cause: both
  /// given, an expression that does not compile or has not exactly one capture group, a split name
  /// that is empty, repeated or not made of letters, digits, '.', '_' and '-', or one frame entry
  /// listed in two splits.
  explicit frame_grouper(const scan_options& options);

  bool enabled() const noexcept { return kind_ != kind::none; }
  /// The group of a frame (its path relative to the root, '/' separators). Thread-safe. Throws
  /// option_error naming group_by when matching the path would take more steps than Boost.Regex's
  /// bound (an expression that backtracks catastrophically, e.g. '((?:.*){30}X)'): never runs for ever.
  std::string group_of(std::string_view path) const;
  /// The number of groups the frames of `source` fall into (1 without grouping). Throws
  /// std::invalid_argument naming the frame and both splits if a frame is named by two split lists
  /// (one may name it by its whole path and another by its end).
  std::size_t count_groups(const frame_source& source) const;
  /// A canonical description for dataset_stats::grouping ("" when not grouped).
  const std::string& description() const noexcept { return description_; }

 private:
  enum class kind { none, regex, splits };
  /// Splits: the names of the splits listing the path (whole, then each end after a '/').
  std::vector<std::string> splits_naming(std::string_view path) const;
  kind kind_ = kind::none;
  std::shared_ptr<const detail::group_expression> regex_;
  std::unordered_map<std::string, std::string> listed_;  // normalized entry -> split name
  std::string description_;
};

/// The group a --group-by capture names, safe as a directory name: characters other than letters,
/// digits, '.', '_' and '-' become '_', and "", "." and ".." become "_".
std::string group_directory_name(std::string_view group);

/// The directory of each group (names in sorted order, as group_names gives them): its
/// group_directory_name, with "-2", "-3", ... after a name an earlier group already took (captures
/// "a/b" and "a_b" both sanitize to "a_b"). Used for groups/<dir>/ and the report's folders and anchors.
std::map<std::string, std::string> group_directories(const std::vector<std::string>& groups);

/// Reads a split list: one frame per line (blank lines and lines starting with '#' skipped).
/// Throws std::runtime_error naming the file when it cannot be read or is empty.
split load_split(std::string name, const std::filesystem::path& list_file);

}  // namespace maskscan
