// The single-core floor per frame: read-only (warm page cache), decode-only with libspng and with
// the fast path, and decode + statistics as a worker does them. Prints JSON.
//   maskscan_floor DATASET_DIR [--limit N] [--repeat R] [--fast-only]
// --fast-only skips the libspng passes (~90% of the run), to profile or compare the fast path's.
// Two passes bound what counting can cost: "decode+compare fast" compares every id with its left
// neighbour and keeps nothing (the least any run detection does), "decode+run changes fast" finds
// the runs' columns as counting does (run_changes) but counts nothing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <maskscan/scan.hpp>

#include "decode/fast_png.hpp"
#include "decode/png_decoder.hpp"
#include "io/file_reader.hpp"
#include "pipeline/frame_processor.hpp"
#include "stats/frame_stats.hpp"

namespace {
using namespace maskscan;
using clock_type = std::chrono::steady_clock;

/// Median over `repeat` passes of the per-frame milliseconds of `pass` (which runs all frames).
template <class F>
double ms_per_frame(std::size_t frames, int repeat, F&& pass) {
  std::vector<double> times;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = clock_type::now();
    pass();
    times.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count() / frames);
  }
  std::ranges::sort(times);
  return times[times.size() / 2];
}

/// Whether any id of the row differs from its left neighbour: one pass over the row, vectorized
/// (AVX2 where the CPU has it), positions not kept.
#if defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
std::uint8_t
row_changes(const std::uint8_t* row, std::uint32_t width) {
  std::uint8_t any = 0;
  for (std::uint32_t x = 1; x < width; ++x) any |= static_cast<std::uint8_t>(row[x] ^ row[x - 1]);
  return any;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: maskscan_floor DATASET_DIR [--limit N] [--repeat R] [--fast-only]\n");
    return 2;
  }
  std::size_t limit = 824;
  int repeat = 5;
  bool fast_only = false;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--fast-only") {
      fast_only = true;
    } else if ((flag == "--limit" || flag == "--repeat") && i + 1 < argc) {
      if (flag == "--limit")
        limit = std::stoul(argv[++i]);
      else
        repeat = std::stoi(argv[++i]);
    } else {
      std::fprintf(stderr, "maskscan_floor: unknown or incomplete flag %s\n", argv[i]);
      return 2;
    }
  }
  const auto source = frame_source::from_directory(argv[1]);
  const std::size_t n = std::min(limit, source.size());

  std::vector<std::vector<std::byte>> files(n);
  diagnostics diag;
  for (std::size_t i = 0; i < n; ++i)
    if (detail::read_file_blocking((source.root() / source.name(i)), files[i], UINT64_MAX, diag)) {
      std::fprintf(stderr, "%s: %s\n", source.name(i).c_str(), diag.message.c_str());
      return 1;
    }

  std::vector<std::byte> buffer;
  const double read = ms_per_frame(n, repeat, [&] {
    for (std::size_t i = 0; i < n; ++i)
      detail::read_file_blocking((source.root() / source.name(i)), buffer, UINT64_MAX, diag);
  });
  detail::label_plane plane;
  const double skipped = std::numeric_limits<double>::quiet_NaN();  // printed as null (--fast-only)
  const double spng = fast_only ? skipped : ms_per_frame(n, repeat, [&] {
    for (const auto& f : files) detail::decode_png(f, {}, plane, diag);
  });
  detail::fast_png_scratch scratch;
  std::size_t not_handled = 0;
  volatile std::uint8_t sink = 0;
  const double fast = ms_per_frame(n, repeat, [&] {
    not_handled = 0;
    for (const auto& f : files) {
      const auto status = detail::decode_png_fast(
          f, scratch, [](std::uint32_t, std::uint32_t) { return true; },
          [&](std::uint32_t, std::span<const std::uint8_t> row) { sink = row[0]; });
      not_handled += status != detail::fast_status::decoded;
    }
  });
  // Decode with a row pass `on_row` (the fast path's rows) that leaves its result in `sink`.
  auto decode_pass = [&](auto&& on_row) {
    return ms_per_frame(n, repeat, [&] {
      for (const auto& f : files)
        detail::decode_png_fast(
            f, scratch, [](std::uint32_t, std::uint32_t) { return true; },
            [&](std::uint32_t, std::span<const std::uint8_t> row) { sink = on_row(row); });
    });
  };
  const double compare = decode_pass([](std::span<const std::uint8_t> row) {
    const auto w = static_cast<std::uint32_t>(row.size());
    return row_changes(row.data(), w);
  });
  std::vector<std::uint32_t> changes;
  const double run_changes = decode_pass([&](std::span<const std::uint8_t> row) {
    changes.resize(row.size() + 2);
    const auto w = static_cast<std::uint32_t>(row.size());
    return static_cast<std::uint8_t>(w > 1 ? detail::run_changes(row.data(), 1, w, changes.data()) : 0);
  });
  auto processor_pass = [&](bool heatmaps, decoder_kind decoder) {
    if (fast_only && decoder == decoder_kind::spng) return skipped;
    scan_options o;
    o.heatmaps = heatmaps;
    o.decoder = decoder;
    return ms_per_frame(n, repeat, [&] {
      detail::frame_processor p(o);  // fresh heatmaps each pass, as a worker of one scan
      for (std::size_t i = 0; i < n; ++i) p.process(files[i], source.name(i));
    });
  };
  const auto ms = [](double v) { return std::isnan(v) ? std::string("null") : fmt::format("{:.4f}", v); };
  fmt::print(
      R"({{"frames": {}, "fast_not_handled": {}, "ms_per_frame": {{)"
      R"("read": {}, "decode spng": {}, "decode fast": {}, "decode+compare fast": {}, "decode+run changes fast": {}, )"
      R"("decode+count spng": {}, "decode+count fast": {}, )"
      R"("decode+count+heatmaps spng": {}, "decode+count+heatmaps fast": {}}}}})"
      "\n",
      n, not_handled, ms(read), ms(spng), ms(fast), ms(compare), ms(run_changes),
      ms(processor_pass(false, decoder_kind::spng)), ms(processor_pass(false, decoder_kind::automatic)),
      ms(processor_pass(true, decoder_kind::spng)), ms(processor_pass(true, decoder_kind::automatic)));
}
