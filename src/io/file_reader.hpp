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

/// How many more files this process can open at once: the soft RLIMIT_NOFILE minus the
/// descriptors open now (counted in /proc/self/fd) minus a reserve for the I/O machinery
/// (io_uring, eventfds, threads' needs). At least 1.
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
std::unique_ptr<file_reader> make_file_reader(io_backend requested, unsigned io_depth);

}  // namespace maskscan::detail
