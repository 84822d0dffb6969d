#include "cli/tune_command.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace maskscan::cli {

void add_tune_flags(CLI::App& app, tune_flags& f) {
  auto& t = f.tuning;
  app.add_option("--sample", t.sample,
                 "Frames each trial scans, spread evenly over the listing (all when there are fewer)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32));
  app.add_option("--budget-seconds", t.budget_seconds,
                 "Time for the whole tuning: the search stops at 75% of it, the repeats of the best and the "
                 "runner-up take the rest (at least one round)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--min-trial-seconds", t.min_trial_seconds,
                 "A warm trial scans its sample again until it has run this long (short trials measure noise)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--repeats", t.repeats, "Measures of the best setting and the runner-up at the end (median, spread)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100u));
  app.add_flag("--cold", t.cold,
               "Cold reads: each trial scans a sample of its own, once (disjoint while the listing holds enough "
               "frames), so it reads files no earlier trial read. Nothing is evicted from the page cache: drop it "
               "first to measure cold storage (docs/tuning.md)");
  app.add_flag("--json", f.json, "Print the result as JSON (the trials, the best setting, the bottleneck) instead");
}

void hold_given_flags(const CLI::App& app, tune_options& t) {
  t.search_workers = app.count("--workers") == 0;
  t.search_io_depth = app.count("--io-depth") == 0;
  t.search_queue_depth = app.count("--queue-depth") == 0;
  t.search_io = app.count("--io") == 0;
}

std::string scan_command_line(const std::vector<std::string>& arguments, const concurrency& best) {
  static const std::vector<std::string> with_value{"--sample",  "--budget-seconds", "--min-trial-seconds", "--repeats",
                                                   "--workers", "--io-depth",       "--queue-depth",       "--io"};
  static const std::vector<std::string> alone{"--cold", "--json"};
  std::string line = "maskscan scan";
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const auto& a = arguments[i];
    const auto name = a.substr(0, a.find('='));
    if (std::ranges::find(alone, name) != alone.end()) continue;  // --cold, --cold=true
    if (std::ranges::find(with_value, name) != with_value.end()) {
      if (name == a) ++i;  // "--workers 2": the value is the next argument
      continue;
    }
    line += " " + a;
  }
  return line + " " + to_flags(best);
}

std::string tune_json(const tune_result& result, const std::string& scan_line) {
  auto json = boost::json::parse(to_json(result)).as_object();
  json["scan_command"] = scan_line;
  return boost::json::serialize(json);
}

namespace {
std::string megabytes(std::uint64_t bytes) {
  return bytes == 0 ? std::string("-") : fmt::format("{:.0f} MB", static_cast<double>(bytes) / 1e6);
}
}  // namespace

void print_trial(const tune_trial& t, std::size_t number) {
  if (number == 1)
    fmt::print("{:>5}  {:<40} {:>7} {:>8} {:>11} {:>7} {:>10} {:>9} {:>9} {:>9} {:>7}\n", "trial", "step", "workers",
               "io-depth", "queue-depth", "io", "frames/s", "CPU cores", "read MB/s", "peak RSS", "gain");
  const auto& s = t.settings;
  if (!t.ran()) {
    fmt::print("{:>5}  {:<40} {:>7} {:>8} {:>11} {:>7}  {}: {}\n", number, t.step, s.workers, s.io_depth, s.queue_depth,
               to_string(s.io), t.refused.empty() ? "failed" : "refused", t.refused + t.failed);
  } else {
    const bool step = t.step != "start" && t.step != "warm-up" && t.step != "repeat" && t.step != "confirm";
    fmt::print("{:>5}  {:<40} {:>7} {:>8} {:>11} {:>7} {:>10.0f} {:>9.2f} {:>9.1f} {:>9} {:>7}\n", number, t.step,
               s.workers, s.io_depth, s.queue_depth, to_string(s.io), t.frames_per_second(), t.cpu_cores(),
               t.read_megabytes_per_second(), megabytes(t.peak_rss_bytes),
               step ? fmt::format("{:+.1f}%", t.gain * 100) : std::string());
  }
  std::fflush(stdout);
}

void print_tune_result(const tune_result& r, const std::string& scan_line) {
  const auto spread = [](const std::vector<double>& rates) {
    const auto [lo, hi] = std::ranges::minmax(rates);
    const double m = tune_result::median(rates);
    return fmt::format("{:.0f} frames/s (median of {}: {:.0f} to {:.0f}, spread {:.1f}%)", m, rates.size(), lo, hi,
                       m > 0 ? (hi - lo) / m * 100 : 0.0);
  };
  fmt::print("\nsample: {} of {} frames, spread over the listing; {} trials in {:.1f} s\n", r.sample_frames,
             r.source_frames, r.trials.size(), r.elapsed_seconds);
  fmt::print("cache: {}\n", r.cache);
  fmt::print("search: {}\n", r.stopped);
  fmt::print("{}: {}\n", r.bottleneck, r.evidence);
  fmt::print("best: {} {}\n", to_flags(r.best), spread(r.best_rates));
  if (r.has_runner_up && !r.runner_up_rates.empty())
    fmt::print("runner-up: {} {}\n", to_flags(r.runner_up), spread(r.runner_up_rates));
  fmt::print("use:\n{}\n", scan_line);
}

}  // namespace maskscan::cli
