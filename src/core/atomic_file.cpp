#include "core/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <unistd.h>

namespace maskscan::detail {

void write_file_atomically(const std::filesystem::path& file,
                           const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  auto temp = file;
  temp += fmt::format(".tmp.{}.{}", ::getpid(), counter++);
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out)
        throw std::runtime_error(fmt::format("{}: cannot create ({})", temp.string(), std::strerror(errno)));
      write(out);
      out.flush();
      if (!out) throw std::runtime_error(fmt::format("{}: write failed", temp.string()));
    }
    std::error_code ec;
    std::filesystem::rename(temp, file, ec);
    if (ec) throw std::runtime_error(fmt::format("{}: cannot rename into place ({})", file.string(), ec.message()));
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

}  // namespace maskscan::detail
