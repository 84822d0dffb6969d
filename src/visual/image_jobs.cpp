#include "visual/image_jobs.hpp"

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/post.hpp>

namespace maskscan::detail {
namespace {
constexpr std::string_view placeholder_start = "<!--maskscan-image ";
constexpr std::string_view placeholder_end = "-->";
}  // namespace

// Shared by the queue and the pool's handler: a handler that runs after the queue is gone finds its
// job claimed and does nothing.
struct image_jobs::job {
  std::function<std::string()> draw;
  std::atomic<bool> claimed = false;
  std::mutex mutex;
  std::condition_variable ended_cv;
  bool ended = false;
  std::string html;
  std::exception_ptr error;

  /// Runs the job if no one has: true if it ran it.
  bool run() noexcept {
    if (claimed.exchange(true)) return false;
    std::string out;
    std::exception_ptr e;
    try {
      out = draw();
    } catch (...) {
      e = std::current_exception();
    }
    draw = nullptr;  // what it refers to may go once it has ended
    end(std::move(out), e);
    return true;
  }
  /// Claims a job no one has started, so that it never runs.
  void drop() noexcept {
    if (claimed.exchange(true)) return;
    draw = nullptr;
    end({}, nullptr);
  }
  void end(std::string out, std::exception_ptr e) noexcept {
    {
      const std::lock_guard lock(mutex);
      html = std::move(out);
      error = e;
      ended = true;
    }
    ended_cv.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex);
    ended_cv.wait(lock, [&] { return ended; });
  }
};

image_jobs::image_jobs(std::optional<boost::asio::any_io_executor> pool) : pool_(std::move(pool)) {}

image_jobs::~image_jobs() {
  for (const auto& j : jobs_) j->drop();
  for (const auto& j : jobs_) j->wait();
}

std::string image_jobs::add(std::function<std::string()> draw) {
  auto j = std::make_shared<job>();
  j->draw = std::move(draw);
  jobs_.push_back(j);
  if (pool_) boost::asio::post(*pool_, [j] { j->run(); });
  return fmt::format("{}{}{}", placeholder_start, jobs_.size() - 1, placeholder_end);
}

std::string image_jobs::fill(const std::string& page) {
  for (const auto& j : jobs_) {
    j->run();  // the caller's thread draws too: the jobs no pool thread has started
    j->wait();
  }
  for (const auto& j : jobs_)
    if (j->error) std::rethrow_exception(j->error);

  std::size_t bytes = page.size();
  for (const auto& j : jobs_) bytes += j->html.size();
  std::string out;
  out.reserve(bytes);
  std::size_t at = 0;
  for (auto p = page.find(placeholder_start); p != std::string::npos; p = page.find(placeholder_start, at)) {
    out.append(page, at, p - at);
    const char* digits = page.data() + p + placeholder_start.size();
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(digits, page.data() + page.size(), index);
    if (ec != std::errc() || index >= jobs_.size() ||
        !std::string_view(end, static_cast<std::size_t>(page.data() + page.size() - end))
             .starts_with(placeholder_end)) {
      out.append(placeholder_start);  // not one of ours: kept as it is
      at = p + placeholder_start.size();
      continue;
    }
    out += jobs_[index]->html;
    at = static_cast<std::size_t>(end - page.data()) + placeholder_end.size();
  }
  out.append(page, at, std::string::npos);
  return out;
}

}  // namespace maskscan::detail
