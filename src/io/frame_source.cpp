#include <maskscan/scan.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace maskscan {
namespace fs = std::filesystem;

namespace {
bool has_png_extension(const fs::path& p) {
  auto ext = p.extension().string();
  std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png";
}

std::string report_name(const fs::path& file, const fs::path& root) {
  if (!root.empty()) {
    const auto rel = file.lexically_relative(root);
    if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
    return fs::absolute(file).generic_string();  // outside the root: root / name must still find it
  }
  return file.generic_string();
}
}  // namespace

frame_source frame_source::from_directory(const fs::path& root) {
  std::error_code ec;
  const auto status = fs::status(root, ec);
  if (ec || !fs::exists(status))
    throw std::runtime_error(fmt::format("{}: no such file or directory", root.string()));
  if (!fs::is_directory(status)) return from_paths({root}, root.parent_path());

  std::vector<fs::path> files;
  // Directory symlinks are not followed: a link loop cannot make the walk endless.
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot list the directory ({})", root.string(), ec.message()));
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) throw std::runtime_error(fmt::format("{}: cannot list the directory ({})", root.string(), ec.message()));
    // Directories named *.png are not frames; anything else with the name is listed, so that a
    // broken file shows up as a per-file error instead of being skipped silently.
    if (!it->is_directory(ec) && has_png_extension(it->path())) files.push_back(it->path());
  }
  return from_paths(std::move(files), root);
}

frame_source frame_source::from_paths(std::vector<fs::path> files, const fs::path& root) {
  frame_source source;
  source.root_ = root;
  source.names_.reserve(files.size());
  for (const auto& f : files) source.names_.push_back(report_name(f, root));
  std::ranges::sort(source.names_);
  return source;
}

frame_source frame_source::remaining(const dataset_stats& done) const {
  std::vector<std::string_view> rows;
  rows.reserve(done.frames.size());
  for (const auto& row : done.frames) rows.push_back(row.path);
  std::ranges::sort(rows);
  const auto stranger = [&](std::string_view path) {
    return std::invalid_argument(fmt::format(
        "the saved statistics hold frame '{}', which is not among the {} frames under {}: they were saved "
        "from another dataset or root",
        path, names_.size(), root_.string()));
  };
  // Both lists are sorted by name, so one merge walk keeps the frames without a row and finds any
  // row that is not a frame of this source.
  frame_source rest;
  rest.root_ = root_;
  std::size_t r = 0;
  for (const auto& name : names_) {
    if (r < rows.size() && rows[r] < name) throw stranger(rows[r]);
    if (r < rows.size() && rows[r] == name) ++r;
    else rest.names_.push_back(name);
  }
  if (r < rows.size()) throw stranger(rows[r]);
  return rest;
}

}  // namespace maskscan
