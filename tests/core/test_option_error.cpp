// option_error: library messages name options by their field names; the CLI calls them by its flags.
#include <catch2/catch.hpp>

#include <maskscan/option_error.hpp>
#include <maskscan/options.hpp>

#include "cli/option_flags.hpp"

using namespace maskscan;

namespace {
option_error refusal(const scan_options& o) {
  try {
    (void)resolve_defaults(o);
  } catch (const option_error& e) {
    return e;
  }
  FAIL("accepted");
  throw;
}
}  // namespace

TEST_CASE("option_error: an io_depth over its bound is named io_depth, and --io-depth by the CLI", "[options]") {
  scan_options o;
  o.io_depth = 5000;
  const auto e = refusal(o);
  CHECK(e.option() == "io_depth");
  CHECK(std::string(e.what()) == "scan_options::io_depth 5000 is over the limit of 4096");
  CHECK(cli::message_of(e) == "scan_options::io_depth (--io-depth) 5000 is over the limit of 4096");
}

TEST_CASE("option_error: the CLI's messages are those it printed before option_error", "[options]") {
  scan_options o;
  o.group_by = "_(FV)";
  o.splits = {{"train", {"x.png"}}};
  auto e = refusal(o);
  CHECK(e.options() == std::vector<std::string>{"group_by", "splits"});
  CHECK(std::string(e.what()) == "group_by and splits cannot be combined: choose one way of grouping");
  CHECK(cli::message_of(e) == "--group-by and --split cannot be combined: choose one way of grouping");

  o = {};
  o.labels = "cityscapes";
  o.heatmap_grid = {4096, 4096};
  e = refusal(o);
  CHECK(cli::message_of(e) ==
        "scan_options::heatmap_grid (--heatmap-grid) 4096x4096 for 34 classes needs 2281701376 bytes per worker, more "
        "than max_heatmap_bytes (--max-heatmap-bytes) 1073741824: choose a coarser grid or raise the limit");
  o = {};
  o.ignore = {70000};
  CHECK(cli::message_of(refusal(o)) ==
        "ignore value 70000 (--ignore): mask values are 8- or 16-bit, so no value above 65535 can match");
  o = {};
  o.labels = "nonesuch";
  CHECK_THAT(cli::message_of(refusal(o)), Catch::StartsWith("labels 'nonesuch' (--labels): neither a built-in"));
  CHECK_THAT(refusal(o).what(), Catch::StartsWith("labels 'nonesuch': neither a built-in"));
}

TEST_CASE("option_error: flags of library options", "[options]") {
  CHECK(cli::flag_of("io_depth") == "--io-depth");
  CHECK(cli::flag_of("min_component_pixels") == "--min-component-pixels");
  CHECK(cli::flag_of("splits") == "--split");
  CHECK(cli::message_of(std::runtime_error("plain words io_depth")) == "plain words io_depth");
}
