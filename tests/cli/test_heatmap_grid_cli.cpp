// `maskscan scan --heatmap-grid WxH` as a user runs it: the flag's refusals (exit 2, nothing
// written), the .npy files read back by NumPy equal to the library's counts, groups, and merge.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <maskscan/scan.hpp>
#include <maskscan/synth.hpp>

#include "support/results.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
using test::quote;
using test::run_cli;
namespace fs = std::filesystem;
namespace json = boost::json;

/// A python3 that can import numpy ("" if none): the one on PATH first, then the system one.
std::string python_with_numpy() {
  for (const std::string python : {"python3", "/usr/bin/python3"}) {
    const std::string probe = python + " -c 'import numpy' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return {};
}

struct npy_read {
  std::string dtype;
  std::vector<std::size_t> shape;
  std::vector<std::uint32_t> values;  // C order
};

/// `file` as NumPy reads it.
npy_read numpy_load(const std::string& python, const fs::path& file, const test::temp_dir& work) {
  const auto script = work / "load.py", out = work / "numpy.txt";
  std::ofstream(script) << "import sys\nimport numpy as np\na = np.load(sys.argv[1])\nprint(a.dtype.str)\n"
                           "print(len(a.shape), ' '.join(str(d) for d in a.shape))\n"
                           "print(' '.join(str(int(v)) for v in a.ravel(order='C')))\n";
  const std::string command = python + " " + quote(script) + " " + quote(file) + " > " + quote(out) + " 2>&1";
  const int status = std::system(command.c_str());
  INFO("python output: " << test::read_file(out));
  REQUIRE(status == 0);
  std::istringstream in(test::read_file(out));
  npy_read r;
  std::size_t dims = 0;
  in >> r.dtype >> dims;
  r.shape.resize(dims);
  for (auto& d : r.shape) in >> d;
  for (std::uint64_t v; in >> v;) r.values.push_back(static_cast<std::uint32_t>(v));
  return r;
}

json::value read_json(const fs::path& file) {
  json::error_code ec;
  auto v = json::parse(test::read_file(file), ec);
  REQUIRE_FALSE(ec);
  return v;
}

/// Synthetic WoodScape-like frames of two sizes, four cameras.
struct two_sizes {
  test::temp_dir dir;
  two_sizes() {
    synthesize_dataset(dir / "big", test::synth_frames(8, 96, 64));
    synthesize_dataset(dir / "small", test::synth_frames(8, 40, 30, 3));
  }
};

}  // namespace

TEST_CASE("cli heatmap grid: --help explains --heatmap-grid", "[cli][heatmap-grid]") {
  const auto help = run_cli("scan --help");
  CHECK(help.status == 0);
  CHECK(help.out.find("--heatmap-grid") != std::string::npos);
  CHECK(help.out.find("heatmaps_grid_<W>x<H>.npy") != std::string::npos);
}

TEST_CASE("cli heatmap grid: a bad --heatmap-grid exits 2, says what it expects, and writes nothing",
          "[cli][heatmap-grid]") {
  const auto camvid = test::data_root() / "real/gray8_ids/camvid_segnet";
  struct refusal {
    std::string value;
    std::vector<std::string> messages;
  };
  const auto c = GENERATE(values<refusal>({
      {"64", {"--heatmap-grid", "'64'", "WxH", "64x48"}},
      {"64by48", {"--heatmap-grid", "WxH"}},
      {"-3x4", {"--heatmap-grid", "WxH"}},
      {"3x", {"--heatmap-grid", "WxH"}},
      {"0x5", {"--heatmap-grid", "0x5", "1 to 4096"}},
      {"4097x2", {"--heatmap-grid", "4097x2", "1 to 4096"}},
      {"99999999999x2", {"--heatmap-grid", "over 4096"}},
      {"64x48 --labels camvid11 --max-heatmap-bytes 100000",  // 11 classes x 64 x 48 x 4 bytes
       {"(--heatmap-grid) 64x48", "11 classes", "135168 bytes", "--max-heatmap-bytes", "coarser"}},
  }));
  CAPTURE(c.value);
  const test::temp_dir run;
  const auto out = run / "out";
  const auto r = run_cli("scan " + quote(camvid) + " --heatmap-grid " + c.value + " --no-progress --out " + quote(out));
  CAPTURE(r.err);
  CHECK(r.status == 2);
  for (const auto& m : c.messages) {
    CAPTURE(m);
    CHECK(r.err.find(m) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("cli heatmap grid: the .npy files read by NumPy hold the library's grid counts, at the top and per group",
          "[cli][heatmap-grid]") {
  const std::string python = python_with_numpy();
  if (python.empty()) {
    WARN("python3 with numpy is not available: the .npy files are not read back");
    return;
  }
  static const two_sizes data;
  const test::temp_dir work;
  const auto out = work / "out";
  const std::string regex = "'^([a-z]+)/'";
  const auto r =
      run_cli("scan " + quote(data.dir.path()) + " --labels woodscape --heatmap-grid 12x5 --group-by " + regex +
              " --workers 2 --no-progress --out " + quote(out) + " --save-state " + quote(work / "all.state"));
  INFO(r.err);
  REQUIRE(r.status == 0);

  // The same scan through the library: the reference for every number in the files.
  scan_options o;
  o.labels = "woodscape";
  o.heatmap_grid = {12, 5};
  o.group_by = "^([a-z]+)/";
  o.serial = true;
  const auto lib = scan(frame_source::from_directory(data.dir.path()), o);
  REQUIRE(lib.stats.grid_heatmaps.size() == 2);
  const auto whole = ungroup(lib.stats).grid_heatmaps.at("");
  CHECK(whole.frames == 16);

  const auto top = numpy_load(python, out / "heatmaps_grid_12x5.npy", work);
  CHECK(top.dtype == "<u4");
  CHECK(top.shape == std::vector<std::size_t>{10, 5, 12});  // C x Hg x Wg
  CHECK(top.values == whole.counts);
  for (const char* group : {"big", "small"}) {
    CAPTURE(group);
    const auto g = numpy_load(python, out / "groups" / group / "heatmaps_grid_12x5.npy", work);
    CHECK(g.shape == std::vector<std::size_t>{10, 5, 12});
    CHECK(g.values == lib.stats.grid_heatmaps.at(group).counts);
    CHECK(
        read_json(out / "groups" / group / "summary.json").at("heatmap_grid").at("frames").to_number<std::uint64_t>() ==
        8);
  }
  const auto summary = read_json(out / "summary.json");
  CHECK(summary.at("heatmap_grid").at("file").as_string() == "heatmaps_grid_12x5.npy");
  CHECK(summary.at("heatmap_grid").at("frames").to_number<std::uint64_t>() == 16);
  CHECK(summary.at("options").at("heatmap_grid").as_string() == "12x5");
  CHECK(summary.at("heatmaps").as_array().empty());  // the grid alone: no per-size sets
  CHECK_FALSE(fs::exists(out / "heatmaps_96x64.npy"));

  // The state carries the grid: merge writes the same file.
  const auto merged = work / "merged";
  const auto m = run_cli("merge " + quote(work / "all.state") + " --out " + quote(merged));
  INFO(m.err);
  REQUIRE(m.status == 0);
  CHECK(test::read_file(merged / "heatmaps_grid_12x5.npy") == test::read_file(out / "heatmaps_grid_12x5.npy"));
  CHECK(read_json(merged / "summary.json").at("options").at("heatmap_grid").as_string() == "12x5");
}

TEST_CASE("cli heatmap grid: merge and --resume refuse states of another grid", "[cli][heatmap-grid][merge]") {
  static const two_sizes data;
  const test::temp_dir work;
  const auto big = quote(data.dir / "big"), small = quote(data.dir / "small");
  REQUIRE(run_cli("scan " + big + " --heatmap-grid 8x8 --no-progress --save-state " + quote(work / "a.state")).status ==
          0);
  REQUIRE(
      run_cli("scan " + small + " --heatmap-grid 4x4 --no-progress --save-state " + quote(work / "b.state")).status ==
      0);
  const auto m =
      run_cli("merge " + quote(work / "a.state") + " " + quote(work / "b.state") + " --out " + quote(work / "m"));
  CHECK(m.status == 1);
  CHECK(m.err.find("heatmap grids (8x8 and 4x4)") != std::string::npos);

  const auto resumed =
      run_cli("scan " + big + " --heatmap-grid 16x16 --no-progress --resume " + quote(work / "a.state"));
  CHECK(resumed.status == 1);
  CHECK(resumed.err.find("--resume") != std::string::npos);
  CHECK(resumed.err.find("heatmap grids") != std::string::npos);
}
