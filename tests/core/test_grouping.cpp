// frame_grouper, group_directory_name and load_split: which group a frame is in, decided from its
// relative path alone, and every way of asking for a grouping that cannot work refused before a scan.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <maskscan/grouping.hpp>
#include <maskscan/option_error.hpp>
#include <maskscan/options.hpp>
#include <maskscan/scan.hpp>

#include "support/test_data.hpp"

namespace {
using namespace maskscan;

const std::string camera_regex = R"(_(FV|RV|MVL|MVR)\.png$)";

frame_grouper grouper_by(const std::string& expression) {
  scan_options o;
  o.group_by = expression;
  return frame_grouper(o);
}

frame_grouper grouper_of(std::vector<split> splits) {
  scan_options o;
  o.splits = std::move(splits);
  return frame_grouper(o);
}
}  // namespace

TEST_CASE("grouping: without group_by or splits every frame is in group \"\"", "[grouping]") {
  const frame_grouper none;
  CHECK_FALSE(none.enabled());
  CHECK(none.group_of("a/00001_FV.png").empty());
  CHECK(none.description().empty());
  const frame_grouper from_defaults{scan_options{}};
  CHECK_FALSE(from_defaults.enabled());
  CHECK(from_defaults.group_of("x.png").empty());
  CHECK(from_defaults.description().empty());
}

TEST_CASE("grouping: --group-by takes the captured text as the group, unmatched frames go to \"unmatched\"",
          "[grouping]") {
  const auto g = grouper_by(camera_regex);
  REQUIRE(g.enabled());
  CHECK(g.group_of("a/00001_FV.png") == "FV");
  CHECK(g.group_of("00002_RV.png") == "RV");
  CHECK(g.group_of("deep/dir/x_MVL.png") == "MVL");
  CHECK(g.group_of("x_MVR.png") == "MVR");
  CHECK(g.group_of("x.png") == "unmatched");
  CHECK(std::string(unmatched_group) == "unmatched");
  // The expression is searched, anchored only where it says so.
  CHECK(g.group_of("a_FV.png/b.png") == "unmatched");
  CHECK(g.group_of("a_fv.png") == "unmatched");  // case matters: ECMAScript without icase
  CHECK(g.group_of("a_XV.png") == "unmatched");
  // The capture can name a directory.
  const auto by_dir = grouper_by(R"(^([^/]+)/)");
  CHECK(by_dir.group_of("train/a.png") == "train");
  CHECK(by_dir.group_of("val/sub/b.png") == "val");
  CHECK(by_dir.group_of("top.png") == "unmatched");
  // An empty capture names no group.
  const auto optional = grouper_by(R"(^(x*)a\.png$)");
  CHECK(optional.group_of("xxa.png") == "xx");
  CHECK(optional.group_of("a.png") == "unmatched");
}

TEST_CASE("grouping: an expression without exactly one capture group, or invalid, is refused naming group_by",
          "[grouping]") {
  const std::string expression = GENERATE(as<std::string>{}, R"(_FV\.png$)", "(a)(b)", R"(_(?:FV)\.png$)", "((a)b)");
  CAPTURE(expression);
  CHECK_THROWS_AS(grouper_by(expression), std::invalid_argument);
  CHECK_THROWS_WITH(grouper_by(expression), Catch::Contains("group_by") && Catch::Contains("capture group"));
  CHECK_THROWS_WITH(grouper_by(expression), Catch::Contains(expression));
}

TEST_CASE("grouping: an expression that does not compile is refused naming group_by", "[grouping]") {
  const std::string expression = GENERATE(as<std::string>{}, "(", "_(FV|RV", "[a-", "a{2,1}(b)", "(*)");
  CAPTURE(expression);
  CHECK_THROWS_AS(grouper_by(expression), std::invalid_argument);
  CHECK_THROWS_WITH(grouper_by(expression), Catch::Contains("group_by"));
}

TEST_CASE("grouping: split entries match by full path or by an end after '/', with or without .png", "[grouping]") {
  const auto g = grouper_of({
      {"train",
       {"seq1/00001_FV.png",    // full relative path with extension
        "seq1/00002_FV",        // full relative path without extension
        "00003_FV.png",         // file name only
        "00004_FV",             // file name without extension
        "./seq2/00005_FV.png",  // "./" prefix
        "seq3\\00006_FV.png",   // backslashes
        ".\\seq3\\00007_FV",    // both, no extension
        "sub/00008_FV.PNG"}},   // an end of two components, upper-case extension
      {"val", {"deep/a/b/00009_RV.png", "b/00010_RV"}},
  });
  REQUIRE(g.enabled());
  CHECK(g.group_of("seq1/00001_FV.png") == "train");
  CHECK(g.group_of("seq1/00002_FV.png") == "train");
  CHECK(g.group_of("seq9/x/00003_FV.png") == "train");  // the file name is an end after '/'
  CHECK(g.group_of("00003_FV.png") == "train");         // and the whole path
  CHECK(g.group_of("z/00004_FV.png") == "train");
  CHECK(g.group_of("seq2/00005_FV.png") == "train");
  CHECK(g.group_of("seq3/00006_FV.png") == "train");
  CHECK(g.group_of("seq3/00007_FV.png") == "train");
  CHECK(g.group_of("root/sub/00008_FV.png") == "train");
  CHECK(g.group_of("deep/a/b/00009_RV.png") == "val");
  CHECK(g.group_of("x/deep/a/b/00009_RV.png") == "val");
  CHECK(g.group_of("a/b/00010_RV.png") == "val");

  // Only ends after a '/' (whole components) match: not a tail of a file name, not a prefix.
  CHECK(g.group_of("x00003_FV.png") == "unlisted");
  CHECK(g.group_of("seq1/100001_FV.png") == "unlisted");
  CHECK(g.group_of("seq1/00001_FV.png/more.png") == "unlisted");
  CHECK(g.group_of("other/00001_FV.png") == "unlisted");  // "seq1/00001_FV" names a path, not a file name
  CHECK(g.group_of("other/00008_FV.png") == "unlisted");  // "sub/00008_FV" needs its directory
  CHECK(g.group_of("c/00010_RV.png") == "unlisted");
  CHECK(g.group_of("a/b/00009_RV.png") == "unlisted");  // shorter than the entry
  CHECK(g.group_of("00011_MVL.png") == "unlisted");
  CHECK(std::string(unlisted_group) == "unlisted");
}

TEST_CASE("grouping: a frame entry in two splits is refused, naming both", "[grouping]") {
  SECTION("the same text") {
    CHECK_THROWS_AS(grouper_of({{"a", {"x/1.png"}}, {"b", {"x/1.png"}}}), std::invalid_argument);
    CHECK_THROWS_WITH(grouper_of({{"a", {"x/1.png"}}, {"b", {"x/1.png"}}}),
                      Catch::Contains("'a'") && Catch::Contains("'b'") && Catch::Contains("x/1.png"));
  }
  SECTION("the same entry written differently") {
    CHECK_THROWS_AS(grouper_of({{"a", {"x/1.png"}}, {"b", {"./x\\1"}}}), std::invalid_argument);
  }
  SECTION("one split may list a frame twice") {
    CHECK_NOTHROW(grouper_of({{"a", {"x/1.png", "x/1"}}, {"b", {"x/2.png"}}}));
  }
}

TEST_CASE("grouping: a split name that cannot name a directory, is reserved or repeated is refused", "[grouping]") {
  const std::string name = GENERATE(as<std::string>{}, "", "a/b", "unlisted", "..", ".", "a b", "a\\b", "tr:ain");
  CAPTURE(name);
  CHECK_THROWS_AS(grouper_of({{name, {"x.png"}}}), std::invalid_argument);
  CHECK_THROWS_WITH(grouper_of({{name, {"x.png"}}}), Catch::Contains("splits"));
  // Good names are accepted.
  CHECK_NOTHROW(grouper_of({{"train-1.a_B", {"x.png"}}}));
  // The same name twice.
  CHECK_THROWS_AS(grouper_of({{"train", {"x.png"}}, {"train", {"y.png"}}}), std::invalid_argument);
}

TEST_CASE("grouping: group_by and splits together are refused", "[grouping]") {
  scan_options o;
  o.group_by = camera_regex;
  o.splits = {{"train", {"x.png"}}};
  CHECK_THROWS_AS(frame_grouper(o), std::invalid_argument);
  CHECK_THROWS_WITH(frame_grouper(o), Catch::Contains("group_by") && Catch::Contains("splits"));
}

TEST_CASE("grouping: description() differs between configurations and is stable for one", "[grouping]") {
  const std::vector<std::string> descriptions{
      frame_grouper{}.description(),
      grouper_by(camera_regex).description(),
      grouper_by(R"(_(FV|RV)\.png$)").description(),
      grouper_of({{"train", {"a.png"}}}).description(),
      grouper_of({{"val", {"a.png"}}}).description(),
      grouper_of({{"train", {"a.png", "b.png"}}}).description(),
      grouper_of({{"train", {"a.png"}}, {"val", {"b.png"}}}).description(),
  };
  CHECK(descriptions[0].empty());
  for (std::size_t i = 1; i < descriptions.size(); ++i) CHECK_FALSE(descriptions[i].empty());
  CHECK(std::set<std::string>(descriptions.begin(), descriptions.end()).size() == descriptions.size());
  CHECK(grouper_by(camera_regex).description() == grouper_by(camera_regex).description());
  CHECK(grouper_of({{"train", {"a.png"}}}).description() == grouper_of({{"train", {"a.png"}}}).description());
}

TEST_CASE("grouping: splits of the same names and sizes but other frames have different descriptions", "[grouping]") {
  // dataset_stats::grouping is the description, and merge() refuses statistics grouped differently: two
  // scans whose "train" lists name other frames must not merge into one "train" group.
  const auto a = grouper_of({{"train", {"a.png"}}, {"val", {"b.png"}}});
  const auto b = grouper_of({{"train", {"c.png"}}, {"val", {"d.png"}}});
  REQUIRE(a.group_of("a.png") == "train");
  REQUIRE(b.group_of("a.png") == "unlisted");
  CHECK(a.description() != b.description());
}

TEST_CASE("grouping: group_directory_name keeps safe names and replaces everything else", "[grouping]") {
  CHECK(group_directory_name("FV") == "FV");
  CHECK(group_directory_name("train-1.a_B") == "train-1.a_B");
  CHECK(group_directory_name("a/b") == "a_b");
  CHECK(group_directory_name("a\\b") == "a_b");
  CHECK(group_directory_name("..") == "_");
  CHECK(group_directory_name(".") == "_");
  CHECK(group_directory_name("") == "_");
  CHECK(group_directory_name("../x") == ".._x");
  CHECK(group_directory_name("a b:c*") == "a_b_c_");
  CHECK(group_directory_name("\xc3\xa9t\xc3\xa9") == "__t__");  // UTF-8 bytes are not ASCII letters
  CHECK(group_directory_name("unmatched") == "unmatched");
}

TEST_CASE("grouping: load_split skips blank and '#' lines, trims, and refuses a missing or empty list", "[grouping]") {
  test::temp_dir dir;
  test::write_file(dir / "train.txt",
                   "# frames of the training split\r\n"
                   "seq1/00001_FV.png\r\n"
                   "\r\n"
                   "   \t \n"
                   "  00002_RV  \n"
                   "\t./x/00003_MVL.png\t\n"
                   "   # an indented comment\n"
                   "last_without_newline");
  const auto s = load_split("train", dir / "train.txt");
  CHECK(s.name == "train");
  CHECK(s.frames ==
        std::vector<std::string>{"seq1/00001_FV.png", "00002_RV", "./x/00003_MVL.png", "last_without_newline"});

  CHECK_THROWS_AS(load_split("val", dir / "missing.txt"), std::runtime_error);
  CHECK_THROWS_WITH(load_split("val", dir / "missing.txt"), Catch::Contains((dir / "missing.txt").string()));

  const std::string content = GENERATE(as<std::string>{}, "", "\n\n", "# only a comment\n", "  \t\r\n# x\n");
  CAPTURE(content);
  test::write_file(dir / "empty.txt", content);
  CHECK_THROWS_AS(load_split("val", dir / "empty.txt"), std::runtime_error);
  CHECK_THROWS_WITH(load_split("val", dir / "empty.txt"), Catch::Contains((dir / "empty.txt").string()));
}

TEST_CASE("grouping: a loaded split list groups the frames it names", "[grouping]") {
  test::temp_dir dir;
  test::write_file(dir / "val.txt", "# val\n a/00001_FV.png \n00002_RV\n");
  const auto g = grouper_of({load_split("val", dir / "val.txt")});
  CHECK(g.group_of("a/00001_FV.png") == "val");
  CHECK(g.group_of("b/00002_RV.png") == "val");
  CHECK(g.group_of("b/00001_FV.png") == "unlisted");
}

TEST_CASE("grouping: a frame named by two lists, one by its whole path and one by its end, is refused", "[grouping]") {
  scan_options o;
  o.splits = {{"train", {"cam/001.png"}}, {"val", {"001.png"}}};
  const frame_grouper g(o);  // the entries differ, so the lists alone do not conflict
  const auto source = frame_source::from_paths({"/d/cam/001.png", "/d/other/002.png"}, "/d");
  try {
    (void)g.count_groups(source);
    FAIL("count_groups accepted a frame named by two splits");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("cam/001.png") && Catch::Matchers::Contains("train") &&
                             Catch::Matchers::Contains("val"));
  }
  // The scan refuses it before reading anything (the files do not even exist).
  CHECK_THROWS_AS(maskscan::scan(source, o), std::invalid_argument);
  o.serial = true;
  CHECK_THROWS_AS(maskscan::scan(source, o), std::invalid_argument);

  // Without the conflict: 001 in val by its end, 002 unlisted: two groups.
  o.splits = {{"val", {"001.png"}}};
  CHECK(frame_grouper(o).count_groups(source) == 2);
  CHECK(frame_grouper(scan_options{}).count_groups(source) == 1);
}

TEST_CASE("grouping: the order --split lists are given in does not change the grouping", "[grouping]") {
  scan_options a, b;
  a.splits = {{"train", {"x.png"}}, {"val", {"y.png"}}};
  b.splits = {{"val", {"y.png"}}, {"train", {"x.png"}}};
  CHECK(frame_grouper(a).description() == frame_grouper(b).description());
}

TEST_CASE("group_by: an expression a client could send to hang or crash a service is refused, not run", "[grouping]") {
  // Nesting that overflowed the stack of libstdc++'s regex compiler: refused as a bad expression.
  scan_options deep;
  deep.group_by = "(";
  for (int i = 0; i < 20000; ++i) deep.group_by += "(?:";
  deep.group_by += "a";
  for (int i = 0; i < 20000; ++i) deep.group_by += ")";
  deep.group_by += ")";
  CHECK_THROWS_WITH(frame_grouper(deep), Catch::Contains("not a valid regular expression"));
  // Catastrophic backtracking, which libstdc++'s matcher ran for ever: a bounded error naming the option.
  scan_options slow;
  slow.group_by = "((?:.*){30}X)";
  const frame_grouper grouper(slow);
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)grouper.group_of(std::string(200, 'a'));
    FAIL("matched");
  } catch (const option_error& e) {
    CHECK(e.option() == "group_by");
    CHECK_THAT(e.what(), Catch::Contains("exceeded predefined bounds"));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));  // not for ever
  // ECMAScript as before: non-capturing groups, classes, anchors.
  scan_options camera;
  camera.group_by = R"(_(FV|RV|MVL|MVR)\.png$)";
  CHECK(frame_grouper(camera).group_of("a/00001_MVL.png") == "MVL");
  camera.group_by = R"(^(?:train|val)/([a-z]+)/\d+)";
  CHECK(frame_grouper(camera).group_of("val/zurich/0001.png") == "zurich");
}
