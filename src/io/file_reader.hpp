#pragma once
// Reading whole files into recycled buffers: a blocking read (serial loop, threads backend) and
// the frame_readers of the file store (io_uring driven directly through liburing, its completions
// signalled on an eventfd the caller's io_context watches; or pread on a thread pool). No Asio
// type depends on io_uring, so neither the library nor its users define BOOST_ASIO_HAS_IO_URING.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <boost/asio/any_io_executor.hpp>

#include <maskscan/errors.hpp>
#include <maskscan/options.hpp>
#include <maskscan/reader.hpp>

namespace maskscan::detail {

/// What fstat of the open file said: a frame's row keeps it, so that --resume can tell a changed file.
using file_stamp = frame_version;

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

/// The reader of files below `root` (a key is a path relative to it, or absolute) for `requested`
/// (automatic: io_uring when available, else threads). `io_depth` sizes the io_uring ring and the
/// thread pool of the threads backend. The io_uring reader sets up its ring now and watches its
/// eventfd on `ex`, so a ring that cannot be had (no descriptor left under `ulimit -n`, a kernel or
/// sandbox without io_uring) fails here with a std::runtime_error saying why, not in the middle of
/// the reads; automatic then falls back to threads.
std::unique_ptr<frame_reader> make_file_reader(std::filesystem::path root, io_backend requested, unsigned io_depth,
                                               const boost::asio::any_io_executor& ex);

/// True if `head`, the first summary_start_bytes of a summary.json (or all of a shorter one), is
/// of one maskscan wrote: its first key-values (schema_version, then "tool": "maskscan") say so.
/// A listing leaves out the folders holding one (listing_options::include_results).
inline constexpr std::size_t summary_start_bytes = 4096;
bool is_maskscan_summary_start(std::string_view head);

/// The store of files below `root` (frame_source::from_directory, from_paths, from_list).
std::shared_ptr<const frame_store> make_file_store(std::filesystem::path root);

}  // namespace maskscan::detail
