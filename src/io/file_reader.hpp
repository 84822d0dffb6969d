#pragma once
// Reading whole files into recycled buffers: a blocking read (serial loop, threads backend) and
// the awaitable readers the pipeline uses (io_uring via asio::random_access_file, or pread on a
// thread pool).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <sys/stat.h>

#include <maskscan/errors.hpp>
#include <maskscan/options.hpp>

namespace maskscan::detail {

/// What fstat of the open file said: a frame's row keeps it, so that --resume can tell a changed file.
struct file_stamp {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

/// The stamp of a stat() result.
file_stamp stamp_of(const struct ::stat& st) noexcept;

/// Reads all of `file` into `buffer` (resized; capacity kept) and, if `stamp` is given, sets it.
/// Files over `max_bytes` are rejected before reading (errc::file_too_large); open/read failures give
/// errc::io_error with the cause.
std::error_code read_file_blocking(const std::filesystem::path& file, std::vector<std::byte>& buffer,
                                   std::uint64_t max_bytes, diagnostics& diag, file_stamp* stamp = nullptr);

/// Descriptors a scan keeps free beyond its reads: the I/O machinery (io_uring ring, eventfds,
/// timerfd) and the results written after the scan (a temporary file and its folder at a time,
/// a lock, a report's images).
inline constexpr unsigned open_file_reserve = 16;

/// How many files a scan may open for reading at once: the soft RLIMIT_NOFILE minus the
/// descriptors open now (counted in /proc/self/fd) minus open_file_reserve. Throws
/// std::runtime_error saying the limit and the least that works when that leaves none, so a tiny
/// `ulimit -n` is refused before any input is read, not met as failed reads or lost results.
unsigned open_file_headroom();

/// True if this process may create an io_uring (the kernel has it and no seccomp policy forbids it).
bool io_uring_available();

class file_reader {
 public:
  virtual ~file_reader() = default;
  /// Same contract as read_file_blocking; completes on the awaiting coroutine's executor.
  virtual boost::asio::awaitable<std::error_code> read(const std::filesystem::path& file,
                                                       std::vector<std::byte>& buffer,
                                                       std::uint64_t max_bytes, diagnostics& diag,
                                                       file_stamp& stamp) = 0;
  virtual io_backend backend() const noexcept = 0;
};

/// The reader for `requested` (automatic resolves to uring when available). `io_depth` sizes the
/// thread pool of the threads backend. Throws std::runtime_error if uring is requested but absent.
/// The reader of `requested` (automatic: io_uring when available, else threads). The io_uring
/// reader sets up its ring on `ex`'s execution context now, so a ring that cannot be had (no
/// descriptor left under `ulimit -n`, a kernel or sandbox without io_uring) fails here with a
/// std::runtime_error saying why, not in the middle of the reads; automatic then falls back to threads.
std::unique_ptr<file_reader> make_file_reader(io_backend requested, unsigned io_depth,
                                              const boost::asio::any_io_executor& ex);

}  // namespace maskscan::detail
