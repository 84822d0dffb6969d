#pragma once
// tune: chooses the concurrency options of a scan (workers, io_depth, queue_depth, io) from measured
// scans of a sample of its input, hill-climbing one option at a time as tf.data's autotuner does.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <maskscan/options.hpp>
#include <maskscan/source.hpp>

namespace maskscan {

/// The options tune chooses (scan_options' fields of the same names).
struct concurrency {
  unsigned workers = 1;
  unsigned io_depth = 1;
  unsigned queue_depth = 16;
  io_backend io = io_backend::automatic;
  friend bool operator==(const concurrency&, const concurrency&) = default;
};

/// `options` with the fields of `c` set.
scan_options with_concurrency(scan_options options, const concurrency& c);
/// The CLI flags of `c`: "--workers 2 --io-depth 4 --queue-depth 32 --io uring" (no --io for
/// io_backend::store, which is not a choice).
std::string to_flags(const concurrency& c);

/// What one trial measured: one setting scanning the sample (results discarded).
struct tune_trial {
  concurrency settings;
  /// What the trial was for: "start", "warm-up", "workers 1 -> 2 (queue-depth 32)", "io-depth 4 -> 16",
  /// "queue-depth 32 -> 128", "io uring -> threads", "confirm" (the setting a step left),
  /// "confirm <step>", "repeat".
  std::string step;
  double gain = 0;                   ///< frames/s over the setting it stepped from, minus 1 (steps and confirmations)
  std::uint64_t frames = 0;          ///< frames scanned (the sample, times the passes)
  std::uint64_t skipped = 0;         ///< of which could not be scanned (per-file errors)
  std::uint64_t bytes_read = 0;      ///< bytes of the frames scanned
  unsigned passes = 0;               ///< scans of the sample (warm: until min_trial_seconds have passed)
  double wall_seconds = 0;           ///< the scans' time
  double cpu_seconds = 0;            ///< the process's user + system CPU time over the trial
  std::uint64_t peak_rss_bytes = 0;  ///< the process's peak resident memory during the trial (0: unknown)
  bool peak_rss_of_trial = false;    ///< peak_rss_bytes is the trial's own (else the process's peak so far)
  double cached_fraction = -1;       ///< of the sample's bytes in the page cache before the trial (-1: not files)
  /// Refused for memory: check_memory refused the setting for the whole source before it ran (with
  /// what it needs), or the scan ran out of its budget (not_enough_memory).
  std::string refused;
  /// Ran and failed otherwise: what failed (e.g. a thread the system refused).
  std::string failed;

  /// Measured: neither refused nor failed.
  bool ran() const noexcept { return refused.empty() && failed.empty(); }

  double frames_per_second() const noexcept {
    return wall_seconds > 0 ? static_cast<double>(frames) / wall_seconds : 0;
  }
  double cpu_cores() const noexcept { return wall_seconds > 0 ? cpu_seconds / wall_seconds : 0; }
  double read_megabytes_per_second() const noexcept {
    return wall_seconds > 0 ? static_cast<double>(bytes_read) / 1e6 / wall_seconds : 0;
  }
};

struct tune_options {
  /// Frames scanned per trial, spread evenly over the source's listing (all of them when fewer).
  std::size_t sample = 300;
  /// The whole tuning's time; the search stops at 75% of it to leave time for the repeats.
  double budget_seconds = 20;
  /// A warm trial scans its sample again until it has run this long (short trials are noise).
  double min_trial_seconds = 0.5;
  /// A step is kept when it gains at least this much (0.05: 5%); a gain under twice this is
  /// confirmed by measuring both settings again.
  double min_gain = 0.05;
  /// Measures of the best setting and the runner-up at the end (median and spread reported).
  unsigned repeats = 3;
  /// Cold reads: each trial scans a sample of its own (disjoint from the others while the listing
  /// holds enough frames), read once, so that each reads files not cached by an earlier trial.
  /// Nothing is evicted: files already in the page cache stay there (docs/tuning.md says how to
  /// drop them). Default (warm): one sample, read into the page cache first by a warm-up pass.
  bool cold = false;
  /// The options searched; the others keep scan_options' values (0 workers: one per hardware thread).
  bool search_workers = true;
  bool search_io_depth = true;
  bool search_queue_depth = true;
  bool search_io = true;  ///< only for files (other stores have one reader)
  /// The most workers tried (0: one per hardware thread).
  unsigned max_workers = 0;
  /// The most io_depth and queue_depth tried.
  unsigned max_io_depth = 256;
  unsigned max_queue_depth = 1024;
  /// Called after each trial, on the calling thread.
  std::function<void(const tune_trial&)> on_trial;
};

struct tune_result {
  concurrency best;                ///< the setting to use
  std::vector<double> best_rates;  ///< its frames/s in the final repeats
  bool has_runner_up = false;
  concurrency runner_up;                ///< the second-best setting measured
  std::vector<double> runner_up_rates;  ///< its frames/s in the final repeats
  std::vector<tune_trial> trials;       ///< every trial in order, the warm-up and refused ones included
  /// "decode-bound" (the workers use >= 75% of the CPUs they can have), "read-bound" (they wait), or
  /// "memory-bound" (max_memory refused a step from the best setting, more workers than it has, or,
  /// read-bound, more reads in flight).
  std::string bottleneck;
  /// The measurements behind the bottleneck, in words: "2 workers use 1.96 of 2 cores; io-depth 4
  /// -> 16 gained +1.2%".
  std::string evidence;
  /// Why the search ended: "no step gained 5% or more", "the time budget (20 s) was reached"; and
  /// whether the repeats chose the runner-up.
  std::string stopped;
  /// The page cache: "warm: ...", "cold: ..." or "not files".
  std::string cache;
  std::size_t sample_frames = 0;  ///< frames per sample
  std::size_t source_frames = 0;  ///< frames in the source
  unsigned hardware_threads = 0;  ///< the CPUs this process may run on (its affinity mask)
  double elapsed_seconds = 0;

  static double median(std::vector<double> rates);
};

/// Frames spread evenly over `source`'s listing: `n` of them (all when it holds fewer), the k-th at
/// index k * size / n + offset % (size / n). Samples of different offsets below size / n are disjoint.
frame_source spread_sample(const frame_source& source, std::size_t n, std::size_t offset = 0);

/// One trial: scans `sample` with `options` (the real pipeline, through scan()) once, and again
/// until `min_seconds` have passed when `min_seconds` > 0, and measures it. The results are
/// discarded. Throws what scan() throws.
tune_trial measure_trial(const frame_source& sample, const scan_options& options, double min_seconds);

/// Chooses the concurrency of scans of `source` with `options` (the flags a scan would use; its
/// statistics options decide the work per frame). From workers 1, io_depth 1, queue_depth 16 (and
/// the fields not searched as `options` has them), each round measures every one-option step --
/// workers doubled (up to max_workers; queue_depth raised to 16 per worker, two batches of 8 each,
/// without which added workers idle), io_depth x4 (queue_depth raised to hold its reads),
/// then, only when neither of those gains min_gain, queue_depth x4 and the other io backend (files
/// only) -- and keeps the one that gains most (a gain under 2 x min_gain only if it holds when both
/// are measured again); it stops when no step gains min_gain, or at 75% of the time budget. A step
/// whose setting would not fit options.max_memory (check_memory, against the whole source) is
/// refused, not run. Then the best and the runner-up are measured `repeats` times more,
/// interleaved; the runner-up wins if its median is min_gain higher, or if it holds fewer threads
/// and frames in flight and is less than min_gain / 2 slower. Throws
/// std::invalid_argument for options no scan can use, for a serial scan and for an empty source.
tune_result tune(const frame_source& source, const scan_options& options, const tune_options& tuning = {});

/// The result as JSON (what `maskscan tune --json` prints), with `scan_flags` the flags of `best`.
std::string to_json(const tune_result& result);

}  // namespace maskscan
