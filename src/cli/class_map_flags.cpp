// The class-map flags of every command that reads masks (scan, overlay): one definition, so a
// mask reads the same way everywhere.
#include "cli/class_map_flags.hpp"

namespace maskscan::cli {

void add_class_map_flags(CLI::App& app, class_map_flags& flags) {
  auto* num = app.add_option("--num-classes", flags.num_classes,
                             "Use N classes named class_0 .. class_{N-1} (1 to 65536; larger values are out of range)")
                  ->check(CLI::Range(1u, 65536u));
  app.add_option("--class-names", flags.class_names_file,
                 "File naming the classes: line k names class id k (or a JSON array); replaces the --labels map's "
                 "names")
      ->excludes(num)
      ->check(CLI::ExistingFile);
  app.add_option("--labels", flags.labels,
                 "Class map: a built-in name (woodscape, cityscapes, cityscapes-train, camvid11, pascal-voc, "
                 "ade20k-150) or a class-map JSON file (docs/class-maps.md): class names, ignore values, colours "
                 "(the table for RGB/RGBA colour masks) and an optional remap. Default: none, and every value found is "
                 "a class named by its number (class_<value>); the scan then says which built-in map fits the values")
      ->excludes(num);
  app.add_option("--remap", flags.remap,
                 "Read remapped values: cityscapes-train maps Cityscapes labelIds to the 19 trainIds (255 = ignore)");
  app.add_option("--ignore", flags.ignore,
                 "A value that is deliberately unlabelled (e.g. 255): counted separately, excluded from class "
                 "fractions and weights; 0 to 65535; repeatable; added to the class map's ignore values")
      ->take_all();
  app.add_option("--instance-divisor", flags.instance_divisor,
                 "Instance-coded 16-bit masks (Cityscapes instanceIds: 1000): a value v >= N is class v / N, "
                 "smaller values are themselves");
}

}  // namespace maskscan::cli
