#pragma once
// A child process with its stderr on a pipe, for tests that signal a running command.
#include <chrono>
#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace maskscan::test {

class child_process {
 public:
  /// Starts argv[0] with the given arguments; stdout goes to /dev/null, stderr to a pipe.
  explicit child_process(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
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

  /// Reads stderr until it contains `text` (true) or the child closes it / the time is up (false).
  bool wait_for_stderr(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (err_.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) return false;
    }
    return true;
  }

  void signal(int signo) const { ::kill(pid_, signo); }

  /// Waits for the exit (reading the rest of stderr); the exit status, or 128 + signal if it was
  /// killed by one, or -1 on timeout (the child is then killed).
  int wait(std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const bool got = read_some(50);
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        while (read_some(0)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      if (!got && err_fd_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  const std::string& err() const { return err_; }

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
    err_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
};

}  // namespace maskscan::test
