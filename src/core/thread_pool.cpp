#include "core/thread_pool.hpp"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

namespace maskscan::detail {

thread_pool::thread_pool(unsigned threads, const std::string& purpose)
    : io_(static_cast<int>(std::max(1u, threads))), work_(io_.get_executor()) {
  threads = std::max(1u, threads);
  threads_.reserve(threads);
  try {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  } catch (const std::system_error& e) {
    const auto started = threads_.size();
    join();
    throw std::system_error(e.code(),
                            fmt::format("cannot start {}: {} of {} started, then the system refused one ({}); ask for "
                                        "fewer, or raise the limits on threads and memory (ulimit -u, ulimit -v)",
                                        purpose, started, threads, e.code().message()));
  } catch (...) {
    join();
    throw;
  }
}

thread_pool::~thread_pool() {
  io_.stop();
  join();
}

void thread_pool::join() {
  work_.reset();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace maskscan::detail
