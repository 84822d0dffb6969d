// Class maps read from colour-table text files, the form datasets ship them in (RUGD's
// RUGD_annotation-colormap.txt, CamVid's label_colors.txt), next to the JSON form of test_class_map.cpp.
// The expected maps are typed from ../shared/data/real/rgb_color/README.md, not from class_map.cpp.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <maskscan/class_map.hpp>

#include "support/test_data.hpp"

using namespace maskscan;

namespace {

namespace fs = std::filesystem;

const fs::path rgb_color = test::data_root() / "real/rgb_color";

struct named_colour {
  std::string name;
  rgba colour;
};

// A class map whose class k is classes[k], with that colour as its only table entry.
class_map colour_map(const fs::path& file, const std::vector<named_colour>& classes) {
  class_map map;
  map.name = file.string();
  for (std::uint32_t id = 0; id < classes.size(); ++id) {
    map.names.push_back(classes[id].name);
    map.colours.push_back({classes[id].colour, id});
  }
  std::ranges::sort(map.colours);
  return map;
}

// "r,g,b" as written in expected_counts.json.
rgba parse_rgb(const std::string& key) {
  unsigned r = 256, g = 256, b = 256;
  char c1 = 0, c2 = 0;
  std::istringstream in(key);
  in >> r >> c1 >> g >> c2 >> b;
  REQUIRE((in && in.peek() == EOF && c1 == ',' && c2 == ',' && r < 256 && g < 256 && b < 256));
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b)};
}

}  // namespace

TEST_CASE("RUGD's own colour table loads as the 25 classes of the rgb_color README", "[class-map][colour-table]") {
  const auto file = rgb_color / "rugd_sample/RUGD_annotation-colormap.txt";
  const auto map = load_class_map(file);
  // The README's table "id name R,G,B", typed here.
  const auto expected = colour_map(file, {{"void", {0, 0, 0}},
                                          {"dirt", {108, 64, 20}},
                                          {"sand", {255, 229, 204}},
                                          {"grass", {0, 102, 0}},
                                          {"tree", {0, 255, 0}},
                                          {"pole", {0, 153, 153}},
                                          {"water", {0, 128, 255}},
                                          {"sky", {0, 0, 255}},
                                          {"vehicle", {255, 255, 0}},
                                          {"container/generic-object", {255, 0, 127}},
                                          {"asphalt", {64, 64, 64}},
                                          {"gravel", {255, 128, 0}},
                                          {"building", {255, 0, 0}},
                                          {"mulch", {153, 76, 0}},
                                          {"rock-bed", {102, 102, 0}},
                                          {"log", {102, 0, 0}},
                                          {"bicycle", {0, 255, 128}},
                                          {"person", {204, 153, 255}},
                                          {"fence", {102, 0, 204}},
                                          {"bush", {255, 153, 204}},
                                          {"sign", {0, 102, 102}},
                                          {"rock", {153, 204, 255}},
                                          {"bridge", {102, 255, 255}},
                                          {"concrete", {101, 101, 11}},
                                          {"picnic-table", {114, 85, 47}}});
  REQUIRE(expected.names.size() == 25);
  CHECK(map.names == expected.names);
  CHECK(map.colours == expected.colours);
  CHECK(map.ignore.empty());
  CHECK(map.remap.empty());
  CHECK(map == expected);
}

TEST_CASE("every colour of the 26 RUGD masks, as PIL counted them, is in RUGD's loaded colour table",
          "[class-map][colour-table]") {
  const auto map = load_class_map(rgb_color / "rugd_sample/RUGD_annotation-colormap.txt");
  std::set<rgba> table;
  for (const auto& e : map.colours) table.insert(e.colour);

  const auto counts = boost::json::parse(test::read_file(rgb_color / "expected_counts.json")).as_object();
  std::size_t files = 0;
  std::set<rgba> seen;
  for (const auto& [file, per_colour] : counts) {
    if (!std::string_view(file).starts_with("rugd_sample/")) continue;
    ++files;
    for (const auto& [key, pixels] : per_colour.as_object()) {
      CAPTURE(std::string_view(file), std::string_view(key));
      const auto colour = parse_rgb(std::string(key));
      CHECK(table.contains(colour));
      seen.insert(colour);
    }
  }
  CHECK(files == 26);
  CHECK(seen.size() == 23);  // the README: "23 of the 25 colours occur in this subset"
}

TEST_CASE("a colour table of \"R G B name\" lines (CamVid's label_colors.txt) gives class ids in line order",
          "[class-map][colour-table]") {
  // Six of the 32 lines of CamVid's label_colors.txt, as it ships them: tab-separated, one or two tabs.
  test::temp_dir dir;
  const auto file = dir / "label_colors.txt";
  test::write_file(file,
                   "64 128 64\tAnimal\r\n192 0 128\tArchway\r\n0 128 192\tBicyclist\r\n128 0 0\t\tBuilding\r\n"
                   "0 0 0\t\tVoid\r\n64 192 0\tWall\r\n");
  CHECK(load_class_map(file) == colour_map(file, {{"Animal", {64, 128, 64}},
                                                  {"Archway", {192, 0, 128}},
                                                  {"Bicyclist", {0, 128, 192}},
                                                  {"Building", {128, 0, 0}},
                                                  {"Void", {0, 0, 0}},
                                                  {"Wall", {64, 192, 0}}}));
}

TEST_CASE("an \"id name R G B\" table may list the ids in any order and end without a newline",
          "[class-map][colour-table]") {
  test::temp_dir dir;
  const auto file = dir / "table.txt";
  test::write_file(file, "\xEF\xBB\xBF 2  car 0 0 142\r\n0\tvoid\t0\t0\t0\n1 road 128 64 128");
  CHECK(load_class_map(file) ==
        colour_map(file, {{"void", {0, 0, 0}}, {"road", {128, 64, 128}}, {"car", {0, 0, 142}}}));
}

TEST_CASE("a JSON class map is still read as JSON when it starts with a comment", "[class-map][colour-table]") {
  test::temp_dir dir;
  const auto file = dir / "map.json";
  test::write_file(file,
                   "// my map\n/* two classes */\n{\"classes\": [{\"id\": 0, \"name\": \"a\"}, {\"id\": 1, "
                   "\"name\": \"b\", \"colour\": [1, 2, 3]}]}");
  const auto map = load_class_map(file);
  CHECK(map.names == std::vector<std::string>{"a", "b"});
  CHECK(map.colours == std::vector<colour_entry>{{{1, 2, 3}, 1}});
}

namespace {

struct bad_table {
  const char* what;
  std::string content;
  std::string message;  // what follows "<file>: "
};

}  // namespace

TEST_CASE("a bad colour table is refused with a message naming the file, the line and the cause",
          "[class-map][colour-table]") {
  const std::string rugd_head = "0 void 0 0 0\n";
  const std::string camvid_head = "64 128 64\tAnimal\n";
  const auto c = GENERATE_COPY(values<bad_table>({
      {"a field missing", rugd_head + "1 dirt 108 64\n",
       "line 2: expected 5 fields \"id name R G B\" separated by spaces or tabs (found 4)"},
      {"a name with a space", rugd_head + "1 dirt road 108 64 20\n",
       "line 2: expected 5 fields \"id name R G B\" separated by spaces or tabs (found 6)"},
      {"a channel over 255", rugd_head + "1 dirt 108 64 256\n", "line 2: B must be an integer 0..255 (found \"256\")"},
      {"a negative channel", rugd_head + "1 dirt -1 64 20\n", "line 2: R must be an integer 0..255 (found \"-1\")"},
      {"a bad channel on the first line", "0 void 0 0 256\n", "line 1: B must be an integer 0..255 (found \"256\")"},
      {"a fractional channel", rugd_head + "1 dirt 108 6.4 20\n",
       "line 2: G must be an integer 0..255 (found \"6.4\")"},
      {"an id that is not a number", rugd_head + "one dirt 108 64 20\n",
       "line 2: the id must be an integer 0..65534 (found \"one\")"},
      {"a name that is a number", rugd_head + "1 7 108 64 20\n", "line 2: the name must not be a number (found \"7\")"},
      {"an id twice", rugd_head + "0 dirt 108 64 20\n", "line 2: id 0 is also the id on line 1 (each id once)"},
      {"a gap in the ids", rugd_head + "2 dirt 108 64 20\n",
       "line 2: id 2 is outside 0..1: the ids of 2 classes must be exactly 0..1 (id 1 is missing)"},
      {"a name twice", rugd_head + "1 void 108 64 20\n",
       "line 2: \"void\" is also the name on line 1 (names must be unique)"},
      {"a colour twice", rugd_head + "1 dirt 0 0 0\n",
       "line 2: colour 0,0,0 is also the colour on line 1 (each colour once)"},
      {"a blank line", rugd_head + "\n1 dirt 108 64 20\n", "line 2 is empty (one \"id name R G B\" line per class)"},
      {"a comment", rugd_head + "# dirt\n1 dirt 108 64 20\n",
       "line 2 starts with '#': a colour table has no comments (one \"id name R G B\" line per class)"},
      {"RGB form: a name missing", camvid_head + "192 0 128\n",
       "line 2: expected 4 fields \"R G B name\" separated by spaces or tabs (found 3)"},
      {"RGB form: a channel over 255", camvid_head + "192 0 300\tArchway\n",
       "line 2: B must be an integer 0..255 (found \"300\")"},
      {"RGB form: a name twice", camvid_head + "192 0 128\tAnimal\n",
       "line 2: \"Animal\" is also the name on line 1 (names must be unique)"},
      {"RGB form: a colour twice", camvid_head + "64 128 64\tArchway\n",
       "line 2: colour 64,128,64 is also the colour on line 1 (each colour once)"},
      {"RGB form: an id-form line", camvid_head + "1 dirt 108 64 20\n",
       "line 2: expected 4 fields \"R G B name\" separated by spaces or tabs (found 5)"},
  }));
  CAPTURE(c.what, c.content);
  test::temp_dir dir;
  const auto file = dir / "table.txt";
  test::write_file(file, c.content);
  CHECK_THROWS_AS(load_class_map(file), std::runtime_error);
  CHECK_THROWS_WITH(load_class_map(file), Catch::Equals(file.string() + ": " + c.message));
}

TEST_CASE("a file in no accepted form says which forms are accepted and where they are described",
          "[class-map][colour-table]") {
  const std::string content = GENERATE(as<std::string>{}, "", "\n", "hello world\n", "0 void 0 0\n",
                                       "# id name R G B\n0 void 0 0 0\n", "\"classes\": []\n");
  CAPTURE(content);
  test::temp_dir dir;
  const auto file = dir / "x.txt";
  test::write_file(file, content);
  CHECK_THROWS_AS(load_class_map(file), std::runtime_error);
  CHECK_THROWS_WITH(
      load_class_map(file),
      Catch::StartsWith(file.string() + ": not a class map: expected a JSON class map (docs/class-maps.md) or a colour "
                                        "table with one \"id name R G B\" line per class (as RUGD ships it) or one "
                                        "\"R G B name\" line per class (as CamVid ships it)"));
}
