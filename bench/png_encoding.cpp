// PNG encoder settings on the report's pictures: time and size of each setting, to choose
// png_encoding's default by measurement. The pictures are the report's own: every class image and
// the grid drawn from a scan's heatmaps_<W>x<H>.npy, and (optionally) overlays, decoded from the PNGs
// of a report's images/overlays/. Every setting must give back the same pixels (checked with libspng's
// decoder). Prints a Markdown table; one thread, median of --repeat passes.
//   maskscan_png_encoding HEATMAPS.npy --frames N [--overlays DIR] [--repeat R] [--match REGEX]
// (--match: only the settings whose row name matches, e.g. "zlib 6 default, none|libdeflate [123], none")
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spng.h>
#include <zlib.h>

#include <maskscan/stats.hpp>

#include "visual/heatmap_images.hpp"
#include "visual/overlay.hpp"
#include "visual/png_writer.hpp"

namespace {
using namespace maskscan;
using namespace maskscan::detail;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

/// A (classes, height, width) little-endian uint32 .npy, as write_outputs writes heatmaps_<W>x<H>.npy.
heatmap_set read_npy(const fs::path& file, std::uint64_t frames) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (bytes.size() < 10 || bytes.compare(1, 5, "NUMPY") != 0) throw std::runtime_error(file.string() + ": not .npy");
  const std::size_t header = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  const std::string dict = bytes.substr(10, header);
  if (dict.find("'<u4'") == std::string::npos) throw std::runtime_error(file.string() + ": not uint32");
  unsigned c = 0, h = 0, w = 0;
  if (std::sscanf(dict.c_str() + dict.find("'shape': (") + 10, "%u, %u, %u", &c, &h, &w) != 3)
    throw std::runtime_error(file.string() + ": not a (classes, height, width) array");
  heatmap_set set;
  set.width = w;
  set.height = h;
  set.frames = frames;
  set.counts.resize(std::size_t{c} * h * w);
  if (bytes.size() != 10 + header + set.counts.size() * 4) throw std::runtime_error(file.string() + ": truncated");
  std::memcpy(set.counts.data(), bytes.data() + 10 + header, set.counts.size() * 4);
  return set;
}

std::vector<std::uint8_t> decoded(const std::vector<std::uint8_t>& png) {
  spng_ctx* c = spng_ctx_new(0);
  std::size_t size = 0;
  std::vector<std::uint8_t> out;
  if (spng_set_png_buffer(c, png.data(), png.size()) == 0 && spng_decoded_image_size(c, SPNG_FMT_RGB8, &size) == 0) {
    out.resize(size);
    if (spng_decode_image(c, out.data(), size, SPNG_FMT_RGB8, 0) != 0) out.clear();
  }
  spng_ctx_free(c);
  return out;
}

struct setting {
  std::string name;
  png_encoding encoding;
};

std::vector<setting> settings() {
  using f = png_row_filter;
  std::vector<setting> out;
  const auto name_of = [](f filter) {
    return filter == f::none ? "none" : filter == f::sub ? "sub" : filter == f::up ? "up" : "adaptive";
  };
  // zlib through libspng: the setting before (level 6, no filters), levels and strategies.
  for (const int level : {1, 3, 6, 9})
    for (const f filter : {f::none, f::up, f::adaptive})
      out.push_back({fmt::format("libspng zlib {} default, {}", level, name_of(filter)),
                     {png_deflater::libspng, level, Z_DEFAULT_STRATEGY, filter}});
  for (const int level : {1, 6})
    for (const f filter : {f::none, f::up}) {
      out.push_back({fmt::format("libspng zlib {} RLE, {}", level, name_of(filter)),
                     {png_deflater::libspng, level, Z_RLE, filter}});
      out.push_back({fmt::format("libspng zlib {} filtered, {}", level, name_of(filter)),
                     {png_deflater::libspng, level, Z_FILTERED, filter}});
    }
  for (const int level : {1, 2, 3, 4, 6, 9})
    for (const f filter : {f::none, f::sub, f::up})
      out.push_back({fmt::format("libdeflate {}, {}", level, name_of(filter)),
                     {png_deflater::libdeflate, level, Z_DEFAULT_STRATEGY, filter}});
  return out;
}

struct measured {
  double ms = 0;
  std::size_t bytes = 0;
};

measured encode_all(const std::vector<rgb_image>& images, const png_encoding& e, int repeat) {
  std::vector<double> times;
  measured m;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = clock_type::now();
    std::size_t bytes = 0;
    for (const auto& image : images) {
      const auto png = encode_rgb_png(image.width, image.height, image.pixels, e);
      bytes += png.size();
      if (r == 0 && decoded(png) != image.pixels) throw std::runtime_error("the pixels changed");
    }
    times.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    m.bytes = bytes;
  }
  std::ranges::sort(times);
  m.ms = times[times.size() / 2];
  return m;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fputs("usage: maskscan_png_encoding HEATMAPS.npy --frames N [--overlays DIR] [--repeat R] [--match REGEX]\n",
               stderr);
    return 2;
  }
  std::uint64_t frames = 0;
  fs::path overlay_dir;
  int repeat = 3;
  std::regex match(".");
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--frames") frames = std::stoull(argv[i + 1]);
    if (flag == "--overlays") overlay_dir = argv[i + 1];
    if (flag == "--repeat") repeat = std::stoi(argv[i + 1]);
    if (flag == "--match") match = std::regex(argv[i + 1]);
  }
  const heatmap_set set = read_npy(argv[1], frames);
  const std::size_t classes = heatmap_classes(set);
  std::vector<std::string> names;
  for (std::size_t c = 0; c < classes; ++c) names.push_back(fmt::format("class_{}", c));

  const auto t0 = clock_type::now();
  std::vector<rgb_image> heatmaps;
  for (std::size_t c = 0; c < classes; ++c) heatmaps.push_back(render_class_heatmap(set, c, names[c]));
  heatmaps.push_back(render_heatmap_grid(set, names));
  const double draw_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  std::size_t heatmap_raw = 0;
  for (const auto& image : heatmaps) heatmap_raw += image.pixels.size();

  std::vector<rgb_image> overlays;
  if (!overlay_dir.empty())
    for (const auto& entry : fs::directory_iterator(overlay_dir)) overlays.push_back(decode_rgb_image(entry.path()));
  std::size_t overlay_raw = 0;
  for (const auto& image : overlays) overlay_raw += image.pixels.size();

  fmt::print("{} heatmap images of {}x{} ({} classes + grid, {:.1f} MB of pixels, drawn in {:.0f} ms){}\n\n",
             heatmaps.size(), set.width, set.height, classes, heatmap_raw / 1e6, draw_ms,
             overlays.empty() ? std::string()
                              : fmt::format("; {} overlays ({:.1f} MB of pixels)", overlays.size(), overlay_raw / 1e6));
  fmt::print("| encoder, level, strategy, row filter | heatmaps ms | heatmaps KB | MB/s |{}\n",
             overlays.empty() ? "" : " overlays ms | overlays KB |");
  fmt::print("|---|---|---|---|{}\n", overlays.empty() ? "" : "---|---|");
  for (const auto& s : settings()) {
    if (!std::regex_search(s.name, match)) continue;
    const auto h = encode_all(heatmaps, s.encoding, repeat);
    std::string row =
        fmt::format("| {} | {:.0f} | {} | {:.0f} |", s.name, h.ms, h.bytes / 1000, heatmap_raw / 1e3 / h.ms);
    if (!overlays.empty()) {
      const auto o = encode_all(overlays, s.encoding, repeat);
      row += fmt::format(" {:.0f} | {} |", o.ms, o.bytes / 1000);
    }
    fmt::print("{}\n", row);
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "maskscan_png_encoding: %s\n", e.what());
  return 1;
}
