// tune against an exhaustive grid (issue 18): does the setting `tune` recommends reach >= 90% of the
// frames/s of the best setting of the grid workers 1-4 x io-depth 1/4/16/64 x queue-depth 8/32/128
// x io uring/threads, in <= 25% of the grid's time?
//
//   maskscan_tune_grid DIR [--heatmaps] [--sample 300] [--latency-ms 2] [--rounds 5] [--scenario files|slow|both]
//
// Scenario "files": DIR's files, warm (the sample is read once before). Scenario "slow": the same
// sample's files behind a store that adds --latency-ms to every read (tests/support/slow_store.hpp):
// the files are read by the backend a setting names, so the grid has both io backends there too;
// tune, which sees a store, not files, does not search the backend. Each grid point is one trial as tune
// measures it (measure_trial: the sample scanned until 0.5 s have passed). Then the recommended
// setting and the grid's best are measured side by side, interleaved, --rounds times: on the whole
// of DIR for "files", on the sample for "slow" (at least 2 s a measure); the medians are compared.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <maskscan/scan.hpp>
#include <maskscan/tune.hpp>

#include "support/slow_store.hpp"

namespace {

using namespace maskscan;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct grid_point {
  concurrency settings;
  double rate = 0;
  double peak_mb = 0;
};

struct outcome {
  std::string scenario;
  tune_result tuned;
  double tune_seconds = 0;
  std::vector<grid_point> grid;
  double grid_seconds = 0;
  std::vector<double> recommended_rates, grid_best_rates;
};

outcome run_scenario(const std::string& name, const frame_source& source, const frame_source& sample,
                     const frame_source& judge, const scan_options& options, unsigned rounds, double judge_seconds,
                     bool backends_of_files = false) {
  outcome o;
  o.scenario = name;
  const bool files = source.of_files() || backends_of_files;
  fmt::print(stderr, "[{}] tune ...\n", name);
  const double t0 = now_seconds();
  tune_options tuning;  // the defaults, as `maskscan tune` runs
  o.tuned = tune(source, options, tuning);
  o.tune_seconds = now_seconds() - t0;
  fmt::print(stderr, "[{}] tune: {} in {:.1f} s ({} trials)\n", name, to_flags(o.tuned.best), o.tune_seconds,
             o.tuned.trials.size());

  std::vector<io_backend> backends =
      files ? std::vector{io_backend::uring, io_backend::threads} : std::vector{io_backend::store};
  const double g0 = now_seconds();
  for (const unsigned w : {1u, 2u, 3u, 4u})
    for (const unsigned io : {1u, 4u, 16u, 64u})
      for (const unsigned q : {8u, 32u, 128u})
        for (const auto b : backends) {
          const concurrency c{w, io, q, b};
          const auto t = measure_trial(sample, with_concurrency(options, c), 0.5);
          o.grid.push_back({c, t.frames_per_second(), static_cast<double>(t.peak_rss_bytes) / 1e6});
          fmt::print(stderr, "[{}] grid {}: {:.0f} frames/s\n", name, to_flags(c), t.frames_per_second());
        }
  o.grid_seconds = now_seconds() - g0;

  const auto best = std::ranges::max_element(o.grid, {}, &grid_point::rate)->settings;
  for (unsigned r = 0; r < rounds; ++r) {  // side by side, interleaved
    o.recommended_rates.push_back(
        measure_trial(judge, with_concurrency(options, o.tuned.best), judge_seconds).frames_per_second());
    o.grid_best_rates.push_back(
        measure_trial(judge, with_concurrency(options, best), judge_seconds).frames_per_second());
  }
  return o;
}

void print(const outcome& o) {
  const auto best = std::ranges::max_element(o.grid, {}, &grid_point::rate);
  const double rec = tune_result::median(o.recommended_rates), top = tune_result::median(o.grid_best_rates);
  const auto [rlo, rhi] = std::ranges::minmax(o.recommended_rates);
  const auto [glo, ghi] = std::ranges::minmax(o.grid_best_rates);
  fmt::print("\n### {}\n\n", o.scenario);
  fmt::print("| | setting | frames/s (median, range) |\n|---|---|---|\n");
  fmt::print("| tune recommends | `{}` | {:.0f} ({:.0f}-{:.0f}) |\n", to_flags(o.tuned.best), rec, rlo, rhi);
  fmt::print("| grid's best | `{}` | {:.0f} ({:.0f}-{:.0f}) |\n\n", to_flags(best->settings), top, glo, ghi);
  fmt::print("- recommended / grid's best: **{:.3f}** (target >= 0.90), {} rounds side by side\n",
             top > 0 ? rec / top : 0, o.recommended_rates.size());
  fmt::print(
      "- tune's time / grid's time: **{:.3f}** ({:.1f} s / {:.1f} s, {} trials / {} grid points; target <= 0.25)\n",
      o.tune_seconds / o.grid_seconds, o.tune_seconds, o.grid_seconds, o.tuned.trials.size(), o.grid.size());
  fmt::print("- tune said: {}: {}; {}\n", o.tuned.bottleneck, o.tuned.evidence, o.tuned.stopped);
  fmt::print(
      "\nThe grid (one trial each, frames/s; peak RSS MB):\n\n| workers | io-depth | queue-depth | io | frames/s | "
      "peak RSS MB |\n|---|---|---|---|---|---|\n");
  for (const auto& g : o.grid)
    fmt::print("| {} | {} | {} | {} | {:.0f} | {:.0f} |\n", g.settings.workers, g.settings.io_depth,
               g.settings.queue_depth, to_string(g.settings.io), g.rate, g.peak_mb);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr,
               "usage: maskscan_tune_grid DIR [--heatmaps] [--sample N] [--latency-ms MS] [--rounds N] "
               "[--scenario files|slow|both]\n");
    return 2;
  }
  const std::string dir = argv[1];
  scan_options options;
  std::size_t sample_size = 300;
  double latency_ms = 2;
  unsigned rounds = 5;
  std::string scenario = "both";
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--heatmaps")
      options.heatmaps = true;
    else if (a == "--sample")
      sample_size = std::stoul(value());
    else if (a == "--latency-ms")
      latency_ms = std::stod(value());
    else if (a == "--rounds")
      rounds = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--scenario")
      scenario = value();
    else {
      fmt::print(stderr, "unknown argument {}\n", a);
      return 2;
    }
  }
  const auto source = frame_source::from_directory(dir);
  const auto sample = spread_sample(source, sample_size);
  fmt::print("## tune against the exhaustive grid: {} ({} frames), {}; sample {} frames\n", dir, source.size(),
             options.heatmaps ? "counts + heatmaps" : "counts", sample.size());
  if (scenario == "files" || scenario == "both") {
    scan(sample, options);  // warm: the sample in the page cache
    print(run_scenario("files, warm", source, sample, source, options, rounds, 0));
  }
  if (scenario == "slow" || scenario == "both") {
    // The sample's files (warm), each read through the backend a setting names, then held back by
    // the latency: storage whose requests take long but overlap.
    const auto slow = test::slow_store::over(sample, std::chrono::microseconds(static_cast<long>(latency_ms * 1000)));
    print(run_scenario(fmt::format("slow reader ({:g} ms a read), the {} files of the sample", latency_ms, slow.size()),
                       slow, slow, slow, options, rounds, 2.0, true));
  }
  return 0;
}
