// Every input kept in tests/fuzz-regressions/ (found by the libFuzzer harnesses in fuzz/, see the
// README.md there) through both decoders: no crash, and the differential property the
// fuzz_differential harness checks -- whatever the fast path decodes, decode_png decodes to the
// very same ids; whatever it does not handle, it delivered no row of.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "decode/fast_png.hpp"
#include "decode/png_decoder.hpp"
#include "support/reference_png.hpp"
#include "support/test_data.hpp"

namespace {

namespace fs = std::filesystem;
using namespace maskscan;
using namespace maskscan::detail;

/// tests/fuzz-regressions, found from this file's own path (CMake compiles it by absolute path).
fs::path regressions_dir() { return fs::path(__FILE__).parent_path().parent_path() / "fuzz-regressions"; }

std::vector<fs::path> regression_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(regressions_dir())) {
    if (e.is_regular_file() && e.path().extension() != ".md") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("Every fuzz regression input decodes alike with both decoders, or the fast path passes",
          "[decode][fuzz-regressions]") {
  REQUIRE(fs::is_directory(regressions_dir()));
  const std::vector<fs::path> files = regression_files();
  REQUIRE_FALSE(files.empty());

  fast_png_scratch scratch;  // reused across files, as a worker reuses it across frames
  label_plane reused;
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    const std::vector<std::byte> png = maskscan::test::read_file_bytes(file);

    std::uint32_t width = 0, height = 0;
    std::vector<std::uint8_t> ids;
    const fast_status status = decode_png_fast(
        png, scratch,
        [&](std::uint32_t w, std::uint32_t h) {
          width = w;
          height = h;
          return std::uint64_t{w} * h <= decode_limits{}.max_pixels;
        },
        [&](std::uint32_t y, std::span<const std::uint8_t> row) {
          REQUIRE(y * std::size_t{width} == ids.size());
          REQUIRE(row.size() == width);
          ids.insert(ids.end(), row.begin(), row.end());
        });

    label_plane plane;
    diagnostics diag;
    const std::error_code ec = decode_png(png, decode_limits{}, plane, diag);
    INFO("decode_png: " << (ec ? diag.message : std::string("ok")));
    if (ec) REQUIRE_FALSE(diag.message.empty());

    // A reused plane gives the same verdict and ids as a fresh one.
    diagnostics diag_reused;
    REQUIRE(decode_png(png, decode_limits{}, reused, diag_reused) == ec);
    if (!ec) REQUIRE((reused.depth == 16 ? reused.u16 == plane.u16 : reused.u8 == plane.u8));

    if (status == fast_status::not_handled) {
      REQUIRE(ids.empty());
      continue;
    }
    REQUIRE_FALSE(ec);
    REQUIRE(plane.depth == 8);
    REQUIRE(plane.width == width);
    REQUIRE(plane.height == height);
    REQUIRE(plane.u8 == ids);
  }
}

TEST_CASE("Every fuzz regression input is described in tests/fuzz-regressions/README.md",
          "[decode][fuzz-regressions]") {
  const std::string readme = maskscan::test::read_file(regressions_dir() / "README.md");
  for (const fs::path& file : regression_files()) {
    CAPTURE(file.filename().string());
    REQUIRE_THAT(readme, Catch::Contains("`" + file.filename().string() + "`"));
  }
}
