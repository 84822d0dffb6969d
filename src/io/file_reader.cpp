#include "io/file_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <fmt/format.h>
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <maskscan/text.hpp>

#include "core/out_of_memory.hpp"
#include "core/run_on.hpp"
#include "core/thread_pool.hpp"

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
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};
}  // namespace

namespace {
/// What a file that is not a regular file is, in words.
const char* file_kind(mode_t mode) noexcept {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/// Opens a frame's file for reading and checks that it is a regular file. The open does not
/// block (O_NONBLOCK): a FIFO would otherwise wait in open() until a writer came, forever and deaf
/// to signals; a device or socket named *.png would be read as endless or empty bytes. Returns the
/// descriptor (the caller closes it), or -1 with the cause in `diag`/`ec`.
int open_frame_file(const std::filesystem::path& file, diagnostics& diag, file_stamp& stamp, std::error_code& ec) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int error = errno;
    // A socket cannot be opened at all (ENXIO): say what it is, as for the kinds opened below.
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
      ec = io_failure("read",
                      fmt::format("it is {}, not a regular file: only regular files are frames", file_kind(st.st_mode)),
                      diag);
    else
      ec = io_failure("open", std::strerror(error), diag);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ec = io_failure("stat", std::strerror(errno), diag);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    ec = io_failure("read",
                    fmt::format("it is {}, not a regular file: only regular files are frames", file_kind(st.st_mode)),
                    diag);
    ::close(fd);
    return -1;
  }
  stamp = stamp_of(st);
  return fd;
}

/// buffer.resize(size), naming the file when the memory is not there.
void size_buffer(std::vector<std::byte>& buffer, std::uint64_t size, const std::filesystem::path& file) {
  naming_allocation([&] { buffer.resize(size); },
                    [&] {
                      return fmt::format("reading {} ({}; up to --queue-depth files are held at once)",
                                         printable_name(file.string()), byte_size(size));
                    });
}
}  // namespace

file_stamp stamp_of(const struct ::stat& st) noexcept {
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::error_code read_file_blocking(const std::filesystem::path& file, std::vector<std::byte>& buffer,
                                   std::uint64_t max_bytes, diagnostics& diag, file_stamp* stamp) {
  std::error_code ec;
  file_stamp opened;
  fd_guard fd(open_frame_file(file, diag, opened, ec));
  if (fd.get() < 0) return ec;
  if (stamp) *stamp = opened;
  const auto size = opened.size;
  if (size > max_bytes) return too_large(size, max_bytes, diag);
  size_buffer(buffer, size, file);
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
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return UINT_MAX;
  std::uint64_t open_now = 0;
  std::error_code ec;
  // Counted with getdents on an open directory: the iterator's own descriptor is among them.
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++open_now;
  // Not countable: no descriptor left to open the folder with (all in use), or no /proc (assume a
  // typical number in use).
  if (ec) open_now = ec == std::errc::too_many_files_open ? limit.rlim_cur : 64;
  const std::uint64_t used = open_now + open_file_reserve;
  if (limit.rlim_cur <= used)
    throw std::runtime_error(fmt::format(
        "the open-file limit (ulimit -n {}) leaves no descriptor for reading frames: {} are open, and a scan keeps {} "
        "for its own event handling and for writing the results; raise it to at least {} (e.g. ulimit -n 1024)",
        limit.rlim_cur, open_now, open_file_reserve, used + 1));
  return static_cast<unsigned>(std::min<std::uint64_t>(limit.rlim_cur - used, UINT_MAX));
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

/// io_uring through liburing: each read is one IORING_OP_READ (repeated for a short read); the ring
/// signals completions on an eventfd that a stream_descriptor waits on, on the scan's strand, where
/// every call of this reader happens, so the ring needs no lock.
class uring_reader final : public frame_reader {
 public:
  uring_reader(std::filesystem::path root, unsigned io_depth, const asio::any_io_executor& ex)
      : root_(std::move(root)), events_(ex) {
    if (const int r = io_uring_queue_init(std::clamp(io_depth, 1u, 4096u), &ring_, 0); r < 0)
      throw std::runtime_error(fmt::format("cannot set up the io_uring ring: {}", std::strerror(-r)));
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0 || io_uring_register_eventfd(&ring_, fd) < 0) {
      const int error = errno;
      if (fd >= 0) ::close(fd);
      io_uring_queue_exit(&ring_);
      throw std::runtime_error(fmt::format("cannot set up the io_uring ring's eventfd: {}", std::strerror(error)));
    }
    events_.assign(fd);
  }
  ~uring_reader() override {
    boost::system::error_code ignored;
    events_.close(ignored);
    io_uring_queue_exit(&ring_);
  }

  asio::awaitable<std::error_code> read(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                        diagnostics& diag, frame_version& stamp) override {
    const auto file = root_ / key;
    std::error_code open_ec;
    fd_guard fd(open_frame_file(file, diag, stamp, open_ec));
    if (fd.get() < 0) co_return open_ec;
    const auto size = stamp.size;
    if (size > max_bytes) co_return too_large(size, max_bytes, diag);
    size_buffer(buffer, size, file);
    std::size_t done = 0;
    while (done < size) {
      const int n = co_await async_read_some(fd.get(), buffer.data() + done, size - done, done);
      if (n == -EINTR || n == -EAGAIN) continue;
      if (n < 0) co_return io_failure("read", std::strerror(-n), diag);
      if (n == 0) co_return io_failure("read", fmt::format("it ended after {} of {} bytes", done, size), diag);
      done += static_cast<std::size_t>(n);
    }
    co_return std::error_code{};
  }
  io_backend backend() const noexcept override { return io_backend::uring; }

 private:
  struct request {
    asio::any_completion_handler<void(int)> handler;
  };

  /// One read of up to `n` bytes at `offset`; completes with the byte count or -errno.
  asio::awaitable<int> async_read_some(int fd, std::byte* data, std::size_t n, std::size_t offset) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(int)>(
        [this, fd, data, n, offset](auto handler) {
          io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
          if (!sqe) {  // never with at most io_depth reads in flight; refuse rather than overrun
            asio::post(events_.get_executor(), [h = std::move(handler)]() mutable { std::move(h)(-EBUSY); });
            return;
          }
          auto* r = new request{std::move(handler)};
          io_uring_prep_read(sqe, fd, data, static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30)), offset);
          io_uring_sqe_set_data(sqe, r);
          if (const int submitted = io_uring_submit(&ring_); submitted < 0) {
            auto h = std::move(r->handler);
            delete r;
            asio::post(events_.get_executor(), [h = std::move(h), submitted]() mutable { std::move(h)(submitted); });
            return;
          }
          ++in_flight_;
          watch();
        },
        asio::use_awaitable);
  }

  /// Waits for the eventfd while reads are in flight, then completes every finished read.
  void watch() {
    if (watching_ || in_flight_ == 0) return;
    watching_ = true;
    events_.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
      watching_ = false;
      std::uint64_t count = 0;
      [[maybe_unused]] const auto ignored = ::read(events_.native_handle(), &count, sizeof count);
      // Collect first: a completed coroutine may submit its next read (and touch the ring) at once.
      std::vector<std::pair<request*, int>> finished;
      io_uring_cqe* cqe = nullptr;
      while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
        finished.emplace_back(static_cast<request*>(io_uring_cqe_get_data(cqe)), cqe->res);
        io_uring_cqe_seen(&ring_, cqe);
      }
      in_flight_ -= finished.size();
      if (ec && finished.empty()) return;  // the descriptor was closed: nothing is in flight then
      for (auto& [r, result] : finished) {
        auto handler = std::move(r->handler);
        delete r;
        std::move(handler)(result);
      }
      watch();
    });
  }

  std::filesystem::path root_;
  io_uring ring_{};
  asio::posix::stream_descriptor events_;
  std::size_t in_flight_ = 0;
  bool watching_ = false;
};

class thread_reader final : public frame_reader {
 public:
  thread_reader(std::filesystem::path root, unsigned threads)
      : root_(std::move(root)), pool_(threads, "read threads (--io threads, one per --io-depth)") {}
  ~thread_reader() override { pool_.join(); }

  asio::awaitable<std::error_code> read(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                        diagnostics& diag, frame_version& stamp) override {
    co_return co_await async_run_on(
        pool_.get_executor(), [&] { return read_file_blocking(root_ / key, buffer, max_bytes, diag, &stamp); },
        asio::use_awaitable);
  }
  io_backend backend() const noexcept override { return io_backend::threads; }

 private:
  std::filesystem::path root_;
  thread_pool pool_;
};

class file_store final : public frame_store {
 public:
  explicit file_store(std::filesystem::path root) : root_(std::move(root)) {}
  std::unique_ptr<frame_reader> make_reader(const scan_options& options,
                                            const asio::any_io_executor& ex) const override {
    return make_file_reader(root_, options.io, options.io_depth, ex);
  }
  std::error_code read_blocking(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                diagnostics& diag, frame_version& version) const override {
    return read_file_blocking(root_ / key, buffer, max_bytes, diag, &version);
  }
  std::optional<frame_version> version(const std::string& key) const override {
    struct stat st {};
    if (::stat((root_ / key).c_str(), &st) != 0) return std::nullopt;
    return stamp_of(st);
  }

 private:
  std::filesystem::path root_;
};

}  // namespace

std::unique_ptr<frame_reader> make_file_reader(std::filesystem::path root, io_backend requested, unsigned io_depth,
                                               const asio::any_io_executor& ex) {
  if (requested == io_backend::uring && !io_uring_available())
    throw std::runtime_error(
        "--io uring was requested but this kernel or sandbox does not allow io_uring "
        "(or no file descriptor is left for its ring: ulimit -n)");
  if (requested != io_backend::threads && io_uring_available()) {
    try {
      return std::make_unique<uring_reader>(root, io_depth, ex);
    } catch (const std::exception& e) {
      if (requested == io_backend::uring) throw std::runtime_error(fmt::format("--io uring: {}", e.what()));
    }
  }
  // Blocking reads only need as many threads as reads in flight; more would just idle.
  return std::make_unique<thread_reader>(std::move(root), std::clamp(io_depth, 1u, 64u));
}

std::shared_ptr<const frame_store> make_file_store(std::filesystem::path root) {
  return std::make_shared<file_store>(std::move(root));
}

}  // namespace maskscan::detail
