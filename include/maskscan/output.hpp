#pragma once
// Writers for a scan's results. Every file is written atomically (a temporary `<name>.tmp.<pid>.<n>`
// beside it, renamed into place), so a reader never sees half a file; the statistics are fsynced
// before the rename, so that after a power cut they are whole files too. Failures to write throw
// std::runtime_error naming the file and the cause ("No space left on device", ...).
#include <filesystem>
#include <iosfwd>
#include <vector>

#include <maskscan/balance.hpp>
#include <maskscan/scan.hpp>

namespace maskscan {

inline constexpr int summary_schema_version =
    2;  // 2: repeat_factor and repeat_threshold may be null, ignored[] named, warnings

/// Into `dir` (created if needed): summary.json, frames.csv, weights.csv, cooccurrence.csv,
/// components.csv (with components), heatmaps_<W>x<H>.npy (with heatmaps) and
/// heatmaps_grid_<W>x<H>.npy (with a heatmap grid, once a frame was scanned). Grouped statistics:
/// the same set of files for each group in groups/<group>/, and for all frames at the top.
/// A summary.json on disk names only complete files of its own run: an earlier summary.json is
/// removed (durably) before any file is replaced, and each is written after the files it names, so
/// a failure or a kill half-way leaves no summary.json beside files of another run.
void write_outputs(const scan_result& result, const std::filesystem::path& dir, const balance_options& balance = {});

// Each writer comes twice: into a file (atomically, as above) and into a std::ostream (the same
// bytes; a std::ostringstream gives them as a string, e.g. for a service's response). The stream
// forms do not flush and leave the stream's error state to the caller.

/// summary.json of the whole scan, the same bytes as write_outputs writes at the top of its directory
/// (grouped statistics: all groups together, with the grouping and its groups).
void write_summary_json(const scan_result& result, const std::filesystem::path& file,
                        const balance_options& balance = {});
void write_summary_json(const scan_result& result, std::ostream& out, const balance_options& balance = {});
/// weights.csv: per class its raw counts and every weight of class_weights (empty cell: no weight).
void write_weights_csv(const dataset_stats& stats, const balance_options& options, const std::filesystem::path& file);
void write_weights_csv(const dataset_stats& stats, const balance_options& options, std::ostream& out);
/// cooccurrence.csv: a header row of class names, then one row per class (frames with both).
void write_cooccurrence_csv(const dataset_stats& stats, const std::filesystem::path& file);
void write_cooccurrence_csv(const dataset_stats& stats, std::ostream& out);
/// components.csv: per class instances, mean/median/min/max size and the log2 size histogram.
void write_components_csv(const dataset_stats& stats, const std::filesystem::path& file);
void write_components_csv(const dataset_stats& stats, std::ostream& out);
/// frames.csv: per frame its size, class pixels, ignored/out-of-range (and unknown-colour) pixels,
/// its LVIS repeat factor, its group and instance counts when those were asked for.
void write_frames_csv(const dataset_stats& stats, const std::filesystem::path& file,
                      const balance_options& balance = {});
void write_frames_csv(const dataset_stats& stats, std::ostream& out, const balance_options& balance = {});
/// C x H x W uint32 little-endian .npy (NumPy format 1.0).
void write_heatmap_npy(const heatmap_set& heat, std::size_t classes, const std::filesystem::path& file);

/// Removes the temporary files of outputs being written right now (by this library, in any
/// thread), so that a process about to die leaves no half-written file behind: the outputs stay
/// as they were. Async-signal-safe (only unlink()), for a signal handler that then calls _exit().
void remove_unfinished_outputs() noexcept;

/// Removes the temporary files (`<output>.tmp.<pid>.<n>`, see write_outputs) that a writer left in
/// `dir` when it was killed before it could remove them (kill -9, a crash, a power cut): in `dir`
/// and in each groups/<group>/ those of maskscan's output names (summary.json, frames.csv,
/// weights.csv, cooccurrence.csv, components.csv, report.html, heatmaps_*.npy), and every one under
/// images/ (the report's pictures); never another file, and never one whose process is still
/// running (a temporary named with this process's own id is taken as left by an earlier process of
/// that id). Returns the files removed. Call it before writing into `dir`, while no other process
/// writes results there (the CLI holds the lock of --out).
std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& dir);
/// The same for one file written on its own (a state file): its temporaries beside it.
std::vector<std::filesystem::path> remove_stale_temporaries_of(const std::filesystem::path& file);

/// The human summary, plain text for a terminal or a pipe (no colours): a table with per class its
/// id, name, pixels, share of the labelled pixels, frames present (count and % of the frames
/// scanned) and a bar of its share, the most frequent class filling 30 cells; a non-zero class
/// always gets a mark. An ignore-listed class id shows the pixels holding it, "ignored" as its
/// share and no bar. Then the ignored / out-of-range / unknown-colour pixels, the groups, the
/// frames scanned and skipped with the time taken (none for merged statistics, whose
/// options.workers is 0: no scan ran), and the first 20 skipped files.
/// `unicode`: bars of eighth blocks (U+2588, U+258F..U+2589), else of '#'.
void print_summary(const scan_result& result, std::ostream& out, bool unicode);
/// As above, `unicode` when the locale (LC_ALL, else LC_CTYPE, else LANG) names UTF-8.
void print_summary(const scan_result& result, std::ostream& out);

}  // namespace maskscan
