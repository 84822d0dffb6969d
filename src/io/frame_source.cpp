#include <maskscan/reader.hpp>
#include <maskscan/source.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <sys/stat.h>

#include <maskscan/text.hpp>

#include "io/file_reader.hpp"

namespace maskscan {
namespace fs = std::filesystem;

namespace {
bool has_png_extension(const fs::path& p) {
  auto ext = p.extension().string();
  std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png";
}

/// The name a frame is reported under: relative to the root, '/' separators, "." and ".." folded
/// (so that two spellings of one path are one name).
std::string report_name(const fs::path& given, const fs::path& root) {
  const fs::path file = given.lexically_normal();
  if (!root.empty()) {
    const auto rel = file.lexically_relative(root.lexically_normal());
    if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
    return fs::absolute(file).generic_string();  // outside the root: root / name must still find it
  }
  return file.generic_string();
}
}  // namespace

bool detail::is_maskscan_summary_start(std::string_view head) {
  const auto start = head.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || head[start] != '{' ||
      head.find("\"schema_version\"") == std::string_view::npos)
    return false;
  for (auto key = head.find("\"tool\""); key != std::string_view::npos; key = head.find("\"tool\"", key + 1)) {
    auto i = head.find_first_not_of(" \t\r\n", key + 6);
    if (i == std::string_view::npos || head[i] != ':') continue;
    i = head.find_first_not_of(" \t\r\n", i + 1);
    if (i != std::string_view::npos && head.substr(i, 10) == "\"maskscan\"") return true;
  }
  return false;
}

namespace {
/// True if `file` is a summary.json that maskscan wrote. Only the start is read: a summary of many
/// files can be large.
bool is_maskscan_summary(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::string head(detail::summary_start_bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return detail::is_maskscan_summary_start(head);
}

struct file_id {
  dev_t device;
  ino_t inode;
  bool operator==(const file_id&) const = default;
};
std::optional<file_id> id_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return file_id{st.st_dev, st.st_ino};
}
}  // namespace

frame_source frame_source::from_directory(const fs::path& root, const listing_options& options) {
  std::error_code ec;
  const auto status = fs::status(root, ec);
  if (ec || !fs::exists(status)) throw std::runtime_error(fmt::format("{}: no such file or directory", root.string()));
  if (!fs::is_directory(status)) return from_paths({root}, root.parent_path());

  // Names, not paths, are kept while walking: a std::filesystem::path holds its parsed components
  // too, and a vector of every file's path was most of a large scan's peak memory (340 bytes a frame).
  std::vector<std::string> names;
  // Directory symlinks are not followed: a link loop cannot make the walk endless.
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot list the directory ({})", root.string(), ec.message()));
  std::vector<file_id> excluded;
  for (const auto& dir : options.exclude)
    if (const auto id = id_of(dir)) excluded.push_back(*id);
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) throw std::runtime_error(fmt::format("{}: cannot list the directory ({})", root.string(), ec.message()));
    // Directories named *.png are not frames; anything else with the name is listed, so that a
    // broken file shows up as a per-file error instead of being skipped silently.
    if (it->is_directory(ec)) {
      if (it->is_symlink(ec)) continue;  // not walked into: nothing to leave out
      const auto is_excluded = [&] {
        const auto id = excluded.empty() ? std::nullopt : id_of(it->path());
        return id && std::ranges::find(excluded, *id) != excluded.end();
      };
      const bool leave_out =
          is_excluded() || (!options.include_results && is_maskscan_summary(it->path() / "summary.json"));
      if (leave_out) {
        it.disable_recursion_pending();
        if (options.left_out) options.left_out->push_back(it->path());
      }
      continue;
    }
    if (has_png_extension(it->path())) names.push_back(report_name(it->path(), root));
  }
  return from_file_names(std::move(names), root);
}

frame_source frame_source::from_paths(std::vector<fs::path> files, const fs::path& root) {
  std::vector<std::string> names;
  names.reserve(files.size());
  for (const auto& f : files) names.push_back(report_name(f, root));
  return from_file_names(std::move(names), root);
}

frame_source frame_source::from_file_names(std::vector<std::string> names, const fs::path& root) {
  auto source = from_store(detail::make_file_store(root), std::move(names));
  source.root_ = root;
  source.location_ = root.string();
  source.of_files_ = true;
  return source;
}

frame_source frame_source::from_store(std::shared_ptr<const frame_store> store, std::vector<std::string> keys,
                                      std::string location) {
  if (!store) throw std::invalid_argument("frame_source::from_store: no store");
  frame_source source;
  source.store_ = std::move(store);
  source.location_ = std::move(location);
  std::ranges::sort(keys);
  if (const auto twice = std::ranges::adjacent_find(keys); twice != keys.end())
    throw std::invalid_argument(
        fmt::format("frame '{}' is listed twice: it would be counted twice", printable_name(*twice)));
  std::size_t chars = 0;
  for (const auto& key : keys) chars += key.size();
  source.name_chars_.reserve(chars);
  source.name_ends_.reserve(keys.size());
  for (auto& key : keys) {
    source.add_name(key);
    std::string().swap(key);  // freed as it is copied
  }
  return source;
}

frame_source frame_source::from_list(const fs::path& list, const fs::path& root) {
  const bool standard_input = list == "-";
  const std::string list_name = standard_input ? std::string("standard input") : list.string();
  std::ifstream file;
  if (!standard_input) {
    file.open(list, std::ios::binary);
    if (!file)
      throw std::runtime_error(fmt::format("{}: cannot open the file list ({})", list_name, std::strerror(errno)));
  }
  std::istream& in = standard_input ? std::cin : file;
  const fs::path base = !root.empty()                ? root
                        : standard_input             ? fs::path(".")
                        : list.parent_path().empty() ? fs::path(".")
                                                     : list.parent_path();
  // Names and their line numbers only (no path objects, no hash map): a list can name millions of frames.
  std::vector<std::string> names;
  {  // the line numbers and the order are freed before the names are sorted
    std::vector<std::size_t> lines;
    std::size_t line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      if (line.ends_with('\r')) line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      names.push_back(report_name(fs::path(line).is_absolute() ? fs::path(line) : base / line, base));
      lines.push_back(line_number);
    }
    if (in.bad()) throw std::runtime_error(fmt::format("{}: cannot read the file list", list_name));
    if (names.empty()) throw std::runtime_error(fmt::format("{}: the file list names no file", list_name));
    // A frame listed twice: the first line that repeats a name, and the line that named it first.
    // Sorted by (name, line), the least repeat of an adjacent equal pair is a name's second listing,
    // so the pair's first is that name's first line.
    std::vector<std::size_t> order(names.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::ranges::sort(order,
                      [&](std::size_t a, std::size_t b) { return std::tie(names[a], a) < std::tie(names[b], b); });
    std::optional<std::pair<std::size_t, std::size_t>> repeat;  // (index of the repeat, of the first)
    for (std::size_t k = 1; k < order.size(); ++k)
      if (names[order[k]] == names[order[k - 1]] && (!repeat || order[k] < repeat->first))
        repeat = std::pair{order[k], order[k - 1]};
    if (repeat)
      throw std::invalid_argument(fmt::format("{}: line {} lists '{}' again (line {}): it would be counted twice",
                                              list_name, lines[repeat->first], printable_name(names[repeat->first]),
                                              lines[repeat->second]));
  }
  return from_file_names(std::move(names), base);
}

frame_source frame_source::subset(const std::vector<std::size_t>& indices) const {
  frame_source part;
  part.root_ = root_;
  part.location_ = location_;
  part.store_ = store_;
  part.of_files_ = of_files_;
  part.name_ends_.reserve(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (indices[k] >= size() || (k > 0 && indices[k] <= indices[k - 1]))
      throw std::invalid_argument(fmt::format(
          "frame_source::subset: index {} is out of range or out of order ({} frames)", indices[k], size()));
    part.add_name(name_view(indices[k]));
  }
  return part;
}

frame_source frame_source::shard(const shard_spec& shard) const {
  if (shard.whole()) return *this;
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < size(); ++i)
    if (shard_of(name_view(i), shard.count) == shard.index) indices.push_back(i);
  return subset(indices);
}

frame_source frame_source::remaining(const dataset_stats& done) const {
  // The saved rows' paths in order: views of rows in memory, sorted here, or rows on disk as they
  // are read (in order; a row read is valid until the next).
  const bool on_disk = done.frames.spilled();
  std::vector<std::string_view> in_memory;
  if (!on_disk) {
    in_memory.reserve(done.frames.size());
    for (const auto& row : done.frames) in_memory.push_back(row.path);
    std::ranges::sort(in_memory);
  }
  auto read = done.frames.begin();
  std::size_t r = 0;
  const auto more = [&] { return on_disk ? read != done.frames.end() : r < in_memory.size(); };
  const auto row = [&]() -> std::string_view { return on_disk ? std::string_view(read->path) : in_memory[r]; };
  const auto next = [&] { on_disk ? void(++read) : void(++r); };
  const auto stranger = [&](std::string_view path) {
    return std::invalid_argument(
        fmt::format("the saved statistics hold frame '{}', which is not among the {} frames under {}: they were saved "
                    "from another dataset or root",
                    printable_name(path), size(), location_));
  };
  // Both lists are sorted by name, so one merge walk keeps the frames without a row and finds any
  // row that is not a frame of this source.
  frame_source rest;
  rest.root_ = root_;
  rest.location_ = location_;
  rest.store_ = store_;
  rest.of_files_ = of_files_;
  for (std::size_t i = 0; i < size(); ++i) {
    const auto name = name_view(i);
    if (more() && row() < name) throw stranger(row());
    if (more() && row() == name)
      next();
    else
      rest.add_name(name);
  }
  if (more()) throw stranger(row());

  // A frame whose file changed since it was scanned: its counts are in the sums and cannot be taken out.
  std::vector<std::string> changed;
  for (const auto& row : done.frames) {
    const auto now = store_->version(row.path);
    const bool same = now && now->size == row.file_size && now->mtime_ns == row.file_mtime_ns;
    if (!same) changed.push_back(printable_name(row.path));
  }
  if (!changed.empty()) {
    constexpr std::size_t shown = 5;
    std::string names;
    for (std::size_t i = 0; i < std::min(shown, changed.size()); ++i) names += (i ? ", " : "") + changed[i];
    throw std::invalid_argument(fmt::format(
        "{} of the {} frames it holds changed since they were scanned (size or modification time differ): {}{}; "
        "their old counts are summed into the totals and cannot be replaced, so scan again without --resume",
        changed.size(), done.frames.size(), names,
        changed.size() > shown ? fmt::format(" and {} more", changed.size() - shown) : std::string()));
  }
  return rest;
}

}  // namespace maskscan
