#pragma once
// `maskscan overlay`: an RGB frame with its mask blended on top, written as a PNG; and the class-map
// flags (--labels, --remap, --num-classes, --class-names, --ignore, --instance-divisor) with the
// meaning they have for `scan`, in a form any subcommand can add and apply.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <maskscan/options.hpp>

namespace maskscan::cli {

/// The flags that decide how a mask's values read as classes.
struct class_map_flags {
  std::string labels;                 ///< --labels: a built-in class map or a class-map JSON file
  std::string remap;                  ///< --remap: a built-in remap (cityscapes-train)
  std::uint32_t num_classes = 0;      ///< --num-classes: classes class_0 .. class_{N-1}
  std::string class_names_file;       ///< --class-names: one name per line, or a JSON array
  std::vector<std::uint32_t> ignore;  ///< --ignore: added to the class map's ignore values
  std::uint32_t instance_divisor = 0;  ///< --instance-divisor: v >= N counts as v / N
};

/// Adds the class-map flags to `app`, with scan's help texts.
void add_class_map_flags(CLI::App& app, class_map_flags& flags);

/// Applies the flags as `scan` does: --labels (a built-in name or a JSON file), then --remap (only
/// after cityscapes or alone), then --num-classes / --class-names over the names, --ignore added to
/// the class map's ignore values (or replacing them without --labels/--remap), and the divisor.
/// Throws std::runtime_error naming the flag for an unknown map or a remap that does not fit.
void apply_class_map_flags(const class_map_flags& flags, scan_options& options);

struct overlay_command {
  std::string image;
  std::string mask;
  std::string out;
  double alpha = 0.5;
  bool force = false;
  class_map_flags classes;
};

/// Adds overlay's arguments to its subcommand.
void add_overlay_flags(CLI::App& app, overlay_command& cmd);

/// Writes the overlay and prints its path; returns the exit status (0). Throws std::runtime_error
/// naming the file and the cause for anything that stops it (an input that cannot be read or
/// decoded, sizes that differ, an --out that exists without --force or cannot be written).
int run_overlay(const overlay_command& cmd);

}  // namespace maskscan::cli
