// tune: measured scans of a sample, hill-climbing one concurrency option at a time (the tf.data
// autotuner's rule: take the step that gains most, stop when none gains enough).
#include <maskscan/tune.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <maskscan/option_error.hpp>
#include <maskscan/scan.hpp>

#include "core/elapsed.hpp"
#include "core/process_usage.hpp"
#include "io/file_reader.hpp"
#include "io/page_cache.hpp"

namespace maskscan {
namespace {

using detail::seconds_since;

using clock_type = std::chrono::steady_clock;

using setting_key = std::tuple<unsigned, unsigned, unsigned, int>;
setting_key key_of(const concurrency& c) { return {c.workers, c.io_depth, c.queue_depth, static_cast<int>(c.io)}; }

std::string percent(double gain) { return fmt::format("{:+.1f}%", gain * 100); }

void check_tuning(const tune_options& t) {
  const auto bad = [](const char* name, const char* what) {
    return option_error({option_error::name(name), option_error::text(what)});
  };
  if (t.sample == 0) throw bad("sample", " must be at least 1 frame");
  if (!(t.budget_seconds > 0) || !std::isfinite(t.budget_seconds)) throw bad("budget_seconds", " must be above 0");
  if (!(t.min_trial_seconds >= 0) || t.min_trial_seconds > 3600)
    throw bad("min_trial_seconds", " must be 0 to 3600 seconds");
  if (!(t.min_gain >= 0) || t.min_gain > 10) throw bad("min_gain", " must be 0 to 10 (0.05: 5%)");
  if (t.repeats == 0 || t.repeats > 100) throw bad("repeats", " must be 1 to 100");
  if (t.max_workers > max_workers) throw bad("max_workers", " is over the most workers a scan takes");
  if (t.max_io_depth == 0 || t.max_io_depth > max_io_depth) throw bad("max_io_depth", " must be 1 to 4096");
  if (t.max_queue_depth == 0 || t.max_queue_depth > max_queue_depth)
    throw bad("max_queue_depth", " must be 1 to 65536");
}

/// The search's state: every measurement by setting, the trials in order.
class tuner {
 public:
  tuner(const frame_source& source, scan_options options, const tune_options& tuning)
      : source_(source), options_(std::move(options)), tuning_(tuning) {}

  tune_result run() {
    result_.source_frames = source_.size();
    result_.sample_frames = std::min(tuning_.sample, source_.size());
    result_.hardware_threads = detail::usable_cpus();
    const unsigned most_workers = tuning_.max_workers ? tuning_.max_workers : result_.hardware_threads;
    const bool files = source_.of_files();

    concurrency current{tuning_.search_workers ? 1u : options_.workers,
                        tuning_.search_io_depth ? 1u : options_.io_depth,
                        tuning_.search_queue_depth ? queue_for(1) : options_.queue_depth, options_.io};
    if (tuning_.search_queue_depth) current.queue_depth = std::max(current.queue_depth, current.io_depth);
    if (!files) current.io = io_backend::store;

    warm_up(current);
    const auto start = measure(current, "start", 0, nullptr);
    if (!start && !result_.trials.back().refused.empty())
      throw std::invalid_argument(fmt::format("no setting fits: {}", result_.trials.back().refused));
    if (!start) throw std::runtime_error(fmt::format("the first trial failed: {}", result_.trials.back().failed));
    current.io = start->settings.io;  // the backend automatic chose

    std::vector<std::string> kept;
    for (;;) {
      if (search_time_over()) {
        result_.stopped = fmt::format("the time budget ({:g} s) was reached", tuning_.budget_seconds);
        break;
      }
      struct candidate {
        concurrency settings;
        std::string step;
        bool secondary = false;  // tried only when no workers or io-depth step gains
      };
      std::vector<candidate> steps;
      if (tuning_.search_workers && current.workers < most_workers) {
        auto c = current;
        c.workers = std::min(2 * current.workers, most_workers);
        std::string raised;
        if (tuning_.search_queue_depth && c.queue_depth < queue_for(c.workers)) {  // frames for every worker
          c.queue_depth = std::min(queue_for(c.workers), tuning_.max_queue_depth);
          raised = fmt::format(" (queue-depth {})", c.queue_depth);
        }
        steps.push_back({c, fmt::format("workers {} -> {}{}", current.workers, c.workers, raised)});
      }
      if (tuning_.search_io_depth && current.io_depth < tuning_.max_io_depth) {
        auto c = current;
        c.io_depth = std::min(4 * current.io_depth, tuning_.max_io_depth);
        std::string raised;
        if (tuning_.search_queue_depth && c.queue_depth < c.io_depth) {  // room for the reads in flight
          c.queue_depth = std::min(c.io_depth, tuning_.max_queue_depth);
          raised = fmt::format(" (queue-depth {})", c.queue_depth);
        }
        steps.push_back({c, fmt::format("io-depth {} -> {}{}", current.io_depth, c.io_depth, raised)});
      }
      if (tuning_.search_queue_depth && current.queue_depth < tuning_.max_queue_depth) {
        auto c = current;
        c.queue_depth = std::min(4 * current.queue_depth, tuning_.max_queue_depth);
        steps.push_back({c, fmt::format("queue-depth {} -> {}", current.queue_depth, c.queue_depth), true});
      }
      if (tuning_.search_io && files && detail::io_uring_available()) {  // else threads is the only backend
        auto c = current;
        c.io = current.io == io_backend::threads ? io_backend::uring : io_backend::threads;
        steps.push_back({c, fmt::format("io {} -> {}", to_string(current.io), to_string(c.io)), true});
      }
      // Workers and io-depth first: they are what moves the rate. Queue-depth (which those steps
      // raise as they need) and the backend are tried when neither gains, as the last word. A step
      // whose small gain does not hold when measured again is dropped, and the others are weighed.
      const double base = rate(current);
      const candidate* chosen = nullptr;
      std::vector<const candidate*> dropped;
      std::string not_held;
      bool out_of_time = false;
      for (const bool secondary : {false, true}) {
        for (const auto& s : steps) {
          if (s.secondary != secondary || measured(s.settings) || not_run_.contains(key_of(s.settings))) continue;
          if (search_time_over()) {
            out_of_time = true;
            break;
          }
          measure(s.settings, s.step, base, &current);
        }
        while (!out_of_time && !chosen) {
          const candidate* best = nullptr;
          for (const auto& s : steps)
            if ((!s.secondary || secondary) && measured(s.settings) &&
                std::ranges::find(dropped, &s) == dropped.end() && (!best || rate(s.settings) > rate(best->settings)))
              best = &s;
          const double gain = best ? rate(best->settings) / rate(current) - 1 : 0;
          if (!best || gain < tuning_.min_gain) break;
          if (gain >= 2 * tuning_.min_gain) {
            chosen = best;
            break;
          }
          // A small gain on a shared machine: both settings measured again, kept only if it holds.
          if (search_time_over()) {
            out_of_time = true;
            break;
          }
          // The new pair alone decides: averaged with the first, a noisy first measure would count half.
          const auto base_again = measure(current, "confirm", 0, nullptr);
          const auto step_again = measure(best->settings, "confirm " + best->step, rate(current), nullptr);
          const double again = base_again && step_again && base_again->ran() && step_again->ran()
                                   ? step_again->frames_per_second() / base_again->frames_per_second() - 1
                                   : -1;
          if (again >= tuning_.min_gain) {
            chosen = best;
          } else {
            dropped.push_back(best);
            not_held += fmt::format("{}{} measured {}, then {} when both were measured again",
                                    not_held.empty() ? "" : "; ", best->step, percent(gain), percent(again));
          }
        }
        if (chosen || out_of_time) break;
      }
      if (out_of_time) {
        result_.stopped = fmt::format("the time budget ({:g} s) was reached", tuning_.budget_seconds);
        break;
      }
      if (!chosen) {
        result_.stopped = fmt::format("no step gained {:g}% or more{}", tuning_.min_gain * 100,
                                      not_held.empty() ? std::string() : " (" + not_held + ")");
        break;
      }
      const candidate* best = chosen;
      kept.push_back(fmt::format("{} {}", best->step, percent(rate(best->settings) / rate(current) - 1)));
      current = best->settings;
    }
    kept_ = std::move(kept);
    finish(current);
    return std::move(result_);
  }

 private:
  /// Warm: reads the sample into the page cache before the trials compare settings.
  void warm_up(const concurrency& c) {
    if (tuning_.cold) return;
    const auto cached = detail::cached_fraction(spread_sample(source_, tuning_.sample));
    if (!cached) {
      result_.cache = "not files: the store's reads are what they are for every trial";
      return;
    }
    result_.cache =
        fmt::format("warm: {:.0f}% of the sample's bytes were in the page cache before the first trial", *cached * 100);
    if (*cached < 0.999) {
      if (const auto t = measure(c, "warm-up", 0, nullptr, true))
        result_.cache += fmt::format("; a warm-up pass read it at {:.0f} frames/s ({:.1f} MB/s) and is not compared",
                                     t->frames_per_second(), t->read_megabytes_per_second());
    }
  }

  /// The least queue_depth that keeps `workers` busy: frames go to them in batches of up to 8, so
  /// each needs two batches in flight (one decoding, one waiting); fewer leave workers idle whatever
  /// else is raised (at queue-depth 8, one batch is in flight: one worker at a time).
  static unsigned queue_for(unsigned workers) { return 16 * workers; }

  /// What a setting holds: threads first, then frames and reads in flight.
  static std::uint64_t cost(const concurrency& c) {
    return std::uint64_t{c.workers} * 1'000'000 + std::uint64_t{c.queue_depth} * 1000 + c.io_depth;
  }

  /// The search's share of the budget (75%) is spent: the repeats take the rest.
  bool search_time_over() const { return seconds_since(t0_) >= 0.75 * tuning_.budget_seconds; }

  bool measured(const concurrency& c) const { return rates_.contains(key_of(c)); }
  double rate(const concurrency& c) const {
    const auto it = rates_.find(key_of(c));
    return it == rates_.end() ? 0 : tune_result::median(it->second);
  }

  /// Runs one trial (or refuses it for the memory budget) and records it; `from` is the setting a
  /// step leaves. A copy of the trial recorded (a pointer into result_.trials would dangle at the
  /// next trial); std::nullopt when it was refused or failed.
  std::optional<tune_trial> measure(concurrency c, const std::string& step, double baseline, const concurrency* from,
                                    bool warm_up = false) {
    auto options = with_concurrency(options_, c);
    tune_trial trial;
    if (options.max_memory != 0) {
      try {
        check_memory(source_, options);  // the whole scan must fit, not only the sample's
      } catch (const std::invalid_argument& e) {
        trial.settings = c;
        trial.step = step;
        trial.refused = e.what();
        refused_from_.push_back(from ? key_of(*from) : setting_key{});  // one per refused trial
        not_run_.insert(key_of(c));
        return record(std::move(trial)), std::nullopt;
      }
    }
    const std::size_t offset = tuning_.cold ? samples_used_++ : 0;
    const bool once = tuning_.cold || warm_up;
    try {
      trial =
          measure_trial(spread_sample(source_, tuning_.sample, offset), options, once ? 0 : tuning_.min_trial_seconds);
    } catch (const std::system_error& e) {  // a heatmap set over the budget once seen, threads refused, ...
      trial = {};
      trial.settings = c;
      trial.step = step;
      if (e.code() == std::errc::not_enough_memory) {
        trial.refused = e.what();
        refused_from_.push_back(from ? key_of(*from) : setting_key{});  // one per refused trial
      } else {
        trial.failed = e.what();
      }
      not_run_.insert(key_of(c));
      return record(std::move(trial)), std::nullopt;
    }
    trial.step = step;
    if (c.io == io_backend::automatic) c.io = trial.settings.io;
    trial.settings = c;
    if (baseline > 0) trial.gain = trial.frames_per_second() / baseline - 1;
    if (!warm_up) rates_[key_of(c)].push_back(trial.frames_per_second());
    return record(std::move(trial));
  }

  const tune_trial& record(tune_trial trial) {
    result_.trials.push_back(std::move(trial));
    if (tuning_.on_trial) tuning_.on_trial(result_.trials.back());
    return result_.trials.back();
  }

  /// The repeats of the best and the runner-up, then what bounds the best.
  void finish(concurrency best) {
    std::optional<concurrency> runner_up;
    double runner_rate = 0;
    for (const auto& t : result_.trials)
      if (t.ran() && t.step != "warm-up" && !(t.settings == best) && rate(t.settings) > runner_rate)
        runner_rate = rate(t.settings), runner_up = t.settings;
    std::vector<double> best_rates, runner_rates;
    for (unsigned r = 0; r < tuning_.repeats; ++r) {
      if (r > 0 && seconds_since(t0_) >= tuning_.budget_seconds) break;
      if (const auto t = measure(best, "repeat", 0, nullptr)) best_rates.push_back(t->frames_per_second());
      if (!runner_up) continue;
      if (const auto t = measure(*runner_up, "repeat", 0, nullptr)) runner_rates.push_back(t->frames_per_second());
    }
    // The runner-up wins when the repeats put it ahead by a step's gain, or ahead at all on fewer
    // resources; within the noise, the setting that holds fewer threads and frames in flight is kept.
    if (best_rates.empty()) best_rates.push_back(rate(best));  // every repeat failed: the search's measures
    const double lead = runner_up && !runner_rates.empty()
                            ? tune_result::median(runner_rates) / tune_result::median(best_rates) - 1
                            : -1;
    if (runner_up && (lead >= tuning_.min_gain || (lead > -tuning_.min_gain / 2 && cost(*runner_up) < cost(best)))) {
      result_.stopped +=
          fmt::format("; the repeats chose the runner-up, {} ({} against {}{})", to_flags(*runner_up), percent(lead),
                      to_flags(best), lead >= tuning_.min_gain ? "" : ", within the noise and holding less");
      std::swap(best, *runner_up);
      std::swap(best_rates, runner_rates);
    }
    explain(best);
    if (!tuning_.search_io && options_.io == io_backend::automatic) best.io = io_backend::automatic;  // as given
    result_.best = best;
    result_.best_rates = std::move(best_rates);
    if (runner_up) {
      result_.has_runner_up = true;
      result_.runner_up = *runner_up;
      result_.runner_up_rates = std::move(runner_rates);
    }
    describe_cold();
    result_.elapsed_seconds = seconds_since(t0_);
  }

  void explain(const concurrency& best) {
    // The best setting's own measures: its CPU use says whether the workers are busy.
    std::vector<double> cores, reads;
    for (const auto& t : result_.trials)
      if (t.ran() && t.step != "warm-up" && key_of(t.settings) == key_of(best)) {
        cores.push_back(t.cpu_cores());
        reads.push_back(t.read_megabytes_per_second());
      }
    const double used = tune_result::median(cores);
    const unsigned busy = std::min(best.workers, result_.hardware_threads);
    const std::string kept =
        kept_.empty() ? std::string("no step was kept") : fmt::format("steps kept: {}", fmt::join(kept_, ", "));
    // The io-depth step tried from the best setting, if any: what more reads in flight gave.
    std::string deeper;
    for (const auto& t : result_.trials)
      if (t.step.starts_with("io-depth " + std::to_string(best.io_depth) + " ->") && t.ran() &&
          t.settings.workers == best.workers && t.settings.io == best.io)
        deeper =
            fmt::format("; io-depth {} -> {} gained {}, not kept", best.io_depth, t.settings.io_depth, percent(t.gain));

    // Memory-bound: the budget refused what the best setting lacks -- a step from it, more workers
    // than it has (the lever of a decode-bound scan), or, when the workers wait for reads, more
    // reads in flight. Other refusals in the climb are said, but do not decide.
    const bool waiting = used < 0.75 * busy;
    std::vector<const tune_trial*> refused, refused_here;
    std::size_t r = 0;
    for (const auto& t : result_.trials) {
      if (t.refused.empty()) continue;
      refused.push_back(&t);
      const bool from_best = r < refused_from_.size() && refused_from_[r++] == key_of(best);
      if (from_best || t.settings.workers > best.workers || (waiting && t.settings.io_depth > best.io_depth))
        refused_here.push_back(&t);
    }
    const std::string also =
        refused.size() > refused_here.size()
            ? fmt::format("; {} step{} elsewhere refused for memory", refused.size() - refused_here.size(),
                          refused.size() - refused_here.size() == 1 ? "" : "s")
            : std::string();
    if (!refused_here.empty()) {
      result_.bottleneck = "memory-bound";
      result_.evidence =
          fmt::format("{} was not tried: {}; {}", refused_here.front()->step, refused_here.front()->refused, kept);
      if (refused_here.size() > 1) result_.evidence += fmt::format(" ({} such settings refused)", refused_here.size());
    } else if (!waiting) {
      result_.bottleneck = "decode-bound";
      result_.evidence =
          fmt::format("{} worker{} use {:.2f} of {} cores{}{}; {}", best.workers, best.workers == 1 ? "" : "s", used,
                      result_.hardware_threads,
                      !tuning_.search_workers ? " (held)"
                      : best.workers >= (tuning_.max_workers ? tuning_.max_workers : result_.hardware_threads)
                          ? " (the most workers tried)"
                          : "",
                      deeper, kept) +
          also;
    } else {
      result_.bottleneck = "read-bound";
      result_.evidence =
          fmt::format(
              "{} worker{} use only {:.2f} of {} cores while reading {:.1f} MB/s with io-depth {} ({}): the workers "
              "wait "
              "for reads; {}",
              best.workers, best.workers == 1 ? "" : "s", used, result_.hardware_threads, tune_result::median(reads),
              best.io_depth, best.io == io_backend::store ? "the store's reader" : to_string(best.io), kept) +
          also;
    }
  }

  void describe_cold() {
    if (!tuning_.cold) return;
    const std::size_t disjoint = std::max<std::size_t>(1, source_.size() / std::max<std::size_t>(1, tuning_.sample));
    double cached = 0;
    std::size_t files = 0;
    for (const auto& t : result_.trials)
      if (t.cached_fraction >= 0) cached += t.cached_fraction, ++files;
    if (files == 0) {
      result_.cache = "not files: the store's reads are what they are for every trial";
      return;
    }
    result_.cache = fmt::format(
        "cold: each trial read a sample of its own, once; {:.0f}% of their bytes were in the page cache before they "
        "were read{}",
        cached / static_cast<double>(files) * 100,
        samples_used_ > disjoint
            ? fmt::format(" (the listing holds {} disjoint samples of {} frames; {} trials read a sample again)",
                          disjoint, result_.sample_frames, samples_used_ - disjoint)
            : std::string());
  }

  const frame_source& source_;
  scan_options options_;
  const tune_options& tuning_;
  clock_type::time_point t0_ = clock_type::now();
  std::map<setting_key, std::vector<double>> rates_;
  std::vector<std::string> kept_;
  std::vector<setting_key> refused_from_;  // the settings whose step was refused for memory
  std::set<setting_key> not_run_;          // settings refused or failed: not tried again
  std::size_t samples_used_ = 0;
  tune_result result_;
};

}  // namespace

double tune_result::median(std::vector<double> rates) {
  if (rates.empty()) return 0;
  std::ranges::sort(rates);
  const std::size_t n = rates.size();
  return n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
}

scan_options with_concurrency(scan_options options, const concurrency& c) {
  options.workers = c.workers;
  options.io_depth = c.io_depth;
  options.queue_depth = c.queue_depth;
  options.io = c.io;
  return options;
}

std::string to_flags(const concurrency& c) {
  auto flags = fmt::format("--workers {} --io-depth {} --queue-depth {}", c.workers, c.io_depth, c.queue_depth);
  if (c.io != io_backend::store) flags += fmt::format(" --io {}", to_string(c.io));
  return flags;
}

frame_source spread_sample(const frame_source& source, std::size_t n, std::size_t offset) {
  const std::size_t size = source.size();
  std::vector<std::size_t> indices;
  if (n == 0 || n >= size) {
    indices.resize(size);
    for (std::size_t i = 0; i < size; ++i) indices[i] = i;
  } else {
    const std::size_t stride = size / n;  // >= 1; consecutive picks are stride or stride + 1 apart
    for (std::size_t k = 0; k < n; ++k) indices.push_back(k * size / n + offset % stride);
  }
  return source.subset(indices);
}

tune_trial measure_trial(const frame_source& sample, const scan_options& options, double min_seconds) {
  tune_trial trial;
  trial.settings = {options.workers, options.io_depth, options.queue_depth, options.io};
  if (const auto cached = detail::cached_fraction(sample)) trial.cached_fraction = *cached;
  trial.peak_rss_of_trial = detail::reset_peak_resident();
  const double cpu0 = detail::process_cpu_seconds();
  const auto t0 = clock_type::now();
  do {
    const auto result = scan(sample, options);
    ++trial.passes;
    trial.frames += result.stats.frames.size() + result.stats.errors.size();
    trial.skipped += result.stats.errors.size();
    for (const auto& row : result.stats.frames) trial.bytes_read += row.file_size;
    trial.settings.workers = result.options.workers;  // 0 resolved
    trial.settings.io = result.io_used;
    trial.wall_seconds = seconds_since(t0);
  } while (trial.wall_seconds < min_seconds);
  trial.cpu_seconds = detail::process_cpu_seconds() - cpu0;
  trial.peak_rss_bytes = detail::peak_resident_bytes();
  return trial;
}

tune_result tune(const frame_source& source, const scan_options& options, const tune_options& tuning) {
  check_tuning(tuning);
  auto resolved = resolve_defaults(options);
  if (resolved.serial)
    throw option_error({option_error::name("serial"),
                        option_error::text(": a serial scan has no concurrency to tune (one loop on one thread)")});
  if (!resolved.shard.whole())
    throw option_error({option_error::name("shard"),
                        option_error::text(": tune measures a sample of the whole input; a shard's scan runs the "
                                           "same pipeline, so the setting it chooses fits every shard")});
  if (source.size() == 0) throw std::invalid_argument("tune: the source holds no frames");
  return tuner(source, std::move(resolved), tuning).run();
}

std::string to_json(const tune_result& result) {
  namespace json = boost::json;
  const auto setting = [](const concurrency& c) {
    return json::object{
        {"workers", c.workers}, {"io_depth", c.io_depth}, {"queue_depth", c.queue_depth}, {"io", to_string(c.io)}};
  };
  const auto rates = [](const std::vector<double>& r) {
    json::array a;
    for (const double x : r) a.emplace_back(x);
    return a;
  };
  json::array trials;
  for (const auto& t : result.trials)
    trials.emplace_back(json::object{{"step", t.step},
                                     {"settings", setting(t.settings)},
                                     {"refused", t.refused},
                                     {"failed", t.failed},
                                     {"gain", t.gain},
                                     {"frames", t.frames},
                                     {"skipped", t.skipped},
                                     {"passes", t.passes},
                                     {"bytes_read", t.bytes_read},
                                     {"wall_seconds", t.wall_seconds},
                                     {"cpu_seconds", t.cpu_seconds},
                                     {"frames_per_second", t.frames_per_second()},
                                     {"cpu_cores", t.cpu_cores()},
                                     {"read_mb_per_second", t.read_megabytes_per_second()},
                                     {"peak_rss_bytes", t.peak_rss_bytes},
                                     {"peak_rss_of_trial", t.peak_rss_of_trial},
                                     {"cached_fraction", t.cached_fraction}});
  json::object out{{"best", setting(result.best)},
                   {"scan_flags", to_flags(result.best)},
                   {"best_frames_per_second", tune_result::median(result.best_rates)},
                   {"best_rates", rates(result.best_rates)},
                   {"runner_up", result.has_runner_up ? json::value(setting(result.runner_up)) : json::value(nullptr)},
                   {"runner_up_rates", rates(result.runner_up_rates)},
                   {"bottleneck", result.bottleneck},
                   {"evidence", result.evidence},
                   {"stopped", result.stopped},
                   {"cache", result.cache},
                   {"sample_frames", result.sample_frames},
                   {"source_frames", result.source_frames},
                   {"hardware_threads", result.hardware_threads},
                   {"elapsed_seconds", result.elapsed_seconds},
                   {"trials", std::move(trials)}};
  return json::serialize(out);
}

}  // namespace maskscan
