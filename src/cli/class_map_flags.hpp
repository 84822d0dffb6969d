#pragma once
// The flags that decide how a mask's values read as classes (--labels, --remap, --num-classes,
// --class-names, --ignore, --instance-divisor), shared by `scan` and `overlay`.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <maskscan/options.hpp>

namespace maskscan::cli {

/// The flags that decide how a mask's values read as classes.
struct class_map_flags {
  std::string labels;                  ///< --labels: a built-in class map or a class-map JSON file
  std::string remap;                   ///< --remap: a built-in remap (cityscapes-train)
  std::uint32_t num_classes = 0;       ///< --num-classes: classes class_0 .. class_{N-1}
  std::string class_names_file;        ///< --class-names: one name per line, or a JSON array
  std::vector<std::uint32_t> ignore;   ///< --ignore: added to the class map's ignore values
  std::uint32_t instance_divisor = 0;  ///< --instance-divisor: v >= N counts as v / N
};

/// Adds the class-map flags to `app`, with scan's help texts.
void add_class_map_flags(CLI::App& app, class_map_flags& flags);

/// Applies the flags as `scan` does: --labels (a built-in name or a JSON file), then --remap (only
/// after cityscapes or alone), then --num-classes / --class-names over the names, --ignore added to
/// the class map's ignore values (or replacing them without --labels/--remap), and the divisor.
/// Throws std::runtime_error naming the flag for an unknown map or a remap that does not fit.
void apply_class_map_flags(const class_map_flags& flags, scan_options& options);

}  // namespace maskscan::cli
