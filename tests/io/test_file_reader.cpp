// The file readers' limits: open-file headroom under RLIMIT_NOFILE, and files that are not regular files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <maskscan/scan.hpp>
#include <maskscan/synth.hpp>

#include "io/file_reader.hpp"
#include "support/test_data.hpp"

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

  // Fewer than already open plus the reserve: refused with the limit and the least that works
  // (before: one read at a time, and then the results could not be written).
  low.rlim_cur = 8;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  CHECK_THROWS_WITH(open_file_headroom(), Catch::Contains("the open-file limit (ulimit -n 8) leaves no descriptor") &&
                                              Catch::Contains("raise it to at least"));
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
}

namespace {
/// A directory holding one good 64x48 mask, a FIFO, a link to a character device and a socket, each
/// named *.png.
struct special_files {
  maskscan::test::temp_dir dir;
  special_files() {
    maskscan::synth_options o;
    o.frames = 1;
    o.width = 64;
    o.height = 48;
    maskscan::synthesize_dataset(dir / "good", o);
    REQUIRE(::mkfifo((dir / "fifo.png").c_str(), 0644) == 0);
    std::filesystem::create_symlink("/dev/zero", dir / "device.png");
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const auto path = (dir / "socket.png").string();
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::copy(path.begin(), path.end(), addr.sun_path);
    REQUIRE(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    ::close(s);  // the socket file stays
  }
};
}  // namespace

TEST_CASE("A FIFO, a device and a socket named .png are per-file errors saying what they are, on every backend",
          "[io][env-faults]") {
  // Before: the FIFO blocked open() forever on both backends (deaf to the first SIGTERM), and
  // /dev/urandom named .png was "the file is empty".
  special_files files;
  const auto source = maskscan::frame_source::from_directory(files.dir.path());
  REQUIRE(source.size() == 4);
  const std::map<std::string, std::string> expected{{"device.png", "it is a character device, not a regular file"},
                                                    {"fifo.png", "it is a FIFO (named pipe), not a regular file"},
                                                    {"socket.png", "it is a socket, not a regular file"}};
  for (const auto io : {maskscan::io_backend::uring, maskscan::io_backend::threads, maskscan::io_backend::automatic}) {
    for (const bool serial : {false, true}) {
      if (io == maskscan::io_backend::uring && (serial || !maskscan::detail::io_uring_available())) continue;
      CAPTURE(maskscan::to_string(io), serial);
      maskscan::scan_options options;
      options.io = io;
      options.serial = serial;
      options.labels = "woodscape";
      const auto result = maskscan::scan(source, options);
      REQUIRE(result.stats.frames.size() == 1);
      CHECK(result.stats.frames[0].path.starts_with("good/"));
      REQUIRE(result.stats.errors.size() == 3);
      for (const auto& e : result.stats.errors) {
        CAPTURE(e.path, e.message);
        CHECK(e.code == maskscan::errc::io_error);
        CHECK_THAT(e.message, Catch::Contains(expected.at(e.path)));
      }
    }
  }
}
