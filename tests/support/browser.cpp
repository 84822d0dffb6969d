#include "support/browser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <spng.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

extern char** environ;

namespace maskscan::test {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

std::string errno_text(const char* what) { return fmt::format("{}: {}", what, std::strerror(errno)); }

/// The parent's environment without what would instrument or redirect the child: the sanitizer
/// builds run this binary with ASAN_OPTIONS / TSAN_OPTIONS set, and chromium is not instrumented.
/// XDG_* keep chromium's caches and config inside work_dir.
std::vector<std::string> child_environment(const fs::path& work_dir) {
  static constexpr std::array<std::string_view, 8> dropped = {
      "ASAN_OPTIONS=", "TSAN_OPTIONS=", "UBSAN_OPTIONS=",   "LSAN_OPTIONS=",
      "MSAN_OPTIONS=", "LD_PRELOAD=",   "XDG_CONFIG_HOME=", "XDG_CACHE_HOME="};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (std::ranges::none_of(dropped, [&](std::string_view d) { return entry.starts_with(d); }))
      env.emplace_back(entry);
  }
  env.push_back("XDG_CONFIG_HOME=" + (work_dir / "config").string());
  env.push_back("XDG_CACHE_HOME=" + (work_dir / "cache").string());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// Whether a process of this group other than its (not yet reaped) leader is still running.
/// /proc/<pid>/stat: "pid (comm) state ppid pgrp ...", comm possibly holding spaces and parentheses.
bool group_has_live_member(pid_t group) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0])) || std::stol(name) == group) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;  // gone meanwhile
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (fields >> state >> ppid >> pgrp && pgrp == group && state != 'Z' && state != 'X') return true;
  }
  return false;
}

/// Chromium in its own process group, its stdout and stderr in a file, and fds 3 (commands in)
/// and 4 (replies out) both its end of one socket pair: a socket rather than pipes so that a write
/// after chromium died fails with EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE in the tests.
class chromium_process {
 public:
  chromium_process(std::vector<std::string> argv, std::vector<std::string> env, const fs::path& log_file) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw browser_error(errno_text("socketpair"));
    fd_ = sv[0];
    // Above 4, so that placing it on 3 and 4 cannot overwrite itself.
    const int theirs = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    if (theirs < 0) throw browser_error(errno_text("fcntl"));

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, theirs, 3);
    posix_spawn_file_actions_adddup2(&actions, theirs, 4);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    const auto args = c_strings(argv);
    const auto envp = c_strings(env);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    ::close(theirs);
    if (rc != 0) {
      pid_ = -1;
      throw browser_error(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
    }
  }
  ~chromium_process() {
    kill_group();
    ::close(fd_);
  }
  chromium_process(const chromium_process&) = delete;
  chromium_process& operator=(const chromium_process&) = delete;

  int fd() const { return fd_; }

  /// Waits until the browser process has exited (without reaping it, so that its pid, which is
  /// the group id, cannot be reused before kill_group()); false if it is still running at `until`.
  bool wait_exit(steady::time_point until) const {
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_)
        return true;
      if (steady::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /// SIGKILL to the whole group (the renderer, GPU and utility processes too), waits until none of
  /// them runs any more (a signal is delivered asynchronously; the others are then zombies for
  /// init to reap), then reaps the browser process. Idempotent.
  void kill_group() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    const auto until = steady::now() + std::chrono::seconds(10);
    while (group_has_live_member(pid_) && steady::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
};

/// The DevTools protocol over the socket: JSON messages, each ended by a NUL byte. Events that
/// arrive while waiting go to on_event, in order.
class devtools_pipe {
 public:
  devtools_pipe(int fd, steady::time_point deadline, std::function<void(const json::object&)> on_event)
      : fd_(fd), deadline_(deadline), on_event_(std::move(on_event)) {}

  /// Sends a command (to the page's session if `session` is set) and returns its result.
  json::object call(std::string_view method, json::object params = {}, const std::string& session = {}) {
    const std::int64_t id = ++last_id_;
    json::object message{{"id", id}, {"method", method}, {"params", std::move(params)}};
    if (!session.empty()) message["sessionId"] = session;
    send(json::serialize(message) + '\0', method);
    for (;;) {
      auto reply = receive(deadline_, method);
      if (!reply) throw browser_error(fmt::format("no reply to {} before the timeout", method));
      const auto* reply_id = reply->if_contains("id");
      if (reply_id == nullptr || reply_id->to_number<std::int64_t>() != id) {
        dispatch(*reply);
        continue;
      }
      if (const auto* error = reply->if_contains("error"))
        throw browser_error(fmt::format("{} failed: {}", method, json::serialize(*error)));
      const auto* result = reply->if_contains("result");
      return result != nullptr && result->is_object() ? result->as_object() : json::object{};
    }
  }

  /// Reads and dispatches events until done() holds (true) or `until` / the deadline (false).
  bool pump_until(const std::function<bool()>& done, steady::time_point until, std::string_view what) {
    until = std::min(until, deadline_);
    while (!done()) {
      auto message = receive(until, what);
      if (!message) return false;
      dispatch(*message);
    }
    return true;
  }

 private:
  void dispatch(const json::object& message) {
    if (message.contains("method")) on_event_(message);
  }

  void send(const std::string& bytes, std::string_view what) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      pollfd p{fd_, POLLOUT, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - steady::now()).count();
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
        throw browser_error(fmt::format("chromium does not read its DevTools pipe (sending {})", what));
      const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        throw browser_error(
            fmt::format("chromium closed its DevTools pipe (sending {}): {}", what, std::strerror(errno)));
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
  }

  /// The next message, or nothing if none is complete by `until`. Throws if chromium closed the pipe.
  std::optional<json::object> receive(steady::time_point until, std::string_view what) {
    for (;;) {
      const auto end = buffer_.find('\0', scanned_);
      if (end != std::string::npos) {
        auto value = json::parse(std::string_view(buffer_).substr(0, end));
        buffer_.erase(0, end + 1);
        scanned_ = 0;
        if (!value.is_object()) throw browser_error("DevTools message is not a JSON object");
        return std::move(value.as_object());
      }
      scanned_ = buffer_.size();
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno != EINTR) throw browser_error(errno_text("poll"));
      if (ready <= 0) continue;
      char chunk[1 << 16];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        throw browser_error(
            fmt::format("chromium closed its DevTools pipe (exited or crashed) while waiting for {}", what));
      if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int fd_;
  steady::time_point deadline_;
  std::function<void(const json::object&)> on_event_;
  std::int64_t last_id_ = 0;
  std::string buffer_;
  std::size_t scanned_ = 0;
};

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::int64_t int_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<std::int64_t>() : 0;
}
const json::object& object_at(const json::object& o, std::string_view key) {
  static const json::object empty;
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->as_object() : empty;
}

std::string file_url(const fs::path& file) {
  std::string url = "file://";
  for (const unsigned char c : fs::absolute(file).lexically_normal().string()) {
    if (std::isalnum(c) || std::strchr("-._~/", c) != nullptr)
      url += static_cast<char>(c);
    else
      url += fmt::format("%{:02X}", c);
  }
  return url;
}

std::string shortened(std::string url) {
  if (url.starts_with("data:") && url.size() > 64) url = url.substr(0, 64) + "...";
  return url;
}

/// The text of a console API call: its arguments' values (or descriptions), space-separated.
std::string console_text(const json::object& params) {
  std::string text;
  if (const auto* args = params.if_contains("args"); args != nullptr && args->is_array()) {
    for (const auto& arg : args->as_array()) {
      const auto& a = arg.as_object();
      if (!text.empty()) text += ' ';
      if (const auto* v = a.if_contains("value"))
        text += v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
      else if (const auto* d = a.if_contains("description"))
        text += json::serialize(*d);
      else
        text += string_at(a, "type");
    }
  }
  return text;
}

std::string source_of(std::string url, std::int64_t zero_based_line) {
  if (url.empty()) return url;
  return fmt::format("{}:{}", shortened(std::move(url)), zero_based_line + 1);
}

std::string base64_decode(std::string_view in) {
  std::array<int, 256> value{};
  value.fill(-1);
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    value[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned bits = 0;
  int count = 0;
  for (const unsigned char c : in) {
    if (c == '=') break;
    if (value[c] < 0) throw browser_error("screenshot: invalid base64");
    bits = (bits << 6) | static_cast<unsigned>(value[c]);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFFu);
    }
  }
  return out;
}

void decode_screenshot(const std::string& png, browser_result& result) {
  std::unique_ptr<spng_ctx, void (*)(spng_ctx*)> ctx(spng_ctx_new(0), spng_ctx_free);
  const auto check = [](int rc, const char* step) {
    if (rc != 0) throw browser_error(fmt::format("screenshot: libspng: {} ({})", spng_strerror(rc), step));
  };
  if (!ctx) throw browser_error("screenshot: spng_ctx_new failed");
  check(spng_set_png_buffer(ctx.get(), png.data(), png.size()), "reading the signature");
  spng_ihdr ihdr{};
  check(spng_get_ihdr(ctx.get(), &ihdr), "reading IHDR");
  std::size_t size = 0;
  check(spng_decoded_image_size(ctx.get(), SPNG_FMT_RGB8, &size), "sizing");
  result.rgb.resize(size);
  check(spng_decode_image(ctx.get(), result.rgb.data(), size, SPNG_FMT_RGB8, 0), "decoding");
  result.width = static_cast<int>(ihdr.width);
  result.height = static_cast<int>(ihdr.height);
}

/// URL_REQUEST_START_JOB events: every request that reached the network stack.
std::vector<network_request> read_net_log(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw browser_error(file.string() + ": no NetLog written");
  std::stringstream bytes;
  bytes << in.rdbuf();
  boost::system::error_code ec;
  const auto doc = json::parse(bytes.str(), ec);
  if (ec || !doc.is_object())
    throw browser_error(fmt::format("{}: not a complete NetLog ({}); chromium did not exit cleanly", file.string(),
                                    ec ? ec.message() : "not an object"));
  const auto& types = object_at(object_at(doc.as_object(), "constants"), "logEventTypes");
  const auto* start_job = types.if_contains("URL_REQUEST_START_JOB");
  if (start_job == nullptr) throw browser_error(file.string() + ": the NetLog has no URL_REQUEST_START_JOB type");
  const auto start_job_type = start_job->to_number<std::int64_t>();
  std::vector<network_request> requests;
  if (const auto* events = doc.as_object().if_contains("events"); events != nullptr && events->is_array()) {
    for (const auto& event : events->as_array()) {
      const auto& e = event.as_object();
      if (int_at(e, "type") != start_job_type) continue;
      const auto& params = object_at(e, "params");
      if (params.contains("url")) requests.push_back({string_at(params, "url"), string_at(params, "initiator")});
    }
  }
  return requests;
}

std::string tail_of(const fs::path& file, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  auto text = s.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

bool is_local_scheme(std::string_view url) {
  return std::ranges::any_of(std::array<std::string_view, 4>{"file:", "data:", "blob:", "about:"},
                             [&](std::string_view s) { return url.starts_with(s); });
}

/// The flags, each for a reason:
/// - --headless: the new headless mode, the only one left in this chromium's main binary (the old
///   one moved to chrome-headless-shell in Chromium 132); --no-sandbox because as root chromium
///   refuses to start with its sandbox.
/// - network off, two layers: every hostname fails to resolve (MAP * ~NOTFOUND), and every
///   proxied scheme (http, https, ws, wss) goes to a proxy on 127.0.0.1:9 where nothing listens, so
///   a connection fails at once instead of hanging; "<-loopback>" withdraws the implicit proxy
///   bypass for localhost, so not even a local server is reached. The requests are still *made*,
///   which is what the NetLog and the Network events record.
/// - less traffic of the browser's own (component updater, sync, network time, spellcheck
///   dictionaries, metrics, crash reports, translate). What these flags do not stop in Chromium 156
///   (accounts.google.com/ListAccounts, an update check of the optimization guide's component) has
///   the initiator "not an origin" in the NetLog, so external_requests() leaves it out.
/// - --disable-gpu: software compositing, as on a CI machine without a GPU; --disable-dev-shm-usage:
///   a container's small /dev/shm would crash the renderer.
/// - a fixed viewport at device scale factor 1, no scrollbars, sRGB output: the same page gives
///   the same pixels, and a blank page is one colour.
std::vector<std::string> chromium_arguments(const fs::path& exe, const fs::path& work_dir, const browser_options& o) {
  return {
      exe.string(),
      "--headless",
      "--no-sandbox",
      "--remote-debugging-pipe",
      "--user-data-dir=" + (work_dir / "profile").string(),
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-component-extensions-with-background-pages",
      "--disable-default-apps",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-domain-reliability",
      "--disable-client-side-phishing-detection",
      "--disable-spell-checking",
      "--disable-breakpad",
      "--disable-crash-reporter",
      "--metrics-recording-only",
      "--disable-features=Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying",
      "--password-store=basic",
      "--mute-audio",
      "--disable-dev-shm-usage",
      "--disable-gpu",
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--proxy-server=127.0.0.1:9",
      "--proxy-bypass-list=<-loopback>",
      "--log-net-log=" + (work_dir / "netlog.json").string(),
      "--net-log-capture-mode=Default",
      "--enable-logging=stderr",
      fmt::format("--window-size={},{}", o.width, o.height),
      "--force-device-scale-factor=1",
      "--hide-scrollbars",
      "--force-color-profile=srgb",
      "about:blank",
  };
}

constexpr std::string_view headings_script =
    "Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'),"
    " e => [e.localName, e.textContent.replace(/\\s+/g, ' ').trim()])";

}  // namespace

std::size_t browser_result::distinct_colours() const {
  std::vector<bool> seen(std::size_t{1} << 24);
  std::size_t n = 0;
  for (std::size_t i = 0; i + 2 < rgb.size(); i += 3) {
    const auto key = (std::size_t{rgb[i]} << 16) | (std::size_t{rgb[i + 1]} << 8) | rgb[i + 2];
    if (!seen[key]) {
      seen[key] = true;
      ++n;
    }
  }
  return n;
}

std::vector<console_message> browser_result::console_errors() const {
  std::vector<console_message> out;
  std::ranges::copy_if(console, std::back_inserter(out), [](const console_message& m) {
    return m.level == "error" || m.level == "assert" || m.level == "exception";
  });
  return out;
}

std::vector<std::string> browser_result::external_requests() const {
  std::vector<std::string> out;
  for (const auto& url : page_requests)
    if (!is_local_scheme(url)) out.push_back(url);
  for (const auto& r : network_requests)
    if (r.initiator != "not an origin") out.push_back(r.url);
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> browser_result::texts_of(std::string_view tag) const {
  std::vector<std::string> out;
  for (const auto& h : headings)
    if (h.tag == tag) out.push_back(h.text);
  return out;
}

fs::path chromium_executable() {
  if (const char* env = std::getenv("MASKSCAN_CHROMIUM"); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) != 0) throw browser_error(fmt::format("MASKSCAN_CHROMIUM={} is not executable", env));
    return env;
  }
  // The binary, not the /usr/bin/chromium wrapper script: the wrapper adds the flags of
  // /etc/chromium.d (--enable-remote-extensions, which then drops its own
  // --disable-background-networking) and runs shell code that can print errors of its own.
  const fs::path debian = "/usr/lib/chromium/chromium";
  if (::access(debian.c_str(), X_OK) == 0) return debian;
  throw browser_error(
      "chromium is not installed: the browser tests need Debian's `chromium` package "
      "(scripts/install-deps.sh installs it), or MASKSCAN_CHROMIUM naming a Chromium executable");
}

browser_result load_in_chromium(const fs::path& html, const fs::path& work_dir, const browser_options& options) {
  const auto exe = chromium_executable();
  if (!fs::is_regular_file(html)) throw browser_error(html.string() + ": no such file");
  fs::create_directories(work_dir);
  for (const char* stale : {"profile", "config", "cache", "netlog.json", "screenshot.png"})
    fs::remove_all(work_dir / stale);
  const auto log_file = work_dir / "chromium.log";

  browser_result result;
  std::vector<std::pair<std::string, std::string>> lifecycle;  // (loaderId, event name)
  const auto on_event = [&](const json::object& message) {
    const auto method = string_at(message, "method");
    const auto& params = object_at(message, "params");
    if (method == "Runtime.consoleAPICalled") {
      const auto* frames = object_at(params, "stackTrace").if_contains("callFrames");
      std::string source;
      if (frames != nullptr && frames->is_array() && !frames->as_array().empty()) {
        const auto& top = frames->as_array().front().as_object();
        source = source_of(string_at(top, "url"), int_at(top, "lineNumber"));
      }
      result.console.push_back({string_at(params, "type"), console_text(params), source});
    } else if (method == "Runtime.exceptionThrown") {
      const auto& details = object_at(params, "exceptionDetails");
      auto text = string_at(details, "text");
      if (const auto description = string_at(object_at(details, "exception"), "description"); !description.empty())
        text += " " + description;
      result.console.push_back(
          {"exception", text, source_of(string_at(details, "url"), int_at(details, "lineNumber"))});
    } else if (method == "Log.entryAdded") {
      const auto& entry = object_at(params, "entry");
      result.console.push_back({string_at(entry, "level"), string_at(entry, "text"),
                                source_of(string_at(entry, "url"), int_at(entry, "lineNumber"))});
    } else if (method == "Network.requestWillBeSent") {
      result.page_requests.push_back(shortened(string_at(object_at(params, "request"), "url")));
    } else if (method == "Page.lifecycleEvent") {
      lifecycle.emplace_back(string_at(params, "loaderId"), string_at(params, "name"));
    }
  };
  const auto reached = [&](const std::string& loader, std::string_view name) {
    return [&lifecycle, loader, name] {
      return std::ranges::find(lifecycle, std::pair<std::string, std::string>(loader, name)) != lifecycle.end();
    };
  };

  const auto start = steady::now();
  const auto deadline = start + options.timeout;
  chromium_process browser(chromium_arguments(exe, work_dir, options), child_environment(work_dir), log_file);
  try {
    devtools_pipe cdp(browser.fd(), deadline, on_event);
    const auto target = string_at(cdp.call("Target.createTarget", {{"url", "about:blank"}}), "targetId");
    const auto session =
        string_at(cdp.call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}}), "sessionId");
    for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"})
      cdp.call(domain, {}, session);
    cdp.call("Page.setLifecycleEventsEnabled", {{"enabled", true}}, session);

    const auto url = file_url(html);
    const auto navigation = cdp.call("Page.navigate", {{"url", url}}, session);
    if (const auto error = string_at(navigation, "errorText"); !error.empty())
      throw browser_error(fmt::format("navigating to {} failed: {}", url, error));
    const auto loader = string_at(navigation, "loaderId");
    if (!cdp.pump_until(reached(loader, "load"), deadline, "the page's load event"))
      throw browser_error(fmt::format("{} did not finish loading within {} s", url, options.timeout.count()));
    // Idle: no request for 500 ms. Not reaching it is no error here; what is in flight is recorded.
    cdp.pump_until(reached(loader, "networkIdle"), steady::now() + options.settle, "network idle");

    const auto evaluate = [&](std::string_view expression) {
      auto reply = cdp.call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}}, session);
      if (reply.contains("exceptionDetails"))
        throw browser_error(
            fmt::format("evaluating {} threw: {}", expression, json::serialize(reply["exceptionDetails"])));
      return object_at(reply, "result").if_contains("value") ? object_at(reply, "result").at("value") : json::value();
    };
    const auto headings = evaluate(headings_script);
    for (const auto& h : headings.as_array()) {
      const auto& pair = h.as_array();
      result.headings.push_back({std::string(pair.at(0).as_string()), std::string(pair.at(1).as_string())});
    }
    result.dom = std::string(evaluate("document.documentElement.outerHTML").as_string());

    const auto metrics = cdp.call("Page.getLayoutMetrics", {}, session);
    const auto content_height = object_at(metrics, "cssContentSize").at("height").to_number<double>();
    const double height = std::clamp(content_height, 1.0, static_cast<double>(options.max_screenshot_height));
    const json::object clip{{"x", 0}, {"y", 0}, {"width", options.width}, {"height", height}, {"scale", 1}};
    const auto shot = cdp.call("Page.captureScreenshot",
                               {{"format", "png"}, {"captureBeyondViewport", true}, {"clip", clip}}, session);
    const auto png = base64_decode(string_at(shot, "data"));
    std::ofstream(work_dir / "screenshot.png", std::ios::binary) << png;  // for a person looking into a failure
    decode_screenshot(png, result);

    // A clean exit finishes the NetLog file; the reply may not come before the pipe closes.
    try {
      cdp.call("Browser.close");
    } catch (const browser_error&) {
    }
    if (!browser.wait_exit(std::min(deadline, steady::now() + std::chrono::seconds(10))))
      throw browser_error("chromium did not exit after Browser.close");
    browser.kill_group();  // stragglers of the group, if any
    result.network_requests = read_net_log(work_dir / "netlog.json");
  } catch (const std::exception& e) {
    browser.kill_group();
    throw browser_error(fmt::format("{}\nchromium {} (log {}), its last lines:\n{}", e.what(), exe.string(),
                                    log_file.string(), tail_of(log_file, 3000)));
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
  result.chromium_log = tail_of(log_file, 1 << 20);
  return result;
}

}  // namespace maskscan::test
