#pragma once
// Stores and readers: where the bytes of frame keys live and how a scan fetches them. Files (read
// with io_uring or with pread on threads) and memory are built in; another store (object storage,
// an archive) implements frame_store and frame_reader and is scanned with frame_source::from_store.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <maskscan/errors.hpp>
#include <maskscan/options.hpp>

namespace maskscan {

/// What identifies the version of a frame's bytes when they were read: `--resume` keeps a frame's
/// counts only while it is unchanged (frame_row::file_size, file_mtime_ns).
struct frame_version {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  ///< modification time, nanoseconds since the epoch (0: the store has none)
  friend bool operator==(const frame_version&, const frame_version&) = default;
};

/// Reads the bytes of frames for one scan. The scan calls read() from its own strand only, with at
/// most scan_options::io_depth reads in flight; the reader is destroyed after the last one completed.
class frame_reader {
 public:
  virtual ~frame_reader() = default;
  /// Reads all bytes of frame `key` into `buffer` (resized; its capacity is reused by the next
  /// read) and sets `version`. A frame over `max_bytes` is refused before it is read
  /// (errc::file_too_large). Completes on the awaiting coroutine's executor with an empty code, or
  /// with the frame's own error (errc::io_error, ...) and the cause in words in `diag`. An exception
  /// is an environment failure (out of memory, ...) that ends the scan.
  virtual boost::asio::awaitable<std::error_code> read(const std::string& key, std::vector<std::byte>& buffer,
                                                       std::uint64_t max_bytes, diagnostics& diag,
                                                       frame_version& version) = 0;
  /// What does the reads (scan_result::io_used).
  virtual io_backend backend() const noexcept = 0;
  /// The scan is stopping (cancelled): called on the scan's strand, between reads' suspensions. A
  /// reader whose reads can take long (a network's retries and timeouts) may then end those in
  /// flight, and any it is asked for later, with errc::cancelled: such a frame is reported as not
  /// read, and --resume reads it. The default does nothing: reads in flight finish.
  virtual void stop() noexcept {}
};

/// Where the bytes of frame keys live.
class frame_store {
 public:
  virtual ~frame_store() = default;
  /// The reader of one scan. `ex` is the scan's strand: the reader's completions come there.
  /// `options.io` and `options.io_depth` are the scan's resolved values. Throws std::runtime_error
  /// when no reader can be had (e.g. --io uring where the kernel forbids it).
  virtual std::unique_ptr<frame_reader> make_reader(const scan_options& options,
                                                    const boost::asio::any_io_executor& ex) const = 0;
  /// The same read, blocking, on the calling thread (the serial loop, scan_options::serial).
  virtual std::error_code read_blocking(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                        diagnostics& diag, frame_version& version) const = 0;
  /// The version of `key` now, without reading it (nullopt: it cannot be had, e.g. the file is gone):
  /// frame_source::remaining compares it with the version a saved row was counted from.
  virtual std::optional<frame_version> version(const std::string& key) const = 0;
};

}  // namespace maskscan
