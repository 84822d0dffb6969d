#pragma once
// What a client asks of `maskscan serve`: a scan request's JSON body turned into the library's
// options (the same names, checks and messages as the CLI's flags, by the library's option names),
// and every path it names confined to the service's root.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <maskscan/balance.hpp>
#include <maskscan/options.hpp>
#include <maskscan/report.hpp>

namespace maskscan::service {

/// A request the service refuses: the HTTP status (400, 403, 404, ...) and the message for the client.
class request_error : public std::runtime_error {
 public:
  request_error(unsigned status, const std::string& message) : std::runtime_error(message), status_(status) {}
  unsigned status() const noexcept { return status_; }

 private:
  unsigned status_;
};

/// `relative` (a path inside `root`, '/' separated) resolved after symlinks: 403 for an absolute
/// path, a '..' that leaves the root or a symlink that points out of it, 404 when it does not
/// exist. `root` must be canonical. `what` names the field in the messages ("path", "labels").
std::filesystem::path confined(const std::filesystem::path& root, const std::string& relative, const std::string& what);

/// Whether `path` (canonical) is `root` (canonical) or below it.
bool inside(const std::filesystem::path& root, const std::filesystem::path& path);

/// Limits the service puts on every scan beside the library's own bounds.
struct request_limits {
  unsigned max_workers =
      0;  ///< a scan's workers: at most the compute pool's threads (strands beyond them add memory, not speed)
  std::uint64_t max_memory =
      0;  ///< the memory budget of every scan (scan_options::max_memory); a request may ask for less
};

/// A checked scan request.
struct scan_request {
  std::string path;             ///< as posted: relative to the root
  std::filesystem::path input;  ///< resolved, inside the root
  scan_options options;         ///< resolve_defaults' result
  balance_options balance;
  bool report = false;  ///< also write report.html
  maskscan::report_options report_options;
  boost::json::object posted;  ///< the body's options as posted (kept with the scan)
};

/// The body `{"path": "...", "options": {...}}` of POST /scans. Throws request_error: 400 for
/// malformed JSON, a wrong type, an unknown key or a value no scan can use (the library's message,
/// options named by their library names), 403/404 for paths (confined).
scan_request parse_scan_request(const std::string& body, const std::filesystem::path& root,
                                const request_limits& limits);

/// The option keys a request may give, sorted (docs/service.md lists them).
std::vector<std::string> option_keys();

}  // namespace maskscan::service
