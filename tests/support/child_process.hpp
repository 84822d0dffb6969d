#pragma once
// A child process with its output on a pipe, for tests that signal a running command or measure
// one: its exit status, what it wrote, and its own peak memory (wait4).
#include <chrono>
#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace maskscan::test {

class child_process {
 public:
  enum class captured { stderr_only, stdout_and_stderr };

  /// Starts argv[0] (no shell) with the given arguments; stderr goes to a pipe, and stdout too or
  /// to /dev/null.
  explicit child_process(const std::vector<std::string>& argv, captured what = captured::stderr_only) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (what == captured::stdout_and_stderr)
      posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    else
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    err_fd_ = fds[0];
    if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + " failed");
  }
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) ::close(err_fd_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Reads the output until it contains `text` (true) or the child closes it / the time is up (false).
  bool wait_for_output(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output_.find(text) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) return false;
    }
    return true;
  }

  void signal(int signo) const { ::kill(pid_, signo); }

  /// Waits for the exit (reading the rest of the output); the exit status, or 128 + signal if it
  /// was killed by one, or -1 on timeout (the child is then killed).
  int wait(std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const bool got = read_some(50);
      int status = 0;
      rusage usage{};
      if (::wait4(pid_, &status, WNOHANG, &usage) == pid_) {
        peak_rss_kib_ = usage.ru_maxrss;
        pid_ = -1;
        while (read_some(0)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      if (!got && err_fd_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  /// What the child wrote (stderr, and stdout with captured::stdout_and_stderr).
  const std::string& output() const { return output_; }
  /// The child's own maximum resident set size, once wait() has returned.
  long peak_rss_kib() const { return peak_rss_kib_; }

 private:
  /// false when nothing more can come (EOF) or nothing came within timeout_ms.
  bool read_some(int timeout_ms) {
    if (err_fd_ < 0) return false;
    pollfd p{err_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buffer[4096];
    const auto n = ::read(err_fd_, buffer, sizeof buffer);
    if (n <= 0) {
      ::close(err_fd_);
      err_fd_ = -1;
      return false;
    }
    output_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string output_;
  long peak_rss_kib_ = 0;
};

}  // namespace maskscan::test
