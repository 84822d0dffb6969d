#include <catch2/catch.hpp>

#include <maskscan/class_map.hpp>
#include <maskscan/errors.hpp>
#include <maskscan/options.hpp>

#include "support/test_data.hpp"

using namespace maskscan;

TEST_CASE("the default class list is WoodScape's ten classes in id order", "[core]") {
  CHECK(woodscape_class_names() == std::vector<std::string>{"void", "road", "lanemarks", "curb", "person", "rider",
                                                            "vehicles", "bicycle", "motorcycle", "traffic_sign"});
  CHECK(scan_options{}.class_names == woodscape_class_names());
  CHECK(numbered_class_names(3) == std::vector<std::string>{"class_0", "class_1", "class_2"});
}

TEST_CASE("class names load from a JSON array or from one name per line", "[core]") {
  test::temp_dir dir;
  SECTION("JSON array") {
    test::write_file(dir / "names.json", " [\"sky\", \"building\",\n \"pole\"] ");
    CHECK(load_class_names(dir / "names.json") == std::vector<std::string>{"sky", "building", "pole"});
  }
  SECTION("lines: blank lines and # comments are skipped, spaces trimmed, CRLF accepted") {
    test::write_file(dir / "names.txt", "# CamVid\r\nSky\r\n\r\n  Building \nPole");
    CHECK(load_class_names(dir / "names.txt") == std::vector<std::string>{"Sky", "Building", "Pole"});
  }
}

TEST_CASE("a bad class-names file is refused with a message naming the file", "[core]") {
  test::temp_dir dir;
  const auto file = dir / "bad.json";
  const std::string content = GENERATE(as<std::string>{}, "", "# only a comment\n", "[\"a\", 3]", "[\"a\"", "[]");
  CAPTURE(content);
  test::write_file(file, content);
  CHECK_THROWS_WITH(load_class_names(file), Catch::Contains(file.string()));
  CHECK_THROWS_WITH(load_class_names(dir / "missing.txt"), Catch::Contains("missing.txt"));
}

TEST_CASE("resolve_defaults fills workers from the hardware and sorts the ignore list", "[core]") {
  scan_options o;
  o.ignore = {255, 0, 255};
  o.io_depth = 0;
  const auto r = resolve_defaults(o);
  CHECK(r.workers >= 1);
  CHECK(r.io_depth == 1);
  CHECK(r.ignore == std::vector<std::uint32_t>{0, 255});
}

TEST_CASE("every error code has a stable name and a message", "[core]") {
  for (int e = 0; e <= static_cast<int>(errc::not_fast_decodable); ++e) {
    CAPTURE(e);
    const std::error_code ec = static_cast<errc>(e);
    CHECK(ec.category().name() == std::string("maskscan"));
    CHECK_FALSE(ec.message().empty());
    CHECK(std::string(to_string(static_cast<errc>(e))) != "unknown");
  }
  CHECK(std::string(to_string(errc::corrupt_png)) == "corrupt_png");
}
