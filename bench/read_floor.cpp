// A fio-style read floor for bench/cold_cache.sh: reads every *.png below a directory whole, through
// the page cache, with up to --depth reads in flight (one pread thread per read in flight, each
// taking the next file), and prints "files bytes seconds MB/s". With --evict it reads nothing and
// drops the files' pages from the page cache instead (posix_fadvise POSIX_FADV_DONTNEED), which works
// without the root-only /proc/sys/vm/drop_caches (a file's dirty pages are written first).
//   maskscan_read_floor DIR [--depth N] [--evict]     (default depth 16, maskscan's --io-depth)
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: maskscan_read_floor DIR [--depth N] [--evict]\n");
    return 2;
  }
  unsigned depth = 16;
  bool evict = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--depth" && i + 1 < argc) depth = std::max(1, std::stoi(argv[++i]));
    else if (a == "--evict") evict = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(argv[1]))
    if (e.path().extension() == ".png" && e.is_regular_file()) files.push_back(e.path().string());

  std::atomic<std::size_t> next{0}, bytes{0}, failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  auto worker = [&] {
    std::vector<char> buffer(1 << 20);
    for (std::size_t i; (i = next++) < files.size();) {
      const int fd = ::open(files[i].c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ++failed;
        continue;
      }
      if (evict) {
        ::fdatasync(fd);
        if (::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) ++failed;
      } else {
        off_t offset = 0;
        for (ssize_t n; (n = ::pread(fd, buffer.data(), buffer.size(), offset)) > 0;) offset += n;
        bytes += static_cast<std::size_t>(offset);
      }
      ::close(fd);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < (evict ? 1 : depth); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (evict)
    std::printf("evicted %zu files\n", files.size() - failed);
  else
    std::printf("files %zu bytes %zu seconds %.3f MB/s %.1f\n", files.size(), bytes.load(), s,
                bytes.load() / s / 1e6);
  if (failed) std::fprintf(stderr, "%zu files failed\n", failed.load());
  return failed ? 1 : 0;
}
