#pragma once
// `maskscan overlay`: an RGB frame with its mask blended on top, written as a PNG.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <maskscan/options.hpp>

#include "cli/class_map_flags.hpp"

namespace maskscan::cli {

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
