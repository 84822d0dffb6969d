#include "service/request.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <maskscan/class_map.hpp>
#include <maskscan/grouping.hpp>
#include <maskscan/option_error.hpp>
#include <maskscan/option_words.hpp>

#include "core/paths.hpp"

namespace maskscan::service {
namespace fs = std::filesystem;
namespace json = boost::json;

bool inside(const fs::path& root, const fs::path& path) { return detail::path_within(root, path); }

fs::path confined(const fs::path& root, const std::string& relative, const std::string& what) {
  if (relative.find('\0') != std::string::npos) throw request_error(400, fmt::format("{}: a NUL character", what));
  const fs::path given(relative);
  if (given.is_absolute() || given.has_root_name() || given.has_root_directory())
    throw request_error(403, fmt::format("{} '{}': an absolute path (give it relative to the root)", what, relative));
  const fs::path lexical = given.lexically_normal();
  if (!lexical.empty() && *lexical.begin() == "..")
    throw request_error(403, fmt::format("{} '{}': outside the root", what, relative));
  std::error_code ec;
  const fs::path resolved = fs::canonical(root / lexical, ec);
  if (ec) {
    // A path that does not resolve: it does not exist, or a symlink in it points nowhere (or out).
    throw request_error(404, fmt::format("{} '{}': no such file or directory under the root", what, relative));
  }
  if (!inside(root, resolved))
    throw request_error(403, fmt::format("{} '{}': resolves outside the root (a symlink)", what, relative));
  return resolved;
}

namespace {

/// A file a request names for the service to read (a split list, a class map): a regular file
/// of at most 16 MiB, else 400 (a FIFO would block the reading thread, a huge file its memory).
fs::path small_file(const fs::path& root, const std::string& relative, const std::string& what) {
  auto file = confined(root, relative, what);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw request_error(400, fmt::format("{} '{}': not a regular file", what, relative));
  constexpr std::uintmax_t limit = 16u << 20;
  if (fs::file_size(file, ec) > limit)
    throw request_error(400, fmt::format("{} '{}': over {} bytes", what, relative, limit));
  return file;
}

const char* kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64: return "an integer";
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

[[noreturn]] void wrong_type(const std::string& key, const char* expected, const json::value& v) {
  throw request_error(400, fmt::format("{}: expected {}, got {}", key, expected, kind_of(v)));
}

bool boolean(const json::value& v, const std::string& key) {
  if (!v.is_bool()) wrong_type(key, "true or false", v);
  return v.get_bool();
}

template <class T>
T integer(const json::value& v, const std::string& key, T min = 0) {
  std::uint64_t u = 0;
  if (v.is_uint64())
    u = v.get_uint64();
  else if (v.is_int64() && v.get_int64() >= 0)
    u = static_cast<std::uint64_t>(v.get_int64());
  else if (v.is_int64())
    throw request_error(
        400, fmt::format("{}: {} is out of range ({} to {})", key, v.get_int64(), min, std::numeric_limits<T>::max()));
  else
    wrong_type(key, "an integer", v);
  if (u < min || u > std::numeric_limits<T>::max())
    throw request_error(400,
                        fmt::format("{}: {} is out of range ({} to {})", key, u, min, std::numeric_limits<T>::max()));
  return static_cast<T>(u);
}

double number(const json::value& v, const std::string& key) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  wrong_type(key, "a number", v);
}

std::string text(const json::value& v, const std::string& key) {
  if (!v.is_string()) wrong_type(key, "a string", v);
  return std::string(v.get_string());
}

std::vector<std::string> texts(const json::value& v, const std::string& key) {
  if (!v.is_array()) wrong_type(key, "an array of strings", v);
  std::vector<std::string> out;
  for (const auto& e : v.get_array()) out.push_back(text(e, key));
  return out;
}

template <class Enum>
Enum word(const json::value& v, const std::string& key) {
  const auto w = text(v, key);
  const auto& words = option_words<Enum>();
  if (const auto it = words.find(w); it != words.end()) return it->second;
  std::string names;
  for (const auto& [name, e] : words) names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  throw request_error(400, fmt::format("{} '{}': expected one of {}", key, w, names));
}

// Every key of "options": the library's option names (scan_options, class_choice, balance_options,
// report_options), and "report".
const std::vector<std::string> keys = {"class_names",
                                       "colormap",
                                       "components",
                                       "decoder",
                                       "effective_beta",
                                       "effective_unit",
                                       "enet_c",
                                       "group_by",
                                       "heatmap_grid",
                                       "heatmaps",
                                       "ignore",
                                       "include_results",
                                       "instance_divisor",
                                       "io",
                                       "io_depth",
                                       "labels",
                                       "max_file_bytes",
                                       "max_heatmap_bytes",
                                       "max_memory",
                                       "max_pixels",
                                       "min_component_pixels",
                                       "num_classes",
                                       "overlay_alpha",
                                       "overlays",
                                       "queue_depth",
                                       "remap",
                                       "repeat_threshold",
                                       "report",
                                       "rgb_dir",
                                       "serial",
                                       "splits",
                                       "stop_on_error",
                                       "workers"};

}  // namespace

std::vector<std::string> option_keys() {
  auto sorted = keys;
  std::ranges::sort(sorted);
  return sorted;
}

scan_request parse_scan_request(const std::string& body, const fs::path& root, const request_limits& limits) {
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec) throw request_error(400, fmt::format("the body is not JSON: {}", ec.message()));
  if (!doc.is_object()) throw request_error(400, fmt::format("the body: expected an object, got {}", kind_of(doc)));
  scan_request r;
  bool has_path = false;
  for (const auto& [k, v] : doc.get_object()) {
    if (k == "path") {
      r.path = text(v, "path");
      has_path = true;
    } else if (k == "options") {
      if (!v.is_object()) wrong_type("options", "an object", v);
      r.posted = v.get_object();
    } else {
      throw request_error(400, fmt::format("unknown key '{}' (the body has \"path\" and \"options\")", std::string(k)));
    }
  }
  if (!has_path) throw request_error(400, "path: missing (the dataset folder, relative to the root)");
  r.input = confined(root, r.path, "path");

  scan_options& o = r.options;
  class_choice classes;
  o.max_memory = limits.max_memory;
  for (const auto& [k, v] : r.posted) {
    const std::string key(k);
    if (key == "workers") {
      o.workers = integer<unsigned>(v, key);
      if (limits.max_workers && o.workers > limits.max_workers)
        throw request_error(400, fmt::format("workers: {} is more than the service's {} compute threads", o.workers,
                                             limits.max_workers));
    } else if (key == "io_depth")
      o.io_depth = integer<unsigned>(v, key, 1);
    else if (key == "queue_depth")
      o.queue_depth = integer<unsigned>(v, key, 1);
    else if (key == "io")
      o.io = word<io_backend>(v, key);
    else if (key == "decoder")
      o.decoder = word<decoder_kind>(v, key);
    else if (key == "serial")
      o.serial = boolean(v, key);
    else if (key == "heatmaps")
      o.heatmaps = boolean(v, key);
    else if (key == "heatmap_grid") {
      try {
        o.heatmap_grid = parse_grid_size(text(v, key));
      } catch (const std::invalid_argument& e) {
        throw request_error(400, fmt::format("heatmap_grid: {}", e.what()));
      }
    } else if (key == "labels") {
      const auto labels = text(v, key);
      const auto builtin = builtin_class_map_names();
      // A built-in map by its name, else a class-map file inside the root.
      classes.labels =
          std::ranges::find(builtin, labels) != builtin.end() ? labels : small_file(root, labels, key).string();
    } else if (key == "remap")
      classes.remap = text(v, key);
    else if (key == "num_classes")
      classes.num_classes = integer<std::uint32_t>(v, key, 1);
    else if (key == "class_names") {
      classes.class_names = texts(v, key);
      if (classes.class_names.empty())
        throw request_error(400, "class_names: an empty array (give the names, or leave it out)");
    } else if (key == "ignore") {
      if (v.is_array()) {
        for (const auto& e : v.get_array()) classes.ignore.push_back(integer<std::uint32_t>(e, key));
      } else {
        classes.ignore = {integer<std::uint32_t>(v, key)};
      }
    } else if (key == "instance_divisor")
      classes.instance_divisor = integer<std::uint32_t>(v, key);
    else if (key == "components")
      o.components = integer<unsigned>(v, key);
    else if (key == "min_component_pixels")
      o.min_component_pixels = integer<std::uint64_t>(v, key, 1);
    else if (key == "group_by")
      o.group_by = text(v, key);
    else if (key == "splits") {
      if (!v.is_object()) wrong_type(key, "an object {\"name\": \"list file\"}", v);
      if (v.get_object().size() > 64) throw request_error(400, "splits: at most 64 splits");
      for (const auto& [name, list] : v.get_object()) {
        const auto file = small_file(root, text(list, key), fmt::format("splits.{}", std::string(name)));
        try {
          o.splits.push_back(load_split(std::string(name), file));
        } catch (const std::exception& e) {
          throw request_error(400, fmt::format("splits.{}: {}", std::string(name), e.what()));
        }
      }
    } else if (key == "max_pixels")
      o.max_pixels = integer<std::uint64_t>(v, key);
    else if (key == "max_file_bytes")
      o.max_file_bytes = integer<std::uint64_t>(v, key);
    else if (key == "max_heatmap_bytes")
      o.max_heatmap_bytes = integer<std::uint64_t>(v, key);
    else if (key == "max_memory") {
      const auto asked = integer<std::uint64_t>(v, key, 1);
      if (limits.max_memory && asked > limits.max_memory)
        throw request_error(400, fmt::format("max_memory: {} is more than the service allows a scan ({} bytes)", asked,
                                             limits.max_memory));
      o.max_memory = asked;
    } else if (key == "stop_on_error")
      o.stop_on_error = boolean(v, key);
    else if (key == "include_results")
      ;  // read below, with the listing
    else if (key == "enet_c")
      r.balance.enet_c = number(v, key);
    else if (key == "effective_beta")
      r.balance.effective_beta = number(v, key);
    else if (key == "effective_unit")
      r.balance.unit = word<effective_unit>(v, key);
    else if (key == "repeat_threshold") {
      if (!v.is_null()) r.balance.repeat_threshold = number(v, key);
    } else if (key == "report")
      r.report = boolean(v, key);
    else if (key == "colormap")
      r.report_options.colormap = word<heatmap_colormap>(v, key);
    else if (key == "rgb_dir")
      r.report_options.rgb_dir = confined(root, text(v, key), key);
    else if (key == "overlays") {
      r.report_options.overlays = integer<std::size_t>(v, key);
      if (r.report_options.overlays > 64) throw request_error(400, "overlays: at most 64");
    } else if (key == "overlay_alpha") {
      r.report_options.overlay_alpha = number(v, key);
      if (!(r.report_options.overlay_alpha >= 0 && r.report_options.overlay_alpha <= 1))
        throw request_error(400, "overlay_alpha: expected a number in [0, 1]");
    } else {
      throw request_error(400, fmt::format("unknown option '{}' (options: {})", key, fmt::join(option_keys(), ", ")));
    }
  }
  if (r.posted.contains("include_results")) boolean(r.posted.at("include_results"), "include_results");
  r.report_options.confine_rgb_to = root;  // the report's RGB frames too, symlinks followed
  try {                                    // the library's checks and messages, by the library's names
    apply_class_choice(classes, o);
    o = resolve_defaults(std::move(o));
    validate(r.balance);
  } catch (const option_error& e) {  // options named by their library names, mentions included
    throw request_error(400, e.message([](std::string_view option) { return std::string(option); }));
  } catch (const std::invalid_argument& e) {
    throw request_error(400, e.what());
  } catch (const std::exception& e) {  // a class-map file that cannot be read or parsed
    throw request_error(400, e.what());
  }
  return r;
}

}  // namespace maskscan::service
