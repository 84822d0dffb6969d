#include <maskscan/grouping.hpp>
#include <maskscan/option_error.hpp>
#include <maskscan/source.hpp>
#include <maskscan/text.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <boost/regex.hpp>

namespace maskscan {

using O = option_error;
namespace {

bool safe_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; }

bool ends_with_png(std::string_view s) {
  if (s.size() < 4) return false;
  const auto ext = s.substr(s.size() - 4);
  return std::equal(ext.begin(), ext.end(), ".png",
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

/// A list entry or a frame path in the form they are compared: '/' separators, no leading "./",
/// no ".png" extension.
std::string normalize_entry(std::string_view s) {
  std::string out(s);
  std::ranges::replace(out, '\\', '/');
  while (out.starts_with("./")) out.erase(0, 2);
  if (ends_with_png(out)) out.resize(out.size() - 4);
  return out;
}

}  // namespace

namespace detail {
struct group_expression {
  // Boost.Regex rather than std::regex: its parser refuses deep nesting with an error where
  // libstdc++'s recursion overflows the stack, and its matcher throws after a bounded number of
  // steps where libstdc++'s backtracks for ever. A service reads expressions from its clients.
  boost::regex regex;
};
}  // namespace detail

frame_grouper::frame_grouper(const scan_options& options) {
  if (!options.group_by.empty() && !options.splits.empty())
    throw O({O::name("group_by"), O::text(" and "), O::name("splits"),
             O::text(" cannot be combined: choose one way of grouping")});
  if (!options.group_by.empty()) {
    try {
      regex_ = std::make_shared<const detail::group_expression>(
          detail::group_expression{boost::regex(options.group_by, boost::regex::ECMAScript)});
    } catch (const boost::regex_error& e) {
      throw O({O::name("group_by"),
               O::text(fmt::format(" '{}': not a valid regular expression ({})", options.group_by, e.what()))});
    }
    if (regex_->regex.mark_count() != 1)
      throw O({O::name("group_by"),
               O::text(fmt::format(" '{}': needs exactly one capture group (it has {}); the captured text names the "
                                   "group, e.g. '_(FV|RV|MVL|MVR)\\.png$'; use (?:...) for other parentheses",
                                   options.group_by, regex_->regex.mark_count()))});
    kind_ = kind::regex;
    description_ = "group-by:" + options.group_by;
    return;
  }
  if (options.splits.empty()) return;
  std::set<std::string> names;
  for (const auto& s : options.splits) {
    if (s.name.empty() || !std::ranges::all_of(s.name, safe_char))
      throw O({O::name("splits"),
               O::text(fmt::format(" '{}': a split name must be letters, digits, '.', '_' or '-' (it names an output "
                                   "directory)",
                                   s.name))});
    if (s.name == "." || s.name == ".." || s.name == unlisted_group)
      throw O({O::name("splits"), O::text(fmt::format(" '{}': that name is reserved", s.name))});
    if (!names.insert(s.name).second) throw O({O::name("splits"), O::text(fmt::format(" '{}': named twice", s.name))});
    for (const auto& frame : s.frames) {
      const auto entry = normalize_entry(frame);
      if (entry.empty()) continue;
      const auto [it, inserted] = listed_.emplace(entry, s.name);
      if (!inserted && it->second != s.name)
        throw O({O::name("splits"),
                 O::text(fmt::format(": '{}' is listed in both '{}' and '{}'; a frame can be in one split only (else "
                                     "the groups would not add up to the whole)",
                                     frame, it->second, s.name))});
    }
  }
  kind_ = kind::splits;
  // Names, sizes and a digest (FNV-1a, 64-bit) of the normalized entries: two different lists of
  // one name and size must not pass for the same grouping (a --resume or merge would mix them).
  description_ = "split:";
  auto by_name = options.splits;  // the order lists are given in does not change the grouping
  std::ranges::sort(by_name, {}, &split::name);
  for (const auto& s : by_name) {
    std::vector<std::string> entries;
    for (const auto& f : s.frames) entries.push_back(normalize_entry(f));
    std::ranges::sort(entries);
    std::uint64_t digest = 0xcbf29ce484222325ULL;
    for (const auto& e : entries)
      for (const char c : e + '\n') digest = (digest ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    description_ += fmt::format("{}({} entries, {:016x});", s.name, s.frames.size(), digest);
  }
}

std::string frame_grouper::group_of(std::string_view path) const {
  switch (kind_) {
    case kind::none: return {};
    case kind::regex: {
      boost::match_results<std::string_view::const_iterator> m;
      bool found = false;
      try {
        found = boost::regex_search(path.begin(), path.end(), m, regex_->regex);
      } catch (const std::runtime_error& e) {  // Boost.Regex's bound on the steps of one match
        throw O({O::name("group_by"), O::text(fmt::format(" '{}': matching the path {}: {}", description_.substr(9),
                                                          printable_name(path), e.what()))});
      }
      if (found && m[1].matched && m[1].length() > 0) return m[1].str();
      return std::string(unmatched_group);
    }
    case kind::splits: {
      const auto names = splits_naming(path);
      return names.empty() ? std::string(unlisted_group) : names.front();
    }
  }
  return {};
}

std::vector<std::string> frame_grouper::splits_naming(std::string_view path) const {
  // The whole path, then each end of it after a '/', longest first.
  std::vector<std::string> names;
  const std::string key = normalize_entry(path);
  std::string_view rest = key;
  while (true) {
    if (const auto it = listed_.find(std::string(rest)); it != listed_.end()) names.push_back(it->second);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return names;
}

std::size_t frame_grouper::count_groups(const frame_source& source) const {
  if (kind_ == kind::none) return 1;
  std::set<std::string> groups;
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (kind_ == kind::splits) {
      const auto names = splits_naming(source.name(i));
      for (const auto& other : names)
        if (other != names.front())
          throw O({O::name("splits"),
                   O::text(fmt::format(": {} is named by both '{}' and '{}' (one by its whole path, one by its end); a "
                                       "frame can be in one split only",
                                       source.name(i), names.front(), other))});
    }
    groups.insert(group_of(source.name(i)));
  }
  return std::max<std::size_t>(groups.size(), 1);
}

std::string group_directory_name(std::string_view group) {
  std::string out(group);
  for (char& c : out)
    if (!safe_char(c)) c = '_';
  if (out.empty() || out == "." || out == "..") out = "_";
  return out;
}

std::map<std::string, std::string> group_directories(const std::vector<std::string>& groups) {
  std::map<std::string, std::string> out;
  std::set<std::string> taken;
  for (const auto& name : groups) {
    std::string directory = group_directory_name(name);
    for (int k = 2; !taken.insert(directory).second; ++k)
      directory = group_directory_name(name) + "-" + std::to_string(k);
    out.emplace(name, std::move(directory));
  }
  return out;
}

split load_split(std::string name, const std::filesystem::path& list_file) {
  std::ifstream in(list_file);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the split list", list_file.string()));
  split s;
  s.name = std::move(name);
  for (std::string line; std::getline(in, line);) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    const auto e = line.find_last_not_of(" \t\r");
    s.frames.push_back(line.substr(b, e - b + 1));
  }
  if (s.frames.empty()) throw std::runtime_error(fmt::format("{}: the split list names no frame", list_file.string()));
  return s;
}

}  // namespace maskscan
