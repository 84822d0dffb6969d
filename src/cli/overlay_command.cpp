#include "cli/overlay_command.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include <maskscan/class_map.hpp>

#include "visual/overlay.hpp"
#include "visual/png_writer.hpp"

namespace maskscan::cli {
namespace fs = std::filesystem;

void add_class_map_flags(CLI::App& app, class_map_flags& flags) {
  auto* num = app.add_option("--num-classes", flags.num_classes, "Use N classes named class_0 .. class_{N-1}")
                  ->check(CLI::PositiveNumber);
  app.add_option("--class-names", flags.class_names_file,
                 "File naming the classes: one name per line, or a JSON array; replaces the --labels map's names "
                 "(default: WoodScape's 10 classes)")
      ->excludes(num)
      ->check(CLI::ExistingFile);
  app.add_option("--labels", flags.labels,
                 "Class map: a built-in name (woodscape, cityscapes, cityscapes-train, camvid11, pascal-voc, "
                 "ade20k-150) or a class-map JSON file (docs/class-maps.md): class names, ignore values, colours "
                 "(the table for RGB/RGBA colour masks) and an optional remap. Default: woodscape")
      ->excludes(num);
  app.add_option("--remap", flags.remap,
                 "Read remapped values: cityscapes-train maps Cityscapes labelIds to the 19 trainIds (255 = ignore)");
  app.add_option("--ignore", flags.ignore,
                 "A value that is deliberately unlabelled (e.g. 255); repeatable; added to the class map's ignore "
                 "values")
      ->take_all();
  app.add_option("--instance-divisor", flags.instance_divisor,
                 "Instance-coded 16-bit masks (Cityscapes instanceIds: 1000): a value v >= N is class v / N, "
                 "smaller values are themselves");
}

void apply_class_map_flags(const class_map_flags& flags, scan_options& options) {
  if (!flags.labels.empty()) {
    const auto names = builtin_class_map_names();
    if (std::ranges::find(names, flags.labels) != names.end()) {
      use_class_map(options, builtin_class_map(flags.labels));
    } else if (flags.labels.ends_with(".json") || fs::exists(flags.labels)) {
      use_class_map(options, load_class_map(flags.labels));
    } else {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw std::runtime_error(
          fmt::format("--labels {}: neither a built-in class map ({}) nor a file", flags.labels, known));
    }
  }
  if (!flags.remap.empty()) {
    if (!flags.labels.empty() && flags.labels != "cityscapes")
      throw std::runtime_error(fmt::format("--remap {} maps Cityscapes labelIds; it cannot follow --labels {}",
                                           flags.remap, flags.labels));
    use_class_map(options, builtin_remap(flags.remap));
  }
  if (flags.num_classes) options.class_names = numbered_class_names(flags.num_classes);
  if (!flags.class_names_file.empty()) options.class_names = load_class_names(flags.class_names_file);
  if (!flags.labels.empty() || !flags.remap.empty())
    options.ignore.insert(options.ignore.end(), flags.ignore.begin(), flags.ignore.end());
  else
    options.ignore = flags.ignore;
  options.instance_divisor = flags.instance_divisor;
}

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
      "Class colours: the class map's colours (WoodScape's by default), else the Pascal VOC colour map.\n"
      "Exit status: 0 written; 1 an input that cannot be read or decoded, sizes that differ, or an --out that "
      "exists (without --force) or cannot be written; 2 wrong command line.");
}

int run_overlay(const overlay_command& cmd) {
  scan_options options;
  apply_class_map_flags(cmd.classes, options);
  options = resolve_defaults(std::move(options));
  const fs::path out(cmd.out);
  std::error_code ec;
  if (fs::is_directory(out, ec)) throw std::runtime_error(fmt::format("--out {}: is a directory", cmd.out));
  if (!cmd.force && fs::exists(out, ec))
    throw std::runtime_error(fmt::format("--out {}: the file exists; pass --force to overwrite it", cmd.out));
  const auto overlay = detail::overlay_files(cmd.image, cmd.mask, options, cmd.alpha);
  if (out.has_parent_path()) {
    fs::create_directories(out.parent_path(), ec);
    if (ec)
      throw std::runtime_error(fmt::format("--out {}: cannot create its directory ({})", cmd.out, ec.message()));
  }
  detail::write_png(out, overlay);
  fmt::print("overlay ({}x{}) written to {}\n", overlay.width, overlay.height, cmd.out);
  return 0;
}

}  // namespace maskscan::cli
