#include "cli/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <system_error>

#include <boost/asio/buffer.hpp>
#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <maskscan/output.hpp>

namespace maskscan::cli {
namespace {

std::atomic<int> signals_received{0};
std::atomic<int> wakeup_fd{-1};
struct sigaction previous_int {}, previous_term {};

void write_stderr(const char* text, std::size_t size) noexcept {
  while (size > 0) {
    const auto n = ::write(STDERR_FILENO, text, size);
    if (n <= 0) return;
    text += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Only async-signal-safe calls: atomics, write(), unlink() (in remove_unfinished_outputs), _exit().
extern "C" void on_signal(int) {
  if (signals_received.fetch_add(1) == 0) {
    const std::uint64_t one = 1;
    if (const int fd = wakeup_fd.load(); fd >= 0) [[maybe_unused]] auto ignored = ::write(fd, &one, sizeof one);
    return;
  }
  remove_unfinished_outputs();
  static constexpr char message[] = "\nmaskscan: interrupted again: quitting now (no half-written output is left)\n";
  write_stderr(message, sizeof message - 1);
  ::_exit(exit_interrupted);
}

int make_wakeup_fd() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd for signal handling");
  return fd;
}

}  // namespace

interrupt_signals::interrupt_signals(boost::asio::io_context& io) : wakeup_(io, make_wakeup_fd()) {
  wakeup_fd = wakeup_.native_handle();
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &previous_int);
  ::sigaction(SIGTERM, &action, &previous_term);
  listen();
}

interrupt_signals::~interrupt_signals() {
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::sigaction(SIGTERM, &previous_term, nullptr);
  wakeup_fd = -1;
}

void interrupt_signals::listen() {
  wakeup_.async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t) {
    if (ec) return;  // stop_listening()
    fmt::print(stderr,
               "\nmaskscan: interrupted: finishing the frames in flight, then writing the results so far, marked "
               "partial (interrupt again to quit at once)\n");
    cancel_.emit(boost::asio::cancellation_type::terminal);
  });
}

void interrupt_signals::stop_listening() {
  boost::system::error_code ignored;
  wakeup_.cancel(ignored);
}

bool interrupt_signals::interrupted() noexcept { return signals_received.load() > 0; }

}  // namespace maskscan::cli
