// Using the command line wrongly: suggestions for misspelt flags and subcommands, and help texts
// and errors for enum flags that name their words, not CLI11's mapping to numbers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "cli/suggest.hpp"
#include "support/run_cli.hpp"

namespace {
using namespace maskscan;
using test::quote;
using test::run_cli;

const std::string run_with_help = "Run with --help for more information.\n";

/// The line of `help` that describes `flag` (starts with it, after the indent).
std::string help_line(const std::string& help, const std::string& flag) {
  std::istringstream lines(help);
  std::string line;
  while (std::getline(lines, line))
    if (line.starts_with("  " + flag + " ")) return line;
  return {};
}
}  // namespace

TEST_CASE("edit distance counts insertions, deletions, substitutions and adjacent swaps", "[cli][usage]") {
  using row = std::tuple<const char*, const char*, std::size_t>;
  const auto [a, b, distance] = GENERATE(table<const char*, const char*, std::size_t>({
      row{"", "", 0},
      row{"", "abc", 3},
      row{"abc", "", 3},
      row{"labels", "labels", 0},
      row{"lables", "labels", 1},  // one swap, not two substitutions
      row{"scna", "scan", 1},
      row{"frmes", "frames", 1},        // an insertion
      row{"heatmapss", "heatmaps", 1},  // a deletion
      row{"decodr", "decoder", 1},
      row{"colourmap", "colormap", 1},
      row{"efective-uint", "effective-unit", 2},
      row{"kitten", "sitting", 3},  // the classic Levenshtein example: no swap helps
      row{"ca", "abc", 3},          // optimal string alignment: a swapped pair is not edited again
      row{"ab", "ba", 1},
      row{"abcd", "badc", 2},
  }));
  CAPTURE(a, b);
  CHECK(cli::edit_distance(a, b) == distance);
  CHECK(cli::edit_distance(b, a) == distance);
}

TEST_CASE("the closest flag is suggested only when it is within a third of the name's length, 1 to 2 edits",
          "[cli][usage]") {
  const std::vector<std::string> flags{"-h",         "--help",           "--out",        "--io", "--labels",
                                       "--heatmaps", "--effective-unit", "--no-progress"};
  using row = std::pair<const char*, const char*>;
  const auto [typed, expected] = GENERATE(table<const char*, const char*>({
      row{"--lables", "--labels"},
      row{"-labels", "--labels"},  // dashes are not compared
      row{"--labels", "--labels"},
      row{"--ot", "--out"},  // 2 letters: one edit
      row{"--oi", "--io"},
      row{"--heatmap", "--heatmaps"},
      row{"--efective-uint", "--effective-unit"},  // 13 letters: two edits
      row{"--no-progres", "--no-progress"},
      row{"--hlep", "--help"},
      row{"--lbl", ""},   // 3 letters: one edit only, "labels" is 3 away
      row{"--heat", ""},  // 4 letters: one edit only
      row{"--zzzzzz", ""},
      row{"-x", ""},  // one letter: only an exact match, else every one-letter flag would do
      row{"--h", "-h"},
      row{"", ""},
  }));
  CAPTURE(typed);
  const auto match = cli::closest_match(typed, flags);
  CHECK(match.value_or("") == std::string(expected));
}

TEST_CASE("ties go to the earlier candidate", "[cli][usage]") {
  CHECK(cli::closest_match("--ab", {"--ax", "--xb"}) == "--ax");
  CHECK(cli::closest_match("--ab", {"--xb", "--ax"}) == "--xb");
  CHECK(cli::closest_match("--abcdef", {"--abcdxy", "--abcdex"}) == "--abcdex");  // 1 edit beats 2
}

TEST_CASE("the unknown argument is looked up in the flags of the subcommand being parsed", "[cli][usage]") {
  const auto message = [](std::vector<std::string> args) {
    CLI::App app;
    app.require_subcommand(1);
    std::string input, labels, frames;
    auto* first = app.add_subcommand("first");
    first->add_option("input", input);
    first->add_option("--labels", labels);
    app.add_subcommand("second")->add_option("--frames", frames);
    std::reverse(args.begin(), args.end());  // CLI11 parses a vector from its back
    try {
      app.parse(args);
    } catch (const CLI::ParseError&) {
      return cli::unknown_argument_message(app).value_or("nothing");
    }
    return std::string("parsed");
  };
  CHECK(message({"first", "--lables", "x"}) == "unknown option --lables; did you mean --labels?");
  CHECK(message({"first", "--lables=x"}) == "unknown option --lables; did you mean --labels?");
  CHECK(message({"second", "--lables", "x"}) == "unknown option --lables");
  CHECK(message({"frist", "--labels", "x"}) == "unknown subcommand frist; did you mean first?");
  CHECK(message({"--hepl", "first"}) == "unknown option --hepl; did you mean --help?");
  CHECK(message({"first", "--", "in", "--lables"}) == "nothing");  // after "--", a positional
  CHECK(message({"first", "--labels"}) == "nothing");              // a missing value is another error
  CHECK(message({"first", "--labels", "x"}) == "parsed");
}

TEST_CASE("a misspelt flag or subcommand exits 2 with the nearest valid one", "[cli][usage]") {
  using row = std::pair<std::string, std::string>;
  const auto [args, message] = GENERATE(table<std::string, std::string>({
      row{"scan d --lables woodscape", "unknown option --lables; did you mean --labels?"},
      row{"scan d --lables=woodscape", "unknown option --lables; did you mean --labels?"},
      row{"scan --lables woodscape d", "unknown option --lables; did you mean --labels?"},
      row{"scan d --heatmap", "unknown option --heatmap; did you mean --heatmaps?"},
      row{"scan d --efective-uint pixels", "unknown option --efective-uint; did you mean --effective-unit?"},
      row{"scan d --no-progres", "unknown option --no-progres; did you mean --no-progress?"},
      row{"scna d", "unknown subcommand scna; did you mean scan?"},
      row{"mrege a b", "unknown subcommand mrege; did you mean merge?"},
      row{"--hlep", "unknown option --hlep; did you mean --help?"},
      row{"merge a.state --outt x", "unknown option --outt; did you mean --out?"},  // before the missing file
      row{"merge a.state --colourmap=magma", "unknown option --colourmap; did you mean --colormap?"},
      row{"synth d --frmes 3", "unknown option --frmes; did you mean --frames?"},
      row{"synth d --treads 3", "unknown option --treads; did you mean --threads?"},
      row{"overlay --imgae x", "unknown option --imgae; did you mean --image?"},  // before --image is required
      row{"overlay --image a --mask b --out c --alhpa 0.5", "unknown option --alhpa; did you mean --alpha?"},
      // Nothing close, or close only to another subcommand's flag: no suggestion.
      row{"scan d --zzzzzz", "unknown option --zzzzzz"},
      row{"scan d -x", "unknown option -x"},
      row{"frobnicate d", "unknown subcommand frobnicate"},
      row{"synth d --labels woodscape", "unknown option --labels"},
      row{"merge a.state --heatmap", "unknown option --heatmap"},
  }));
  CAPTURE(args);
  const auto r = run_cli(args);
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "maskscan: " + message + "\n" + run_with_help);
}

TEST_CASE("errors that are not about an unknown argument keep CLI11's message, and --help still wins", "[cli][usage]") {
  const auto missing = run_cli("scan");  // neither a directory nor --files-from
  CHECK(missing.status == 2);
  CHECK(missing.err == "maskscan: give the directory (or PNG file) to scan, or --files-from LIST\n");
  const auto positional = run_cli("scan -- d --lables");  // after "--", an extra positional, not a flag
  CHECK(positional.status == 2);
  CHECK(positional.err.find("unknown option") == std::string::npos);
  CHECK(positional.err.find("--lables") != std::string::npos);
  const auto help = run_cli("scan --help --lables");
  CHECK(help.status == 0);
  CHECK(help.out.find("--labels") != std::string::npos);
  CHECK(help.err.empty());
}

TEST_CASE("help of every subcommand lists each enum flag's words, not CLI11's mapping to numbers", "[cli][usage]") {
  const std::map<std::string, std::map<std::string, std::string>> enum_flags{
      {"scan",
       {{"--io", "{auto,threads,uring}"},
        {"--decoder", "{auto,fast,spng}"},
        {"--effective-unit", "{frames,pixels}"},
        {"--colormap", "{magma,viridis}"}}},
      {"merge", {{"--effective-unit", "{frames,pixels}"}, {"--colormap", "{magma,viridis}"}}},
      {"synth", {{"--filter", "{adaptive,sub}"}}},
      {"overlay", {}},
      {"", {}},
  };
  for (const auto& [command, flags] : enum_flags) {
    CAPTURE(command);
    const auto r = run_cli(command + " --help");
    REQUIRE(r.status == 0);
    CHECK(r.out.find("->") == std::string::npos);
    CHECK(r.out.find(" OR {") == std::string::npos);
    for (const auto& [flag, words] : flags) {
      CAPTURE(flag);
      CHECK(help_line(r.out, flag).find("ENUM:" + words) != std::string::npos);
    }
  }
}

TEST_CASE("enum flags take their words in any case", "[cli][usage]") {
  test::temp_dir dir;
  const auto masks = dir / "masks", out = dir / "out";
  REQUIRE(run_cli("synth " + quote(masks) + " --frames 2 --width 64 --height 32 --filter SUB").status == 0);
  const auto r = run_cli("scan " + quote(masks) +
                         " --no-progress --io THREADS --decoder Spng --effective-unit PIXELS "
                         "--colormap MaGmA --heatmaps --report --out " +
                         quote(out));
  REQUIRE(r.status == 0);
  const auto summary = boost::json::parse(test::read_file(out / "summary.json")).as_object();
  CHECK(summary.at("options").at("io").as_string() == "threads");
  CHECK(summary.at("options").at("decoder").as_string() == "spng");
  CHECK(summary.at("weights").at("options").at("effective_unit").as_string() == "pixels");
  CHECK(test::read_file(out / "report.html").find("(magma colour map") != std::string::npos);
}

TEST_CASE("synth --filter SUB writes what --filter sub writes, not the adaptive files", "[cli][usage]") {
  test::temp_dir dir;
  const auto files_of = [&](const std::string& filter) {
    const auto target = dir / filter;
    REQUIRE(run_cli("synth " + quote(target) + " --frames 2 --width 64 --height 32 --filter " + filter).status == 0);
    std::map<std::string, std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(target))
      if (e.is_regular_file()) files[std::filesystem::relative(e.path(), target).string()] = test::read_file(e.path());
    return files;
  };
  const auto upper = files_of("SUB"), lower = files_of("sub"), adaptive = files_of("adaptive");
  CHECK(upper.size() == 2);
  CHECK(upper == lower);
  CHECK(upper != adaptive);
}

TEST_CASE("a wrong enum value exits 2 naming the words, and the nearest one when it is close", "[cli][usage]") {
  using row = std::pair<std::string, std::string>;
  const auto [args, message] = GENERATE(table<std::string, std::string>({
      row{"scan d --io nonsense", "--io: nonsense is not one of {auto,threads,uring}"},
      row{"scan d --io urnig", "--io: urnig is not one of {auto,threads,uring}; did you mean uring?"},
      row{"scan d --io=Thread", "--io: Thread is not one of {auto,threads,uring}; did you mean threads?"},
      row{"scan d --io 2", "--io: 2 is not one of {auto,threads,uring}"},  // the number behind a word is no word
      row{"scan d --decoder libspng", "--decoder: libspng is not one of {auto,fast,spng}"},
      row{"merge STATE --effective-unit pixel",
          "--effective-unit: pixel is not one of {frames,pixels}; did you mean pixels?"},
      row{"merge STATE --colormap jet", "--colormap: jet is not one of {magma,viridis}"},
      row{"synth d --filter paeth", "--filter: paeth is not one of {adaptive,sub}"},
  }));
  CAPTURE(args);
  test::temp_dir dir;  // merge checks that its state files exist before it looks at the other values
  test::write_file(dir / "state", "");
  auto command = args;
  if (const auto at = command.find("STATE"); at != std::string::npos) command.replace(at, 5, quote(dir / "state"));
  const auto r = run_cli(command);
  CHECK(r.status == 2);
  CHECK(r.err == message + "\n" + run_with_help);
}
