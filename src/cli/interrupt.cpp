#include "cli/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <system_error>

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <boost/asio/buffer.hpp>

#include <maskscan/output.hpp>

namespace maskscan::cli {
namespace {

std::atomic<int> signals_received{0};
std::atomic<int> first_signal{0};
std::atomic<int> wakeup_fd{-1};
std::atomic<bool> scan_running{false};  // between the constructor and stop_listening()
std::atomic<std::uint64_t> progress_ticks{0}, ticks_at_alarm{0};
struct sigaction previous_int {
}, previous_term{}, previous_alarm{}, previous_usr1{};

void write_stderr(const char* text, std::size_t size) noexcept {
  // Not if stderr would block (a pipe nobody reads): quitting must not wait for it.
  pollfd out{STDERR_FILENO, POLLOUT, 0};
  if (::poll(&out, 1, 0) != 1 || !(out.revents & POLLOUT)) return;
  while (size > 0) {
    const auto n = ::write(STDERR_FILENO, text, size);
    if (n <= 0) return;
    text += n;
    size -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void quit_now(const char* message, std::size_t size) noexcept {
  remove_unfinished_outputs();
  write_stderr(message, size);
  ::_exit(exit_interrupted);
}

// Only async-signal-safe calls: atomics, poll(), write(), alarm(), unlink() (in remove_unfinished_outputs), _exit().
extern "C" void on_signal(int signal) {
  if (signals_received.fetch_add(1) == 0) {
    first_signal = signal;
    const std::uint64_t one = 1;
    if (const int fd = wakeup_fd.load(); fd >= 0) [[maybe_unused]]
      auto ignored = ::write(fd, &one, sizeof one);
    // If the scan does not come to its end in time (its thread blocked in a system call, say),
    // the watchdog ends the process: the first signal always ends it.
    if (scan_running.load()) {
      ticks_at_alarm = progress_ticks.load();
      ::alarm(stop_grace_seconds);
    }
    return;
  }
  static constexpr char message[] = "\nmaskscan: interrupted again: quitting now (no half-written output is left)\n";
  quit_now(message, sizeof message - 1);
}

extern "C" void on_watchdog(int) {
  if (!scan_running.load()) return;  // the scan ended in time: its results are being written
  if (const auto now = progress_ticks.load(); ticks_at_alarm.exchange(now) != now) {
    ::alarm(stop_grace_seconds);  // frames in flight are still being finished: give it more time
    return;
  }
  static constexpr char message[] =
      "\nmaskscan: the scan made no progress for 10 s after the interrupt (a read, a write or a thread is "
      "blocked): quitting now, without results (no half-written output is left)\n";
  static_assert(stop_grace_seconds == 10, "the message says 10 s");
  quit_now(message, sizeof message - 1);
}

int make_wakeup_fd() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd for signal handling");
  return fd;
}

}  // namespace

interrupt_signals::interrupt_signals(boost::asio::io_context& io) : interrupt_signals(io, mpi_rank{}) {}

interrupt_signals::interrupt_signals(boost::asio::io_context& io, mpi_rank rank)
    : wakeup_(io, make_wakeup_fd()), say_(rank.say), usr1_(rank.usr1), note_(std::move(rank.note)) {
  wakeup_fd = wakeup_.native_handle();
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &previous_int);
  ::sigaction(SIGTERM, &action, &previous_term);
  if (usr1_) ::sigaction(SIGUSR1, &action, &previous_usr1);
  action.sa_handler = on_watchdog;
  ::sigaction(SIGALRM, &action, &previous_alarm);
  scan_running = true;
  listen();
}

interrupt_signals::~interrupt_signals() {
  scan_running = false;
  ::alarm(0);
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::sigaction(SIGTERM, &previous_term, nullptr);
  if (usr1_) ::sigaction(SIGUSR1, &previous_usr1, nullptr);
  ::sigaction(SIGALRM, &previous_alarm, nullptr);
  wakeup_fd = -1;
}

void interrupt_signals::listen() {
  wakeup_.async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t) {
    if (ec) return;  // stop_listening()
    if (say_)
      fmt::print(stderr,
                 "\nmaskscan: interrupted: finishing the frames in flight, then writing the results so far, marked "
                 "partial (interrupt again to quit at once)\n{}",
                 note_.empty() || first_signal.load() == SIGUSR1 ? "" : "maskscan: " + note_ + "\n");
    cancel_.emit(boost::asio::cancellation_type::terminal);
  });
}

void interrupt_signals::stop_listening() {
  scan_running = false;
  ::alarm(0);
  boost::system::error_code ignored;
  wakeup_.cancel(ignored);
}

bool interrupt_signals::interrupted() noexcept { return signals_received.load() > 0; }

void interrupt_signals::note_progress() noexcept { progress_ticks.fetch_add(1, std::memory_order_relaxed); }

}  // namespace maskscan::cli
