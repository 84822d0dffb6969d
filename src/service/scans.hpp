#pragma once
// The scans of `maskscan serve`: queued, run on the shared compute pool through async_scan, their
// state and progress kept for the HTTP handlers and their results written as files under the
// state directory (state-dir/scans/<id>/results/, as `maskscan scan --out` writes them), with the
// scan's own record in state-dir/scans/<id>/scan.json so that a restarted service lists them.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <maskscan/compute_pool.hpp>

#include "service/request.hpp"

namespace maskscan::service {

enum class scan_state { queued, running, done, cancelled, failed };
const char* to_string(scan_state state) noexcept;

struct registry_config {
  std::filesystem::path root;       ///< canonical: every scanned path lies below it
  std::filesystem::path state_dir;  ///< canonical: every file the service writes lies below it
  unsigned max_running = 2;         ///< scans running at once (the others wait, queued)
  unsigned max_queued =
      16;  ///< scans waiting: beyond them a POST is refused (429); 0: a POST is taken only if it can start
  std::function<void(const std::string&)> log;  ///< one line, no newline
};

/// One event of a scan's Server-Sent Events stream.
struct scan_event {
  std::uint64_t id = 0;  ///< 1, 2, ...: increasing within the scan
  std::string name;      ///< "state", "progress" or "end" (the last one)
  std::string data;      ///< JSON
};

class scan_registry {
 public:
  /// Lists the scans found under state_dir/scans (a restart): finished ones as they were, those
  /// that were queued or running when the service stopped as failed ("interrupted"). A record that
  /// cannot be read is logged and left alone (its id is not reused).
  scan_registry(boost::asio::io_context& io, compute_pool& pool, registry_config config);
  ~scan_registry();
  scan_registry(const scan_registry&) = delete;
  scan_registry& operator=(const scan_registry&) = delete;

  /// Queues `request` and starts it when a slot is free; returns its id. Throws request_error 429
  /// when max_queued scans wait already, 503 when the service is stopping.
  std::uint64_t submit(scan_request request);
  /// GET /scans/{id}: the scan's record (with its files once it has results), and the text of
  /// its summary.json (empty until it has results): the text as written, so that a client reads
  /// the same numbers, to the last bit, as in the file.
  std::optional<std::pair<boost::json::object, std::string>> describe(std::uint64_t id) const;
  /// GET /scans: every scan's record without its summary, by id.
  boost::json::array list() const;
  /// DELETE /scans/{id}: 202 and the record when the scan was queued or running (it ends
  /// cancelled: a running one with its partial results), 409 when it had ended, 404 unknown.
  std::pair<unsigned, boost::json::object> cancel(std::uint64_t id);
  /// Events of scan `id` after event `after`, and whether the stream is complete (the "end" event
  /// is among those sent); nothing for an unknown id. An `after` beyond the scan's last event (a
  /// Last-Event-ID of another stream) counts as 0: every event is sent again.
  std::optional<std::pair<std::vector<scan_event>, bool>> events_after(std::uint64_t id, std::uint64_t after) const;
  /// Calls `notify` (from any thread, under the registry's lock: it must only post) whenever scan
  /// `id` has a new event, until unsubscribe(id, token). Returns the token (0 for an unknown id).
  std::uint64_t subscribe(std::uint64_t id, std::function<void()> notify);
  void unsubscribe(std::uint64_t id, std::uint64_t token);
  /// The result files of a scan that has ended, relative to its results folder, sorted; nothing
  /// for an unknown id.
  std::optional<std::vector<std::string>> files(std::uint64_t id) const;
  /// The result file `name` of scan `id` if it is one of files(id).
  std::optional<std::filesystem::path> file(std::uint64_t id, const std::string& name) const;
  /// Scans queued and running, for /health.
  std::pair<std::size_t, std::size_t> load() const;

  /// Refuses new scans, cancels the queued and running ones (the running ones write their partial
  /// results), and calls `when_idle` once none is running.
  void shutdown(std::function<void()> when_idle);

 private:
  struct entry;
  void start_waiting(std::unique_lock<std::mutex>& lock);
  void run(const std::shared_ptr<entry>& e);
  void finish(const std::shared_ptr<entry>& e, scan_state state, std::string error);
  /// finish() with the registry's lock held; nothing for a scan that has ended already.
  void finish_locked(std::unique_lock<std::mutex>& lock, const std::shared_ptr<entry>& e, scan_state state,
                     std::string error);
  void add_event(entry& e, std::string name, std::string data);
  void persist(const entry& e) const;
  boost::json::object record(const entry& e) const;
  std::filesystem::path dir_of(std::uint64_t id) const;
  void load_existing();

  boost::asio::io_context& io_;
  compute_pool& pool_;
  registry_config config_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<entry>> scans_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_token_ = 1;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::function<void()> when_idle_;
};

}  // namespace maskscan::service
