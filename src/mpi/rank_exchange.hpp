#pragma once
// The MPI front-end's side of a scan (`mpirun -n K maskscan scan DIR --mpi`): rank r scans shard
// r of K with the same pipeline as one process, and the ranks' statistics meet at rank 0, which
// writes the outputs. Heatmap counts are summed with MPI_Reduce in chunks (an MPI count is an int);
// each rank's rows, errors and component sizes go to rank 0 one rank at a time, as state bytes,
// and are merged there (rank 0 holds its statistics plus one rank's). Every MPI call is made on the
// thread that constructed the job (MPI_THREAD_FUNNELED): the scan's compute threads make none.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <maskscan/options.hpp>
#include <maskscan/stats.hpp>

namespace maskscan::mpi {

/// MPI, from MPI_Init_thread to MPI_Finalize, and the exchanges of one scan.
class job {
 public:
  /// Starts MPI (MPI_THREAD_FUNNELED; the command line is not MPI's to read). Throws
  /// std::runtime_error if it cannot.
  job();
  ~job();
  job(const job&) = delete;
  job& operator=(const job&) = delete;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  bool root() const noexcept { return rank_ == 0; }

  /// Collective: whether every rank reached this point without an error (`mine` empty). Rank 0
  /// gets each failed rank's message prefixed with "rank N: " in `failures` (others get none).
  bool all_ok(const std::string& mine, std::vector<std::string>* failures = nullptr);

  /// Progress: a rank other than 0 sends its scan's progress to rank 0 (at most as often as its scan
  /// reports it). On rank 0, the progress of every rank, summed, and of rank 0 itself is passed to
  /// `show` (set_progress_display), as often as rank 0's scan reports or messages arrive.
  void set_progress_display(std::function<void(const scan_progress&)> show, std::uint64_t frames_listed);
  void report_progress(const scan_progress& mine);
  /// After this rank's scan: rank 0 receives (and shows) progress until every rank has finished;
  /// the others send that they have. Call on every rank, then all_ok.
  void finish_progress(const scan_progress& mine);

  /// Collective: every rank's statistics merged at rank 0, which gets them (the others get empty
  /// statistics). Classes from values are widened to the largest rank's first.
  dataset_stats gather(dataset_stats mine);

  /// Ends every rank of the job at once (MPI_Abort) with `status`: for a failure on one rank while
  /// the others wait for it in an exchange.
  [[noreturn]] void abort(int status);

  /// Collective: the sum over the ranks of `value` at rank 0.
  std::uint64_t sum(std::uint64_t value);

 private:
  void show_all();
  /// Rank 0: one progress message from `source` (or MPI_ANY_SOURCE), noted as that rank's.
  void receive_progress(int source);
  /// A rank other than 0: until its progress messages in flight are sent.
  void wait_for_sends();
  int rank_ = 0;
  int size_ = 1;
  std::function<void(const scan_progress&)> show_;
  std::uint64_t frames_listed_ = 0;
  std::vector<scan_progress> progress_;  // rank 0: each rank's latest
  std::vector<bool> finished_;           // rank 0: which ranks have finished
  struct pending;
  std::vector<std::unique_ptr<pending>> sends_;  // a rank's progress messages in flight
};

}  // namespace maskscan::mpi
