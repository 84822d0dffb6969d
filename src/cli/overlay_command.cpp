#include "cli/overlay_command.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include <maskscan/class_map.hpp>

#include "cli/option_flags.hpp"
#include "cli/usage_error.hpp"
#include "visual/overlay.hpp"
#include "visual/png_writer.hpp"

namespace maskscan::cli {
namespace fs = std::filesystem;

void add_overlay_flags(CLI::App& app, overlay_command& cmd) {
  app.add_option("--image", cmd.image,
                 "The RGB frame (any PNG: gray, palette, RGB, RGBA, 16-bit, interlaced; alpha is ignored)")
      ->required();
  app.add_option("--mask", cmd.mask,
                 "Its label mask (a PNG of the same size), read as `scan` reads it with the same class-map flags")
      ->required();
  app.add_option("--out", cmd.out, "The overlay PNG to write (8-bit RGB; its directory is created if needed)")
      ->required();
  app.add_option("--alpha", cmd.alpha,
                 "Opacity of the class colours: each pixel of a class becomes (1 - alpha) * image + alpha * colour; "
                 "0 = the image, 1 = the colours; ignored, out-of-range and unknown-colour pixels keep the image")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--force", cmd.force, "Overwrite an existing --out file");
  add_class_map_flags(app, cmd.classes);
  app.footer(
      "Class colours: the class map's colours (--labels), else the Pascal VOC colour map by class id.\n"
      "Exit status: 0 written; 1 an input that cannot be read or decoded, sizes that differ, or an --out that "
      "exists (without --force) or cannot be written; 2 wrong command line.");
}

int run_overlay(const overlay_command& cmd) {
  scan_options options;
  try {
    apply_class_choice(cmd.classes, options);
    options = resolve_defaults(std::move(options));
  } catch (const std::exception& e) {
    throw usage_error(message_of(e));
  }
  // No class map: every value is a class (drawn in the Pascal VOC colour map by its number).
  if (classes_from_values(options)) options.class_names = numbered_class_names(65536);
  const fs::path out(cmd.out);
  std::error_code ec;
  if (fs::is_directory(out, ec)) throw std::runtime_error(fmt::format("--out {}: is a directory", cmd.out));
  if (!cmd.force && fs::exists(out, ec))
    throw std::runtime_error(fmt::format("--out {}: the file exists; pass --force to overwrite it", cmd.out));
  const auto overlay = detail::overlay_files(cmd.image, cmd.mask, options, cmd.alpha);
  if (out.has_parent_path()) {
    fs::create_directories(out.parent_path(), ec);
    if (ec) throw std::runtime_error(fmt::format("--out {}: cannot create its directory ({})", cmd.out, ec.message()));
  }
  detail::write_png(out, overlay);
  fmt::print("overlay ({}x{}) written to {}\n", overlay.width, overlay.height, cmd.out);
  return 0;
}

}  // namespace maskscan::cli
