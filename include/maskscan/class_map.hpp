#pragma once
// Class maps: what the values of a mask mean. A class map names the class ids 0..n-1, lists the
// values that are deliberately unlabelled (ignore), gives the colour of each class (display, and the
// lookup table for colour-coded masks), and may remap raw values to class ids before counting.
// Built-in maps come from the datasets' own definitions; any other is a JSON file or a dataset's
// colour table (docs/class-maps.md).
#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace maskscan {

/// An 8-bit RGBA colour. Colour tables match RGB masks as alpha 255.
struct rgba {
  std::uint8_t r = 0, g = 0, b = 0, a = 255;
  /// 0xRRGGBBAA: the key of a colour in tables and in frame_row::unknown_colours.
  constexpr std::uint32_t packed() const noexcept {
    return std::uint32_t{r} << 24 | std::uint32_t{g} << 16 | std::uint32_t{b} << 8 | a;
  }
  static constexpr rgba unpack(std::uint32_t v) noexcept {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v)};
  }
  friend bool operator==(const rgba&, const rgba&) = default;
  friend auto operator<=>(const rgba&, const rgba&) = default;
};

/// "r,g,b" for opaque colours, "r,g,b,a" otherwise (the form of expected_counts.json and reports).
std::string to_string(rgba c);

/// One colour of a colour table: pixels of this colour hold `value` (a class id or an ignore value).
struct colour_entry {
  rgba colour;
  std::uint32_t value = 0;
  friend bool operator==(const colour_entry&, const colour_entry&) = default;
  friend auto operator<=>(const colour_entry&, const colour_entry&) = default;
};

/// A raw mask value and the value it is counted as.
struct value_remap {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  friend bool operator==(const value_remap&, const value_remap&) = default;
  friend auto operator<=>(const value_remap&, const value_remap&) = default;
};

struct class_map {
  std::string name;                   ///< the built-in name, or the file it was read from
  std::vector<std::string> names;     ///< class id k is names[k]
  std::vector<std::uint32_t> ignore;  ///< sorted, unique; may lie outside 0..n-1 (e.g. 255)
  std::map<std::uint32_t, std::string>
      ignore_names;                   ///< names of ignore values that are not class ids (CamVid's 11 "Unlabelled")
  std::vector<colour_entry> colours;  ///< sorted by colour, each colour once; may be empty
  std::vector<value_remap> remap;     ///< sorted by `from`, each raw value once; values not listed are kept
  friend bool operator==(const class_map&, const class_map&) = default;
};

/// The display colour of class `id`: the first opaque (alpha 255) colour table entry with that value,
/// else its first entry, else null.
const rgba* class_colour(const class_map& map, std::uint32_t id);

/// Names accepted by builtin_class_map, in a stable order: woodscape, cityscapes, cityscapes-train,
/// camvid11, pascal-voc, ade20k-150.
std::vector<std::string> builtin_class_map_names();

/// A built-in class map. Throws std::invalid_argument naming the known maps for any other name.
/// None of them has a remap; see builtin_remap.
class_map builtin_class_map(std::string_view name);

/// Names accepted by builtin_remap: cityscapes-train.
std::vector<std::string> builtin_remap_names();

/// A built-in remap: the target class map with `remap` filled. "cityscapes-train" maps Cityscapes
/// labelIds to the 19 trainIds (255 = ignore), as cityscapesScripts' labels.py does.
/// Throws std::invalid_argument naming the known remaps for any other name.
class_map builtin_remap(std::string_view name);

/// Reads a class-map file (formats: docs/class-maps.md), told apart by content: a JSON class map
/// (its first character, after blanks and comments, is '{'), or a colour table as datasets ship it,
/// one class per line: "id name R G B" (RUGD_annotation-colormap.txt) or "R G B name" (CamVid's
/// label_colors.txt; line 1 is id 0). A colour table gives names and colours only (no ignore values,
/// no remap). Throws std::runtime_error naming the file and the cause (the key and the entry, or the
/// line) for anything malformed or contradictory, and for a file in none of these forms.
class_map load_class_map(const std::filesystem::path& file);

/// WoodScape's 10 semantic classes, ids 0..9 (the default class list).
std::vector<std::string> woodscape_class_names();

/// Names class_0 .. class_{n-1}.
std::vector<std::string> numbered_class_names(std::uint32_t n);

/// Reads class names from a file (`--class-names`): a JSON array of strings (element k names class
/// id k), or else one name per line (line 1 names class id 0, line 2 id 1, ...). Every line is a name:
/// spaces, tabs and a CR around it are trimmed, one newline at the end of the file does not start
/// another line, and a leading UTF-8 byte order mark is dropped. A blank line, a line starting with
/// '#', an empty name or a name given twice would shift or confuse the ids, so each is refused.
/// Throws std::runtime_error naming the file, the line (or element) and the cause, e.g.
/// `names.txt: line 7: "car" is also the name on line 3 (names must be unique)`.
std::vector<std::string> load_class_names(const std::filesystem::path& file);

}  // namespace maskscan
