#pragma once
// Every option of a scan is a field here with its documented default, mirrored 1:1 by a CLI flag
// of the same name (`workers` <-> `--workers`, ...).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <maskscan/class_map.hpp>
#include <maskscan/shard.hpp>
#include <maskscan/stats.hpp>

namespace maskscan {

/// How file bytes are read.
enum class io_backend {
  automatic,  ///< io_uring when the kernel allows it, otherwise threads
  uring,      ///< io_uring (liburing): reads submitted from the scan's strand, completions signalled on an eventfd
  threads,    ///< blocking pread() on a small thread pool
  store,      ///< the store's own reader (frame_source::from_memory, from_store): never a choice of files
};

/// Which PNG decoder turns bytes into ids.
enum class decoder_kind {
  automatic,  ///< the fast path (libdeflate + own unfilter, fused with counting) for non-interlaced
              ///< 8-bit gray/palette PNGs without other ancillary chunks; libspng for the rest
  spng,       ///< libspng (the reference decoder) for every file
  fast,       ///< the fast path only: files it does not handle are skipped with an error
};

/// Progress of a running scan (scan_context::on_progress).
struct scan_progress {
  std::uint64_t frames_done = 0;     ///< frames finished so far (scanned + skipped)
  std::uint64_t frames_skipped = 0;  ///< of which could not be scanned
  std::uint64_t frames_total = 0;    ///< frames in the source
  double elapsed_seconds = 0;
};

/// A named subset of the frames (`--split NAME=LISTFILE`).
struct split {
  std::string name;
  std::vector<std::string> frames;  ///< as listed: relative paths, or their ends, with or without ".png"
  friend bool operator==(const split&, const split&) = default;
};

/// Upper bounds of scan_options::workers, io_depth and queue_depth (resolve_defaults refuses more):
/// each worker is a thread, and so is each read in flight with io_backend::threads (up to 64).
inline constexpr unsigned max_workers = 1024;
inline constexpr unsigned max_io_depth = 4096;
inline constexpr unsigned max_queue_depth = 65536;

struct scan_options {
  /// Compute threads, each a strand owning its accumulator. 0 = one per hardware thread. At most
  /// max_workers. A thread the system refuses to start fails the scan with an error saying so.
  unsigned workers = 0;
  /// Maximum file reads in flight (each holds one open file), 1..max_io_depth (0 counts as 1). A
  /// scan lowers it to what the process's open-file limit (RLIMIT_NOFILE) leaves free, so a low
  /// `ulimit -n` never fails reads.
  unsigned io_depth = 16;
  /// Maximum frames in flight in total (read, queued or being decoded), 1..max_queue_depth (0
  /// counts as 1); each holds one recycled read buffer, so memory is bounded by this, not by the
  /// number of frames. Frames go to the workers in batches of min(8, queue_depth / io_depth), one
  /// cross-thread hop per batch.
  unsigned queue_depth = 128;
  io_backend io = io_backend::automatic;
  decoder_kind decoder = decoder_kind::automatic;
  /// Run the same decode and statistics in one plain loop on one thread (the baseline).
  bool serial = false;
  /// Accumulate per-class heatmaps (one set per frame resolution).
  bool heatmaps = false;
  /// Accumulate per-class heatmaps on a common grid of width x height cells (each 1..max_grid_side;
  /// 0x0, the default, = off), onto which every frame is sampled whatever its size: cell (i, j) takes
  /// the frame's pixel nearest its centre in normalised coordinates (grid_sample), so frames of
  /// every size add up in one set per group (dataset_stats::grid_heatmaps). Independent of
  /// `heatmaps`: either, both or neither. Its sets count against max_heatmap_bytes like a frame size's.
  grid_size heatmap_grid;
  /// The class map: a built-in name (builtin_class_map_names(): woodscape, cityscapes, camvid11, ...)
  /// or a class-map file (load_class_map). When `class_names` is empty, resolve_defaults applies it:
  /// the map's names, and its colours and remap unless given, and its ignore values added to
  /// `ignore`. (use_class_map fills every field from a class_map and sets this to its name, which
  /// is then only a name: a map made in code need not be a file.) Empty (the default) and no
  /// `class_names`: there is no class map, and every value that occurs (and is not ignored) is a
  /// class named by its number, class_<value> (classes_from_values; dataset_stats::
  /// classes_from_values). No dataset's names are assumed.
  std::string labels;
  /// Class names; class id k is names[k]. Values >= names.size() are "out of range". Names must be
  /// unique and non-empty. Empty: the class map's (`labels`), else the values found.
  std::vector<std::string> class_names;
  /// Values that are deliberately unlabelled (0..65535): counted separately, excluded from class
  /// fractions; added to the class map's.
  std::vector<std::uint32_t> ignore;
  /// Names of ignore values that are not class ids (CamVid's 11 "Unlabelled"), from the class map.
  std::map<std::uint32_t, std::string> ignore_names;
  /// Colour-coded (RGB/RGBA) masks: each colour's value. Colours not in the table are counted per
  /// colour (frame_row::unknown_colours), never guessed. Empty: colour masks are skipped with
  /// errc::unsupported_color_type. Values must be below 65535.
  std::vector<colour_entry> colours;
  /// Raw values replaced before counting (sorted by `from`); values not listed are kept.
  std::vector<value_remap> remap;
  /// Instance-coded masks (Cityscapes instanceIds: 1000): a value v >= divisor counts as
  /// v / divisor, smaller values as themselves; applied before `remap`. 0 = off.
  std::uint32_t instance_divisor = 0;
  /// Connected components of each class: 0 = off, 4 or 8 (neighbourhood).
  unsigned components = 0;
  /// With components: a component of fewer pixels is a speck, not an instance (frame_row::instances
  /// and the instance statistics leave it out; component_summary::specks counts it). On CamVid's
  /// 101 validation masks 26% of the 8-connected components have 1 to 3 pixels and 40% fewer than
  /// 16; annotation specks of that size would otherwise dominate the instance counts. At least 1.
  std::uint64_t min_component_pixels = 16;
  /// Grouping by path (relative to the root): a regular expression (ECMAScript syntax, matched by Boost.Regex with a
  /// bound on the steps of a match) with one capture group; the captured text names a frame's group (frames it does not
  /// match: group "unmatched").
  std::string group_by;
  /// Grouping by lists: each split names the frames in it (relative paths, or their ends after a
  /// '/', with or without ".png"); frames in no list: group "unlisted". At most one of group_by and
  /// splits; a frame in two splits is an error before the scan.
  std::vector<split> splits;
  /// Frames larger than this many pixels are rejected before any allocation of that size.
  std::uint64_t max_pixels = std::uint64_t{1} << 28;
  /// Files larger than this are rejected before they are read.
  std::uint64_t max_file_bytes = std::uint64_t{256} << 20;
  /// With heatmaps: frames whose resolution needs heatmap sets larger than this (groups x classes x
  /// width x height x 4 bytes; groups: those the source's frames fall into) are rejected before
  /// it is allocated. 1 GiB holds e.g. 34 classes at 2048x1024 or 10 classes at 8192x3276. The grid sets of
  /// heatmap_grid (groups x classes x grid width x grid height x 4 bytes) are judged on their own against the same
  /// limit: resolve_defaults refuses a grid whose one set of the class map's classes is over it; frames whose grid sets
  /// would be over it (all groups; classes from values: up to the frame's largest value) are rejected.
  std::uint64_t max_heatmap_bytes = std::uint64_t{1} << 30;
  /// A memory budget in bytes for the scan's large allocations (0, the default: none): the heatmap
  /// sets (one per group and frame size, and grouped, per size the sum of the groups the outputs
  /// need), the per-frame rows, the reads in flight and the workers' decode buffers and grid sets.
  /// Before any frame is scanned they are estimated from the source's size and its first frame, and
  /// a scan that would not fit fails with std::invalid_argument listing what it needs; a heatmap set
  /// of a frame size or group that shows up later and does not fit fails the scan with
  /// not_enough_memory naming it (docs/performance.md).
  std::uint64_t max_memory = 0;
  /// The per-frame rows held in memory, in bytes (0, the default: all of them). Beyond it they are
  /// sorted and written to unnamed temporary files in `spill_directory`, and read back in order when
  /// the outputs are written (frame_rows), so that millions of frames need no more memory than
  /// this for their rows (docs/scale-out.md). The results are the same bytes either way.
  std::uint64_t max_row_memory = 0;
  /// Where rows beyond max_row_memory go; empty: the system's temporary directory (TMPDIR, /tmp).
  std::filesystem::path spill_directory;
  /// Stop at the first file that cannot be scanned: no further reads are issued, frames in flight
  /// are finished, and the scan completes with errc::stopped_on_error and a partial result.
  bool stop_on_error = false;
  /// Scan only the frames of this shard (`--shard i/N`): those whose key shard_of puts in
  /// `shard.index` of `shard.count`. The statistics record it (dataset_stats::shards) and
  /// scan_result::frames_total counts the shard's frames. Default 0/1: every frame.
  shard_spec shard;
};

/// Sets labels (the map's name), class_names, ignore, colours and remap from a class map.
void use_class_map(scan_options& options, const class_map& map);

/// How a mask's values read as classes, as every front-end takes it: the CLI's --labels, --remap,
/// --num-classes, --class-names, --ignore and --instance-divisor, Python's keywords of those names.
struct class_choice {
  std::string labels;                    ///< a built-in class map or a class-map JSON file (class_map_named)
  std::string remap;                     ///< a built-in remap (builtin_remap_names: cityscapes-train)
  std::uint32_t num_classes = 0;         ///< classes class_0 .. class_{N-1} (1..65536; 0: not given)
  std::string class_names_file;          ///< a file naming the classes (load_class_names)
  std::vector<std::string> class_names;  ///< the class names themselves (a front-end that has them)
  std::vector<std::uint32_t> ignore;     ///< added to the class map's ignore values
  std::uint32_t instance_divisor = 0;    ///< scan_options::instance_divisor
};

/// Applies `choice` to `options`: the class map `labels`, then `remap` (alone, or after the
/// cityscapes map), then num_classes, class_names_file or class_names over the names (at most one
/// of them, and num_classes not beside labels), `ignore` added to the class map's ignore values, and
/// the divisor. Throws option_error naming the options for a combination that does not fit, and
/// what class_map_named, builtin_remap and load_class_names throw.
void apply_class_choice(const class_choice& choice, scan_options& options);

/// The class map `labels` names: a built-in map, or else a class-map file. Throws
/// std::invalid_argument naming the built-in maps when it is neither, and std::runtime_error naming
/// the file and the cause for a file that cannot be read or parsed.
class_map class_map_named(const std::string& labels);

/// True when the options give no class map (`labels` and `class_names` empty): the classes are the
/// values found (see scan_options::labels).
bool classes_from_values(const scan_options& options) noexcept;

/// Parses a grid size "WxH" (or "WXH"), e.g. "64x48"; "0x0" is off. Checks the syntax only (the
/// range is resolve_defaults'). Throws std::invalid_argument saying what is expected.
grid_size parse_grid_size(std::string_view text);
/// "WxH".
std::string to_string(grid_size grid);

/// Resolved defaults: the class map `labels` applied (when class_names is empty), workers = hardware threads, io_depth
/// and queue_depth at least 1, ignore sorted. Throws std::invalid_argument naming the option for values no scan can use
/// (workers, io_depth or queue_depth over their max_* bound, an unknown `labels`, class names empty or given twice,
/// more than 65536 classes, ignore values over 65535, components not 0/4/8, remap values over 65535, colour values of
/// 65535 or more, a colour table without class names, a bad group_by or splits, a heatmap_grid
/// side of 0 beside a non-zero one or over max_grid_side, a grid whose set of the class map's classes
/// is over max_heatmap_bytes); async_scan and
/// scan call it first, so they throw it before any work is done.
scan_options resolve_defaults(scan_options options);

const char* to_string(io_backend b) noexcept;
const char* to_string(decoder_kind d) noexcept;

}  // namespace maskscan
