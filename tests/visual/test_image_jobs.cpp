// image_jobs: the report's pictures drawn on a pool and put in the page where their placeholders are.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <maskscan/compute_pool.hpp>

#include "visual/image_jobs.hpp"

using maskscan::compute_pool;
using maskscan::detail::image_jobs;

TEST_CASE("image_jobs puts each job's HTML where its placeholder is, with or without a pool", "[report][image-jobs]") {
  const unsigned threads = GENERATE(0u, 1u, 3u);
  CAPTURE(threads);
  std::optional<compute_pool> pool;
  if (threads) pool.emplace(threads);
  image_jobs jobs(pool ? std::optional(pool->get_executor()) : std::nullopt);
  std::vector<std::string> placeholders;
  for (int k = 0; k < 40; ++k)
    placeholders.push_back(jobs.add([k] {
      std::this_thread::sleep_for(std::chrono::microseconds((k * 37) % 200));  // finish out of order
      return k % 7 == 3 ? std::string() : fmt::format("<img {}>", k);
    }));
  CHECK(jobs.size() == 40);
  // The page holds them in another order than added, one twice, one not at all, and text that only
  // looks like a placeholder.
  std::string page = "<p>start <!--maskscan-image x--> <!--maskscan-image 99-->";
  std::string expected = page;
  for (int k = 39; k >= 1; --k) {
    page += placeholders[k] + "|";
    expected += (k % 7 == 3 ? std::string() : fmt::format("<img {}>", k)) + "|";
  }
  page += placeholders[5] + "end";
  expected += "<img 5>end";
  CHECK(jobs.fill(page) == expected);
}

TEST_CASE("image_jobs rethrows the failure of the first job added that failed, once every job has ended",
          "[report][image-jobs]") {
  compute_pool pool(2);
  std::atomic<int> ended = 0;
  image_jobs jobs(pool.get_executor());
  for (int k = 0; k < 12; ++k)
    jobs.add([k, &ended]() -> std::string {
      // The later failure happens first in time.
      std::this_thread::sleep_for(std::chrono::milliseconds(k == 4 ? 30 : 1));
      ++ended;
      if (k == 4 || k == 9) throw std::runtime_error(fmt::format("job {}", k));
      return "x";
    });
  CHECK_THROWS_WITH(jobs.fill("page"), "job 4");
  CHECK(ended == 12);
}

TEST_CASE("image_jobs that are not filled drop the jobs no thread has started and wait for the others",
          "[report][image-jobs]") {
  compute_pool pool(1);
  std::atomic<int> ran = 0;
  {
    image_jobs jobs(pool.get_executor());
    for (int k = 0; k < 20; ++k)
      jobs.add([&ran] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ++ran;
        return std::string();
      });
  }  // as when the page could not be written: nothing runs after this
  const int after = ran;
  CHECK(after < 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(ran == after);
}
