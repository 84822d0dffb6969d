// The per-frame work of a scan worker (pipeline/frame_processor.hpp: decode, count, heatmaps), on
// arbitrary bytes and on them with their checksums repaired (png_repair.hpp):
//  - the default decoder (fast path where it applies) and libspng alone give the same outcome:
//    the same frame row, or an error with the same code;
//  - the row is exact: its counts are those of the plane decode_png gives, value by value;
//  - the heatmaps of the one frame hold 1 exactly where the plane holds each counted class;
//  - the connected components (8-connectivity) of each class add up to its pixels, at least one
//    per class present;
//  - RGB/RGBA inputs go through a colour table (WoodScape's): the row's unknown colours are the
//    plane's, and the marker pixels standing for them are counted nowhere else.
// The run-length counting and the heatmap difference arrays write to memory indexed by decoded
// values and run ends, so ASan watching them on hostile input is the point of this harness.
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_common.hpp"
#include "pipeline/frame_processor.hpp"
#include "png_repair.hpp"

using namespace maskscan;

namespace {

scan_options fuzz_options(decoder_kind decoder) {
  scan_options o;
  o.decoder = decoder;
  o.heatmaps = true;
  o.ignore = {5};  // one class id is ignore-listed: its pixels are counted apart, never in a heatmap
  o.components = 8;
  o.min_component_pixels = 1;               // every component an instance: checked against the component sizes below
  o.class_names = woodscape_class_names();  // ten classes (a scan without a class map has none; see options.hpp)
  o.colours = builtin_class_map("woodscape").colours;
  // Small frames only: every input gets fresh heatmaps (classes x pixels x 4 bytes).
  o.max_pixels = std::uint64_t{1} << 16;
  return o;
}

struct outcome {
  detail::frame_outcome frame;
  std::map<heatmap_key, heatmap_set> heatmaps;
  std::map<std::string, std::vector<size_histogram>> component_sizes;
};

outcome process(std::span<const std::byte> png, decoder_kind decoder) {
  const auto options = fuzz_options(decoder);
  detail::frame_processor processor(options);
  outcome r{processor.process(png, "fuzz.png"), {}, {}};
  auto totals = processor.take();
  r.heatmaps = std::move(totals.heatmaps);
  r.component_sizes = std::move(totals.component_sizes);
  return r;
}

void check_components(const frame_row& row, const outcome& r) {
  const std::size_t classes = row.class_pixels.size();
  fuzz::check(row.instances.size() == classes, "instances per class missing");
  const auto it = r.component_sizes.find("");
  for (std::size_t c = 0; c < classes; ++c) {
    std::uint64_t pixels = 0, instances = 0;
    if (it != r.component_sizes.end() && c < it->second.size())
      for (const auto& [size, n] : it->second[c]) {
        pixels += size * n;
        instances += n;
      }
    fuzz::check(pixels == row.class_pixels[c], "component sizes do not add up to the class pixels");
    fuzz::check(instances == row.instances[c], "instances differ from the component sizes");
    fuzz::check((row.class_pixels[c] > 0) == (instances > 0), "a class present without a component");
  }
}

void check_against_plane(const frame_row& row, const std::map<heatmap_key, heatmap_set>& heatmaps,
                         std::span<const std::byte> png) {
  detail::label_plane plane;
  diagnostics diag;
  auto limits = fuzz::fuzz_limits();
  limits.max_pixels = fuzz_options(decoder_kind::spng).max_pixels;
  const auto colours = fuzz_options(decoder_kind::spng).colours;
  fuzz::check(!detail::decode_png(png, limits, plane, diag, colours), "a frame row for a file decode_png refuses");
  fuzz::check(row.unknown_colours == plane.unknown_colours, "unknown colours differ from the plane's");
  fuzz::check(row.width == plane.width && row.height == plane.height, "row size differs from the plane");

  const std::size_t classes = row.class_pixels.size();
  std::map<std::uint32_t, std::uint64_t> truth;
  for (std::size_t i = 0; i < plane.pixels(); ++i) ++truth[plane.depth == 8 ? plane.u8[i] : plane.u16[i]];
  if (plane.from_colours) truth.erase(detail::unknown_colour_marker);  // counted as unknown colours
  std::map<std::uint32_t, std::uint64_t> counted;
  for (std::size_t c = 0; c < classes; ++c)
    if (row.class_pixels[c]) counted[static_cast<std::uint32_t>(c)] = row.class_pixels[c];
  for (const auto& v : row.ignored) counted[v.value] += v.pixels;
  for (const auto& v : row.out_of_range) counted[v.value] += v.pixels;
  fuzz::check(counted == truth, "frame row counts differ from the decoded plane");

  fuzz::check(heatmaps.size() == 1, "one frame, not one heatmap set");
  const heatmap_set& heat = heatmaps.begin()->second;
  fuzz::check(heat.width == plane.width && heat.height == plane.height && heat.frames == 1, "heatmap set header");
  for (std::size_t c = 0; c < classes; ++c) {
    for (std::size_t i = 0; i < plane.pixels(); ++i) {
      const std::uint32_t id = plane.depth == 8 ? plane.u8[i] : plane.u16[i];
      const std::uint32_t expected = (id == c && c != 5) ? 1 : 0;
      if (heat.counts[c * plane.pixels() + i] != expected) fuzz::fail("heatmap differs from the decoded plane");
    }
  }
}

void run(const std::uint8_t* data, std::size_t size) {
  const auto png = std::as_bytes(std::span(data, size));
  const outcome fast = process(png, decoder_kind::automatic);
  const outcome spng = process(png, decoder_kind::spng);
  if (const auto* error = std::get_if<file_error>(&fast.frame)) {
    const auto* other = std::get_if<file_error>(&spng.frame);
    fuzz::check(other && other->code == error->code, "the decoders disagree on an error");
    fuzz::check(!error->message.empty(), "an error without a message");
    fuzz::check(fast.heatmaps.empty() && spng.heatmaps.empty(), "heatmaps for a skipped frame");
    return;
  }
  const auto* row = std::get_if<frame_row>(&spng.frame);
  fuzz::check(row && *row == std::get<frame_row>(fast.frame), "the decoders give different frame rows");
  fuzz::check(fast.heatmaps == spng.heatmaps, "the decoders give different heatmaps");
  fuzz::check(fast.component_sizes == spng.component_sizes, "the decoders give different components");
  check_against_plane(*row, spng.heatmaps, png);
  check_components(*row, spng);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::for_input_and_repaired(data, size, run);
  return 0;
}
