#pragma once
#include <filesystem>
#include <functional>
#include <ostream>

namespace maskscan::detail {

/// Writes `file` through `write` into a temporary file beside it, flushes, then renames it into
/// place, so a reader sees either the old file or the whole new one. Throws std::runtime_error
/// naming the file if anything fails (the temporary is removed).
void write_file_atomically(const std::filesystem::path& file,
                           const std::function<void(std::ostream&)>& write);

}  // namespace maskscan::detail
