#include "service/scans.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>

#include <maskscan/errors.hpp>
#include <maskscan/output.hpp>
#include <maskscan/report.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/text.hpp>

#include "core/atomic_file.hpp"
#include "core/utc_time.hpp"

namespace maskscan::service {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace asio = boost::asio;

const char* to_string(scan_state state) noexcept {
  switch (state) {
    case scan_state::queued: return "queued";
    case scan_state::running: return "running";
    case scan_state::done: return "done";
    case scan_state::cancelled: return "cancelled";
    case scan_state::failed: return "failed";
  }
  return "failed";
}

namespace {

std::optional<scan_state> state_named(std::string_view name) {
  for (auto s : {scan_state::queued, scan_state::running, scan_state::done, scan_state::cancelled, scan_state::failed})
    if (name == to_string(s)) return s;
  return std::nullopt;
}

std::string now_utc() { return detail::utc_now("%Y-%m-%dT%H:%M:%SZ"); }

json::object progress_json(const scan_progress& p) {
  return {{"frames_done", p.frames_done},
          {"frames_skipped", p.frames_skipped},
          {"frames_total", p.frames_total},
          {"elapsed_seconds", p.elapsed_seconds}};
}

bool ended(scan_state s) { return s == scan_state::done || s == scan_state::cancelled || s == scan_state::failed; }

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot be opened", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

}  // namespace

struct scan_registry::entry {
  std::uint64_t id = 0;
  std::string path;
  json::object options;
  scan_state state = scan_state::queued;
  std::string error;
  std::string created, started, finished;
  scan_progress progress;
  std::vector<scan_event> events;
  std::uint64_t last_event = 0;
  std::optional<scan_request> request;  // until the scan ends
  std::vector<std::string> left_out;    // files whose symlink resolves outside the root
  bool was_running = false;
  bool cancel_requested = false;
  bool has_results = false;
  std::map<std::uint64_t, std::function<void()>> subscribers;  // event streams waiting for events
  asio::cancellation_signal signal;
  asio::strand<asio::io_context::executor_type> strand;

  explicit entry(asio::io_context& io) : strand(asio::make_strand(io)) {}
};

scan_registry::scan_registry(asio::io_context& io, compute_pool& pool, registry_config config)
    : io_(io), pool_(pool), config_(std::move(config)) {
  load_existing();
}

scan_registry::~scan_registry() = default;

fs::path scan_registry::dir_of(std::uint64_t id) const { return config_.state_dir / "scans" / std::to_string(id); }

json::object scan_registry::record(const entry& e) const {
  json::object r{{"id", e.id},           {"path", e.path},
                 {"options", e.options}, {"state", to_string(e.state)},
                 {"created", e.created}, {"progress", progress_json(e.progress)}};
  if (!e.started.empty()) r["started"] = e.started;
  if (!e.finished.empty()) r["finished"] = e.finished;
  if (!e.error.empty()) r["error"] = e.error;
  json::array left_out;
  for (const auto& name : e.left_out) left_out.emplace_back(name);
  r["left_out"] = std::move(left_out);
  r["has_results"] = e.has_results;
  return r;
}

void scan_registry::persist(const entry& e) const {
  const auto text = json::serialize(record(e));
  try {
    detail::write_file_atomically(dir_of(e.id) / "scan.json", [&](std::ostream& out) { out << text << '\n'; });
  } catch (const std::exception& x) {
    config_.log(fmt::format("scan {}: cannot record its state: {}", e.id, x.what()));
  }
}

void scan_registry::add_event(entry& e, std::string name, std::string data) {
  // Progress replaces the progress before it: a client that reconnects wants the latest, and the
  // stream's memory stays a few events per scan however long it runs.
  if (name == "progress" && !e.events.empty() && e.events.back().name == "progress") e.events.pop_back();
  e.events.push_back({++e.last_event, std::move(name), std::move(data)});
  for (const auto& [token, notify] : e.subscribers) notify();
}

std::uint64_t scan_registry::subscribe(std::uint64_t id, std::function<void()> notify) {
  const std::lock_guard lock(mutex_);
  const auto it = scans_.find(id);
  if (it == scans_.end()) return 0;
  const auto token = next_token_++;
  it->second->subscribers.emplace(token, std::move(notify));
  return token;
}

void scan_registry::unsubscribe(std::uint64_t id, std::uint64_t token) {
  const std::lock_guard lock(mutex_);
  if (const auto it = scans_.find(id); it != scans_.end()) it->second->subscribers.erase(token);
}

void scan_registry::load_existing() {
  const fs::path scans = config_.state_dir / "scans";
  fs::create_directories(scans);
  for (const auto& item : fs::directory_iterator(scans)) {
    const auto name = item.path().filename().string();
    if (name.empty() || name.size() > 18 || !std::ranges::all_of(name, [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const std::uint64_t id = std::stoull(name);
    next_id_ = std::max(next_id_, id + 1);  // an id is never reused, even of a record that cannot be read
    try {
      remove_stale_temporaries_of(item.path() / "scan.json");
      const auto doc = json::parse(read_text(item.path() / "scan.json"));
      const auto& r = doc.as_object();
      auto e = std::make_shared<entry>(io_);
      e->id = id;
      e->path = json::value_to<std::string>(r.at("path"));
      e->options = r.at("options").as_object();
      const auto state = state_named(r.at("state").as_string());
      if (!state) throw std::runtime_error("an unknown state");
      e->state = *state;
      e->created = json::value_to<std::string>(r.at("created"));
      if (const auto* s = r.if_contains("started")) e->started = json::value_to<std::string>(*s);
      if (const auto* s = r.if_contains("finished")) e->finished = json::value_to<std::string>(*s);
      if (const auto* s = r.if_contains("error")) e->error = json::value_to<std::string>(*s);
      if (const auto* s = r.if_contains("left_out")) e->left_out = json::value_to<std::vector<std::string>>(*s);
      if (const auto* s = r.if_contains("has_results")) e->has_results = s->as_bool();
      const auto& p = r.at("progress").as_object();
      e->progress.frames_done = json::value_to<std::uint64_t>(p.at("frames_done"));
      e->progress.frames_skipped = json::value_to<std::uint64_t>(p.at("frames_skipped"));
      e->progress.frames_total = json::value_to<std::uint64_t>(p.at("frames_total"));
      e->progress.elapsed_seconds = json::value_to<double>(p.at("elapsed_seconds"));
      if (!ended(e->state)) {
        e->state = scan_state::failed;
        e->error = "interrupted: the service stopped before the scan finished";
        if (e->finished.empty()) e->finished = now_utc();
        persist(*e);
        config_.log(fmt::format("scan {}: failed ({})", id, e->error));
      }
      if (fs::exists(item.path() / "results")) remove_stale_temporaries(item.path() / "results");
      json::object end{{"state", to_string(e->state)}, {"progress", progress_json(e->progress)}};
      if (!e->error.empty()) end["error"] = e->error;
      add_event(*e, "end", json::serialize(end));
      scans_.emplace(id, std::move(e));
    } catch (const std::exception& x) {
      config_.log(fmt::format("{}: left alone, its scan.json cannot be read: {}", item.path().string(), x.what()));
    }
  }
  if (!scans_.empty()) config_.log(fmt::format("{} earlier scans found in {}", scans_.size(), scans.string()));
}

std::uint64_t scan_registry::submit(scan_request request) {
  std::unique_lock lock(mutex_);
  if (stopping_) throw request_error(503, "the service is stopping");
  const auto waiting =
      std::ranges::count_if(scans_, [](const auto& s) { return s.second->state == scan_state::queued; });
  if (running_ >= config_.max_running && static_cast<std::size_t>(waiting) >= config_.max_queued)
    throw request_error(
        429, fmt::format("{} scans are waiting already (at most {}); try again later", waiting, config_.max_queued));
  auto e = std::make_shared<entry>(io_);
  e->id = next_id_++;
  e->path = request.path;
  e->options = request.posted;
  e->created = now_utc();
  e->request = std::move(request);
  fs::create_directories(dir_of(e->id));
  add_event(*e, "state", json::serialize(json::object{{"state", "queued"}}));
  persist(*e);
  config_.log(fmt::format("scan {}: queued ({})", e->id, printable_name(e->path)));
  const auto id = e->id;
  scans_.emplace(id, std::move(e));
  start_waiting(lock);
  return id;
}

void scan_registry::start_waiting(std::unique_lock<std::mutex>&) {
  while (!stopping_ && running_ < config_.max_running) {
    const auto next = std::ranges::find_if(scans_, [](const auto& s) { return s.second->state == scan_state::queued; });
    if (next == scans_.end()) return;
    auto& e = next->second;
    e->state = scan_state::running;
    e->was_running = true;
    e->started = now_utc();
    ++running_;
    add_event(*e, "state", json::serialize(json::object{{"state", "running"}}));
    persist(*e);
    config_.log(fmt::format("scan {}: running", e->id));
    run(e);
  }
}

void scan_registry::run(const std::shared_ptr<entry>& e) {
  // Listing reads the disk: on the compute pool, never on the threads that answer requests.
  asio::post(pool_.get_executor(), [this, e] {
    const scan_request& request = *e->request;
    std::optional<frame_source> source;
    try {
      listing_options listing;
      listing.include_results =
          request.posted.contains("include_results") && request.posted.at("include_results").as_bool();
      if (inside(config_.root, config_.state_dir)) listing.exclude.push_back(config_.state_dir);
      source = frame_source::from_directory(request.input, listing);
      // A file whose symlink resolves outside the root is not read.
      std::vector<fs::path> kept;
      std::vector<std::string> left_out;
      const bool folder = fs::is_directory(request.input);
      for (std::size_t i = 0; i < source->size(); ++i) {
        const fs::path file = folder ? request.input / source->name(i) : request.input;
        std::error_code ec;
        if (fs::is_symlink(file, ec)) {
          const auto target = fs::canonical(file, ec);
          if (ec || !inside(config_.root, target)) {
            left_out.push_back(source->name(i));
            continue;
          }
        }
        kept.push_back(file);
      }
      if (!left_out.empty()) {
        config_.log(
            fmt::format("scan {}: {} files left out: their symlinks resolve outside the root", e->id, left_out.size()));
        source = frame_source::from_paths(std::move(kept), request.input);
        const std::lock_guard lock(mutex_);
        e->left_out = std::move(left_out);
      }
      if (source->size() == 0)
        throw std::runtime_error(
            fmt::format("{}: no *.png files found (the directory is searched recursively)", e->path));
      check_memory(*source, request.options);
    } catch (const std::exception& x) {
      finish(e, scan_state::failed, x.what());
      return;
    }
    asio::post(e->strand, [this, e, source = std::move(*source)]() mutable {
      scan_context context;
      context.pool = &pool_;
      context.progress_interval = std::chrono::milliseconds(250);
      context.on_progress = [this, e](const scan_progress& p) {
        const std::lock_guard lock(mutex_);
        e->progress = p;
        add_event(*e, "progress", json::serialize(progress_json(p)));
      };
      async_scan(e->strand, std::move(source), e->request->options, std::move(context),
                 asio::bind_cancellation_slot(
                     e->signal.slot(),
                     asio::bind_executor(e->strand, [this, e](boost::system::error_code ec, scan_result result) {
                       // Writing the files is heavy (heatmaps, a report): on the compute pool.
                       asio::post(pool_.get_executor(), [this, e, ec, result = std::move(result)] {
                         if (ec == boost::system::errc::invalid_argument ||
                             (ec && ec != errc::cancelled && ec != errc::stopped_on_error)) {
                           finish(e, scan_state::failed, result.failure.empty() ? ec.message() : result.failure);
                           return;
                         }
                         const scan_request& asked = *e->request;
                         const fs::path dir = dir_of(e->id) / "results";
                         try {
                           fs::create_directories(dir);
                           remove_stale_temporaries(dir);
                           if (asked.report)
                             write_outputs_and_report(result, dir, asked.balance, asked.report_options);
                           else
                             write_outputs(result, dir, asked.balance);
                         } catch (const std::exception& x) {
                           finish(e, scan_state::failed, fmt::format("the results could not be written: {}", x.what()));
                           return;
                         }
                         {
                           const std::lock_guard lock(mutex_);
                           e->has_results = true;
                         }
                         if (ec == errc::stopped_on_error) {
                           const auto& errors = result.stats.errors;
                           const auto bad = std::ranges::find(errors, result.stopped_at, &file_error::path);
                           finish(
                               e, scan_state::failed,
                               fmt::format("stopped at the first file that could not be scanned (stop_on_error): "
                                           "{}: {}; the results so far are partial",
                                           printable_name(result.stopped_at), bad != errors.end() ? bad->message : ""));
                         } else {
                           finish(e, ec == errc::cancelled ? scan_state::cancelled : scan_state::done, {});
                         }
                       });
                     })));
      bool cancel = false;
      {
        const std::lock_guard lock(mutex_);
        cancel = e->cancel_requested;
      }
      if (cancel) e->signal.emit(asio::cancellation_type::terminal);
    });
  });
}

void scan_registry::finish(const std::shared_ptr<entry>& e, scan_state state, std::string error) {
  std::unique_lock lock(mutex_);
  finish_locked(lock, e, state, std::move(error));
}

void scan_registry::finish_locked(std::unique_lock<std::mutex>& lock, const std::shared_ptr<entry>& e, scan_state state,
                                  std::string error) {
  if (ended(e->state)) return;  // e.g. two DELETEs of a queued scan
  e->state = state;
  e->error = std::move(error);
  e->finished = now_utc();
  e->request.reset();
  json::object end{{"state", to_string(state)}, {"progress", progress_json(e->progress)}};
  if (!e->error.empty()) end["error"] = e->error;
  add_event(*e, "end", json::serialize(end));
  persist(*e);
  config_.log(e->error.empty()
                  ? fmt::format("scan {}: {} ({} frames)", e->id, to_string(state), e->progress.frames_done)
                  : fmt::format("scan {}: {}: {}", e->id, to_string(state), e->error));
  if (e->was_running) --running_;
  start_waiting(lock);
  if (stopping_ && running_ == 0 && when_idle_) asio::post(io_, std::exchange(when_idle_, nullptr));
}

std::optional<std::pair<json::object, std::string>> scan_registry::describe(std::uint64_t id) const {
  json::object r;
  bool results = false;
  {
    const std::lock_guard lock(mutex_);
    const auto it = scans_.find(id);
    if (it == scans_.end()) return std::nullopt;
    r = record(*it->second);
    results = it->second->has_results && ended(it->second->state);
  }
  if (results) {
    json::array names;
    const auto listed = files(id);
    for (const auto& name : *listed) names.emplace_back(name);
    r["files"] = std::move(names);
    try {
      auto text = read_text(dir_of(id) / "results" / "summary.json");
      boost::system::error_code ec;
      (void)json::parse(text, ec);  // whole and valid, or not given
      if (!ec) return std::pair{std::move(r), std::move(text)};
    } catch (const std::exception&) {
    }
    r["summary"] = nullptr;  // removed or damaged by hand: the record still says what ran
  }
  return std::pair{std::move(r), std::string()};
}

json::array scan_registry::list() const {
  const std::lock_guard lock(mutex_);
  json::array out;
  for (const auto& [id, e] : scans_) out.emplace_back(record(*e));
  return out;
}

std::pair<unsigned, json::object> scan_registry::cancel(std::uint64_t id) {
  std::unique_lock lock(mutex_);
  const auto it = scans_.find(id);
  if (it == scans_.end()) return {404, {{"error", fmt::format("no scan {}", id)}}};
  auto e = it->second;
  if (ended(e->state))
    return {409, {{"error", fmt::format("scan {} has ended ({}): nothing to cancel", id, to_string(e->state))}}};
  if (e->state == scan_state::queued) {
    finish_locked(lock, e, scan_state::cancelled, {});  // under the lock: it cannot start meanwhile
  } else if (!e->cancel_requested) {
    e->cancel_requested = true;
    config_.log(fmt::format("scan {}: cancelling", id));
    asio::post(e->strand, [e] { e->signal.emit(asio::cancellation_type::terminal); });
  }
  return {202, record(*e)};
}

std::optional<std::pair<std::vector<scan_event>, bool>> scan_registry::events_after(std::uint64_t id,
                                                                                    std::uint64_t after) const {
  const std::lock_guard lock(mutex_);
  const auto it = scans_.find(id);
  if (it == scans_.end()) return std::nullopt;
  std::vector<scan_event> events;
  if (after > it->second->last_event) after = 0;  // not this stream's: from the start
  for (const auto& ev : it->second->events)
    if (ev.id > after) events.push_back(ev);
  const bool complete = !it->second->events.empty() && it->second->events.back().name == "end";
  return std::pair{std::move(events), complete};
}

std::optional<std::vector<std::string>> scan_registry::files(std::uint64_t id) const {
  {
    const std::lock_guard lock(mutex_);
    const auto it = scans_.find(id);
    if (it == scans_.end()) return std::nullopt;
    if (!it->second->has_results || !ended(it->second->state)) return std::vector<std::string>{};
  }
  std::vector<std::string> names;
  const fs::path dir = dir_of(id) / "results";
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code sec;
    if (!it->is_regular_file(sec) || it->is_symlink(sec)) continue;  // only what the service wrote
    const auto name = it->path().lexically_relative(dir).generic_string();
    if (detail::parse_temporary_name(it->path().filename().string())) continue;  // being written
    names.push_back(name);
  }
  std::ranges::sort(names);
  return names;
}

std::optional<fs::path> scan_registry::file(std::uint64_t id, const std::string& name) const {
  const auto names = files(id);
  if (!names || std::ranges::find(*names, name) == names->end()) return std::nullopt;
  return dir_of(id) / "results" / fs::path(name);
}

std::pair<std::size_t, std::size_t> scan_registry::load() const {
  const std::lock_guard lock(mutex_);
  const auto queued =
      std::ranges::count_if(scans_, [](const auto& s) { return s.second->state == scan_state::queued; });
  return {static_cast<std::size_t>(queued), running_};
}

void scan_registry::shutdown(std::function<void()> when_idle) {
  std::unique_lock lock(mutex_);
  stopping_ = true;  // start_waiting starts nothing from now on
  when_idle_ = std::move(when_idle);
  for (const auto& [id, e] : scans_) {
    if (e->state == scan_state::queued) finish_locked(lock, e, scan_state::cancelled, {});
    if (e->state == scan_state::running && !e->cancel_requested) {
      e->cancel_requested = true;
      asio::post(e->strand, [e] { e->signal.emit(asio::cancellation_type::terminal); });
    }
  }
  if (running_ == 0 && when_idle_) asio::post(io_, std::exchange(when_idle_, nullptr));
}

}  // namespace maskscan::service
