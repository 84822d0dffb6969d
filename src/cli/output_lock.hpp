#pragma once
// The outputs of a run, made ready before any input is read: --out created and locked, the
// --save-state folder checked and its file locked, temporaries of killed runs removed.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace maskscan::cli {

/// An exclusive flock() on a lock file, held until destruction, which removes the file. The file
/// says who holds it (pid, host, start time, command), so that a run refused names the holder. The
/// kernel releases the lock when the process dies however it dies (kill -9 too): a lock file left
/// behind then is stale and harmless, as nobody holds its lock.
class run_lock {
 public:
  /// Takes the lock on `file` (created if needed) for the run `command`. Throws std::runtime_error
  /// starting with `what` (e.g. "--out r/"): "<what> is in use by maskscan pid 1234 on host h since
  /// 12:00:03 (<its command>)" if another process holds it, or naming `file` and the cause if it
  /// cannot be created (e.g. "Permission denied", "Read-only file system").
  run_lock(std::filesystem::path file, const std::string& what, const std::string& command);
  ~run_lock();
  run_lock(const run_lock&) = delete;
  run_lock& operator=(const run_lock&) = delete;

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

/// The name of the lock file inside an output directory.
inline constexpr const char* out_lock_name = ".maskscan.lock";

/// The output destinations of one run (scan or merge), checked and locked before any input is read.
class output_targets {
 public:
  struct request {
    std::string out;            ///< --out, or empty
    std::string state;          ///< --save-state, or empty
    std::string resumed_state;  ///< --resume: the state file that may be overwritten without --force
    bool force = false;
    std::string command;  ///< the command line, for the lock files
  };
  /// In this order, each before the next and all before any input is read: the --save-state folder
  /// must exist and the file must not (unless --force or it is the resumed state); --out is created
  /// and locked (which proves it writable), earlier runs' stale temporaries in it are removed (said
  /// on stderr), and it must be empty unless --force; the state's lock `<state>.lock` is taken and
  /// its stale temporaries removed. Throws std::runtime_error naming the destination and the cause;
  /// what it created is then removed again.
  explicit output_targets(const request& r);
  /// Releases the locks (removing the lock files) and removes --out again if this run created it
  /// and nothing was written into it.
  ~output_targets();
  output_targets(const output_targets&) = delete;
  output_targets& operator=(const output_targets&) = delete;

 private:
  void release() noexcept;

  std::optional<run_lock> out_lock_, state_lock_;
  std::vector<std::filesystem::path> created_;  ///< directories this run created, the deepest first
};

}  // namespace maskscan::cli
