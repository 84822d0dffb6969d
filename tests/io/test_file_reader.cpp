// The file readers' limits: open-file headroom under RLIMIT_NOFILE.
#include <catch2/catch.hpp>

#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "io/file_reader.hpp"

using maskscan::detail::open_file_headroom;

TEST_CASE("open_file_headroom follows the soft RLIMIT_NOFILE and the files open now", "[io][fd]") {
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlimit low = saved;
  low.rlim_cur = 128;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);

  const unsigned before = open_file_headroom();
  CHECK(before < 128 - 16);
  CHECK(before >= 1);
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  CHECK(open_file_headroom() == before - 10);
  for (const int fd : fds) ::close(fd);

  low.rlim_cur = 8;  // fewer than already open: still at least one read at a time
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  CHECK(open_file_headroom() == 1);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
}
