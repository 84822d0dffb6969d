#include <maskscan/meaning.hpp>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <maskscan/grouping.hpp>
#include <maskscan/options.hpp>
#include <maskscan/resolved.hpp>

namespace maskscan {

scan_meaning meaning_of(const scan_options& options) { return meaning_of(options, frame_grouper(options)); }

scan_meaning meaning_of(const scan_options& options, const frame_grouper& grouper) {
  scan_meaning m;
  m.classes_from_values = classes_from_values(options);
  m.class_names = options.class_names;
  m.ignore = options.ignore;
  std::ranges::sort(m.ignore);
  m.ignore.erase(std::unique(m.ignore.begin(), m.ignore.end()),
                 m.ignore.end());  // not ranges::unique: clang 14 (fuzz/)
  // Only names of values that are ignored and not class ids mean anything here.
  for (const auto& [value, name] : options.ignore_names)
    if (value >= m.class_names.size() && std::ranges::binary_search(m.ignore, value))
      m.ignore_names.emplace(value, name);
  m.has_heatmaps = options.heatmaps;
  m.heatmap_grid = options.heatmap_grid;
  m.colours = options.colours;
  std::ranges::sort(m.colours);
  m.remap = options.remap;
  std::ranges::sort(m.remap);
  m.instance_divisor = options.instance_divisor;
  m.components = options.components;
  m.min_component_pixels = options.components ? options.min_component_pixels : 0;
  m.grouping = grouper.description();
  return m;
}

void apply_meaning(scan_options& options, const scan_meaning& meaning) {
  options.labels.clear();  // not recorded in state files: the built-in map with these names, if any
  if (!meaning.classes_from_values)
    for (const auto& name : builtin_class_map_names())
      if (builtin_class_map(name).names == meaning.class_names) {
        options.labels = name;  // for the report's class colours, as a scan with --labels NAME has them
        break;
      }
  options.class_names = meaning.class_names;
  options.ignore = meaning.ignore;
  options.ignore_names = meaning.ignore_names;
  options.heatmaps = meaning.has_heatmaps;
  options.heatmap_grid = meaning.heatmap_grid;
  options.colours = meaning.colours;
  options.remap = meaning.remap;
  options.instance_divisor = meaning.instance_divisor;
  options.components = meaning.components;
}

namespace {
namespace json = boost::json;

json::value field_json(bool v) { return v; }
json::value field_json(std::uint32_t v) { return v; }
json::value field_json(std::uint64_t v) { return v; }
json::value field_json(const std::string& v) { return json::string(v); }
json::value field_json(const grid_size& g) { return json::array{g.width, g.height}; }
json::value field_json(const colour_entry& c) {
  return json::array{c.colour.r, c.colour.g, c.colour.b, c.colour.a, c.value};
}
json::value field_json(const value_remap& r) { return json::array{r.from, r.to}; }
template <class T>
json::value field_json(const std::vector<T>& items) {
  json::array out;
  for (const auto& item : items) out.push_back(field_json(item));
  return out;
}
json::value field_json(const std::map<std::uint32_t, std::string>& names) {
  json::object out;
  for (const auto& [value, name] : names) out[std::to_string(value)] = name;
  return out;
}

/// Reads one field; `bad` throws naming it.
struct field_reader {
  const char* name;
  [[noreturn]] void bad() const {
    throw std::invalid_argument(fmt::format("scan_meaning JSON: member '{}' is missing or not of its type", name));
  }
  template <class T>
  T number(const json::value& v) const {
    if (!v.is_number()) bad();
    try {
      return v.to_number<T>();
    } catch (const std::exception&) {
      bad();
    }
  }
  void read(const json::value& v, bool& out) const {
    if (!v.is_bool()) bad();
    out = v.get_bool();
  }
  void read(const json::value& v, std::uint32_t& out) const { out = number<std::uint32_t>(v); }
  void read(const json::value& v, std::uint64_t& out) const { out = number<std::uint64_t>(v); }
  void read(const json::value& v, std::string& out) const {
    if (!v.is_string()) bad();
    out = v.get_string();
  }
  const json::array& array(const json::value& v, std::size_t size) const {
    if (!v.is_array() || v.get_array().size() != size) bad();
    return v.get_array();
  }
  void read(const json::value& v, grid_size& out) const {
    const auto& a = array(v, 2);
    out = {number<std::uint32_t>(a[0]), number<std::uint32_t>(a[1])};
  }
  void read(const json::value& v, colour_entry& out) const {
    const auto& a = array(v, 5);
    out.colour = {number<std::uint8_t>(a[0]), number<std::uint8_t>(a[1]), number<std::uint8_t>(a[2]),
                  number<std::uint8_t>(a[3])};
    out.value = number<std::uint32_t>(a[4]);
  }
  void read(const json::value& v, value_remap& out) const {
    const auto& a = array(v, 2);
    out = {number<std::uint32_t>(a[0]), number<std::uint32_t>(a[1])};
  }
  template <class T>
  void read(const json::value& v, std::vector<T>& out) const {
    if (!v.is_array()) bad();
    out.resize(v.get_array().size());
    for (std::size_t i = 0; i < out.size(); ++i) read(v.get_array()[i], out[i]);
  }
  void read(const json::value& v, std::map<std::uint32_t, std::string>& out) const {
    if (!v.is_object()) bad();
    out.clear();
    for (const auto& [key, text] : v.get_object()) {
      std::uint32_t value = 0;
      try {
        value = static_cast<std::uint32_t>(std::stoul(std::string(key)));
      } catch (const std::exception&) {
        bad();
      }
      read(text, out[value]);
    }
  }
};
}  // namespace

std::string to_json(const scan_meaning& meaning) {
  json::object doc;
  for_each_field(meaning, [&](const char* name, const auto& field) { doc[name] = field_json(field); });
  return json::serialize(doc);
}

scan_meaning meaning_from_json(std::string_view text) {
  json::error_code ec;
  const auto doc = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !doc.is_object()) throw std::invalid_argument("scan_meaning JSON: not a JSON object");
  scan_meaning meaning;
  for_each_field(meaning, [&](const char* name, auto& field) {
    const field_reader reader{name};
    const auto* v = doc.get_object().if_contains(name);
    if (!v) reader.bad();
    reader.read(*v, field);
  });
  return meaning;
}

}  // namespace maskscan
