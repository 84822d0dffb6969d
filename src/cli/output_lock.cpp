#include "cli/output_lock.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <maskscan/output.hpp>

namespace maskscan::cli {
namespace fs = std::filesystem;

namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

/// "12:00:03" today, "2024-05-01 12:00:03" on another day (local time).
std::string local_time(std::time_t t) {
  std::tm when{}, today{};
  const std::time_t now = std::time(nullptr);
  if (!::localtime_r(&t, &when) || !::localtime_r(&now, &today)) return std::to_string(t);
  const bool same_day = when.tm_year == today.tm_year && when.tm_yday == today.tm_yday;
  char text[64];
  std::strftime(text, sizeof text, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &when);
  return text;
}

/// The lock file's key=value lines; empty until its holder has written them all (the last is
/// `command`).
std::map<std::string, std::string> read_holder(int fd) {
  std::string text;
  char buffer[4096];
  for (off_t at = 0;;) {
    const auto n = ::pread(fd, buffer, sizeof buffer, at);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    at += n;
    if (text.size() > 65536) break;
  }
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find('='); eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  if (!fields.contains("command")) fields.clear();
  return fields;
}

/// "maskscan pid 1234 on host h since 12:00:03 (maskscan scan ...)", from the lock file of the
/// holder (who writes it right after taking the lock: it is waited for, briefly).
std::string describe_holder(int fd) {
  auto fields = read_holder(fd);
  for (int i = 0; fields.empty() && i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    fields = read_holder(fd);
  }
  if (fields.empty()) return "another maskscan process (it has not written its details yet)";
  std::string since = fields["started"];
  try {
    since = local_time(static_cast<std::time_t>(std::stoll(since)));
  } catch (const std::exception&) {
  }
  return fmt::format("maskscan pid {} on host {} since {} ({})", fields["pid"], fields["host"], since,
                     fields["command"]);
}

void say_removed(const std::vector<fs::path>& removed, const std::string& where) {
  if (removed.empty()) return;
  fmt::print(stderr,
             "maskscan: removed {} temporary file{} that an earlier run left in {} when it was stopped before "
             "finishing (e.g. {})\n",
             removed.size(), removed.size() == 1 ? "" : "s", where, removed.front().string());
}

}  // namespace

run_lock::run_lock(fs::path file, const std::string& what, const std::string& command) : file_(std::move(file)) {
  for (int attempt = 0;; ++attempt) {
    fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0)
      throw std::runtime_error(
          fmt::format("{}: cannot write there: {}: {}", what, file_.string(), std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = error == EWOULDBLOCK ? describe_holder(fd_) : std::string();
      ::close(fd_);
      fd_ = -1;
      if (error == EWOULDBLOCK)
        throw std::runtime_error(fmt::format(
            "{} is in use by {}: two runs writing one destination would mix their results; wait for it to finish "
            "or choose another",
            what, holder));
      throw std::runtime_error(fmt::format("{}: cannot lock {}: {}", what, file_.string(), std::strerror(error)));
    }
    // The holder before us removes the file when it is done: if it did so between our open() and
    // flock(), we hold a lock on a file nobody else sees, and must take the one now at the name.
    struct stat held {
    }, named{};
    if (::fstat(fd_, &held) == 0 && ::stat(file_.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino)
      break;
    ::close(fd_);
    fd_ = -1;
    if (attempt == 100)
      throw std::runtime_error(fmt::format("{}: cannot lock {}: it keeps being replaced", what, file_.string()));
  }
  std::string single_line = command;
  for (auto& c : single_line)
    if (c == '\n' || c == '\r') c = ' ';
  const std::string text = fmt::format("pid={}\nhost={}\nstarted={}\ncommand={}\n", ::getpid(), host_name(),
                                       static_cast<long long>(std::time(nullptr)), single_line);
  // Best effort: the lock is held whatever the file says; a failure here only makes the message of
  // a refused run less precise.
  if (::ftruncate(fd_, 0) == 0) [[maybe_unused]]
    const auto written = ::pwrite(fd_, text.data(), text.size(), 0);
}

run_lock::~run_lock() {
  if (fd_ < 0) return;
  ::unlink(file_.c_str());  // before the lock is released: see the check after flock()
  ::close(fd_);
}

output_targets::output_targets(const request& r) {
  try {
    std::error_code ec;
    if (!r.state.empty()) {
      const fs::path state = r.state;
      const fs::path folder = state.parent_path().empty() ? fs::path(".") : state.parent_path();
      const auto status = fs::status(folder, ec);
      if (!fs::exists(status))
        throw std::runtime_error(
            fmt::format("--save-state {}: cannot write there: the folder {} does not exist", r.state, folder.string()));
      if (!fs::is_directory(status))
        throw std::runtime_error(
            fmt::format("--save-state {}: cannot write there: {} is not a directory", r.state, folder.string()));
      if (fs::is_directory(state, ec))
        throw std::runtime_error(fmt::format("--save-state {}: is a directory; give a file name", r.state));
      if (fs::exists(state, ec) && !r.force &&
          !(!r.resumed_state.empty() && fs::equivalent(state, r.resumed_state, ec)))
        throw std::runtime_error(
            fmt::format("--save-state {}: the file exists; pass --force to overwrite it", r.state));
    }
    if (!r.out.empty()) {
      const fs::path out = r.out;
      if (fs::exists(out, ec) && !fs::is_directory(out, ec))
        throw std::runtime_error(fmt::format("--out {}: exists and is not a directory", r.out));
      for (fs::path p = fs::absolute(out, ec).lexically_normal(); !p.empty() && p != p.parent_path();
           p = p.parent_path()) {
        if (!p.has_filename()) continue;  // "r/": its parent_path is "r"
        if (fs::exists(p, ec)) break;
        created_.push_back(p);
      }
      fs::create_directories(out, ec);
      if (ec) throw std::runtime_error(fmt::format("--out {}: cannot create the directory: {}", r.out, ec.message()));
      out_lock_.emplace(out / out_lock_name, "--out " + r.out, r.command);
      say_removed(remove_stale_temporaries(out), r.out);
      if (!r.force)
        for (const auto& entry : fs::directory_iterator(out, ec))
          if (entry.path().filename() != out_lock_name)
            throw std::runtime_error(fmt::format(
                "--out {}: the directory exists and is not empty; pass --force to overwrite the results in it "
                "(other files are kept), or choose another directory",
                r.out));
    }
    if (!r.state.empty()) {
      state_lock_.emplace(r.state + ".lock", "--save-state " + r.state, r.command);
      say_removed(remove_stale_temporaries_of(r.state), fs::path(r.state).parent_path().empty()
                                                            ? std::string(".")
                                                            : fs::path(r.state).parent_path().string());
    }
  } catch (...) {
    release();
    throw;
  }
}

output_targets::~output_targets() { release(); }

void output_targets::release() noexcept {
  state_lock_.reset();
  out_lock_.reset();
  for (const auto& dir : created_) {  // deepest first; remove() leaves a directory that is not empty
    std::error_code ec;
    if (!fs::remove(dir, ec)) break;
  }
  created_.clear();
}

}  // namespace maskscan::cli
