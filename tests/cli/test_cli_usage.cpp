// Using the command line wrongly: suggestions for misspelt flags and subcommands.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/suggest.hpp"
#include "support/run_cli.hpp"

namespace {
using namespace maskscan;
using test::quote;
using test::run_cli;

const std::string run_with_help = "Run with --help for more information.\n";
}  // namespace

TEST_CASE("edit distance counts insertions, deletions, substitutions and adjacent swaps", "[cli][usage]") {
  using row = std::tuple<const char*, const char*, std::size_t>;
  const auto [a, b, distance] = GENERATE(table<const char*, const char*, std::size_t>({
      row{"", "", 0},
      row{"", "abc", 3},
      row{"abc", "", 3},
      row{"labels", "labels", 0},
      row{"lables", "labels", 1},    // one swap, not two substitutions
      row{"scna", "scan", 1},
      row{"frmes", "frames", 1},     // an insertion
      row{"heatmapss", "heatmaps", 1},  // a deletion
      row{"decodr", "decoder", 1},
      row{"colourmap", "colormap", 1},
      row{"efective-uint", "effective-unit", 2},
      row{"kitten", "sitting", 3},   // the classic Levenshtein example: no swap helps
      row{"ca", "abc", 3},           // optimal string alignment: a swapped pair is not edited again
      row{"ab", "ba", 1},
      row{"abcd", "badc", 2},
  }));
  CAPTURE(a, b);
  CHECK(cli::edit_distance(a, b) == distance);
  CHECK(cli::edit_distance(b, a) == distance);
}

TEST_CASE("the closest flag is suggested only when it is within a third of the name's length, 1 to 2 edits",
          "[cli][usage]") {
  const std::vector<std::string> flags{"-h", "--help", "--out", "--io", "--labels", "--heatmaps", "--effective-unit",
                                       "--no-progress"};
  using row = std::pair<const char*, const char*>;
  const auto [typed, expected] = GENERATE(table<const char*, const char*>({
      row{"--lables", "--labels"},
      row{"-labels", "--labels"},         // dashes are not compared
      row{"--labels", "--labels"},
      row{"--ot", "--out"},               // 2 letters: one edit
      row{"--oi", "--io"},
      row{"--heatmap", "--heatmaps"},
      row{"--efective-uint", "--effective-unit"},  // 13 letters: two edits
      row{"--no-progres", "--no-progress"},
      row{"--hlep", "--help"},
      row{"--lbl", ""},                   // 3 letters: one edit only, "labels" is 3 away
      row{"--heat", ""},                  // 4 letters: one edit only
      row{"--zzzzzz", ""},
      row{"-x", ""},                      // one letter: only an exact match, else every one-letter flag would do
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

TEST_CASE("errors that are not about an unknown argument keep CLI11's message, and --help still wins",
          "[cli][usage]") {
  const auto missing = run_cli("scan");
  CHECK(missing.status == 2);
  CHECK(missing.err == "input is required\n" + run_with_help);
  const auto positional = run_cli("scan -- d --lables");  // after "--", an extra positional, not a flag
  CHECK(positional.status == 2);
  CHECK(positional.err.find("unknown option") == std::string::npos);
  CHECK(positional.err.find("--lables") != std::string::npos);
  const auto help = run_cli("scan --help --lables");
  CHECK(help.status == 0);
  CHECK(help.out.find("--labels") != std::string::npos);
  CHECK(help.err.empty());
}
