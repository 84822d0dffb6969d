#include "io/page_cache.hpp"

#include <cstdint>
#include <filesystem>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace maskscan::detail {
namespace {

struct file_pages {
  std::uint64_t bytes = 0;
  std::uint64_t cached_bytes = 0;
};

file_pages pages_of(const std::filesystem::path& path, std::vector<unsigned char>& vec) {
  file_pages pages;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return pages;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto size = static_cast<std::uint64_t>(st.st_size);
    pages.bytes = size;
    // Mapping reads nothing: mincore only asks which pages are resident.
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
      const std::uint64_t n = (size + page - 1) / page;
      vec.assign(n, 0);
      if (::mincore(map, size, vec.data()) == 0)
        for (std::uint64_t i = 0; i < n; ++i)
          if (vec[i] & 1) pages.cached_bytes += i + 1 < n ? page : size - i * page;
      ::munmap(map, size);
    }
  }
  ::close(fd);
  return pages;
}

}  // namespace

std::optional<double> cached_fraction(const frame_source& source) {
  if (!source.of_files()) return std::nullopt;
  std::vector<unsigned char> vec;
  std::uint64_t bytes = 0, cached = 0;
  for (std::size_t i = 0; i < source.size(); ++i) {
    const auto pages = pages_of(source.root() / source.name(i), vec);  // as the file store reads it
    bytes += pages.bytes;
    cached += pages.cached_bytes;
  }
  if (bytes == 0) return std::nullopt;
  return static_cast<double>(cached) / static_cast<double>(bytes);
}

}  // namespace maskscan::detail
