#pragma once
// The report's pictures drawn in parallel while its page is written in order: the page holds a
// placeholder where each picture goes, and gets the pictures' HTML once they are done. Whatever the
// threads, each picture is the output of one job and goes where its placeholder is, so the page is
// the same byte for byte.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

namespace maskscan::detail {

class image_jobs {
 public:
  /// Jobs run on `pool` (its threads) and on the thread that calls fill(), which runs, in order,
  /// every job no thread has started yet: without a pool, fill() runs them all, one after the other.
  explicit image_jobs(std::optional<boost::asio::any_io_executor> pool);
  /// Jobs not started are dropped, and the ones running waited for: nothing a job refers to may be
  /// used after this.
  ~image_jobs();
  image_jobs(const image_jobs&) = delete;
  image_jobs& operator=(const image_jobs&) = delete;

  /// Queues `draw`, which draws one picture, writes its file and returns its HTML (an <img> with the
  /// PNG embedded, or nothing for a picture that is a file only). Returns the placeholder to put in
  /// the page where that HTML goes (an HTML comment, which no escaped text can form).
  std::string add(std::function<std::string()> draw);

  /// `page` with each placeholder replaced by the HTML of its job, once every job has ended. If a job
  /// threw, the exception of the first one added that threw is rethrown (after every job ended).
  std::string fill(const std::string& page);

  /// The number of jobs added.
  std::size_t size() const noexcept { return jobs_.size(); }

 private:
  struct job;
  std::optional<boost::asio::any_io_executor> pool_;
  std::vector<std::shared_ptr<job>> jobs_;
};

}  // namespace maskscan::detail
