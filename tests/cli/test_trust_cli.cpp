// The numbers cannot mislead, run as a user runs the CLI: merges and resumes never count a frame
// twice or keep stale counts, no dataset's names are put on another's masks, every CSV column is
// unique, every output is UTF-8, and a folder where nothing can be scanned says why once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/time.h>
#include <boost/json.hpp>

#include <maskscan/stats.hpp>

#include "support/results.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
using test::quote;
using test::run_cli;
using test::run_shell;
using test::summary_of;
namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path real = test::data_root() / "real";

/// A WoodScape-like folder of `frames` small frames (names 00000_FV.png, ...).
void synth(const fs::path& dir, unsigned frames, unsigned seed) {
  const auto r = run_cli("synth " + quote(dir) + " --frames " + std::to_string(frames) +
                         " --width 64 --height 48 --seed " + std::to_string(seed));
  REQUIRE(r.status == 0);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// `python3 -c script dir` with the system interpreter (Debian's, which the install script provides).
test::cli_result python(const std::string& script, const fs::path& dir) {
  std::string quoted = "'";
  for (const char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return run_shell("/usr/bin/python3 -c " + quoted + "' " + quote(dir));
}
}  // namespace

TEST_CASE("cli trust: merge refuses a state given twice and shards that hold the same frame, naming it and both",
          "[cli][trust][merge]") {
  test::temp_dir work;
  synth(work / "a", 4, 1);
  synth(work / "b", 4, 2);  // same relative names, other masks: another folder's scan
  for (const char* s : {"a", "b"})
    REQUIRE(run_cli("scan " + quote(work / s) + " --labels woodscape --no-progress --save-state " +
                    quote(work / (std::string(s) + ".state")))
                .status == 0);

  SECTION("the same state twice") {
    const auto r =
        run_cli("merge " + quote(work / "a.state") + " " + quote(work / "a.state") + " --out " + quote(work / "m"));
    CHECK(r.status == 1);
    CHECK(r.err.find("both hold frame '00000_FV.png'") != std::string::npos);
    CHECK(r.err.find("a.state is given twice") != std::string::npos);
    CHECK_FALSE(fs::exists(work / "m"));
  }
  SECTION("two folders' states with equal relative names: refused, then kept apart with --prefix") {
    const auto refused =
        run_cli("merge " + quote(work / "a.state") + " " + quote(work / "b.state") + " --out " + quote(work / "m"));
    CHECK(refused.status == 1);
    CHECK(refused.err.find((work / "a.state").string() + " and " + (work / "b.state").string() +
                           " both hold frame '00000_FV.png'") != std::string::npos);
    CHECK(refused.err.find("--prefix") != std::string::npos);
    CHECK_FALSE(fs::exists(work / "m"));

    const auto merged = run_cli("merge " + quote(work / "a.state") + " " + quote(work / "b.state") +
                                " --prefix cam_a --prefix cam_b --out " + quote(work / "m"));
    INFO(merged.err);
    REQUIRE(merged.status == 0);
    const auto rows = lines_of(test::read_file(work / "m/frames.csv"));
    REQUIRE(rows.size() == 9);
    CHECK(rows[1].starts_with("cam_a/00000_FV.png,"));
    CHECK(rows[5].starts_with("cam_b/00000_FV.png,"));
    // The totals are the two scans' totals added.
    const auto m = summary_of(work / "m");
    CHECK(m.at("frames_scanned").to_number<int>() == 8);
    const auto a = run_cli("merge " + quote(work / "a.state") + " --out " + quote(work / "ma"));
    const auto b = run_cli("merge " + quote(work / "b.state") + " --out " + quote(work / "mb"));
    REQUIRE((a.status == 0 && b.status == 0));
    const auto sa = summary_of(work / "ma"), sb = summary_of(work / "mb");
    const auto& mc = m.at("classes").as_array();
    const auto& ac = sa.at("classes").as_array();
    const auto& bc = sb.at("classes").as_array();
    for (std::size_t c = 0; c < mc.size(); ++c)
      CHECK(mc[c].at("pixels").to_number<std::uint64_t>() ==
            ac[c].at("pixels").to_number<std::uint64_t>() + bc[c].at("pixels").to_number<std::uint64_t>());
  }
  SECTION("--prefix once per state, and a sound prefix") {
    const auto states = quote(work / "a.state") + " " + quote(work / "b.state");
    CHECK(run_cli("merge " + states + " --prefix x --out " + quote(work / "m")).status == 2);
    const auto bad = run_cli("merge " + states + " --prefix x --prefix ../y --out " + quote(work / "m"));
    CHECK(bad.status == 2);
    CHECK(bad.err.find("'..'") != std::string::npos);
    CHECK_FALSE(fs::exists(work / "m"));
  }
}

TEST_CASE("cli trust: a merge of a partial state is partial", "[cli][trust][merge]") {
  test::temp_dir work;
  auto part = make_stats({"a", "b"}, {}, false);
  part.frames = {frame_row{"x.png", 1, 1, {1, 0}, {}, {}}};
  part.partial = true;  // as an interrupted scan saves it
  save_state(part, work / "part.state");
  auto rest = make_stats({"a", "b"}, {}, false);
  rest.frames = {frame_row{"y.png", 1, 1, {0, 1}, {}, {}}};
  save_state(rest, work / "rest.state");
  const auto r =
      run_cli("merge " + quote(work / "part.state") + " " + quote(work / "rest.state") + " --out " + quote(work / "m"));
  REQUIRE(r.status == 0);
  CHECK(summary_of(work / "m").at("partial") == true);
  CHECK(r.out.find("2 frames scanned, 0 skipped (PARTIAL: interrupted) (merged statistics)") != std::string::npos);
  CHECK(r.out.find("frames/s") == std::string::npos);  // no scan ran: no speed to tell
  REQUIRE(run_cli("merge " + quote(work / "rest.state") + " --out " + quote(work / "r")).status == 0);
  CHECK(summary_of(work / "r").at("partial") == false);
}

TEST_CASE("cli trust: --resume refuses a state whose frames changed since, naming them", "[cli][trust][resume]") {
  test::temp_dir work;
  synth(work / "d", 3, 1);
  REQUIRE(
      run_cli("scan " + quote(work / "d") + " --labels woodscape --no-progress --save-state " + quote(work / "s.state"))
          .status == 0);
  // Unchanged: nothing left to scan, the same results.
  const auto same = run_cli("scan " + quote(work / "d") + " --labels woodscape --no-progress --resume " +
                            quote(work / "s.state") + " --out " + quote(work / "o1"));
  CHECK(same.status == 0);
  // Another frame written over one of them (the same name): its old counts must not be kept.
  synth(work / "other", 3, 7);
  fs::copy_file(work / "other/00001_MVL.png", work / "d/00001_MVL.png", fs::copy_options::overwrite_existing);
  const timeval later[2] = {{2'000'000'000, 0}, {2'000'000'000, 0}};  // a different mtime whatever the clock
  REQUIRE(::utimes((work / "d/00001_MVL.png").c_str(), later) == 0);
  const auto r = run_cli("scan " + quote(work / "d") + " --labels woodscape --no-progress --resume " +
                         quote(work / "s.state") + " --out " + quote(work / "o2"));
  CHECK(r.status == 1);
  CHECK(r.err.find("00001_MVL.png") != std::string::npos);
  CHECK(r.err.find("changed since") != std::string::npos);
  CHECK_FALSE(fs::exists(work / "o2"));
}

TEST_CASE("cli trust: --files-from scans the frames a list names, from a file or standard input",
          "[cli][trust][files-from]") {
  test::temp_dir work;
  synth(work / "d", 4, 1);
  test::write_file(work / "d/split.txt", "00000_FV.png\n00002_MVR.png\n");
  const auto r = run_cli("scan --files-from " + quote(work / "d/split.txt") +
                         " --labels woodscape --no-progress --out " + quote(work / "o"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto rows = lines_of(test::read_file(work / "o/frames.csv"));
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].starts_with("00000_FV.png,"));
  CHECK(rows[2].starts_with("00002_MVR.png,"));
  // The same rows as a scan of the whole folder has for these frames.
  REQUIRE(
      run_cli("scan " + quote(work / "d") + " --labels woodscape --no-progress --out " + quote(work / "all")).status ==
      0);
  const auto all = lines_of(test::read_file(work / "all/frames.csv"));
  CHECK(std::ranges::count(all, rows[1]) == 1);
  CHECK(std::ranges::count(all, rows[2]) == 1);

  // Standard input, relative to --root.
  const auto piped = run_cli("scan --files-from - --root " + quote(work / "d") +
                                 " --labels woodscape --no-progress --out " + quote(work / "p"),
                             "printf '00000_FV.png\\n00002_MVR.png\\n' |");
  REQUIRE(piped.status == 0);
  CHECK(test::read_file(work / "p/frames.csv") == test::read_file(work / "o/frames.csv"));

  // A frame listed twice would count twice.
  test::write_file(work / "d/twice.txt", "00000_FV.png\n00001_MVL.png\n00000_FV.png\n");
  const auto twice = run_cli("scan --files-from " + quote(work / "d/twice.txt") + " --no-progress");
  CHECK(twice.status == 1);
  CHECK(twice.err.find("line 3 lists '00000_FV.png' again (line 1)") != std::string::npos);
  // A directory and a list at once, or neither: a usage error.
  CHECK(run_cli("scan " + quote(work / "d") + " --files-from " + quote(work / "d/split.txt")).status == 2);
  CHECK(run_cli("scan --no-progress").status == 2);
}

TEST_CASE(
    "cli trust: without --labels no dataset's names are given, the values are the classes, and the scan "
    "says which map names them",
    "[cli][trust][labels]") {
  test::temp_dir work;
  const auto r =
      run_cli("scan " + quote(real / "gray8_ids/camvid_segnet") + " --no-progress --out " + quote(work / "o"));
  REQUIRE(r.status == 0);
  for (const char* woodscape : {"void", "road", "lanemarks", "traffic_sign"}) {
    CAPTURE(woodscape);
    CHECK(r.out.find(woodscape) == std::string::npos);
    CHECK(test::read_file(work / "o/frames.csv").find(woodscape) == std::string::npos);
  }
  CHECK(r.out.find("class_11") != std::string::npos);  // CamVid's values are 0..11
  CHECK(r.err.find("--labels camvid11 would name them") != std::string::npos);
  const auto summary = summary_of(work / "o");
  CHECK(summary.at("classes_from_values") == true);
  CHECK(summary.at("classes").as_array().size() == 12);
  const auto& warnings = summary.at("warnings").as_array();
  REQUIRE(warnings.size() == 1);
  CHECK(std::string(warnings[0].as_string()).find("--labels camvid11") != std::string::npos);
  // The counts are those of expected_counts.json, value by value.
  const auto expected = test::load_expected_counts(real / "gray8_ids/expected_counts.json");
  std::map<std::uint32_t, std::uint64_t> per_value;
  for (const auto& [file, counts] : expected)
    if (file.starts_with("camvid_segnet/"))
      for (const auto& [v, n] : counts) per_value[v] += n;
  for (const auto& c : summary.at("classes").as_array())
    CHECK(c.at("pixels").to_number<std::uint64_t>() == per_value[c.at("id").to_number<std::uint32_t>()]);

  // Values that a big map merely contains are not said to be its classes: Mapillary's 17..85 are all
  // below ADE20K's 151 classes, but only 6 of its 151 values occur.
  const auto mapillary = run_cli("scan " + quote(real / "palette/mapillary_mmseg") + " --no-progress");
  CHECK(mapillary.status == 0);
  CHECK(mapillary.err.find("ade20k") == std::string::npos);
  CHECK(mapillary.err.find("No built-in class map is known to name them") != std::string::npos);

  // With the map, its names and no warning.
  const auto named = run_cli("scan " + quote(real / "gray8_ids/camvid_segnet") + " --labels camvid11 --no-progress");
  CHECK(named.status == 0);
  CHECK(named.out.find("Bicyclist") != std::string::npos);
  CHECK(named.out.find("11 Unlabelled") != std::string::npos);  // the ignored value, by its name
  CHECK(named.err.empty());
}

TEST_CASE("cli trust: a class map that plainly does not fit is said, on stderr and in summary.json",
          "[cli][trust][labels]") {
  test::temp_dir work;
  SECTION("Cityscapes labelIds read as trainIds") {
    const auto file = real / "gray8_ids/mmseg_testdata/cityscapes_frankfurt_000000_000294_gtFine_labelIds.png";
    const auto r =
        run_cli("scan " + quote(file) + " --labels cityscapes-train --no-progress --out " + quote(work / "o"));
    CHECK(r.status == 0);
    const std::string hint = "they look like Cityscapes labelIds read as trainIds";
    CHECK(r.err.find(hint) != std::string::npos);
    const auto summary = summary_of(work / "o");
    const auto& warnings = summary.at("warnings").as_array();
    REQUIRE(warnings.size() == 1);
    CHECK(std::string(warnings[0].as_string()).find(hint) != std::string::npos);
    // Read as it should be, nothing to say.
    const auto right = run_cli("scan " + quote(file) + " --labels cityscapes --remap cityscapes-train --no-progress");
    CHECK(right.err.empty());
  }
  SECTION("ADE20K's full-format RGB masks read through the 150-class colour table") {
    const auto r = run_cli("scan " + quote(real / "rgb_color/ade20k_full_encoded") +
                           " --labels ade20k-150 --no-progress --out " + quote(work / "o"));
    CHECK(r.status == 0);
    CHECK(r.err.find("100.0% of the pixels") != std::string::npos);
    CHECK(r.err.find("ADE20K full-format masks") != std::string::npos);
  }
}

TEST_CASE("cli trust: every CSV header is unique, with ADE20K's class 'path', and group keeps its place",
          "[cli][trust][csv]") {
  test::temp_dir work;
  const auto r = run_cli("scan " + quote(real / "gray8_ids/ade20k_sceneparsing") +
                         " --labels ade20k-150 --components 8 --no-progress --out " + quote(work / "o"));
  REQUIRE(r.status == 0);
  // Python's csv.DictReader, as a user reads it: the path column holds the file names.
  const auto check = python(
      "import csv, sys\n"
      "for name in ('frames.csv', 'cooccurrence.csv', 'weights.csv', 'components.csv'):\n"
      "    header = next(csv.reader(open(sys.argv[1] + '/' + name)))\n"
      "    assert len(header) == len(set(header)), (name, [h for h in header if header.count(h) > 1])\n"
      "rows = list(csv.DictReader(open(sys.argv[1] + '/frames.csv')))\n"
      "print(sorted(r['path'] for r in rows))\n"
      "print(sum(int(r['pixels_path']) for r in rows))\n"
      "print(set(r['group'] for r in rows))\n",
      work / "o");
  INFO(check.err);
  REQUIRE(check.status == 0);
  const auto lines = lines_of(check.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "['ADE_train_00000970.png', 'ADE_val_00000001.png', 'ADE_val_00000002.png', "
        "'ADE_val_00000003.png']");
  // Class 53 "path": its pixels from expected_counts.json.
  std::uint64_t path_pixels = 0;
  for (const auto& [file, counts] : test::load_expected_counts(real / "gray8_ids/expected_counts.json"))
    if (file.starts_with("ade20k_sceneparsing/") && counts.count(53)) path_pixels += counts.at(53);
  CHECK(lines[1] == std::to_string(path_pixels));
  CHECK(lines[2] == "{''}");

  // The fixed columns are in the same places with and without --group-by.
  const auto grouped =
      run_cli("scan " + quote(real / "gray8_ids/ade20k_sceneparsing") +
              " --labels ade20k-150 --group-by '^ADE_([a-z]+)_' --no-progress --out " + quote(work / "g"));
  REQUIRE(grouped.status == 0);
  const auto plain_header = lines_of(test::read_file(work / "o/frames.csv"))[0];
  const auto grouped_rows = lines_of(test::read_file(work / "g/frames.csv"));
  CHECK(grouped_rows[0].starts_with("path,group,width,height,pixels_other,pixels_wall,"));
  CHECK(plain_header.starts_with("path,group,width,height,pixels_other,pixels_wall,"));
  CHECK(grouped_rows[1].starts_with("ADE_train_00000970.png,train,"));
}

TEST_CASE("cli trust: a file name that is not UTF-8 reads as hex escapes in every output, which stay UTF-8",
          "[cli][trust][utf8]") {
  test::temp_dir work;
  synth(work / "d", 2, 1);
  fs::rename(work / "d/00000_FV.png", work / "d/caf\xE9_FV.png");  // Latin-1 é: not UTF-8
  test::write_file(work / "d/bad\xFF.png", "not a png");           // skipped, named in errors
  const auto r = run_cli("scan " + quote(work / "d") +
                         " --labels woodscape --group-by '^([^_]+)_' --report "
                         "--no-progress --out " +
                         quote(work / "o"));
  INFO(r.err);
  CHECK(r.status == 3);
  const auto check = python(
      "import json, csv, sys, glob\n"
      "d = sys.argv[1]\n"
      "s = json.load(open(d + '/summary.json', encoding='utf-8'))\n"
      "print([e['path'] for e in s['errors']])\n"
      "print(sorted(r['path'] for r in csv.DictReader(open(d + '/frames.csv', encoding='utf-8'))))\n"
      "for f in glob.glob(d + '/groups/*/summary.json'): json.load(open(f, encoding='utf-8'))\n"
      "open(d + '/report.html', encoding='utf-8').read()\n",
      work / "o");
  INFO(check.err);
  REQUIRE(check.status == 0);
  const auto lines = lines_of(check.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "['bad\\\\xFF.png']");  // Python's repr doubles the backslash
  CHECK(lines[1] == "['00001_MVL.png', 'caf\\\\xE9_FV.png']");
  CHECK(r.out.find("skipped bad\\xFF.png") != std::string::npos);
}

TEST_CASE("cli trust: a folder where nothing can be scanned says why once, lists the files in summary.json, exit 1",
          "[cli][trust][nothing-scanned]") {
  test::temp_dir work;
  fs::create_directories(work / "photos");
  const std::string jpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00", 14);
  for (int i = 0; i < 5; ++i) test::write_file(work / ("photos/" + std::to_string(i) + ".png"), jpeg);
  const auto r = run_cli("scan " + quote(work / "photos") + " --no-progress --report --out " + quote(work / "o"));
  CHECK(r.status == 1);
  CHECK(r.err.find("nothing was scanned: all 5 files are not PNG files (the first: not a PNG file: it is a JPEG "
                   "image)") != std::string::npos);
  CHECK(r.out.find("frames scanned") == std::string::npos);  // no table of zeros, no frames/s
  const auto summary = summary_of(work / "o");
  CHECK(summary.at("errors").as_array().size() == 5);
  CHECK(summary.at("frames_scanned").to_number<int>() == 0);
  CHECK(fs::exists(work / "o/report.html"));  // asked for, and written: it lists the files too
}

TEST_CASE("cli trust: --class-names refuses a file whose lines would shift the ids", "[cli][trust][labels]") {
  test::temp_dir work;
  test::write_file(work / "names.txt", "Sky\n\nBuilding\n");
  const auto r = run_cli("scan " + quote(real / "gray8_ids/camvid_segnet") + " --class-names " +
                         quote(work / "names.txt") + " --no-progress");
  CHECK(r.status == 2);
  CHECK(r.err.find("line 2") != std::string::npos);
}
