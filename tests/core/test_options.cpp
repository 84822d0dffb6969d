// resolve_defaults: the values no scan can use are refused up front, naming the option.
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include <maskscan/option_error.hpp>
#include <maskscan/options.hpp>
#include <maskscan/scan.hpp>

#include "cli/option_flags.hpp"

using namespace maskscan;

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
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("scan_options::components"));
  o = {};
  o.remap = {{3, 65536}};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("remap 3 -> 65536"));
  o = {};
  o.class_names = {"a"};
  o.colours = {{{1, 2, 3, 255}, 65535}};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("1,2,3"));
  o = {};  // a colour table maps colours to class ids: without classes it means nothing
  o.colours = {{{1, 2, 3, 255}, 0}};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("a colour table needs class names"));
  o = {};  // no 8- or 16-bit value can match
  o.ignore = {255, 65535};
  CHECK(refusal(o) == "accepted");
  o.ignore = {255, 70000};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("ignore value 70000"));
  o = {};  // a name given twice would make two columns of one name, and an empty one none at all
  o.class_names = {"road", "car", "road"};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("'road' is given to class 0 and class 2"));
  o.class_names = {"road", ""};
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("class_names[1] is empty"));
  o = {};
  o.class_names = numbered_class_names(65537);
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("at most 65536 classes"));
  o = {};
  o.labels = "camvid";  // not a built-in name, not a file
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("neither a built-in class map (woodscape, cityscapes"));
  o = {};
  o.group_by = "(a)(b)";
  CHECK_THAT(refusal(o), Catch::Matchers::Contains("group_by"));
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

TEST_CASE("labels names the class map a scan uses: resolve_defaults applies it", "[options]") {
  scan_options o;
  o.labels = "camvid11";
  const auto resolved = resolve_defaults(o);
  const auto camvid = builtin_class_map("camvid11");
  CHECK(resolved.class_names.front() == "Sky");  // SegNet's CamVid list: id 0 is Sky
  CHECK(resolved.class_names.size() == 11);
  CHECK(resolved.ignore == std::vector<std::uint32_t>{11});
  CHECK(resolved.colours == camvid.colours);
  CHECK_FALSE(classes_from_values(resolved));
  // use_class_map fills every field and names the map: resolving uses the fields as they are.
  scan_options filled;
  use_class_map(filled, camvid);
  filled.ignore.push_back(7);
  const auto custom = resolve_defaults(filled);
  CHECK(custom.labels == "camvid11");
  CHECK(custom.class_names == camvid.names);
  CHECK(custom.ignore == std::vector<std::uint32_t>{7, 11});
  CHECK(resolve_defaults(custom).ignore == custom.ignore);  // resolving twice changes nothing
  // A map made in code need not be a built-in or a file.
  class_map mine;
  mine.name = "my map (in code)";
  mine.names = {"a", "b"};
  scan_options o2;
  use_class_map(o2, mine);
  CHECK(resolve_defaults(o2).class_names == mine.names);
}

TEST_CASE("without labels or class names the classes are the values found", "[options]") {
  const auto resolved = resolve_defaults(scan_options{});
  CHECK(resolved.class_names.empty());
  CHECK(resolved.labels.empty());
  CHECK(classes_from_values(resolved));
  CHECK(make_stats(resolved).classes_from_values);
  scan_options named;
  named.class_names = {"a", "b"};
  CHECK_FALSE(classes_from_values(named));
  CHECK_FALSE(make_stats(resolve_defaults(named)).classes_from_values);
}

TEST_CASE("parse_grid_size reads WxH and refuses anything else, saying what it expects", "[options][heatmap-grid]") {
  CHECK(parse_grid_size("64x48") == grid_size{64, 48});
  CHECK(parse_grid_size("1X4096") == grid_size{1, 4096});
  CHECK(parse_grid_size("0x0") == grid_size{});  // off
  CHECK(parse_grid_size("007x3") == grid_size{7, 3});
  CHECK(to_string(grid_size{64, 48}) == "64x48");
  for (const char* bad : {"", "x", "64", "64x", "x48", "64*48", "64x48x2", "-1x4", "+1x4", " 64x48", "64x48 ", "6 4x48",
                          "64x4.8", "axb", "99999999999x1"}) {
    CAPTURE(bad);
    try {
      (void)parse_grid_size(bad);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("heatmap grid '" + std::string(bad) + "'"));
      CHECK_THAT(cli::message_of(e), Catch::StartsWith("heatmap grid (--heatmap-grid) '" + std::string(bad) + "'"));
    }
  }
}

TEST_CASE("resolve_defaults accepts heatmap grids of 1 to 4096 cells a side, or 0x0, and refuses the rest",
          "[options][heatmap-grid]") {
  scan_options o;
  for (const auto ok : {grid_size{}, grid_size{1, 1}, grid_size{4096, 4096}, grid_size{64, 48}}) {
    o.heatmap_grid = ok;
    CAPTURE(ok.width, ok.height);
    CHECK(refusal(o) == "accepted");
    CHECK(resolve_defaults(o).heatmap_grid == ok);
  }
  for (const auto bad : {grid_size{0, 5}, grid_size{5, 0}, grid_size{4097, 1}, grid_size{1, 4097},
                         grid_size{0xFFFFFFFFu, 0xFFFFFFFFu}}) {
    o.heatmap_grid = bad;
    CAPTURE(bad.width, bad.height);
    const auto why = refusal(o);
    CHECK_THAT(why, Catch::Contains("heatmap_grid") && Catch::Contains(to_string(bad)) && Catch::Contains("4096"));
  }
  // 4096 x 4096 cells x 4 bytes x 34 classes = 2,281,701,376 bytes: over the default limit of 1 GiB.
  o.heatmap_grid = {4096, 4096};
  o.labels = "cityscapes";
  CHECK_THAT(refusal(o), Catch::Contains("2281701376 bytes") && Catch::Contains("max_heatmap_bytes"));
  o.max_heatmap_bytes = 2'281'701'376;
  CHECK(refusal(o) == "accepted");
}

TEST_CASE("workers, io_depth and queue_depth are bounded, so a typo cannot exhaust the machine's threads",
          "[options][env-faults]") {
  scan_options o;
  o.workers = max_workers;
  o.io_depth = max_io_depth;
  o.queue_depth = max_queue_depth;
  CHECK(refusal(o) == "accepted");
  o.workers = max_workers + 1;
  CHECK(refusal(o) == "scan_options::workers 1025 is over the limit of 1024");
  o = {};
  o.io_depth = max_io_depth + 1;
  CHECK(refusal(o) == "scan_options::io_depth 4097 is over the limit of 4096");
  o = {};
  o.queue_depth = 100000;
  CHECK(refusal(o) == "scan_options::queue_depth 100000 is over the limit of 65536");
  // The default (0: one per hardware thread) stays within the bound on any machine.
  CHECK(resolve_defaults(scan_options{}).workers <= max_workers);
}

TEST_CASE("apply_class_choice applies the class-map options as every front-end takes them", "[options]") {
  SECTION("a map, then ignore values added to its own, and the divisor") {
    scan_options o;
    apply_class_choice({.labels = "camvid11", .ignore = {255}, .instance_divisor = 1000}, o);
    CHECK(o.labels == "camvid11");
    CHECK(o.class_names.size() == 11);
    CHECK(o.class_names.front() == "Sky");
    CHECK(o.ignore == std::vector<std::uint32_t>{11, 255});
    CHECK(o.instance_divisor == 1000);
  }
  SECTION("names replace the map's names; numbered names") {
    scan_options o;
    apply_class_choice({.labels = "camvid11", .class_names = {"a", "b"}}, o);
    CHECK(o.class_names == std::vector<std::string>{"a", "b"});
    scan_options n;
    apply_class_choice({.num_classes = 3}, n);
    CHECK(n.class_names == std::vector<std::string>{"class_0", "class_1", "class_2"});
  }
  SECTION("the remap alone, or after the cityscapes map") {
    scan_options o;
    apply_class_choice({.remap = "cityscapes-train"}, o);
    CHECK(o.class_names.size() == 19);
    CHECK_FALSE(o.remap.empty());
    scan_options c;
    apply_class_choice({.labels = "cityscapes", .remap = "cityscapes-train"}, c);
    CHECK(c.class_names == o.class_names);
  }
  SECTION("combinations that do not fit are refused, each front-end naming the options its way") {
    const auto refused = [](const class_choice& choice) {
      scan_options o;
      try {
        apply_class_choice(choice, o);
      } catch (const option_error& e) {
        return e.message(cli::flag_of);
      }
      return std::string("accepted");
    };
    CHECK(refused({.labels = "camvid11", .remap = "cityscapes-train"}) ==
          "--remap cityscapes-train maps Cityscapes labelIds; it cannot follow --labels camvid11");
    CHECK(refused({.labels = "camvid11", .num_classes = 3}).starts_with("--num-classes replaces"));
    CHECK(refused({.num_classes = 3, .class_names = {"a"}}) == "give --num-classes or --class-names, not both");
    CHECK(refused({.num_classes = 65537}) == "--num-classes 65537: at most 65536 classes");
  }
}
