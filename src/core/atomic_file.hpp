#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace maskscan::detail {

/// Whether write_file_atomically makes the data durable before the name.
enum class durability {
  renamed,  ///< flushed and renamed: whole or absent for any reader, but a power cut may leave it empty
  synced,   ///< also fsync()ed before the rename, so that after a power cut the name holds the whole file
            ///< (the statistics: summary.json, the files it names and state files; pictures and
            ///< synthetic datasets, hundreds or thousands of files, are not worth the time)
};

/// Writes `file` through `write` into a temporary file beside it (`<name>.tmp.<pid>.<n>`), flushes
/// it, then renames it into place, so a reader sees either the old file or the whole new one.
/// Throws std::runtime_error naming `file` (not the temporary) and the cause as the system gave it
/// ("No space left on device", "File too large", ...) if anything fails; the temporary is removed.
void write_file_atomically(const std::filesystem::path& file, const std::function<void(std::ostream&)>& write,
                           durability level = durability::renamed);

/// The name of the temporary beside `file` that process `pid` writes as its `n`th.
std::string temporary_name(const std::filesystem::path& file, long pid, unsigned n);

/// What a temporary's name says: the output it was to become and the process that wrote it.
struct temporary_file_name {
  std::string output;  ///< the final file name (no directory)
  long long pid = 0;
};
/// The parts of `<output>.tmp.<pid>.<n>`, or nothing for any other name.
std::optional<temporary_file_name> parse_temporary_name(const std::string& name);

/// fsync() of a directory, so that a removal or rename in it is on the disk (best effort).
void sync_directory(const std::filesystem::path& dir);

}  // namespace maskscan::detail
