#include "service/server.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>

#include <maskscan/compute_pool.hpp>

#include "service/request.hpp"
#include "service/scans.hpp"

namespace maskscan::service {
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

/// `text` with every %XX decoded; nothing for a malformed escape or a NUL.
std::optional<std::string> percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

/// Equal strings, in a time that does not depend on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

const char* content_type_of(const std::string& name) {
  const auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".json")) return "application/json";
  if (ends(".csv")) return "text/csv; charset=utf-8";
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".png")) return "image/png";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";  // .npy
}

using string_response = http::response<http::string_body>;
using file_response = http::response<http::file_body>;
/// GET /scans/{id}/events: the session streams the events itself.
struct event_stream {
  std::uint64_t id = 0;
  std::uint64_t after = 0;
};
using reply = std::variant<string_response, file_response, event_stream>;

string_response json_reply(http::status status, const json::value& body) {
  string_response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = json::serialize(body) + "\n";
  res.prepare_payload();
  return res;
}

/// A scan's record with its summary.json text spliced in unchanged (not re-serialized: the numbers
/// stay the file's to the last digit).
string_response record_reply(http::status status, const std::pair<json::object, std::string>& described) {
  auto res = json_reply(status, described.first);
  if (described.second.empty()) return res;
  auto& body = res.body();
  auto summary = described.second;
  while (!summary.empty() && (summary.back() == '\n' || summary.back() == ' ')) summary.pop_back();
  body.resize(body.rfind('}'));  // the record's closing brace (the last one, before "\n")
  body += ",\"summary\":" + summary + "}\n";
  res.prepare_payload();
  return res;
}

string_response error_reply(unsigned status, const std::string& message) {
  return json_reply(static_cast<http::status>(status), json::object{{"error", message}});
}

/// The decimal id of a path segment, or nothing.
std::optional<std::uint64_t> id_of(std::string_view segment) {
  if (segment.empty() || segment.size() > 18) return std::nullopt;
  std::uint64_t id = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return id;
}

}  // namespace

struct server::impl {
  server_config config;
  fs::path root, state_dir;
  std::string token;
  // Declared before io: the coroutine frames io destroys last (sessions) refer to them.
  std::atomic<unsigned> connections{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> torn_down{false};  // set first by ~impl: a session's frame then leaves the registry alone
  asio::io_context io;
  // Keeps run() running while no connection or timer is pending (a scan alone runs on the pool)
  // until stop() has seen the scans end.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> busy{io.get_executor()};
  std::unique_ptr<compute_pool> pool;
  std::mutex log_mutex;
  scan_registry registry;
  // The acceptor is used on its strand only: the accept loop runs there, and stop() closes it there.
  asio::strand<asio::io_context::executor_type> accepting{asio::make_strand(io)};
  tcp::acceptor acceptor;
  unsigned short bound_port = 0;  // as bound: read by any thread, unlike the acceptor
  std::once_flag stop_once;
  std::optional<asio::signal_set> signals;

  explicit impl(const server_config& c)
      : config(c),
        root(checked_root(c.root)),
        state_dir(checked_state_dir(c.state_dir)),
        token(read_token(c.token_file)),
        pool(std::make_unique<compute_pool>(c.compute_threads)),
        registry(io, *pool,
                 {.root = root,
                  .state_dir = state_dir,
                  .max_running = std::max(1u, c.max_running),
                  .max_queued = c.max_queued,
                  .log = [this](const std::string& line) { log(line); }}),
        acceptor(accepting) {
    const auto colon = c.listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error(fmt::format("--listen {}: expected HOST:PORT", c.listen));
    std::string host = c.listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = c.listen.substr(colon + 1);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) throw std::runtime_error(fmt::format("--listen {}: '{}' is not an IP address", c.listen, host));
    unsigned long port_number = 0;
    try {
      std::size_t used = 0;
      port_number = std::stoul(port, &used);
      if (used != port.size() || port_number > 65535) throw std::invalid_argument("port");
    } catch (const std::exception&) {
      throw std::runtime_error(fmt::format("--listen {}: '{}' is not a port (0..65535)", c.listen, port));
    }
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(port_number));
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) throw std::runtime_error(fmt::format("--listen {}: cannot listen there: {}", c.listen, ec.message()));
    acceptor.listen(asio::socket_base::max_listen_connections);
    bound_port = acceptor.local_endpoint().port();
  }

  ~impl() {
    torn_down = true;
    pool.reset();  // waits for what scans left on it (writing results) before the registry goes
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  static fs::path checked_root(const fs::path& root) {
    std::error_code ec;
    const auto canonical = fs::canonical(root, ec);
    if (ec || !fs::is_directory(canonical))
      throw std::runtime_error(fmt::format("--root {}: not a folder", root.string()));
    return canonical;
  }
  static fs::path checked_state_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    const auto canonical = fs::canonical(dir, ec);
    if (ec || !fs::is_directory(canonical))
      throw std::runtime_error(fmt::format("--state-dir {}: cannot be created: {}", dir.string(), ec.message()));
    return canonical;
  }
  static std::string read_token(const fs::path& file) {
    if (file.empty()) return {};
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line))
      throw std::runtime_error(fmt::format("--token-file {}: cannot be read", file.string()));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.size() < 16)
      throw std::runtime_error(fmt::format("--token-file {}: the token is shorter than 16 characters", file.string()));
    return line;
  }

  void log(const std::string& line) {
    const std::lock_guard lock(log_mutex);
    fmt::print(stderr, "maskscan serve: {}\n", line);
    std::fflush(stderr);
  }

  void stop() {
    std::call_once(stop_once, [this] {
      asio::post(accepting, [this] {
        stopping = true;
        log("stopping: no new connections; cancelling the scans");
        boost::system::error_code ignored;
        acceptor.close(ignored);
        if (signals) signals->cancel();
        registry.shutdown([this] {
          log("stopped");
          busy.reset();
          io.stop();
        });
      });
    });
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::make_strand(io), asio::redirect_error(asio::use_awaitable, ec));
      if (!acceptor.is_open()) co_return;
      if (ec) {  // e.g. out of file descriptors: wait a moment rather than spin
        log(fmt::format("accept: {}", ec.message()));
        asio::steady_timer pause(io, std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  /// Whether the request carries the token (always, without --token-file). The scheme name is
  /// case-insensitive (RFC 7235), the token compared in constant time.
  template <class Fields>
  bool authorized(const http::header<true, Fields>& req) const {
    if (token.empty()) return true;
    const auto auth = req[http::field::authorization];
    const std::string_view given(auth.data(), auth.size());
    return given.size() > 7 && beast::iequals(given.substr(0, 7), "Bearer ") &&
           constant_time_equal(given.substr(7), token);
  }

  /// The reply to one request (not an event stream's events).
  reply handle(const http::request<http::string_body>& req) {
    const std::string_view target(req.target().data(), req.target().size());
    const auto path = percent_decoded(target.substr(0, target.find('?')));
    if (!path || path->empty() || path->front() != '/') return error_reply(400, "a malformed request target");
    std::vector<std::string> segments;
    for (std::size_t start = 1; start <= path->size();) {
      const auto end = std::min(path->find('/', start), path->size());
      segments.emplace_back(path->substr(start, end - start));
      start = end + 1;
    }
    if (!segments.empty() && segments.back().empty()) segments.pop_back();  // a trailing '/'
    for (const auto& s : segments)
      if (s == ".." || s == "." || s.find('\\') != std::string::npos)
        return error_reply(403, "a path with '.' or '..' segments or backslashes is not served");
    if (!authorized(req)) {
      auto res = error_reply(401, "missing or wrong token (Authorization: Bearer <token>)");
      res.set(http::field::www_authenticate, "Bearer");
      return res;
    }
    const auto method = req.method();
    const auto only = [&](std::initializer_list<http::verb> allowed, std::string_view allow) -> std::optional<reply> {
      for (auto v : allowed)
        if (method == v) return std::nullopt;
      auto res = error_reply(
          405, fmt::format("{} is not allowed here (allowed: {})", std::string(req.method_string()), allow));
      res.set(http::field::allow, allow);
      return res;
    };

    if (segments.size() == 1 && segments[0] == "health") {
      if (auto no = only({http::verb::get}, "GET")) return std::move(*no);
      const auto [queued, running] = registry.load();
      return json_reply(
          http::status::ok,
          json::object{{"status", stopping ? "stopping" : "ok"}, {"scans_queued", queued}, {"scans_running", running}});
    }
    if (segments.empty() || segments[0] != "scans") return error_reply(404, fmt::format("no such resource: {}", *path));
    if (segments.size() == 1) {
      if (auto no = only({http::verb::get, http::verb::post}, "GET, POST")) return std::move(*no);
      if (method == http::verb::get) return json_reply(http::status::ok, json::object{{"scans", registry.list()}});
      try {
        auto request =
            parse_scan_request(req.body(), root, {.max_workers = pool->size(), .max_memory = config.max_memory});
        request.report_options.command_line = "maskscan serve: POST /scans " + req.body();
        const auto id = registry.submit(std::move(request));
        auto res = record_reply(http::status::accepted, *registry.describe(id));
        res.set(http::field::location, fmt::format("/scans/{}", id));
        return res;
      } catch (const request_error& e) {
        return error_reply(e.status(), e.what());
      } catch (const std::exception& e) {  // e.g. the state directory cannot be written
        return error_reply(500, e.what());
      }
    }
    const auto id = id_of(segments[1]);
    if (!id) return error_reply(404, fmt::format("no scan '{}'", segments[1]));
    if (segments.size() == 2) {
      if (auto no = only({http::verb::get, http::verb::delete_}, "GET, DELETE")) return std::move(*no);
      if (method == http::verb::delete_) {
        auto [status, body] = registry.cancel(*id);
        return json_reply(static_cast<http::status>(status), body);
      }
      if (auto r = registry.describe(*id)) return record_reply(http::status::ok, *r);
      return error_reply(404, fmt::format("no scan {}", *id));
    }
    if (segments.size() == 3 && segments[2] == "events") {
      if (auto no = only({http::verb::get}, "GET")) return std::move(*no);
      if (!registry.events_after(*id, 0)) return error_reply(404, fmt::format("no scan {}", *id));
      std::uint64_t after = 0;
      if (const auto last = req["Last-Event-ID"]; !last.empty()) {
        if (const auto n = id_of(std::string_view(last.data(), last.size()))) after = *n;
      }
      return event_stream{*id, after};
    }
    if (segments[2] == "files") {
      if (auto no = only({http::verb::get}, "GET")) return std::move(*no);
      if (segments.size() == 3) {
        const auto names = registry.files(*id);
        if (!names) return error_reply(404, fmt::format("no scan {}", *id));
        json::array list;
        for (const auto& n : *names) list.emplace_back(n);
        return json_reply(http::status::ok, json::object{{"files", std::move(list)}});
      }
      std::string name;
      for (std::size_t i = 3; i < segments.size(); ++i) name += (i > 3 ? "/" : "") + segments[i];
      const auto file = registry.file(*id, name);
      if (!file)
        return error_reply(404, registry.files(*id) ? fmt::format("scan {} has no file '{}'", *id, name)
                                                    : fmt::format("no scan {}", *id));
      file_response res{http::status::ok, 11};
      beast::error_code ec;
      res.body().open(file->c_str(), beast::file_mode::scan, ec);
      if (ec) return error_reply(404, fmt::format("scan {}: {}: {}", *id, name, ec.message()));
      res.set(http::field::content_type, content_type_of(name));
      res.prepare_payload();
      return res;
    }
    return error_reply(404, fmt::format("no such resource: {}", *path));
  }

  asio::awaitable<void> session(beast::tcp_stream stream) {
    struct counted {  // n outlives every session's frame (declared before io)
      std::atomic<unsigned>& n;
      ~counted() { --n; }
    } count{connections};
    const bool too_many = ++connections > config.max_connections;
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    const auto write = [&](auto&& res) -> asio::awaitable<void> {
      stream.expires_after(std::chrono::seconds(30));
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    };
    if (too_many) {
      auto res = error_reply(503, "too many connections; try again later");
      res.keep_alive(false);
      co_await write(res);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      co_return;
    }
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(config.max_header_bytes);
      parser.body_limit(config.max_body_bytes);
      stream.expires_after(config.header_timeout);
      co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
          ec == asio::error::eof || ec == asio::error::operation_aborted)
        break;
      const auto started = std::chrono::steady_clock::now();  // the time it takes us, not the client's pauses
      std::optional<string_response> refused;
      if (ec == http::error::header_limit)
        refused = error_reply(431, fmt::format("the header is over {} bytes", config.max_header_bytes));
      else if (ec == http::error::body_limit)  // a Content-Length over the limit, seen with the header
        refused = error_reply(413, fmt::format("the body is over {} bytes", config.max_body_bytes));
      else if (ec)
        refused = error_reply(400, fmt::format("a malformed request: {}", ec.message()));
      if (!refused) {
        // 100 Continue only to a client that may send the body (the token is checked first).
        if (beast::iequals(parser.get()[http::field::expect], "100-continue") && authorized(parser.get())) {
          http::response<http::empty_body> go_on{http::status::continue_, 11};
          co_await write(go_on);
          if (ec) break;
        }
        stream.expires_after(config.body_timeout);
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == http::error::body_limit)
          refused = error_reply(413, fmt::format("the body is over {} bytes", config.max_body_bytes));
        else if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == asio::error::eof)
          break;
        else if (ec)
          refused = error_reply(400, fmt::format("a malformed request: {}", ec.message()));
      }
      if (refused) {  // the connection is not reused: the rest of what was sent is unknown
        refused->keep_alive(false);
        co_await write(*refused);
        log(fmt::format("- - {} (refused)", refused->result_int()));
        break;
      }
      const auto& req = parser.get();
      reply r = handle(req);
      // HEAD is not served: its 405 goes without a body (the client would not read one), and the
      // connection is closed after it.
      const bool head = req.method() == http::verb::head;
      if (auto* s = std::get_if<string_response>(&r); s && head) {
        s->body().clear();
        s->prepare_payload();
      }
      const auto ms = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      };
      const std::string what = fmt::format("{} {}", std::string(req.method_string()), std::string(req.target()));
      if (auto* s = std::get_if<string_response>(&r)) {
        s->keep_alive(req.keep_alive() && !stopping && !head);
        co_await write(*s);
        log(fmt::format("{} {} {:.1f} ms", what, s->result_int(), ms()));
        if (ec || !s->keep_alive()) break;
      } else if (auto* f = std::get_if<file_response>(&r)) {
        f->keep_alive(req.keep_alive() && !stopping);
        // 30 s and 1 s per MiB: a large .npy to a slow client is not cut off half-way.
        stream.expires_after(std::chrono::seconds(30) + std::chrono::seconds(f->body().size() >> 20));
        co_await http::async_write(stream, *f, asio::redirect_error(asio::use_awaitable, ec));
        log(fmt::format("{} {} {:.1f} ms", what, f->result_int(), ms()));
        if (ec || !f->keep_alive()) break;
      } else {
        log(fmt::format("{} 200 (event stream)", what));
        co_await stream_events(stream, std::get<event_stream>(r));
        break;
      }
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  /// Server-Sent Events of a scan until its "end" event (or the client leaves): the connection is
  /// closed after it.
  asio::awaitable<void> stream_events(beast::tcp_stream& stream, event_stream ask) {
    boost::system::error_code ec;
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    http::response_serializer<http::empty_body> header(res);
    stream.expires_after(std::chrono::seconds(30));
    co_await http::async_write_header(stream, header, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    // Woken by the registry when the scan has a new event (the notifier posts to this
    // connection's strand, so the timer is only touched here), else every 15 s for a comment.
    const auto ex = co_await asio::this_coro::executor;
    const auto timer = std::make_shared<asio::steady_timer>(ex);
    const auto woken = std::make_shared<bool>(false);  // an event came while no wait was pending (a write was)
    const auto subscription = registry.subscribe(ask.id, [timer, woken, ex] {
      asio::post(ex, [timer, woken] {
        *woken = true;
        timer->cancel();
      });
    });
    struct unsubscribed {
      impl& self;
      std::uint64_t id, subscription;
      ~unsubscribed() {
        if (!self.torn_down) self.registry.unsubscribe(id, subscription);
      }
    } leave{*this, ask.id, subscription};
    for (;;) {
      *woken = false;
      const auto events = registry.events_after(ask.id, ask.after);
      if (!events) co_return;
      std::string text;
      for (const auto& e : events->first) {
        text += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.name, e.data);
        ask.after = e.id;
      }
      if (text.empty()) text = ": still running\n\n";  // woken by the timer: keeps proxies from closing an idle stream
      stream.expires_after(std::chrono::seconds(30));
      co_await asio::async_write(stream, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      if (events->second) co_return;
      if (*woken) continue;
      timer->expires_after(std::chrono::seconds(15));
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
};

server::server(const server_config& config) : impl_(std::make_unique<impl>(config)) {
  impl_->log(fmt::format("listening on http://{}:{} (root {}, state {}{})",
                         impl_->acceptor.local_endpoint().address().to_string(), port(), impl_->root.string(),
                         impl_->state_dir.string(), impl_->token.empty() ? "" : ", token required"));
  asio::co_spawn(impl_->accepting, impl_->accept_loop(), asio::detached);
  if (config.on_listening) config.on_listening(port());
}

server::~server() = default;

unsigned short server::port() const noexcept { return impl_->bound_port; }

void server::run() {
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < std::max(1u, impl_->config.threads); ++i) threads.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto& t : threads) t.join();
}

void server::stop() { impl_->stop(); }

void server::stop_on_signals() {
  impl_->signals.emplace(impl_->io, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    impl_->log(fmt::format("{} received", signal == SIGINT ? "SIGINT" : "SIGTERM"));
    stop();
  });
}

int serve(const server_config& config) {
  server s(config);
  s.stop_on_signals();
  s.run();
  return 0;
}

}  // namespace maskscan::service
