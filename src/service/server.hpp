#pragma once
// `maskscan serve`: scans as an HTTP/JSON service (docs/service.md), on Boost.Beast with C++20
// coroutines. One io_context on a few threads answers requests; every scan decodes on one shared
// compute pool.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace maskscan::service {

struct server_config {
  std::filesystem::path root;             ///< every scanned path must resolve inside it
  std::filesystem::path state_dir;        ///< every file the service writes is below it
  std::string listen = "127.0.0.1:8080";  ///< host:port; port 0: any free port (logged)
  std::filesystem::path token_file;       ///< non-empty: requests need `Authorization: Bearer <its first line>`
  unsigned threads = 2;                   ///< threads answering requests
  unsigned compute_threads = 0;           ///< the shared compute pool (0: one per hardware thread)
  unsigned max_running = 2;               ///< scans running at once
  unsigned max_queued = 16;               ///< scans waiting; beyond: 429
  unsigned max_connections = 256;         ///< open connections; beyond: 503 and closed
  std::uint64_t max_body_bytes = 1 << 20;
  std::uint32_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds header_timeout{10'000};  ///< a request's header (and an idle keep-alive connection)
  std::chrono::milliseconds body_timeout{30'000};    ///< a request's body
  std::uint64_t max_memory = 0;                      ///< every scan's memory budget (scan_options::max_memory); 0: none
  /// Called once the service listens, with the port (tests use port 0).
  std::function<void(unsigned short)> on_listening;
};

/// The service, for a program that runs it and stops it itself (tests).
class server {
 public:
  /// Loads the scans of the state directory and listens. Throws as serve().
  explicit server(const server_config& config);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  /// The port it listens on.
  unsigned short port() const noexcept;
  /// Answers requests and runs scans on config.threads threads (this one among them) until the
  /// service has stopped (stop()).
  void run();
  /// Stops as on SIGTERM: no new connections, the scans cancelled, run() returns once the running
  /// ones have written their partial results. Any thread.
  void stop();
  /// Calls stop() on SIGINT or SIGTERM (serve() does).
  void stop_on_signals();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Runs the service until SIGINT or SIGTERM: then it stops accepting connections, cancels the
/// queued and running scans (the running ones write their partial results) and returns 0. Throws
/// std::runtime_error naming the cause when it cannot start (a root that is not a folder, an
/// address in use, an unreadable token file).
int serve(const server_config& config);

}  // namespace maskscan::service
