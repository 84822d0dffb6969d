#pragma once
// The scan operation: async_scan (callback, future, co_await, cancellable), shaped like Asio's own
// operations, and the blocking scan().
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <maskscan/compute_pool.hpp>
#include <maskscan/options.hpp>
#include <maskscan/source.hpp>
#include <maskscan/stats.hpp>

namespace maskscan {

struct scan_result {
  dataset_stats stats;
  std::string input;     ///< where the frames are (frame_source::location): the root as given
  scan_options options;  ///< the options after defaults were resolved (a value: it refers to nothing)
  io_backend io_used = io_backend::threads;  ///< the backend that did the reads
  std::uint64_t frames_total = 0;            ///< frames in the source
  bool partial = false;                      ///< cancelled or stopped: only the frames done so far are counted
  std::string stopped_at;                    ///< stop_on_error: the bad file the scan stopped at (relative path)
  /// An environment failure (the handler's error is neither empty, cancelled nor stopped_on_error):
  /// what failed, in words naming it, e.g. "cannot start compute threads (--workers): 37 of 64
  /// started, ..." or "not enough memory for the 1280x966 heatmaps of 10 classes (...)", without
  /// the error code's own message. The statistics are then empty.
  std::string failure;
  double wall_seconds = 0;
};

/// What a scan runs on and reports to, beside its options. Nothing of it is kept in the result.
struct scan_context {
  /// Compute threads shared with other scans (a service's one pool); the scan decodes on
  /// `options.workers` strands of it (0: one per thread of the pool). Null (the default): the scan
  /// starts a pool of `options.workers` threads of its own and ends it when it completes. The pool
  /// must outlive the scan.
  compute_pool* pool = nullptr;
  /// Progress, called on the completion handler's associated executor (the caller's), never
  /// concurrently: at most once per `progress_interval` while frames finish, and once more with
  /// the final counts just before the completion handler. Empty: no progress.
  std::function<void(const scan_progress&)> on_progress;
  std::chrono::milliseconds progress_interval{100};
};

namespace detail {
using scan_handler = boost::asio::any_completion_handler<void(boost::system::error_code, scan_result)>;
void launch_scan(boost::asio::any_io_executor ex, frame_source source, scan_options options, scan_context context,
                 scan_handler handler);
}  // namespace detail

/// Scans every frame of `source` and completes with the statistics.
///
/// - Handler: `void(boost::system::error_code, scan_result)`, like Asio's and Beast's operations.
///   The error is empty when the scan finished (files that could not be scanned are listed in
///   `result.stats.errors`, not reported here); `errc::cancelled` when it was cancelled (the result
///   holds the frames done, `partial == true`; it compares equal to
///   `std::errc::operation_canceled`); `errc::stopped_on_error` when `options.stop_on_error` stopped
///   it at a bad file (`result.stopped_at` names it; partial likewise); `std::errc::invalid_argument`
///   for options no scan can use (`result.failure` holds resolve_defaults' message; nothing was
///   read); or an environment failure (out of memory, a thread the system refuses:
///   `result.failure` says what). Every completion, errors included, is posted to the handler's
///   associated executor: never invoked from inside async_scan.
/// - Tokens: a callback; `use_future`; `use_awaitable` — `co_await` then yields the scan_result
///   and throws boost::system::system_error on any error (`redirect_error(use_awaitable, ec)`
///   stores it instead). The partial result of a cancelled or stopped scan is the second element
///   of `co_await async_scan(..., as_tuple(use_awaitable))`.
/// - Executors: the reads and the merging of per-frame rows (a few microseconds per frame) run on a
///   strand of `ex`; everything heavy — resolving options, setting up readers and accumulators,
///   decoding, adding up the workers' heatmaps and sorting the rows — runs on the compute pool
///   (context.pool, or the scan's own), so a 1 ms timer on `ex` stays on time while a scan runs
///   (bench/embedding_latency). The handler's executor counts as having outstanding work until the
///   handler has run (its io_context's run() does not return early).
/// - Cancellation (bind_cancellation_slot): `terminal` and `partial` are honoured — no further reads
///   are issued, frames in flight are finished and counted, and the operation completes with
///   `errc::cancelled` and the partial result (its statistics are a side effect that stays, which
///   is what partial permits). `total` alone is not honoured (frames already counted cannot be
///   undone): the scan goes on.
/// - Lifetimes: `source`, `options` and `context` are moved into the operation; `context.pool`
///   must outlive it; nothing else is referenced.
template <class CompletionToken>
auto async_scan(boost::asio::any_io_executor ex, frame_source source, scan_options options, scan_context context,
                CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, scan_result)>(
      [](auto handler, boost::asio::any_io_executor e, frame_source s, scan_options o, scan_context c) {
        detail::launch_scan(std::move(e), std::move(s), std::move(o), std::move(c),
                            detail::scan_handler(std::move(handler)));
      },
      token, std::move(ex), std::move(source), std::move(options), std::move(context));
}

/// async_scan with a pool of its own and no progress.
template <class CompletionToken>
auto async_scan(boost::asio::any_io_executor ex, frame_source source, scan_options options, CompletionToken&& token) {
  return async_scan(std::move(ex), std::move(source), std::move(options), scan_context{},
                    std::forward<CompletionToken>(token));
}

/// Blocking form: runs the scan on an io_context of its own on the calling thread (progress is
/// called on it). Throws std::invalid_argument for options no scan can use (before any work) and
/// std::system_error for environment failures; bad files are in result.stats.errors, and a scan
/// stopped by stop_on_error returns its partial result.
scan_result scan(frame_source source, scan_options options, scan_context context = {});

/// With scan_options::max_memory: throws option_error (a std::invalid_argument) naming max_memory
/// when a scan of `source` with `options` would not fit it, listing what it needs (estimated from
/// the number of frames, the groups and the first frame's header, which is read). Every scan makes
/// the same check on its compute pool before any frame; a front-end calls this to refuse earlier,
/// with its own names for the options. Without a budget it does nothing.
void check_memory(const frame_source& source, const scan_options& options);

}  // namespace maskscan
