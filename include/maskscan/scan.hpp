#pragma once
// The scan operation: async_scan (callback, future, co_await, cancellable) and the blocking scan().
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <maskscan/options.hpp>
#include <maskscan/stats.hpp>

namespace maskscan {

/// What frame_source::from_directory leaves out of a directory it lists.
struct listing_options {
  /// Directories left out with everything below them, e.g. the scan's own output directory (a
  /// report fills it with PNGs that are not masks); any spelling of the same directory matches.
  std::vector<std::filesystem::path> exclude;
  /// Also list directories holding a maskscan summary.json (results of a scan, whose report
  /// pictures are PNGs). Default false: they are left out with everything below them.
  bool include_results = false;
  /// If set, receives the directories that were left out.
  std::vector<std::filesystem::path>* left_out = nullptr;
};

/// The frames of a scan: absolute paths plus the root they are reported relative to.
class frame_source {
 public:
  /// Every *.png (any letter case) below `root`, recursively, sorted by relative path, except in
  /// the directories `options` leaves out: by default every directory below `root` that holds a
  /// maskscan summary.json (`root` itself is always listed). A regular file `root` is a one-frame
  /// source. Throws std::runtime_error naming the path if it does not exist or cannot be listed.
  static frame_source from_directory(const std::filesystem::path& root, const listing_options& options = {});
  /// Explicit files; reported relative to `root` when they lie below it, else as absolute paths.
  /// A frame listed twice (by equal names) is refused: std::invalid_argument naming it, since it
  /// would be counted twice. Files are not opened here: a missing one is a per-file error of the scan.
  static frame_source from_paths(std::vector<std::filesystem::path> files,
                                 const std::filesystem::path& root = {});
  /// The files a list names, one path per line (`--files-from`), as a data catalogue or a split
  /// file gives them: relative lines are relative to `root`, or to the list's folder when `root` is
  /// empty; blank lines are skipped and a CR before the newline is dropped. "-" reads standard input
  /// (relative to `root`, else the current directory). Frames are reported relative to that folder.
  /// Throws std::runtime_error naming the list if it cannot be read or names no file, and
  /// std::invalid_argument naming the line of a frame listed twice.
  static frame_source from_list(const std::filesystem::path& list, const std::filesystem::path& root = {});

  /// The frames still to scan to complete `done` (statistics saved by an interrupted scan of this
  /// source): every frame without a row in `done`. Files `done` lists as errors are scanned again.
  /// Throws std::invalid_argument naming a frame of `done` that is not in this source (the state
  /// belongs to another dataset or root), since merging it would count a frame twice or a stranger,
  /// and naming the frames whose file changed since it was scanned (size or modification time
  /// differ from frame_row::file_size / file_mtime_ns, or it cannot be read): their counts are
  /// summed into heatmaps and totals and cannot be replaced, so such a state is not resumed.
  frame_source remaining(const dataset_stats& done) const;

  std::size_t size() const noexcept { return names_.size(); }
  const std::filesystem::path& root() const noexcept { return root_; }
  /// The path to open: root / name (a name outside the root is absolute or as given).
  std::filesystem::path file(std::size_t i) const { return root_ / names_[i]; }
  /// The name a frame is reported under (relative to the root, '/' separators).
  const std::string& name(std::size_t i) const { return names_[i]; }

 private:
  std::filesystem::path root_;
  std::vector<std::string> names_;  // only names are kept: memory per frame stays small
};

struct scan_result {
  dataset_stats stats;
  std::string input;               ///< the source's root, as given
  scan_options options;            ///< the options after defaults were resolved
  io_backend io_used = io_backend::threads;  ///< the backend that did the reads
  std::uint64_t frames_total = 0;  ///< frames in the source
  bool partial = false;            ///< cancelled or stopped: only the frames done so far are counted
  std::string stopped_at;          ///< stop_on_error: the bad file the scan stopped at (relative path)
  /// An environment failure (the handler's error is neither empty, cancelled nor stopped_on_error):
  /// what failed, in words naming it, e.g. "cannot start compute threads (--workers): 37 of 64
  /// started, ..." or "not enough memory for the 1280x966 heatmaps of 10 classes (...)", without
  /// the error code's own message. The statistics are then empty.
  std::string failure;
  double wall_seconds = 0;
};

namespace detail {
using scan_handler = boost::asio::any_completion_handler<void(std::error_code, scan_result)>;
void launch_scan(boost::asio::any_io_executor ex, frame_source source, scan_options options,
                 scan_handler handler);
}  // namespace detail

/// Scans every frame of `source` and completes with the statistics.
///
/// - Handler: `void(std::error_code, scan_result)`. The error is empty when the scan finished
///   (files that could not be scanned are listed in `result.stats.errors`, not reported here),
///   `errc::cancelled` when it was cancelled (the result then holds the frames done, with
///   `partial == true`), `errc::stopped_on_error` when `options.stop_on_error` stopped it at a bad
///   file (`result.stopped_at` names it; the result is partial likewise), or an environment
///   failure (e.g. out of memory, a thread the system refuses: `result.failure` says what). With
///   `boost::asio::use_awaitable` the `co_await` yields `std::tuple<std::error_code, scan_result>`.
/// - Executor: file reads and the coordinator run on `ex`; decoding runs on an internal pool of
///   `options.workers` threads that lives as long as the operation. The handler is invoked
///   through its associated executor (default: `ex`).
/// - Lifetimes: `source` and `options` are moved into the operation; nothing else is referenced.
/// - Cancellation: any type (terminal, partial, total) stops issuing reads; frames in flight are
///   finished and counted; then the operation completes with `errc::cancelled`.
template <class CompletionToken>
auto async_scan(boost::asio::any_io_executor ex, frame_source source, scan_options options,
                CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(std::error_code, scan_result)>(
      [](auto handler, boost::asio::any_io_executor e, frame_source s, scan_options o) {
        detail::launch_scan(std::move(e), std::move(s), std::move(o), detail::scan_handler(std::move(handler)));
      },
      token, std::move(ex), std::move(source), std::move(options));
}

/// Blocking form: runs the scan on an io_context of its own on the calling thread.
/// Throws std::system_error for environment failures; bad files are in result.stats.errors.
scan_result scan(frame_source source, scan_options options);

}  // namespace maskscan
