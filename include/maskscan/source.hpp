#pragma once
// frame_source: the frames of a scan — their keys (names) and the store their bytes come from.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <maskscan/shard.hpp>
#include <maskscan/stats.hpp>

namespace maskscan {

class frame_store;  // <maskscan/reader.hpp>: where the bytes of the keys live, and how they are read

/// What frame_source::from_directory leaves out of a directory it lists.
struct listing_options {
  /// Directories left out with everything below them, e.g. the scan's own output directory (a
  /// report fills it with PNGs that are not masks); any spelling of the same directory matches.
  std::vector<std::filesystem::path> exclude;
  /// Also list directories holding a maskscan summary.json (results of a scan, whose report
  /// pictures are PNGs). Default false: they are left out with everything below them.
  bool include_results = false;
  /// If set, receives the directories that were left out.
  std::vector<std::filesystem::path>* left_out = nullptr;
};

/// The frames of a scan: their keys, sorted and unique, and the store that reads them. A key is
/// the name a frame is reported under (frames.csv, errors, groups): for files, the path relative
/// to the root with '/' separators. Files are the default store; frame_source::from_memory and
/// frame_source::from_store take others (see <maskscan/reader.hpp>).
class frame_source {
 public:
  /// Every *.png (any letter case) below `root`, recursively, sorted by relative path, except in
  /// the directories `options` leaves out: by default every directory below `root` that holds a
  /// maskscan summary.json (`root` itself is always listed). A regular file `root` is a one-frame
  /// source. Throws std::runtime_error naming the path if it does not exist or cannot be listed.
  static frame_source from_directory(const std::filesystem::path& root, const listing_options& options = {});
  /// Explicit files; reported relative to `root` when they lie below it, else as absolute paths.
  /// A frame listed twice (by equal names) is refused: std::invalid_argument naming it, since it
  /// would be counted twice. Files are not opened here: a missing one is a per-file error of the scan.
  static frame_source from_paths(std::vector<std::filesystem::path> files, const std::filesystem::path& root = {});
  /// The files a list names, one path per line (`--files-from`), as a data catalogue or a split
  /// file gives them: relative lines are relative to `root`, or to the list's folder when `root` is
  /// empty; blank lines are skipped and a CR before the newline is dropped. "-" reads standard input
  /// (relative to `root`, else the current directory). Frames are reported relative to that folder.
  /// Throws std::runtime_error naming the list if it cannot be read or names no file, and
  /// std::invalid_argument naming the line of a frame listed twice.
  static frame_source from_list(const std::filesystem::path& list, const std::filesystem::path& root = {});
  /// Frames held in memory: each key's PNG bytes (the store keeps them; the scan reads them with no
  /// I/O). `location` is what scan_result::input reports. Keys must be non-empty.
  static frame_source from_memory(std::map<std::string, std::vector<std::byte>> frames,
                                  std::string location = "memory");
  /// The frames `keys` of any store (an object store, an archive, ...). Keys are sorted; a key
  /// given twice is refused (std::invalid_argument naming it), as from_paths does. `location` is
  /// what scan_result::input reports (e.g. "s3://bucket/prefix/").
  static frame_source from_store(std::shared_ptr<const frame_store> store, std::vector<std::string> keys,
                                 std::string location = {});

  /// The frames still to scan to complete `done` (statistics saved by an interrupted scan of this
  /// source): every frame without a row in `done`. Files `done` lists as errors are scanned again.
  /// Throws std::invalid_argument naming a frame of `done` that is not in this source (the state
  /// belongs to another dataset or root), since merging it would count a frame twice or a stranger,
  /// and naming the frames whose file changed since it was scanned (size or modification time
  /// differ from frame_row::file_size / file_mtime_ns, or it cannot be read): their counts are
  /// summed into heatmaps and totals and cannot be replaced, so such a state is not resumed.
  frame_source remaining(const dataset_stats& done) const;

  /// The frames at `indices` (ascending, each below size()) of this source: same store, root and
  /// location (a sample, a shard). Throws std::invalid_argument for an index out of range or out of order.
  frame_source subset(const std::vector<std::size_t>& indices) const;
  /// The frames of `shard` (shard_of their keys): this source itself when it is whole.
  frame_source shard(const shard_spec& shard) const;

  std::size_t size() const noexcept { return name_ends_.size(); }
  /// Where the frames are, as scan_result::input reports it: the root folder of files.
  const std::string& location() const noexcept { return location_; }
  /// The root folder of a file source (empty for other stores).
  const std::filesystem::path& root() const noexcept { return root_; }
  /// The key of frame i: the name it is reported under (relative to the root, '/' separators).
  std::string name(std::size_t i) const { return std::string(name_view(i)); }
  /// Whether the frames are files (from_directory, from_paths, from_list).
  bool of_files() const noexcept { return of_files_; }
  /// The store that reads the keys.
  const std::shared_ptr<const frame_store>& store() const noexcept { return store_; }

 private:
  /// The files `names` (reported names, relative to `root`) of a file store.
  static frame_source from_file_names(std::vector<std::string> names, const std::filesystem::path& root);

  std::filesystem::path root_;
  std::string location_;
  std::string_view name_view(std::size_t i) const noexcept {
    const std::size_t begin = i ? name_ends_[i - 1] : 0;
    return {name_chars_.data() + begin, name_ends_[i] - begin};
  }
  void add_name(std::string_view name) {
    name_chars_.append(name);
    name_ends_.push_back(name_chars_.size());
  }
  // Every name, one after another, and where each ends: about 28 bytes a frame of a million, where a
  // vector of strings took 64 (a string and its heap block).
  std::string name_chars_;
  std::vector<std::size_t> name_ends_;
  std::shared_ptr<const frame_store> store_;
  bool of_files_ = false;
};

}  // namespace maskscan
