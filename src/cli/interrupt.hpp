#pragma once
// SIGINT/SIGTERM during a scan, the way a user expects Ctrl-C to behave:
//  - the first signal cancels the scan through an Asio cancellation slot: no further reads, the
//    frames in flight are finished, and the results so far are written, marked partial;
//  - a second signal quits at once (exit 130), first removing the temporary file of any output
//    being written, so no half-written file is left behind (finished outputs stay whole);
//  - if the scan then makes no progress for stop_grace_seconds and has not completed (blocked in a
//    system call), a watchdog (SIGALRM) quits likewise: the first signal always ends the process.
#include <string>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace maskscan::cli {

inline constexpr int exit_interrupted = 130;
/// After the first signal, the scan finishes its frames in flight; if it then goes this long
/// without finishing a frame and has not completed (a thread blocked in a system call: a read on a
/// hung file system, a write to a full pipe), the process quits as at a second signal.
inline constexpr unsigned stop_grace_seconds = 10;

class interrupt_signals {
 public:
  /// How an MPI rank differs (scan --mpi).
  struct mpi_rank {
    bool say = true;    ///< the first signal is said on stderr (not by the ranks rank 0 speaks for)
    bool usr1 = false;  ///< SIGUSR1 too, which mpirun passes on to every rank
    std::string note;   ///< said after the first signal, unless it was SIGUSR1
  };
  /// Installs the handlers and starts listening on `io`.
  explicit interrupt_signals(boost::asio::io_context& io);
  interrupt_signals(boost::asio::io_context& io, mpi_rank rank);
  /// Restores the previous handlers.
  ~interrupt_signals();
  interrupt_signals(const interrupt_signals&) = delete;
  interrupt_signals& operator=(const interrupt_signals&) = delete;

  /// The slot the first signal emits a terminal cancellation on (bind it to the scan's token).
  boost::asio::cancellation_slot slot() { return cancel_.slot(); }
  /// Stops listening (call when the scan has completed, so io.run() can return). The handlers stay
  /// installed: a signal from now on is remembered, and a second one still quits at once.
  void stop_listening();
  /// True if a signal has arrived.
  static bool interrupted() noexcept;
  /// Call for every frame done (from the scan's on_progress): the watchdog quits only when the
  /// scan makes no progress for stop_grace_seconds after the first signal.
  static void note_progress() noexcept;

 private:
  void listen();

  boost::asio::posix::stream_descriptor wakeup_;
  boost::asio::cancellation_signal cancel_;
  char buffer_[8]{};
  bool say_ = true;
  bool usr1_ = false;
  std::string note_;
};

}  // namespace maskscan::cli
