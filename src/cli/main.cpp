// The maskscan executable: parses flags into the library's option structs, calls the public API,
// prints. Nothing here computes a statistic.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>

#include <csignal>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <maskscan/grouping.hpp>
#include <maskscan/merge.hpp>
#include <maskscan/option_error.hpp>
#include <maskscan/option_words.hpp>
#include <maskscan/output.hpp>
#include <maskscan/report.hpp>
#include <maskscan/s3.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/shard.hpp>
#if MASKSCAN_WITH_MPI
#include "core/elapsed.hpp"
#include "mpi/rank_exchange.hpp"
#endif
#include <maskscan/synth.hpp>
#include <maskscan/text.hpp>
#include <maskscan/tune.hpp>

#include "cli/choices.hpp"
#include "cli/class_map_flags.hpp"
#include "cli/interrupt.hpp"
#include "cli/option_flags.hpp"
#include "cli/output_lock.hpp"
#include "cli/overlay_command.hpp"
#include "cli/progress.hpp"
#include "cli/serve_command.hpp"
#include "cli/suggest.hpp"
#include "cli/tune_command.hpp"
#include "cli/usage_error.hpp"

namespace {

/// Exit statuses (documented in the README).
enum exit_status : int {
  exit_ok = 0,            // every file scanned
  exit_failure = 1,       // nothing useful done: no input, unreadable state, cannot write output, ...
  exit_usage = 2,         // the command line is wrong (unknown flag, bad value)
  exit_some_skipped = 3,  // the scan finished, but some files could not be scanned (listed in the summary)
  exit_strict_stop = 4,   // --strict: stopped at the first file that could not be scanned
  exit_interrupted = maskscan::cli::exit_interrupted,  // 130: SIGINT/SIGTERM; results so far written, partial
};

using maskscan::cli::usage_error;

struct scan_command {
  std::string input;
  std::string files_from;
  std::string root;
  std::string out;
  std::string save_state;
  std::string resume;
  bool force = false;
  bool include_results = false;
  maskscan::cli::class_map_flags classes;
  std::vector<std::string> splits;  // NAME=LISTFILE
  std::string heatmap_grid;         // WxH
  std::string shard;                // INDEX/COUNT or auto
  bool mpi = false;                 // under mpirun: the ranks are the shards
  std::uint32_t shard_count = 0;    // with --shard auto
  std::optional<bool> progress;
  bool report = false;
  maskscan::report_options report_options;
  maskscan::scan_options options;
  maskscan::balance_options balance;
  maskscan::s3_options s3;                  // an s3:// input's server, credentials and retries
  std::vector<std::string> s3_flags_given;  // which of those flags the command line has
  std::string command;                      // "maskscan scan ...", for the lock files
};

struct tune_command {
  scan_command scan;  // the input and statistics flags, as scan takes them
  maskscan::cli::tune_flags flags;
  std::vector<std::string> arguments;  // tune's arguments, shell-quoted, for the scan line it recommends
};

struct synth_command {
  std::string dir;
  maskscan::synth_options options;
};

struct merge_command {
  std::vector<std::string> states;
  std::vector<std::string> prefixes;
  std::string out;
  std::string save_state;
  bool force = false;
  bool report = false;
  maskscan::report_options report_options;
  maskscan::balance_options balance;
  maskscan::row_spill spill;
  std::string command;  // "maskscan merge ...", for the lock files
};

namespace fs = std::filesystem;

/// The flags of the balancing statistics (scan and merge).
void add_balance_flags(CLI::App& app, maskscan::balance_options& b) {
  app.add_option("--enet-c", b.enet_c, "ENet weights 1/ln(c + p): the constant c (> 1)")->capture_default_str();
  app.add_option("--effective-beta", b.effective_beta,
                 "Effective-number weights (1 - beta)/(1 - beta^n): beta, 0 <= beta < 1")
      ->capture_default_str();
  app.add_option("--effective-unit", b.unit,
                 "What n counts in the effective-number weights: frames (in which the class is present) or pixels")
      ->transform(maskscan::cli::choices(maskscan::option_words<maskscan::effective_unit>()))
      ->default_str("frames");
  app.add_option_function<double>(
      "--repeat-threshold", [&b](const double& t) { b.repeat_threshold = t; },
      "LVIS repeat factors (a repeat_factor column in frames.csv and weights.csv, for a weighted sampler): a "
      "frame is repeated r = max over its classes of max(1, sqrt(t / f)) times, f = the fraction of frames holding "
      "the class; a class in fewer than a fraction t of the frames is repeated. Default: none (LVIS's 0.001 is "
      "below every class of a segmentation dataset); choose t from frame_frequency in weights.csv, e.g. 0.3");
}

/// The flags of the rows' memory (scan and merge). The CLI bounds it (the library's default is no
/// bound): a scan of a million frames then holds 64 MiB of rows, not about 350 MB.
void add_row_memory_flags(CLI::App& app, std::uint64_t& max_bytes, std::filesystem::path& directory) {
  max_bytes = std::uint64_t{64} << 20;
  app.add_option("--row-memory", max_bytes,
                 "The per-frame rows held in memory (frames.csv's rows, about 350 bytes a frame): beyond it they are "
                 "sorted and written to unnamed temporary files in --spill-dir, and read back in order for the "
                 "outputs; the results are the same. Bytes or with a unit (256MiB); 0: every row in memory")
      ->transform(CLI::AsSizeValue(true))
      ->default_str("64MiB");
  app.add_option("--spill-dir", directory,
                 "Directory for the rows beyond --row-memory (default: $TMPDIR, else /tmp); the files have no name "
                 "there, so nothing is left behind")
      ->check(CLI::ExistingDirectory);
}

/// The flags of report.html (scan and merge; only a scan knows where RGB frames are).
void add_report_flags(CLI::App& app, bool& report, maskscan::report_options& r, CLI::Option* out, bool overlays) {
  app.add_flag("--report", report,
               "Also write report.html into --out: one self-contained page (no network needed) with the summary table, "
               "class charts, heatmap images, weights, co-occurrence, groups, sample overlays (scan only), skipped "
               "files and the "
               "options and timing of the run; its pictures also go to images/ (docs/report.md)")
      ->needs(out);
  app.add_option("--colormap", r.colormap, "Colour map of the heatmap images: viridis or magma (perceptually uniform)")
      ->transform(maskscan::cli::choices(maskscan::option_words<maskscan::heatmap_colormap>()))
      ->default_str("viridis");
  if (!overlays) return;
  app.add_option("--rgb-dir", r.rgb_dir,
                 "RGB frames with the masks' file names, for the report's sample overlays (default: rgb_images/ found "
                 "beside the masks in WoodScape's layout, <root>/semantic_annotations/gtLabels/)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--overlays", r.overlays, "Sample overlays in the report, 0 to 64 (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--overlay-alpha", r.overlay_alpha, "Opacity of the mask colours over the RGB frames, in [0, 1]")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
}

/// The class map of a scan (cli/class_map_flags.hpp) and its --split lists.
void apply_class_flags(const scan_command& cmd, maskscan::scan_options& options) {
  maskscan::apply_class_choice(cmd.classes, options);
  for (const auto& spec : cmd.splits) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw std::runtime_error(fmt::format("--split {}: expected NAME=LISTFILE", spec));
    options.splits.push_back(maskscan::load_split(spec.substr(0, eq), spec.substr(eq + 1)));
  }
}

/// The flags of an s3:// input (docs/object-storage.md); each is refused with any other input.
void add_s3_flags(CLI::App& app, scan_command& cmd) {
  const std::string group = "Object storage (an s3:// input)";
  const auto note = [&cmd](const char* flag) {
    return [&cmd, flag](const auto&) { cmd.s3_flags_given.emplace_back(flag); };
  };
  auto& s3 = cmd.s3;
  app.add_option("--endpoint-url", s3.endpoint_url,
                 "The S3-compatible server, as scheme://host[:port], e.g. http://127.0.0.1:9000 for MinIO or Ceph "
                 "(default: $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS); TLS certificates are verified")
      ->group(group)
      ->each(note("--endpoint-url"));
  app.add_option("--region", s3.region,
                 "The region requests are signed for (default: $AWS_REGION, else $AWS_DEFAULT_REGION, else the "
                 "profile's region in ~/.aws/config, else us-east-1)")
      ->group(group)
      ->each(note("--region"));
  app.add_option("--profile", s3.profile,
                 "Take the keys from this profile of ~/.aws/credentials (or ~/.aws/config) (default: $AWS_PROFILE, "
                 "else $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY with $AWS_SESSION_TOKEN, else the default "
                 "profile)")
      ->group(group)
      ->each(note("--profile"));
  app.add_flag_function(
         "--no-sign-request",
         [&cmd](std::int64_t) { cmd.s3.sign = false, cmd.s3_flags_given.emplace_back("--no-sign-request"); },
         "Send anonymous requests, for a public bucket (no credentials are looked for)")
      ->group(group);
  app.add_option("--s3-addressing", s3.addressing,
                 "How requests name the bucket: path (endpoint/bucket/key), virtual (bucket.endpoint/key), auto "
                 "(path with --endpoint-url, as MinIO and Ceph expect; virtual on AWS)")
      ->transform(maskscan::cli::choices(maskscan::option_words<maskscan::s3_addressing>()))
      ->default_str("auto")
      ->group(group)
      ->each(note("--s3-addressing"));
  app.add_option("--s3-retries", s3.retries,
                 fmt::format("Attempts after the first for a request that failed on the way (HTTP 5xx, 429, 503 "
                             "SlowDown, a timeout, a reset connection, a body cut short), each after an exponential "
                             "backoff with jitter (0.1 s doubling, at most 10 s); 403, 404 and other client errors are "
                             "not retried (0 to {})",
                             maskscan::max_s3_retries))
      ->capture_default_str()
      ->check(CLI::Range(0u, maskscan::max_s3_retries))
      ->group(group)
      ->each(note("--s3-retries"));
  app.add_option("--s3-timeout", s3.timeout_seconds,
                 "Seconds a request may wait for a connection, or go without receiving a byte, before it is "
                 "abandoned and retried (1 to 3600)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u))
      ->group(group)
      ->each(note("--s3-timeout"));
}

/// The flags of a scan; with `outputs`, those of its results too (--out, --save-state, --resume,
/// --strict, --force, --progress, the balance and report flags): tune takes the others.
void add_scan_flags(CLI::App& app, scan_command& cmd, bool outputs = true) {
  auto& o = cmd.options;
  auto* input = app.add_option("input", cmd.input,
                               "Directory of label PNGs (searched recursively for *.png) or one PNG file; or "
                               "s3://bucket/prefix/ for the *.png objects below a prefix of S3-compatible object "
                               "storage (docs/object-storage.md)");
  auto* files_from =
      app.add_option(
             "--files-from", cmd.files_from,
             "Scan the frames a list names instead of a directory: one path per line ('-' reads standard input), "
             "as a data catalogue or a split file gives them; relative paths are relative to --root, else to the "
             "list's folder; blank lines are skipped; a frame listed twice is refused")
          ->excludes(input);
  app.add_option("--root", cmd.root,
                 "With --files-from: the folder its relative paths are relative to, and frames are named relative to "
                 "(default: the list's folder)")
      ->needs(files_from)
      ->check(CLI::ExistingDirectory);
  auto* out =
      !outputs ? nullptr
               : app.add_option(
                     "--out", cmd.out,
                     "Directory for summary.json, frames.csv, weights.csv, cooccurrence.csv, components.csv (with "
                     "--components), heatmaps_<W>x<H>.npy (with --heatmaps), heatmaps_grid_<W>x<H>.npy (with "
                     "--heatmap-grid) and groups/<group>/ (with --group-by or --split), created if needed; without it "
                     "only the summary table is printed. It is checked and locked before any input is read (lock file "
                     ".maskscan.lock in it, while the run lasts): a second run on it is refused, naming the first");
  app.add_flag("--heatmaps", o.heatmaps,
               "Accumulate per-class heatmaps (frames in which each pixel holds each class), one set per resolution");
  app.add_option(
         "--heatmap-grid", cmd.heatmap_grid,
         "WxH, e.g. 64x48: also accumulate per-class heatmaps on a common grid of W x H cells (each 1 to 4096), "
         "onto which every frame is sampled whatever its size (each cell takes the pixel nearest its centre "
         "in normalised coordinates), so datasets of many frame sizes get one heatmap set; independent of "
         "--heatmaps (either, both or neither)")
      ->type_name("WxH");
  app.add_option("--workers", o.workers,
                 fmt::format("Decode/compute threads, each owning its accumulator (0 = one per core; at most {})",
                             maskscan::max_workers))
      ->capture_default_str();
  app.add_option("--io-depth", o.io_depth,
                 fmt::format("Maximum file reads in flight (1 to {}; lowered to what the open-file limit, ulimit -n, "
                             "leaves free)",
                             maskscan::max_io_depth))
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--queue-depth", o.queue_depth,
                 fmt::format("Maximum frames in flight in total (each holds one recycled read buffer); bounds memory "
                             "(1 to {})",
                             maskscan::max_queue_depth))
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--io", o.io,
                 "How files are read: uring (io_uring), threads (pread on a thread pool), auto (uring if available)")
      ->transform(maskscan::cli::choices(maskscan::option_words<maskscan::io_backend>()))
      ->default_str("auto");
  app.add_option("--decoder", o.decoder,
                 "PNG decoder: auto (the fast libdeflate path for plain 8-bit gray/palette PNGs, libspng for the "
                 "rest), spng (libspng, the reference, for everything), fast (the fast path only; other files "
                 "are skipped with an error)")
      ->transform(maskscan::cli::choices(maskscan::option_words<maskscan::decoder_kind>()))
      ->default_str("auto");
  app.add_flag("--serial", o.serial, "Decode and count in one plain loop on one thread (the benchmark baseline)");
  maskscan::cli::add_class_map_flags(app, cmd.classes);
  app.add_option("--components", o.components,
                 "Count connected components of each class (instances, mean/median size, log2 size histogram in "
                 "components.csv) with 4- or 8-connectivity (0: off, the default)")
      ->check(CLI::IsMember({0u, 4u, 8u}));
  app.add_option("--min-component-pixels", o.min_component_pixels,
                 "With --components: a component of fewer pixels is a speck, counted apart (specks, speck_pixels in "
                 "components.csv) and not as an instance; 1 counts every component")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto* group_by =
      app.add_option("--group-by", o.group_by,
                     "Group frames by a regular expression over their relative path with one capture group naming the "
                     "group, e.g. '_(FV|RV|MVL|MVR)\\.png$'; every statistic is written per group in groups/<name>/ "
                     "and for all frames (frames it does not match: group 'unmatched')");
  app.add_option("--split", cmd.splits,
                 "NAME=LISTFILE: a group of the frames listed in LISTFILE (one relative path per line, or its end "
                 "after a '/', with or without .png); repeatable; frames in no list: group 'unlisted'")
      ->excludes(group_by);
  app.add_option("--max-pixels", o.max_pixels, "Reject frames with more pixels than this (before allocating)")
      ->capture_default_str();
  app.add_option("--max-file-bytes", o.max_file_bytes, "Reject files larger than this many bytes (before reading)")
      ->capture_default_str();
  app.add_option(
         "--max-heatmap-bytes", o.max_heatmap_bytes,
         "With --heatmaps: reject frames whose size needs heatmap sets larger than this (groups x classes x width x "
         "height x 4 bytes), before allocating it; the sets of --heatmap-grid (groups x classes "
         "x W x H x 4 bytes) are judged on their own against it")
      ->capture_default_str();
  app.add_option("--max-memory", o.max_memory,
                 "A memory budget for the scan's large allocations: heatmap sets (one per group and frame size, and "
                 "grouped, their sum per size), per-frame rows, reads in flight, workers' buffers. A number of bytes "
                 "or with a unit: 500MB, 2GB, 3GiB (whole numbers). A scan that would not fit is refused before any "
                 "frame is read, "
                 "saying what it needs (estimated from the file count, the groups and the first frame); a later frame "
                 "size or group whose heatmaps do not fit stops it, naming them. 0: no budget (the default)")
      ->transform(CLI::AsSizeValue(true));
  add_row_memory_flags(app, o.max_row_memory, o.spill_directory);
  auto* shard =
      app.add_option("--shard", cmd.shard,
                     "Scan one shard of the frames: INDEX/COUNT (e.g. 3/8, counting from 0) takes the frames whose "
                     "relative path hashes to INDEX (FNV-1a 64 modulo COUNT), so a frame keeps its shard when the "
                     "dataset grows; auto reads INDEX and COUNT from a job array's environment (Slurm, a Kubernetes "
                     "Indexed Job, AWS Batch) and says which. Save each shard's state (--save-state) and `maskscan "
                     "merge` them for the whole dataset (docs/scale-out.md)")
          ->type_name("INDEX/COUNT|auto");
  if (outputs)
    app.add_flag("--mpi", cmd.mpi,
                 "Under mpirun (mpirun -n K maskscan scan DIR --mpi ...): rank r scans shard r of K, rank 0 writes "
                 "the outputs of all, byte for byte those of one process, and shows every rank's progress "
                 "(needs a build with MPI, docs/scale-out.md)")
        ->excludes(shard);
  app.add_option("--shard-count", cmd.shard_count,
                 "With --shard auto: the number of shards, for schedulers that do not put it in the environment "
                 "(a Kubernetes Indexed Job's completions, an AWS Batch array's size); checked against Slurm's")
      ->needs(shard)
      ->check(CLI::Range(1u, maskscan::max_shard_count));
  add_s3_flags(app, cmd);
  app.add_flag("--include-results", cmd.include_results,
               "Also scan the PNGs in --out and in every directory below the input that holds a maskscan "
               "summary.json (the results of a scan, whose report pictures are PNGs, not masks): by default they "
               "are left out, and stderr says which");
  if (!outputs) return;
  app.add_option("--save-state", cmd.save_state,
                 "Also write the mergeable binary statistics to this file (see `maskscan merge`); after an "
                 "interruption it holds the frames done, for --resume. Its folder must exist; it is locked through "
                 "<file>.lock while the run lasts");
  app.add_option("--resume", cmd.resume,
                 "Continue the scan saved in this state file (by --save-state, e.g. of an interrupted run): only "
                 "frames without results in it are scanned (files it lists as skipped are tried again), and the "
                 "outputs are those of one full run. The input and class options must be the same")
      ->check(CLI::ExistingFile);
  app.add_flag("--strict", o.stop_on_error,
               "Stop at the first file that cannot be scanned and name it (exit status 4); the results so far are "
               "written, marked partial");
  app.add_flag("--force", cmd.force,
               "Overwrite results in an existing, non-empty --out directory and an existing "
               "--save-state file");
  app.add_flag("--progress,!--no-progress", cmd.progress,
               "Show a progress line on stderr (default: only when stderr is a terminal)");
  cmd.progress.reset();  // CLI11 2.1 treats std::optional<bool> as a counter and sets it to 0 (false) here
  add_balance_flags(app, cmd.balance);
  add_report_flags(app, cmd.report, cmd.report_options, out, true);
}

/// Prints the class-map warnings of `stats` (class_map_warnings) on stderr, except `skip`.
void print_warnings(const maskscan::dataset_stats& stats, const std::string& skip = {}) {
  for (const auto& warning : maskscan::class_map_warnings(stats))
    if (warning != skip) fmt::print(stderr, "maskscan: warning: {}\n", warning);
}

/// The outputs into `out` (none if empty) and, with `report`, report.html beside them: in one call,
/// so that a grouped scan's groups are summed once for both. Returns the report's path.
std::optional<fs::path> write_results(const maskscan::scan_result& result, const std::string& out,
                                      const maskscan::balance_options& balance, bool report,
                                      const maskscan::report_options& options) {
  if (out.empty()) return std::nullopt;  // --report needs --out (CLI11 says so)
  if (!report) {
    maskscan::write_outputs(result, out, balance);
    return std::nullopt;
  }
  return maskscan::write_outputs_and_report(result, out, balance, options);
}

/// Nothing was scanned although there were files: say why once (summary.json lists every file)
/// instead of a table of zeros. True if so.
bool report_nothing_scanned(const maskscan::scan_result& result, const std::string& out) {
  const auto& stats = result.stats;
  if (!stats.frames.empty() || stats.errors.empty()) return false;
  auto failure = maskscan::common_failure(stats);
  const std::string shown = failure.empty() ? std::string() : "nothing was scanned: " + failure;
  if (failure.empty())
    failure = fmt::format("none of the {} files could be scanned (the first: {}: {})", stats.errors.size(),
                          maskscan::printable_name(stats.errors.front().path), stats.errors.front().message);
  fmt::print(stderr, "maskscan: nothing was scanned: {}{}\n", failure,
             out.empty() ? std::string() : fmt::format("; every file and its error is in {}/summary.json", out));
  print_warnings(stats, shown);
  return true;
}

/// The shard --shard names (and --shard-count); with auto, stderr says where it was found.
maskscan::shard_spec shard_flag(const scan_command& cmd) {
  if (cmd.shard.empty()) return {};
  if (cmd.shard == "auto") {
    const auto found =
        maskscan::shard_from_environment([](const char* name) { return std::getenv(name); }, cmd.shard_count);
    fmt::print(stderr, "maskscan: --shard auto: shard {} from the {}\n", to_string(found.shard), found.source);
    return found.shard;
  }
  const auto shard = maskscan::parse_shard(cmd.shard);
  if (cmd.shard_count && cmd.shard_count != shard.count)
    throw maskscan::option_error(
        {maskscan::option_error::name("shard"),
         maskscan::option_error::text(fmt::format(" {} and --shard-count {} disagree", cmd.shard, cmd.shard_count))});
  return shard;
}

/// The options of a scan from its flags, every one checked before anything is read or written
/// (usage_error naming the flag).
maskscan::scan_options checked_options(const scan_command& cmd) {
  auto options = cmd.options;
  try {
    if (cmd.input.empty() == cmd.files_from.empty())
      throw std::invalid_argument("give the directory (or PNG file) to scan, or --files-from LIST");
    if (!cmd.s3_flags_given.empty() && !maskscan::is_s3_url(cmd.input))
      throw std::invalid_argument(
          fmt::format("{}: only with an s3://bucket/prefix/ input (it names a server or "
                      "credentials of object storage)",
                      cmd.s3_flags_given.front()));
    apply_class_flags(cmd, options);
    if (!cmd.heatmap_grid.empty()) options.heatmap_grid = maskscan::parse_grid_size(cmd.heatmap_grid);
    options.shard = shard_flag(cmd);
    options = maskscan::resolve_defaults(std::move(options));  // class map, group-by, splits, limits
    maskscan::validate(cmd.balance);                           // bad weight options too
  } catch (const std::exception& e) {
    throw usage_error(maskscan::cli::message_of(e));
  }
  return options;
}

/// The frames a scan's input names; stderr says which folders of results were left out.
maskscan::frame_source list_input(const scan_command& cmd, bool say = true) {
  std::vector<std::filesystem::path> left_out;
  maskscan::listing_options listing{.include_results = cmd.include_results, .left_out = &left_out};
  if (!cmd.out.empty() && !cmd.include_results) {
    listing.exclude.push_back(cmd.out);                                    // a report fills it with PNGs
    listing.exclude.push_back(std::filesystem::path(cmd.out) / "images");  // those, when --out is the input itself
  }
  const bool s3 = maskscan::is_s3_url(cmd.input);
  auto source = s3                       ? maskscan::frame_source_from_s3(cmd.input, cmd.s3, listing)
                : cmd.files_from.empty() ? maskscan::frame_source::from_directory(cmd.input, listing)
                                         : maskscan::frame_source::from_list(cmd.files_from, cmd.root);
  if (!left_out.empty() && say) {
    std::ranges::sort(left_out);
    std::string names;
    constexpr std::size_t shown = 5;
    for (std::size_t i = 0; i < std::min(shown, left_out.size()); ++i)
      names +=
          (i ? ", " : "") + maskscan::printable_name(s3 ? left_out[i].generic_string()
                                                        : left_out[i].lexically_relative(cmd.input).generic_string());
    if (left_out.size() > shown) names += fmt::format(" and {} more", left_out.size() - shown);
    fmt::print(stderr,
               "maskscan: left out {} director{} below {} that hold{} maskscan results (this run's --out, or the "
               "summary.json of an earlier scan): {}; their PNGs are a report's pictures, not masks (--include-results "
               "scans them)\n",
               left_out.size(), left_out.size() == 1 ? "y" : "ies", cmd.input, left_out.size() == 1 ? "s" : "", names);
  }
  if (source.size() == 0)
    throw std::runtime_error(
        s3 ? fmt::format("{}: no *.png objects found below the prefix", cmd.input)
           : fmt::format("{}: no *.png files found (the directory is searched recursively)", cmd.input));
  return source;
}

/// The end of a scan's run, in one process or at MPI rank 0: the state file, the outputs, the summary,
/// the messages and the exit status.
int finish_scan(const scan_command& cmd, maskscan::scan_result& result, boost::system::error_code ec) {
  if (!cmd.save_state.empty()) maskscan::save_state(result.stats, cmd.save_state);
  const auto report = write_results(result, cmd.out, cmd.balance, cmd.report, cmd.report_options);
  if (!ec && report_nothing_scanned(result, cmd.out)) {
    if (report) fmt::print("report: {}\n", report->string());
    return exit_failure;
  }
  maskscan::print_summary(result, std::cout);
  std::cout.flush();
  print_warnings(result.stats);
  if (!cmd.out.empty()) fmt::print("results written to {}\n", cmd.out);
  if (report) fmt::print("report: {}\n", report->string());
  std::cout.flush();

  if (ec == maskscan::errc::stopped_on_error) {
    const auto& errors = result.stats.errors;
    const auto bad = std::ranges::find(errors, result.stopped_at, &maskscan::file_error::path);
    fmt::print(stderr, "maskscan: stopped at the first file that could not be scanned (--strict): {}: {}\n",
               maskscan::printable_name(result.stopped_at), bad != errors.end() ? bad->message : "");
    return exit_strict_stop;
  }
  if (ec == maskscan::errc::cancelled) {
    fmt::print(stderr, "maskscan: interrupted after {} of {} frames; the results so far are marked partial.{}\n",
               result.stats.frames.size() + result.stats.errors.size(), result.frames_total,
               cmd.save_state.empty() ? " (With --save-state, a later --resume run could finish the scan.)"
                                      : fmt::format(" To finish: rerun with --resume {}", cmd.save_state));
    return exit_interrupted;
  }
  return result.stats.errors.empty() ? exit_ok : exit_some_skipped;
}

/// The progress line on stderr (--progress, or stderr a terminal), else nothing.
std::function<void(const maskscan::scan_progress&)> progress_line(const scan_command& cmd, bool strict) {
  if (!cmd.progress.value_or(::isatty(STDERR_FILENO) == 1)) return {};
  // A scan that stops early (interrupt, --strict after a bad file) never reports done == total:
  // the line is ended then, so that the messages and the summary that follow start on their own.
  return maskscan::cli::stderr_progress([strict](const maskscan::scan_progress& p) {
    return maskscan::cli::interrupt_signals::interrupted() || (strict && p.frames_skipped > 0);
  });
}

/// The scan on an io_context of the caller's, which `signals` (of the same io_context) interrupt.
/// Throws for options no scan can use and environment failures; an interrupted or stopped scan
/// returns its partial result with the error.
std::pair<boost::system::error_code, maskscan::scan_result> scan_until_done(boost::asio::io_context& io,
                                                                            maskscan::cli::interrupt_signals& signals,
                                                                            maskscan::frame_source source,
                                                                            maskscan::scan_options options,
                                                                            maskscan::scan_context context) {
  // Progress the interrupt watchdog can see: after a signal, a scan still finishing frames is let be.
  context.on_progress = [show = std::move(context.on_progress)](const maskscan::scan_progress& p) {
    maskscan::cli::interrupt_signals::note_progress();
    if (show) show(p);
  };
  boost::system::error_code ec;
  maskscan::scan_result result;
  maskscan::async_scan(
      io.get_executor(), std::move(source), std::move(options), std::move(context),
      boost::asio::bind_cancellation_slot(signals.slot(), [&](boost::system::error_code e, maskscan::scan_result r) {
        ec = e;
        result = std::move(r);
        signals.stop_listening();
      }));
  io.run();
  if (ec == boost::system::errc::invalid_argument)  // e.g. a frame named by two --split lists
    throw std::runtime_error(result.failure);
  if (ec && ec != maskscan::errc::cancelled && ec != maskscan::errc::stopped_on_error)
    throw std::runtime_error(
        fmt::format("the scan failed: {}", result.failure.empty() ? ec.message() : result.failure));
  return {ec, std::move(result)};
}

#if MASKSCAN_WITH_MPI
int run_mpi_scan(scan_command& cmd);
#endif

int run_scan(scan_command& cmd) {
  if (cmd.mpi) {
#if MASKSCAN_WITH_MPI
    return run_mpi_scan(cmd);
#else
    throw usage_error("--mpi: this maskscan was built without MPI (cmake -DMASKSCAN_WITH_MPI=ON, docs/scale-out.md)");
#endif
  }
  auto options = checked_options(cmd);
  maskscan::scan_context context;
  context.on_progress = progress_line(cmd, options.stop_on_error);

  // Every destination is made ready (created, locked, so proven writable) before any input is read:
  // a run that cannot write its results fails at once, not after the whole scan.
  const maskscan::cli::output_targets targets({.out = cmd.out,
                                               .state = cmd.save_state,
                                               .resumed_state = cmd.resume,
                                               .force = cmd.force,
                                               .command = cmd.command});
  auto source = list_input(cmd);
  if (!options.shard.whole())
    fmt::print(stderr, "maskscan: shard {}: {} of the {} frames listed\n", to_string(options.shard),
               source.shard(options.shard).size(), source.size());
  try {  // a scan that would not fit --max-memory is refused before any frame is scanned
    maskscan::check_memory(source, options);
  } catch (const std::invalid_argument& e) {
    throw usage_error(maskscan::cli::message_of(e));
  }

  std::optional<maskscan::resumed_scan> resumed;
  if (!cmd.resume.empty()) {
    try {
      resumed = maskscan::resume_source(source, maskscan::load_state(cmd.resume), options);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("--resume {}: cannot continue that scan: {}", cmd.resume, e.what()));
    }
    source = std::move(resumed->remaining);
    fmt::print(stderr, "resuming {}: {} frames done, {} to scan\n", cmd.resume, resumed->saved.frames.size(),
               source.size());
  }

  boost::asio::io_context io;
  maskscan::cli::interrupt_signals signals(io);  // alive until the outputs are written
  auto [ec, result] = scan_until_done(io, signals, std::move(source), std::move(options), std::move(context));
  if (resumed) result = maskscan::complete_resume(std::move(*resumed), std::move(result));
  return finish_scan(cmd, result, ec);
}

#if MASKSCAN_WITH_MPI
/// `mpirun -n K maskscan scan ... --mpi`: rank r scans shard r of K; rank 0 alone locks and writes
/// the outputs, of every rank's statistics (src/mpi). An error on any rank, before or after its
/// scan, is said by rank 0 naming the rank, and nothing is written.
int run_mpi_scan(scan_command& cmd) {
  const auto t0 = std::chrono::steady_clock::now();
  // SIGUSR1 (from mpirun, see below) before the scan's handler is there: nothing to stop yet.
  std::signal(SIGUSR1, SIG_IGN);
  maskscan::mpi::job job;
  // Rank 0 speaks for all: every rank meets the same refusals, the others only add what differs.
  const auto say_failures = [&](const std::vector<std::string>& failures) {
    std::set<std::string> said;
    for (const auto& f : failures) {
      const auto message = f.substr(f.find(": ") + 2);
      if (said.insert(message).second) fmt::print(stderr, "maskscan: {}\n", f.starts_with("rank 0: ") ? message : f);
    }
  };
  std::string error;
  int status = exit_failure;
  maskscan::scan_options options;
  std::optional<maskscan::cli::output_targets> targets;
  std::optional<maskscan::frame_source> source;
  std::uint64_t shard_frames = 0;                // the frames of this rank's shard
  std::optional<maskscan::dataset_stats> saved;  // rank 0, with --resume: the saved statistics
  try {
    options = checked_options(cmd);
    if (options.stop_on_error) throw usage_error("--strict: not with --mpi (yet): each rank would stop on its own");
    options.shard = {static_cast<std::uint32_t>(job.rank()), static_cast<std::uint32_t>(job.size())};
    if (job.root())
      targets.emplace(maskscan::cli::output_targets::request{.out = cmd.out,
                                                             .state = cmd.save_state,
                                                             .resumed_state = cmd.resume,
                                                             .force = cmd.force,
                                                             .command = cmd.command});
    source = list_input(cmd, job.root());
    try {
      maskscan::check_memory(*source, options);
    } catch (const std::invalid_argument& e) {
      throw usage_error(maskscan::cli::message_of(e));
    }
    shard_frames = source->shard(options.shard).size();
    if (!cmd.resume.empty()) {
      // Every rank continues its shard: the saved rows of its frames tell it what is left (the saved
      // heatmaps are of all frames, so rank 0 alone adds the saved statistics at the end).
      auto state = maskscan::load_state(cmd.resume);
      if (!state.shards.whole())
        throw std::runtime_error(fmt::format("--resume {}: it holds {}: continue it with that --shard, without --mpi",
                                             cmd.resume, describe(state.shards)));
      maskscan::dataset_stats mine = maskscan::make_stats(static_cast<const maskscan::scan_meaning&>(state));
      for (const auto& row : state.frames)
        if (maskscan::shard_of(row.path, options.shard.count) == options.shard.index) mine.frames.push_back(row);
      mine.shards = maskscan::shard_set_of(options.shard);
      try {
        auto plan = maskscan::resume_source(*source, std::move(mine), options);
        source = std::move(plan.remaining);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(fmt::format("--resume {}: cannot continue that scan: {}", cmd.resume, e.what()));
      }
      if (job.root()) saved = std::move(state);
    }
  } catch (const usage_error& e) {
    error = e.what();
    status = exit_usage;
  } catch (const std::exception& e) {
    error = maskscan::cli::message_of(e);
  }
  std::vector<std::string> failures;
  if (!job.all_ok(error, &failures)) {
    say_failures(failures);
    return error.empty() ? exit_failure : status;
  }
  const auto to_scan = job.sum(cmd.resume.empty() ? shard_frames : source->size());  // at rank 0: of every rank
  if (job.root())
    fmt::print(stderr, "maskscan: {} rank{} scan{} {} frames, one shard each{}\n", job.size(),
               job.size() == 1 ? "" : "s", job.size() == 1 ? "s" : "", to_scan,
               cmd.resume.empty() ? "" : fmt::format(" (continuing {})", cmd.resume));

  maskscan::scan_context context;
  if (auto show = progress_line(cmd, false); job.root()) job.set_progress_display(std::move(show), to_scan);
  maskscan::scan_progress last;
  context.on_progress = [&](const maskscan::scan_progress& p) {
    last = p;
    job.report_progress(p);
  };
  boost::asio::io_context io;
  // Ctrl-C goes to mpirun, which asks the ranks to stop (SIGTERM) a second later and kills them a second
  // after that (odls_base_sigkill_timeout): in general too soon for the frames in flight, the exchange
  // and the outputs. SIGUSR1, which mpirun passes on to every rank, stops them with time to finish.
  const char* kill_after = std::getenv("OMPI_MCA_odls_base_sigkill_timeout");
  std::optional<maskscan::cli::interrupt_signals> signals;  // alive until the outputs are written
  boost::system::error_code ec;
  maskscan::scan_result result;
  try {
    signals.emplace(io, maskscan::cli::interrupt_signals::mpi_rank{
                            .say = job.root(),
                            .usr1 = true,
                            .note = fmt::format("mpirun kills the ranks {} s after it asks them to stop, which may be "
                                                "before the results are written (then nothing is): to stop a run and "
                                                "keep its results, send mpirun SIGUSR1 (kill -USR1 <its pid>), which "
                                                "it passes on to every rank",
                                                kill_after ? kill_after : "1")});
    std::tie(ec, result) = scan_until_done(io, *signals, std::move(*source), options, std::move(context));
  } catch (const std::exception& e) {
    error = maskscan::cli::message_of(e);
  }
  job.finish_progress(last);
  if (!job.all_ok(error, &failures)) {
    say_failures(failures);
    return exit_failure;
  }
  // From here every rank is in the exchange: a rank that fails cannot leave the others waiting (nor
  // MPI_Finalize, which waits for them too). It says why and ends the job.
  try {
    auto stats = job.gather(std::move(result.stats));
    const auto frames_total = job.sum(shard_frames);
    if (!job.root()) return exit_ok;  // rank 0 says how it went
    result.stats = saved ? maskscan::complete_resumed(std::move(*saved), stats) : std::move(stats);
    result.frames_total = frames_total;
    result.partial = result.stats.partial;
    result.options.shard = {};
    result.wall_seconds = maskscan::detail::seconds_since(t0);
    // Interrupted on any rank: partial, as an interrupted scan of one process is.
    return finish_scan(cmd, result, result.partial ? boost::system::error_code(maskscan::errc::cancelled) : ec);
  } catch (const std::exception& e) {
    fmt::print(stderr, "maskscan: rank {}: {}\n", job.rank(), maskscan::cli::message_of(e));
    job.abort(exit_failure);
  }
  return exit_failure;  // not reached: abort ends the process
}
#endif

int run_tune(const tune_command& cmd, const CLI::App& app) {
  const auto options = checked_options(cmd.scan);
  auto tuning = cmd.flags.tuning;
  maskscan::cli::hold_given_flags(app, tuning);
  const auto source = list_input(cmd.scan);
  std::size_t trials = 0;
  if (!cmd.flags.json)
    tuning.on_trial = [&trials](const maskscan::tune_trial& t) { maskscan::cli::print_trial(t, ++trials); };
  maskscan::tune_result result;
  try {
    result = maskscan::tune(source, options, tuning);
  } catch (const std::invalid_argument& e) {  // tuning options, or no setting fits --max-memory
    throw usage_error(maskscan::cli::message_of(e));
  }
  const auto line = maskscan::cli::scan_command_line(cmd.arguments, result.best);
  if (cmd.flags.json) {
    fmt::print("{}\n", maskscan::cli::tune_json(result, line));
  } else {
    maskscan::cli::print_tune_result(result, line);
  }
  std::uint64_t skipped = 0;
  for (const auto& t : result.trials) skipped = std::max(skipped, t.skipped / std::max(1u, t.passes));
  if (skipped != 0)
    fmt::print(stderr,
               "maskscan: warning: {} frames of the sample could not be scanned (a scan lists each with its cause); "
               "the trials measured the others\n",
               skipped);
  return exit_ok;
}

int run_synth(const synth_command& cmd) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto bytes = maskscan::synthesize_dataset(cmd.dir, cmd.options);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("wrote {} frames of {}x{} ({:.1f} MB) to {} in {:.1f} s\n", cmd.options.frames, cmd.options.width,
             cmd.options.height, static_cast<double>(bytes) / 1e6, cmd.dir, s);
  return exit_ok;
}

int run_merge(const merge_command& cmd) {
  try {
    maskscan::check_prefixes(cmd.states.size(), cmd.prefixes);  // before anything is read
  } catch (const std::exception& e) {
    throw usage_error(maskscan::cli::message_of(e));
  }
  const maskscan::cli::output_targets targets(
      {.out = cmd.out, .state = cmd.save_state, .force = cmd.force, .command = cmd.command});
  const std::vector<fs::path> states(cmd.states.begin(), cmd.states.end());
  auto result = maskscan::merged_result(maskscan::merge_states(states, cmd.prefixes, cmd.spill), states);
  if (!cmd.save_state.empty()) maskscan::save_state(result.stats, cmd.save_state);
  const auto report = write_results(result, cmd.out, cmd.balance, cmd.report, cmd.report_options);
  maskscan::print_summary(result, std::cout);
  std::cout.flush();
  print_warnings(result.stats);
  if (report) fmt::print("report: {}\n", report->string());
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  // A file size limit (ulimit -f) then fails the write with EFBIG, reported with the file's name and
  // the temporary removed, instead of killing the process without a word (SIGXFSZ, exit 153).
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{
      "maskscan: exact class statistics (pixel counts, frames present, heatmaps) for "
      "segmentation label masks"};
  app.require_subcommand(1);
  const std::string exit_statuses =
      "Exit status: 0 every file scanned; 1 nothing scanned (no input, no *.png, a --resume state that does not fit, "
      "an output refused, in use by another run or unwritable, a write that failed); 2 wrong command line; 3 some "
      "files skipped (each listed with its cause); "
      "4 --strict stopped at a bad file; 130 interrupted (SIGINT/SIGTERM), results so far written, marked partial.";
  app.footer(exit_statuses);

  scan_command scan_cmd;
  auto* scan = app.add_subcommand("scan", "Scan a directory of label PNGs and report per-class statistics");
  add_scan_flags(*scan, scan_cmd);
  scan->footer(exit_statuses);

  synth_command synth_cmd;
  auto* synth = app.add_subcommand("synth", "Write a reproducible WoodScape-like dataset of label PNGs");
  synth->add_option("dir", synth_cmd.dir, "Output directory")->required();
  synth->add_option("--frames", synth_cmd.options.frames, "Number of frames")->capture_default_str();
  synth->add_option("--width", synth_cmd.options.width, "Frame width")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  synth->add_option("--height", synth_cmd.options.height, "Frame height")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  synth->add_option("--seed", synth_cmd.options.seed, "Random seed (same seed, same files)")->capture_default_str();
  const std::map<std::string, maskscan::png_filter> filters{{"adaptive", maskscan::png_filter::adaptive},
                                                            {"sub", maskscan::png_filter::sub}};
  synth
      ->add_option("--filter", synth_cmd.options.filter,
                   "PNG row filters: adaptive (as libpng/PIL write) or sub (every row Sub, as OpenCV writes)")
      ->transform(maskscan::cli::choices(filters))
      ->default_str("adaptive");
  synth->add_option("--threads", synth_cmd.options.threads, "Encoder threads (0 = one per core)")
      ->capture_default_str();
  synth->add_option("--rgb", synth_cmd.options.rgb_dir,
                    "Also write an RGB \"photo\" of each frame (same file name) into this directory, e.g. rgb_images/ "
                    "beside gtLabels/, for overlays");

  tune_command tune_cmd;
  auto* tune = app.add_subcommand(
      "tune",
      "Choose --workers, --io-depth, --queue-depth and --io for this input and machine from measured scans of a "
      "sample (docs/tuning.md); takes scan's input and statistics flags, and prints the scan command to use");
  add_scan_flags(*tune, tune_cmd.scan, false);
  maskscan::cli::add_tune_flags(*tune, tune_cmd.flags);
  tune->footer(
      "A concurrency flag given (--workers, --io-depth, --queue-depth, --io) is held at its value; the others are "
      "searched. Exit status: 0 tuned; 1 nothing to scan; 2 wrong command line.");

  merge_command merge_cmd;
  auto* merge = app.add_subcommand("merge", "Merge state files written by `scan --save-state` and write the results");
  merge
      ->add_option("states", merge_cmd.states,
                   "State files (scan --save-state); a frame in two of them is refused, as it would count twice")
      ->required()
      ->check(CLI::ExistingFile);
  merge
      ->add_option("--prefix", merge_cmd.prefixes,
                   "Once per state file, in their order: a folder name put before the frame names of that state "
                   "(e.g. --prefix cityA --prefix cityB), to keep apart scans of different folders whose frames share "
                   "relative names")
      ->take_all();
  auto* merge_out = merge->add_option("--out", merge_cmd.out,
                                      "Directory for summary.json, frames.csv and heatmaps (locked "
                                      "while the run lasts, as scan's)");
  merge->add_option("--save-state", merge_cmd.save_state,
                    "Also write the merged state to this file (its folder must exist; locked through <file>.lock)");
  merge->add_flag("--force", merge_cmd.force,
                  "Overwrite results in an existing, non-empty --out directory and an "
                  "existing --save-state file");
  add_balance_flags(*merge, merge_cmd.balance);
  add_row_memory_flags(*merge, merge_cmd.spill.max_bytes, merge_cmd.spill.directory);
  merge_cmd.report_options.merged = true;  // no scan timing; a state file does not say where the masks are
  add_report_flags(*merge, merge_cmd.report, merge_cmd.report_options, merge_out, false);

  maskscan::cli::overlay_command overlay_cmd;
  auto* overlay =
      app.add_subcommand("overlay", "Write an RGB frame with its label mask blended on top, each class in its colour");
  maskscan::cli::add_overlay_flags(*overlay, overlay_cmd);

  maskscan::service::server_config serve_config;
  auto* serve = app.add_subcommand(
      "serve",
      "Run scans as an HTTP/JSON service on the datasets below --root (docs/service.md); SIGINT/SIGTERM stop it");
  maskscan::cli::add_serve_flags(*serve, serve_config);
  serve->footer(
      "Exit status: 0 stopped by SIGINT/SIGTERM (running scans cancelled, their partial results written); 1 cannot "
      "start (a --listen address in use, an unreadable --token-file or --state-dir); 2 wrong command line.");

  std::string command_line;         // for the report's "Run" section
  std::string arguments;            // the same without the program's path, for the lock files
  std::vector<std::string> quoted;  // each argument as it is in command_line
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    const bool plain =
        !arg.empty() &&
        arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") ==
            std::string::npos;
    if (!plain) {  // single-quoted for a POSIX shell
      std::string single = "'";
      for (const char c : arg) single += c == '\'' ? std::string("'\\''") : std::string(1, c);
      arg = single + "'";
    }
    command_line += (i ? " " : "") + arg;
    quoted.push_back(arg);
    if (i) arguments += " " + arg;
  }
  scan_cmd.report_options.command_line = merge_cmd.report_options.command_line = command_line;
  scan_cmd.command = merge_cmd.command = "maskscan" + arguments;
  if (const auto at = std::ranges::find(quoted, std::string("tune")); at != quoted.end())
    tune_cmd.arguments.assign(at + 1, quoted.end());

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // An unknown flag or subcommand is named (with the nearest valid one) even when CLI11 threw about
    // something it caused, e.g. "--image is required" after "--imgae x"; --help still wins.
    if (const auto unknown = maskscan::cli::unknown_argument_message(app); unknown && e.get_exit_code() != 0) {
      app.exit(CLI::ExtrasError("maskscan: " + *unknown, CLI::ExitCodes::ExtrasError));  // with the --help hint
      return exit_usage;
    }
    const int status = app.exit(e);  // prints the help, or the error with a hint
    return status == 0 ? exit_ok : exit_usage;
  }
  try {
    if (scan->parsed()) return run_scan(scan_cmd);
    if (synth->parsed()) return run_synth(synth_cmd);
    if (tune->parsed()) return run_tune(tune_cmd, *tune);
    if (merge->parsed()) return run_merge(merge_cmd);
    if (overlay->parsed()) return maskscan::cli::run_overlay(overlay_cmd);
    if (serve->parsed()) return maskscan::cli::run_serve(serve_config);
  } catch (const usage_error& e) {
    fmt::print(stderr, "maskscan: {}\n", e.what());
    return exit_usage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "maskscan: {}\n", maskscan::cli::message_of(e));
    return exit_failure;
  }
  return exit_failure;
}
