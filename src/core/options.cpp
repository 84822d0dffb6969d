#include <maskscan/options.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include <maskscan/grouping.hpp>

#include <algorithm>
#include <thread>

namespace maskscan {

void use_class_map(scan_options& options, const class_map& map) {
  options.labels = map.name;
  options.class_names = map.names;
  options.ignore = map.ignore;
  options.colours = map.colours;
  options.remap = map.remap;
}

scan_options resolve_defaults(scan_options options) {
  if (options.workers == 0) options.workers = std::max(1u, std::thread::hardware_concurrency());
  options.io_depth = std::max(1u, options.io_depth);
  options.queue_depth = std::max(1u, options.queue_depth);
  // Values are 16-bit, and on colour planes 65535 marks an unknown colour, so it cannot be a class.
  if (options.class_names.size() > 0x10000)
    throw std::invalid_argument(fmt::format("{} classes: class ids are 16-bit values, so at most 65536 classes",
                                            options.class_names.size()));
  if (!options.colours.empty() && options.class_names.size() > 0xFFFF)
    throw std::invalid_argument(fmt::format(
        "{} classes with a colour table: at most 65535 (65535 marks a colour that is not in the table)",
        options.class_names.size()));
  if (options.components != 0 && options.components != 4 && options.components != 8)
    throw std::invalid_argument(
        fmt::format("scan_options::components (--components) must be 0 (off), 4 or 8, not {}", options.components));
  for (const auto& r : options.remap)
    if (r.from > 0xFFFF || r.to > 0xFFFF)
      throw std::invalid_argument(fmt::format("scan_options::remap {} -> {}: values must be below 65536", r.from, r.to));
  for (const auto& c : options.colours)
    if (c.value >= 0xFFFF)
      throw std::invalid_argument(
          fmt::format("scan_options::colours: colour {} has value {}; colour values must be below 65535",
                      to_string(c.colour), c.value));
  (void)frame_grouper(options);  // throws std::invalid_argument for a bad group_by or splits
  std::ranges::sort(options.ignore);
  options.ignore.erase(std::unique(options.ignore.begin(), options.ignore.end()), options.ignore.end());  // not ranges::unique: clang 14 (fuzz/)
  return options;
}

const char* to_string(io_backend b) noexcept {
  switch (b) {
    case io_backend::automatic: return "auto";
    case io_backend::uring: return "uring";
    case io_backend::threads: return "threads";
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
