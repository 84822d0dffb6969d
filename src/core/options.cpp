#include <maskscan/options.hpp>

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
