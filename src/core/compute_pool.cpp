#include <maskscan/compute_pool.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include <maskscan/options.hpp>

#include "core/thread_pool.hpp"

namespace maskscan {

compute_pool::compute_pool(unsigned threads)
    : size_(threads != 0 ? threads : std::clamp(std::thread::hardware_concurrency(), 1u, max_workers)) {
  if (size_ > max_workers)
    throw std::invalid_argument(fmt::format("compute_pool: {} threads is over the limit of {}", size_, max_workers));
  threads_ = std::make_unique<detail::thread_pool>(size_, "compute threads (compute_pool)");
}

compute_pool::~compute_pool() { threads_->join(); }

boost::asio::any_io_executor compute_pool::get_executor() const { return threads_->get_executor(); }

}  // namespace maskscan
