#include "io/s3/http.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <curl/curl.h>
#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace maskscan::detail::s3 {
namespace asio = boost::asio;

namespace {

void global_init() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK)
    throw std::runtime_error(fmt::format("libcurl could not be initialised: {}", curl_easy_strerror(code)));
}

/// An error's body is kept up to this size: S3's XML errors are a few hundred bytes.
constexpr std::size_t max_error_body = 64 * 1024;

/// One request: its easy handle, its headers and where the body goes.
struct transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::vector<std::byte>* body = nullptr;
  std::uint64_t max_body = 0;
  http_response response;
  char error[CURL_ERROR_SIZE] = {};
  bool done = false;
  std::function<void()> on_done;

  transfer(const http_request& request, std::vector<std::byte>& out) : body(&out), max_body(request.max_body) {
    global_init();
    easy = curl_easy_init();
    if (!easy) throw std::runtime_error("libcurl could not make a request handle (out of memory?)");
    for (const auto& h : request.headers) {
      curl_slist* more = curl_slist_append(headers, h.c_str());
      if (!more) throw std::bad_alloc();
      headers = more;
    }
    out.clear();
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &transfer::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &transfer::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    // The path as signed: a key may hold "/./" or "/../", which curl would otherwise fold.
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, static_cast<long>(request.timeout_seconds));
    // No byte for timeout_seconds: abandoned (CURLE_OPERATION_TIMEDOUT), so retried.
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.timeout_seconds));
    // TLS: curl verifies the peer and the host name by default; nothing here turns that off.
  }
  ~transfer() {
    if (easy) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<transfer*>(user);
    const std::size_t bytes = size * count;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {  // an error's XML: kept apart from the frame's bytes
      auto& kept = t->response.error_body;
      kept.append(data, std::min(bytes, max_error_body - std::min(max_error_body, kept.size())));
      return bytes;
    }
    const auto* first = reinterpret_cast<const std::byte*>(data);
    const std::size_t room = t->max_body - std::min<std::uint64_t>(t->max_body, t->body->size());
    t->body->insert(t->body->end(), first, first + std::min(bytes, room));
    if (bytes > room) {
      t->response.too_long = true;  // the body up to max_body is kept
      return 0;                     // ends the transfer (CURLE_WRITE_ERROR)
    }
    return bytes;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) t->response.etag.clear();  // a new response (after a 100 Continue)
    constexpr std::string_view name = "etag:";
    if (line.size() > name.size() &&
        std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) { return a == std::tolower(b); })) {
      std::string_view value = line.substr(name.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
        value.remove_suffix(1);
      t->response.etag = std::string(value);
    }
    return size * count;
  }

  void finish(CURLcode code) {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
    if (response.too_long) code = CURLE_OK;  // our own stop, said by too_long
    response.curl_code = code;
    if (code != CURLE_OK) response.transport_error = error[0] ? std::string(error) : curl_easy_strerror(code);
    done = true;
  }
};

}  // namespace

std::string http_response::describe() const {
  if (too_long) return "the body is longer than expected";
  if (curl_code) return fmt::format("{} (curl error {})", transport_error, curl_code);
  return fmt::format("HTTP {}", status);
}

bool retryable(const http_response& r) noexcept {
  if (r.too_long) return false;
  switch (r.curl_code) {
    case CURLE_OK: break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;  // a certificate that does not verify, a bad URL, ...: the same each time
  }
  return r.status >= 500 || r.status == 429 || r.status == 408;
}

std::chrono::milliseconds backoff(unsigned attempt, std::minstd_rand& random) {
  const long long cap = std::min<long long>(10'000, 100LL << std::min(attempt, 20u));
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, cap)(random));
}

http_response perform_blocking(const http_request& request, std::vector<std::byte>& body) {
  transfer t(request, body);
  t.finish(curl_easy_perform(t.easy));
  return std::move(t.response);
}

/// The multi handle and what Asio watches for it: each socket curl names (a stream_descriptor that
/// is released, never closed, when curl is done with it: curl closes its sockets) and one timer.
struct http_client::state : std::enable_shared_from_this<state> {
  struct watch {
    explicit watch(const asio::any_io_executor& ex) : descriptor(ex) {}
    asio::posix::stream_descriptor descriptor;
    int wanted = 0;  // CURL_POLL_IN / OUT / INOUT
    bool reading = false, writing = false, removed = false;
  };

  explicit state(const asio::any_io_executor& executor) : ex(executor), timer(executor) {
    global_init();
    multi = curl_multi_init();
    if (!multi) throw std::runtime_error("libcurl could not make a multi handle (out of memory?)");
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &state::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &state::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  }
  ~state() {
    curl_multi_cleanup(multi);  // may still call on_socket for cached connections: the map is alive
    for (auto& [fd, w] : sockets) release(*w);
  }

  static void release(watch& w) {
    w.removed = true;
    w.wanted = 0;
    if (w.descriptor.is_open()) w.descriptor.release();  // deregistered, its waits aborted; not closed
  }

  static int on_socket(CURL* easy, curl_socket_t s, int what, void* user, void*) {
    auto* self = static_cast<state*>(user);
    if (what == CURL_POLL_REMOVE) {
      if (const auto it = self->sockets.find(s); it != self->sockets.end()) {
        release(*it->second);
        self->sockets.erase(it);
      }
      return 0;
    }
    auto& w = self->sockets[s];
    if (!w) {
      w = std::make_shared<watch>(self->ex);
      boost::system::error_code ec;
      w->descriptor.assign(s, ec);
      if (ec) {  // the socket cannot be watched: its transfer fails, once curl_multi_socket_action returns
        self->sockets.erase(s);
        self->unwatchable.push_back(easy);
        return 0;  // -1 would fail every transfer of the multi handle
      }
    }
    w->wanted = what;
    self->arm(s, w);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<state*>(user);
    if (timeout_ms < 0) {
      self->timer.cancel();
      return 0;
    }
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait([weak = self->weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (const auto alive = weak.lock()) alive->act(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  void arm(curl_socket_t s, const std::shared_ptr<watch>& w) {
    const auto wait = [&](asio::posix::descriptor_base::wait_type type, bool watch::*busy, int select) {
      (*w).*busy = true;
      w->descriptor.async_wait(type, [weak = weak_from_this(), w, s, busy, select](boost::system::error_code ec) {
        (*w).*busy = false;
        if (ec || w->removed) return;
        const auto alive = weak.lock();
        if (!alive) return;
        alive->act(s, select);
        if (!w->removed) alive->arm(s, w);
      });
    };
    if ((w->wanted & CURL_POLL_IN) && !w->reading)
      wait(asio::posix::descriptor_base::wait_read, &watch::reading, CURL_CSELECT_IN);
    if ((w->wanted & CURL_POLL_OUT) && !w->writing)
      wait(asio::posix::descriptor_base::wait_write, &watch::writing, CURL_CSELECT_OUT);
  }

  /// Lets curl work on socket `s` (or its timeouts), then completes the transfers that are done.
  void act(curl_socket_t s, int select) {
    int running = 0;
    curl_multi_socket_action(multi, s, select, &running);
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left))
      if (message->msg == CURLMSG_DONE) complete(message->easy_handle, message->data.result);
    for (CURL* easy : std::exchange(unwatchable, {})) complete(easy, CURLE_COULDNT_CONNECT);
  }

  /// Ends the transfer of `easy` with `code` (if it is still in the multi handle).
  void complete(CURL* easy, CURLcode code) {
    transfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    if (!t || t->done) return;
    curl_multi_remove_handle(multi, easy);
    active.erase(t);
    t->finish(code);
    if (t->on_done) t->on_done();
  }

  /// Ends every transfer in flight (CURLE_ABORTED_BY_CALLBACK): the scan stops.
  void abort_all() {
    for (transfer* t : std::vector<transfer*>(active.begin(), active.end()))
      complete(t->easy, CURLE_ABORTED_BY_CALLBACK);
  }

  asio::any_io_executor ex;
  CURLM* multi = nullptr;
  asio::steady_timer timer;
  std::unordered_map<curl_socket_t, std::shared_ptr<watch>> sockets;
  std::vector<CURL*> unwatchable;        // transfers whose socket Asio could not watch
  std::unordered_set<transfer*> active;  // in the multi handle
};

http_client::http_client(const asio::any_io_executor& ex) : state_(std::make_shared<state>(ex)) {}

http_client::~http_client() {
  // Released on the executor, after any of its handlers still queued there.
  const auto ex = state_->ex;  // not read from state_ in the call that moves it
  asio::post(ex, [s = std::move(state_)]() mutable { s.reset(); });
}

asio::awaitable<http_response> http_client::perform(const http_request& request, std::vector<std::byte>& body) {
  transfer t(request, body);
  asio::steady_timer wake(state_->ex, asio::steady_timer::time_point::max());
  t.on_done = [&wake] { wake.cancel(); };
  if (const CURLMcode code = curl_multi_add_handle(state_->multi, t.easy); code != CURLM_OK)
    throw std::runtime_error(fmt::format("libcurl could not start a request: {}", curl_multi_strerror(code)));
  struct remove_if_abandoned {    // the coroutine destroyed while the request is in flight
    std::shared_ptr<state> keep;  // the multi handle outlives this request
    transfer& t;
    ~remove_if_abandoned() {
      keep->active.erase(&t);
      if (!t.done) curl_multi_remove_handle(keep->multi, t.easy);
    }
  } guard{state_, t};
  state_->active.insert(&t);
  while (!t.done) co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return std::move(t.response);
}

}  // namespace maskscan::detail::s3

namespace maskscan::detail::s3 {
void http_client::abort_all() { state_->abort_all(); }
}  // namespace maskscan::detail::s3
