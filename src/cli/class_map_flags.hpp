#pragma once
// The flags that decide how a mask's values read as classes (--labels, --remap, --num-classes,
// --class-names, --ignore, --instance-divisor), shared by `scan` and `overlay`.
#include <CLI/CLI.hpp>

#include <maskscan/options.hpp>

namespace maskscan::cli {

/// The flags that decide how a mask's values read as classes: the library's class_choice, applied
/// with apply_class_choice (--class-names fills class_names_file).
using class_map_flags = class_choice;

/// Adds the class-map flags to `app`, with scan's help texts.
void add_class_map_flags(CLI::App& app, class_map_flags& flags);

}  // namespace maskscan::cli
