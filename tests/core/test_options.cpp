// resolve_defaults: the values no scan can use are refused up front, naming the option.
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include <maskscan/options.hpp>
#include <maskscan/scan.hpp>

using maskscan::scan_options;

namespace {
std::string refusal(const scan_options& o) {
  try {
    (void)maskscan::resolve_defaults(o);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

TEST_CASE("resolve_defaults refuses options no scan can use and names them", "[options]") {
  scan_options o;
  CHECK(refusal(o) == "accepted");
  for (unsigned ok : {0u, 4u, 8u}) {
    o.components = ok;
    CHECK(refusal(o) == "accepted");
  }
  o.components = 6;
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("--components"));
  o = {};
  o.remap = {{3, 65536}};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("remap 3 -> 65536"));
  o = {};
  o.colours = {{{1, 2, 3, 255}, 65535}};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("1,2,3"));
  o = {};
  o.group_by = "(a)(b)";
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("--group-by"));
  o = {};
  o.group_by = "_(FV)";
  o.splits = {{"train", {"a.png"}}};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("cannot be combined"));
}

TEST_CASE("scan throws std::invalid_argument for bad options before it reads a file", "[options]") {
  scan_options o;
  o.components = 3;
  CHECK_THROWS_AS(maskscan::scan(maskscan::frame_source::from_paths({"/no/such/file.png"}), o), std::invalid_argument);
}

TEST_CASE("resolve_defaults refuses more classes than 16-bit values can name", "[options]") {
  scan_options o;
  o.class_names = maskscan::numbered_class_names(65536);
  CHECK(refusal(o) == "accepted");
  o.colours = {{{1, 2, 3, 255}, 7}};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("65535 marks a colour"));
  o.colours.clear();
  o.class_names = maskscan::numbered_class_names(65537);
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("at most 65536 classes"));
}
