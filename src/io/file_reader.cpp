#include "io/file_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read_at.hpp>
#include <boost/asio/random_access_file.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <liburing.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/run_on.hpp"

namespace maskscan::detail {
namespace asio = boost::asio;

namespace {
std::error_code too_large(std::uint64_t size, std::uint64_t max_bytes, diagnostics& diag) {
  diag.message = fmt::format("the file has {} bytes, more than the limit of {} (--max-file-bytes)", size, max_bytes);
  return make_error_code(errc::file_too_large);
}

std::error_code io_failure(const char* what, const std::string& cause, diagnostics& diag) {
  diag.message = fmt::format("cannot {} the file: {}", what, cause);
  return make_error_code(errc::io_error);
}

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() { if (fd_ >= 0) ::close(fd_); }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
 private:
  int fd_;
};
}  // namespace

file_stamp stamp_of(const struct ::stat& st) noexcept {
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::error_code read_file_blocking(const std::filesystem::path& file, std::vector<std::byte>& buffer,
                                   std::uint64_t max_bytes, diagnostics& diag, file_stamp* stamp) {
  fd_guard fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return io_failure("open", std::strerror(errno), diag);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_failure("stat", std::strerror(errno), diag);
  if (S_ISDIR(st.st_mode)) return io_failure("read", "it is a directory", diag);
  if (stamp) *stamp = stamp_of(st);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) return too_large(size, max_bytes, diag);
  buffer.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const auto n = ::pread(fd.get(), buffer.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_failure("read", std::strerror(errno), diag);
    if (n == 0) return io_failure("read", fmt::format("it ended after {} of {} bytes", done, size), diag);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

unsigned open_file_headroom() {
  constexpr std::uint64_t reserve = 16;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return UINT_MAX;
  std::uint64_t open_now = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec))
    ++open_now;
  if (ec) open_now = 64;  // no /proc: assume a typical number in use
  const std::uint64_t used = open_now + reserve;
  return limit.rlim_cur > used ? static_cast<unsigned>(std::min<std::uint64_t>(limit.rlim_cur - used, UINT_MAX)) : 1u;
}

bool io_uring_available() {
  static const bool available = [] {
    io_uring ring{};
    if (io_uring_queue_init(2, &ring, 0) != 0) return false;
    io_uring_queue_exit(&ring);
    return true;
  }();
  return available;
}

namespace {

class uring_reader final : public file_reader {
 public:
  asio::awaitable<std::error_code> read(const std::filesystem::path& file, std::vector<std::byte>& buffer,
                                        std::uint64_t max_bytes, diagnostics& diag, file_stamp& stamp) override {
    asio::random_access_file f(co_await asio::this_coro::executor);
    boost::system::error_code ec;
    f.open(file.string(), asio::random_access_file::read_only, ec);
    if (ec) co_return io_failure("open", ec.message(), diag);
    struct stat st {};
    if (::fstat(f.native_handle(), &st) != 0) co_return io_failure("stat", std::strerror(errno), diag);
    stamp = stamp_of(st);
    const auto size = stamp.size;
    if (size > max_bytes) co_return too_large(size, max_bytes, diag);
    buffer.resize(size);
    auto [read_ec, n] = co_await asio::async_read_at(f, 0, asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (read_ec == asio::error::eof)
      co_return io_failure("read", fmt::format("it ended after {} of {} bytes", n, size), diag);
    if (read_ec) co_return io_failure("read", read_ec.message(), diag);
    co_return std::error_code{};
  }
  io_backend backend() const noexcept override { return io_backend::uring; }
};

class thread_reader final : public file_reader {
 public:
  explicit thread_reader(unsigned threads) : pool_(threads) {}
  ~thread_reader() override { pool_.join(); }

  asio::awaitable<std::error_code> read(const std::filesystem::path& file, std::vector<std::byte>& buffer,
                                        std::uint64_t max_bytes, diagnostics& diag, file_stamp& stamp) override {
    co_return co_await async_run_on(
        pool_.get_executor(), [&] { return read_file_blocking(file, buffer, max_bytes, diag, &stamp); },
        asio::use_awaitable);
  }
  io_backend backend() const noexcept override { return io_backend::threads; }

 private:
  asio::thread_pool pool_;
};

}  // namespace

std::unique_ptr<file_reader> make_file_reader(io_backend requested, unsigned io_depth) {
  if (requested == io_backend::uring && !io_uring_available())
    throw std::runtime_error("--io=uring was requested but this kernel or sandbox does not allow io_uring");
  if (requested != io_backend::threads && io_uring_available()) return std::make_unique<uring_reader>();
  // Blocking reads only need as many threads as reads in flight; more would just idle.
  return std::make_unique<thread_reader>(std::clamp(io_depth, 1u, 64u));
}

}  // namespace maskscan::detail
