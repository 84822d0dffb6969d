#pragma once
// Library logic of the front-ends that combine statistics: continuing an interrupted scan from its
// state file (`scan --resume`) and merging state files into one result (`maskscan merge`). The CLI,
// a service, the Python module and MPI ranks all call these.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <maskscan/scan.hpp>

namespace maskscan {

/// A scan to continue: what an interrupted scan saved, and the frames it has still to scan.
struct resumed_scan {
  dataset_stats saved;             ///< the saved statistics (load_state of its --save-state file)
  frame_source remaining;          ///< the frames of the source without a row in `saved` (skipped ones again)
  std::uint64_t frames_total = 0;  ///< the frames of the whole source
};

/// Plans the continuation of `saved` (statistics an interrupted scan of `source` saved) under
/// `options` (resolve_defaults first): scan `remaining` with the same options, then pass its result
/// to complete_resume. Throws std::invalid_argument saying why that scan cannot be continued: its
/// meaning (classes, ignore values, heatmaps, grouping, ...) is not that of `options`, it holds a
/// frame twice, a frame not in `source`, or one whose file has changed since (frame_source::remaining).
resumed_scan resume_source(const frame_source& source, dataset_stats saved, const scan_options& options);

/// The result of one full run from a continued scan: `rest` is the result of scanning
/// `resumed.remaining`; the saved statistics are merged in (complete_resumed), frames_total is the
/// whole source's and the result is partial only if `rest` is. Throws as merge().
scan_result complete_resume(resumed_scan resumed, scan_result rest);

/// Throws option_error (option "prefix") unless `prefixes` is empty or one per state, and
/// std::invalid_argument for a prefix prefix_frames refuses.
void check_prefixes(std::size_t states, const std::vector<std::string>& prefixes);

/// The state files (save_state) merged, in their order; with `prefixes` (empty, or one per state)
/// each state's frames are first renamed prefix/name (prefix_frames). Throws std::runtime_error
/// naming the files for a state that cannot be read or whose meaning differs from those before it,
/// and option_error (option "prefix") naming both files and the frame when two states hold one
/// frame (unless one file is given twice: std::runtime_error); check_prefixes' exceptions first.
/// With `spill`, the merged rows beyond its bound go to disk (frame_rows::spill_beyond): memory for
/// one state and the bound, not for every row.
dataset_stats merge_states(const std::vector<std::filesystem::path>& states,
                           const std::vector<std::string>& prefixes = {}, const row_spill& spill = {});

/// Throws std::runtime_error naming the shards `merged` lacks ("shard 3 of 8 missing: <parts> hold
/// ..."), unless it holds every shard of its count or is not of shards. `parts` names what was merged.
void require_every_shard(const dataset_stats& merged, std::string_view parts);

/// Merged statistics as a scan_result, as `maskscan merge` writes it: options set from the
/// statistics' meaning (apply_meaning, so `labels` names the built-in map of these class names, if
/// any, for the class colours; workers 0 marks that no scan ran), input "merged: " + the states,
/// frames_total the frames and skipped files held, partial as the statistics.
scan_result merged_result(dataset_stats merged, const std::vector<std::filesystem::path>& states);

}  // namespace maskscan
