#pragma once
// Whether a path lies within a folder: the one check of the service's confinement to --root and of
// the report's RGB frames confined to it.
#include <filesystem>
#include <system_error>

namespace maskscan::detail {

/// Whether `path` is `root` or below it, compared by components (so "/data2" is not within
/// "/data"). Both as given: lexical, no symlinks resolved (see resolves_within).
inline bool path_within(const std::filesystem::path& root, const std::filesystem::path& path) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty() && std::next(r) == root.end()) break;  // a trailing separator of the root
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

/// Whether `file` exists and resolves, symlinks followed, within `root` (canonical).
inline bool resolves_within(const std::filesystem::path& root, const std::filesystem::path& file) {
  std::error_code ec;
  const auto real = std::filesystem::canonical(file, ec);
  return !ec && path_within(root, real);
}

}  // namespace maskscan::detail
