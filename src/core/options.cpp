#include <maskscan/options.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include <maskscan/grouping.hpp>
#include <maskscan/option_error.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <fmt/ranges.h>

namespace maskscan {

using O = option_error;

void use_class_map(scan_options& options, const class_map& map) {
  options.labels = map.name;
  options.class_names = map.names;
  options.ignore = map.ignore;
  options.ignore_names = map.ignore_names;
  options.colours = map.colours;
  options.remap = map.remap;
}

class_map class_map_named(const std::string& labels) {
  const auto builtins = builtin_class_map_names();
  if (std::ranges::find(builtins, labels) != builtins.end()) return builtin_class_map(labels);
  std::error_code ec;
  if (!labels.empty() && (labels.ends_with(".json") || std::filesystem::exists(labels, ec)))
    return load_class_map(labels);
  throw O({O::text(fmt::format("labels '{}'", labels)), O::mention("labels"),
           O::text(fmt::format(": neither a built-in class map ({}) nor a file", fmt::join(builtins, ", ")))});
}

void apply_class_choice(const class_choice& choice, scan_options& options) {
  if (choice.num_classes && (!choice.class_names_file.empty() || !choice.class_names.empty()))
    throw O({O::text("give "), O::name("num_classes"), O::text(" or "),
             O::name(choice.class_names.empty() ? "class_names_file" : "class_names"), O::text(", not both")});
  if (!choice.class_names_file.empty() && !choice.class_names.empty())
    throw O({O::text("give "), O::name("class_names_file"), O::text(" or "), O::name("class_names"),
             O::text(", not both")});
  if (choice.num_classes && !choice.labels.empty())
    throw O({O::name("num_classes"), O::text(" replaces the class map's names: it cannot go with "), O::name("labels"),
             O::text(" (give the names with a class-map file instead)")});
  if (choice.num_classes > 65536)
    throw O({O::name("num_classes"), O::text(fmt::format(" {}: at most 65536 classes", choice.num_classes))});
  if (!choice.labels.empty()) use_class_map(options, class_map_named(choice.labels));
  if (!choice.remap.empty()) {
    if (!choice.labels.empty() && choice.labels != "cityscapes")
      throw O({O::name("remap"), O::text(fmt::format(" {} maps Cityscapes labelIds; it cannot follow ", choice.remap)),
               O::name("labels"), O::text(fmt::format(" {}", choice.labels))});
    use_class_map(options, builtin_remap(choice.remap));
  }
  if (choice.num_classes) options.class_names = numbered_class_names(choice.num_classes);
  if (!choice.class_names_file.empty()) options.class_names = load_class_names(choice.class_names_file);
  if (!choice.class_names.empty()) options.class_names = choice.class_names;
  options.ignore.insert(options.ignore.end(), choice.ignore.begin(), choice.ignore.end());
  options.instance_divisor = choice.instance_divisor;
}

bool classes_from_values(const scan_options& options) noexcept {
  return options.labels.empty() && options.class_names.empty();
}

grid_size parse_grid_size(std::string_view text) {
  const auto bad = [&] {
    return O(
        {O::text("heatmap grid"), O::mention("heatmap_grid"),
         O::text(fmt::format(" '{}': expected WxH, e.g. 64x48 (W and H in 1..{}; 0x0 is off)", text, max_grid_side))});
  };
  const auto x = text.find_first_of("xX");
  if (x == std::string_view::npos) throw bad();
  const auto number = [&](std::string_view digits) {
    std::uint32_t v = 0;
    // from_chars alone would take a sign and stop at the first non-digit.
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) throw bad();
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc{})
      throw O({O::text("heatmap grid"), O::mention("heatmap_grid"),
               O::text(fmt::format(" '{}': {} is over {}", text, digits, max_grid_side))});
    return v;
  };
  return {number(text.substr(0, x)), number(text.substr(x + 1))};
}

std::string to_string(grid_size grid) { return fmt::format("{}x{}", grid.width, grid.height); }

scan_options resolve_defaults(scan_options options) {
  // A map given by name only: apply it. (use_class_map fills every field and names the map; a map
  // made in code need not be a file or a built-in.)
  if (!options.labels.empty() && options.class_names.empty()) {
    const auto map = class_map_named(options.labels);
    if (options.class_names.empty()) options.class_names = map.names;
    options.ignore.insert(options.ignore.end(), map.ignore.begin(), map.ignore.end());
    options.ignore_names.insert(map.ignore_names.begin(), map.ignore_names.end());
    if (options.colours.empty()) options.colours = map.colours;
    if (options.remap.empty()) options.remap = map.remap;
  }
  if (classes_from_values(options) && !options.colours.empty())
    throw std::invalid_argument(
        "scan_options::colours: a colour table needs class names (labels or class_names): its values are class ids");
  {
    std::unordered_map<std::string_view, std::size_t> first;
    for (std::size_t i = 0; i < options.class_names.size(); ++i) {
      const auto& name = options.class_names[i];
      if (name.empty())
        throw std::invalid_argument(fmt::format("class_names[{}] is empty: every class needs a name", i));
      if (const auto [it, added] = first.emplace(name, i); !added)
        throw std::invalid_argument(fmt::format(
            "class name '{}' is given to class {} and class {}: names must be unique", name, it->second, i));
    }
  }
  for (const auto v : options.ignore)
    if (v > 0xFFFF)
      throw O({O::text(fmt::format("ignore value {}", v)), O::mention("ignore"),
               O::text(": mask values are 8- or 16-bit, so no value above 65535 can match")});
  // Each worker and each blocking read is a thread: bounded, so that a typo (--workers 100000)
  // cannot exhaust the machine's task limit and leave other processes unable to fork.
  const auto bound = [](const char* name, unsigned value, unsigned max) {
    if (value > max)
      throw O({O::text(fmt::format("scan_options::{}", name)), O::mention(name),
               O::text(fmt::format(" {} is over the limit of {}", value, max))});
  };
  bound("workers", options.workers, max_workers);
  bound("io_depth", options.io_depth, max_io_depth);
  bound("queue_depth", options.queue_depth, max_queue_depth);
  if (options.shard.count < 1 || options.shard.count > max_shard_count || options.shard.index >= options.shard.count)
    throw O({O::text(fmt::format("scan_options::shard {}", to_string(options.shard))), O::mention("shard"),
             O::text(fmt::format(": the count must be 1..{} and the index below it", max_shard_count))});
  if (options.workers == 0) options.workers = std::clamp(std::thread::hardware_concurrency(), 1u, max_workers);
  options.io_depth = std::max(1u, options.io_depth);
  options.queue_depth = std::max(1u, options.queue_depth);
  // Values are 16-bit, and on colour planes 65535 marks an unknown colour, so it cannot be a class.
  if (options.class_names.size() > 0x10000)
    throw std::invalid_argument(
        fmt::format("{} classes: class ids are 16-bit values, so at most 65536 classes", options.class_names.size()));
  if (!options.colours.empty() && options.class_names.size() > 0xFFFF)
    throw std::invalid_argument(
        fmt::format("{} classes with a colour table: at most 65535 (65535 marks a colour that is not in the table)",
                    options.class_names.size()));
  if (options.min_component_pixels == 0)
    throw O({O::text("scan_options::min_component_pixels"), O::mention("min_component_pixels"),
             O::text(" must be at least 1 (1: every component counts)")});
  if (options.components != 0 && options.components != 4 && options.components != 8)
    throw O({O::text("scan_options::components"), O::mention("components"),
             O::text(fmt::format(" must be 0 (off), 4 or 8, not {}", options.components))});
  for (const auto& r : options.remap)
    if (r.from > 0xFFFF || r.to > 0xFFFF)
      throw std::invalid_argument(
          fmt::format("scan_options::remap {} -> {}: values must be below 65536", r.from, r.to));
  for (const auto& c : options.colours)
    if (c.value >= 0xFFFF)
      throw std::invalid_argument(
          fmt::format("scan_options::colours: colour {} has value {}; colour values must be below 65535",
                      to_string(c.colour), c.value));
  if (const auto g = options.heatmap_grid; g != grid_size{}) {
    if (g.empty() || g.width > max_grid_side || g.height > max_grid_side)
      throw O({O::text("scan_options::heatmap_grid"), O::mention("heatmap_grid"),
               O::text(fmt::format(" {}: each side must be 1 to {} (or 0x0: off)", to_string(g), max_grid_side))});
    // One set for the class map's classes already over the limit: every frame would be refused.
    // (More groups, or classes from values, are judged frame by frame.)
    const std::uint64_t bytes = std::uint64_t{g.width} * g.height * sizeof(std::uint32_t) * options.class_names.size();
    if (bytes > options.max_heatmap_bytes)
      throw O({O::text("scan_options::heatmap_grid"), O::mention("heatmap_grid"),
               O::text(fmt::format(" {} for {} classes needs {} bytes per worker, more than max_heatmap_bytes",
                                   to_string(g), options.class_names.size(), bytes)),
               O::mention("max_heatmap_bytes"),
               O::text(fmt::format(" {}: choose a coarser grid or raise the limit", options.max_heatmap_bytes))});
  }
  (void)frame_grouper(options);  // throws std::invalid_argument for a bad group_by or splits
  std::ranges::sort(options.ignore);
  options.ignore.erase(std::unique(options.ignore.begin(), options.ignore.end()),
                       options.ignore.end());  // not ranges::unique: clang 14 (fuzz/)
  return options;
}

const char* to_string(io_backend b) noexcept {
  switch (b) {
    case io_backend::automatic: return "auto";
    case io_backend::uring: return "uring";
    case io_backend::threads: return "threads";
    case io_backend::store: return "store";
  }
  return "unknown";
}

const char* to_string(decoder_kind d) noexcept {
  switch (d) {
    case decoder_kind::automatic: return "auto";
    case decoder_kind::spng: return "spng";
    case decoder_kind::fast: return "fast";
  }
  return "unknown";
}

}  // namespace maskscan
