#pragma once
// HTTP(S) requests with libcurl: one at a time on the calling thread, or many at once on an Asio
// executor (curl's multi interface told of socket readiness and timeouts by Asio, so every GET of a
// scan is in flight on the scan's own io_context, with no thread of its own). Plus the retry policy.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace maskscan::detail::s3 {

struct http_request {
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  /// A body longer than this is cut off (http_response::too_long): a frame's listed size, or a cap
  /// on a listing page or an error's XML.
  std::uint64_t max_body = 0;
  unsigned timeout_seconds = 30;  ///< to connect, and the longest wait for a byte
};

struct http_response {
  long status = 0;              ///< 0: no HTTP response (see transport_error)
  int curl_code = 0;            ///< CURLcode; 0 when the transfer itself went well
  std::string transport_error;  ///< curl's words when curl_code != 0
  std::string etag;             ///< the ETag header, quotes kept
  bool too_long = false;        ///< the body was longer than http_request::max_body
  std::string error_body;       ///< the body of a response that is not 2xx (S3's XML error), up to 64 KiB
  /// In words: "HTTP 503", "connection reset (curl: ...)", ...
  std::string describe() const;
  bool ok() const noexcept { return curl_code == 0 && status >= 200 && status < 300 && !too_long; }
};

/// Whether a failed attempt may succeed if repeated: a transport failure (timeout, connection
/// refused or reset, a body cut short, nothing received), HTTP 5xx, 429 and 408. Never 403, 404,
/// another 4xx, a TLS certificate that does not verify, or a body over its limit.
bool retryable(const http_response& response) noexcept;

/// The wait before attempt `attempt` + 1 (attempt 0 is the first retry): "full jitter", uniform in
/// [0, min(10 s, 100 ms x 2^attempt)].
std::chrono::milliseconds backoff(unsigned attempt, std::minstd_rand& random);

/// One request on this thread; the body into `body` (resized).
http_response perform_blocking(const http_request& request, std::vector<std::byte>& body);

/// Many requests at once on `ex` (a strand: every call and completion is on it). Destroy it only
/// when no perform() is in flight.
class http_client {
 public:
  explicit http_client(const boost::asio::any_io_executor& ex);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;
  /// Completes when the response is whole (or failed). `request` and `body` must outlive it.
  boost::asio::awaitable<http_response> perform(const http_request& request, std::vector<std::byte>& body);
  /// Ends every perform() in flight now, with curl_code CURLE_ABORTED_BY_CALLBACK (from the executor).
  void abort_all();

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace maskscan::detail::s3
