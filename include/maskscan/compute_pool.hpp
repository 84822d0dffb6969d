#pragma once
// compute_pool: threads that decode frames for any number of scans at once.
#include <memory>

#include <boost/asio/any_io_executor.hpp>

namespace maskscan {
namespace detail {
class thread_pool;
}

/// A fixed set of compute threads that scans share (scan_context::pool): a service running many
/// scans keeps one pool of `cores - 1` threads instead of a pool per scan. Each scan decodes on
/// `scan_options::workers` strands of the pool (each strand owns one accumulator); the pool runs
/// their batches first come, first served, so concurrent scans advance side by side, each at most
/// `queue_depth` frames ahead.
class compute_pool {
 public:
  /// Starts `threads` threads (0: one per hardware thread; at most max_workers). Throws
  /// std::invalid_argument over max_workers, and std::system_error saying how many threads started
  /// when the system refuses one.
  explicit compute_pool(unsigned threads = 0);
  /// Waits for the work posted so far, then ends the threads. Scans on the pool must have completed.
  ~compute_pool();
  compute_pool(const compute_pool&) = delete;
  compute_pool& operator=(const compute_pool&) = delete;

  /// The number of threads.
  unsigned size() const noexcept { return size_; }
  /// The pool's executor, for work of the caller's own (it is what the scans' strands run on).
  boost::asio::any_io_executor get_executor() const;

 private:
  std::unique_ptr<detail::thread_pool> threads_;
  unsigned size_;
};

}  // namespace maskscan
