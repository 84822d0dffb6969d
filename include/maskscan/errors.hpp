#pragma once
// One error model: a bad input file is a value (errc + a human message naming the cause),
// a broken environment (cannot write output, out of memory) is an exception.
#include <string>
#include <system_error>

namespace maskscan {

/// Why a file was skipped, or why a scan ended early.
enum class errc {
  ok = 0,
  io_error = 1,                ///< the file could not be opened or read (see the message for errno)
  file_too_large = 2,          ///< the file is larger than scan_options::max_file_bytes
  not_png = 3,                 ///< the file does not start with the PNG signature
  corrupt_png = 4,             ///< the PNG is malformed (bad CRC, bad chunk, truncated, bad zlib stream ...)
  image_too_large = 5,         ///< width*height exceeds scan_options::max_pixels
  unsupported_color_type = 6,  ///< RGB/RGBA without a colour table, 16-bit colour, or gray+alpha
  cancelled = 7,               ///< the scan was cancelled before this work finished
  not_fast_decodable = 8,      ///< --decoder fast: a valid PNG the fast path does not handle
  stopped_on_error = 9,        ///< scan_options::stop_on_error: the scan stopped at a bad file
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// The human side of an error: what went wrong, in words that name the cause.
struct diagnostics {
  std::string message;
};

/// One file that could not be scanned. `path` is relative to the scanned root.
struct file_error {
  std::string path;
  errc code = errc::ok;
  std::string message;
  std::string group;  ///< with grouping: the file's group (else empty)
  friend bool operator==(const file_error&, const file_error&) = default;
  friend auto operator<=>(const file_error&, const file_error&) = default;
};

/// Stable machine name of an error code ("corrupt_png", ...), used in summary.json.
const char* to_string(errc e) noexcept;

}  // namespace maskscan

template <>
struct std::is_error_code_enum<maskscan::errc> : std::true_type {};
