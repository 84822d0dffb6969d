#pragma once
// A fixed pool of threads running Asio handlers, which, unlike asio::thread_pool, survives a
// thread the system refuses to start. asio::thread_pool's constructor throws when the Nth thread
// cannot be created (no memory for its stack under `ulimit -v`, `ulimit -u`, the kernel's task
// limit), but the threads already started keep waiting for work that was never finished, and the
// destructor of its thread group joins them: the process hangs, deaf to SIGTERM. Here the threads
// that did start are stopped and joined, and the error says how many could not start and why.
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace maskscan::detail {

class thread_pool {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  /// Starts `threads` threads (at least 1). `purpose` names them in the error, e.g. "compute
  /// threads (--workers)". Throws std::system_error (the cause's code: resource_unavailable_try_again
  /// from pthread_create) saying "cannot start compute threads (--workers): 37 of 64 started: ...".
  thread_pool(unsigned threads, const std::string& purpose);
  /// Stops the threads (handlers not yet run are dropped) and joins them.
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  executor_type get_executor() noexcept { return io_.get_executor(); }
  /// Lets the threads run every handler posted so far, then ends them and waits for them.
  void join();

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace maskscan::detail
