#include "core/atomic_file.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <streambuf>
#include <string_view>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <maskscan/output.hpp>

namespace maskscan {
namespace detail {
namespace {

/// The temporary files being written right now, kept where a signal handler can reach them with
/// nothing but async-signal-safe calls: fixed slots, a path written before the slot is published.
class unfinished_files {
 public:
  /// Registers `path`; returns the slot, or -1 if every slot is busy (the file is then not
  /// removed on a hard exit, which is only possible with more than kSlots concurrent writers).
  int add(const std::filesystem::path& path) noexcept {
    const auto& native = path.native();
    if (native.size() >= kPathMax) return -1;
    for (int i = 0; i < kSlots; ++i) {
      auto& e = slots_[static_cast<std::size_t>(i)];
      int expected = kFree;
      if (!e.state.compare_exchange_strong(expected, kFilling, std::memory_order_acquire)) continue;
      std::memcpy(e.path.data(), native.c_str(), native.size() + 1);
      e.state.store(kInUse, std::memory_order_release);
      return i;
    }
    return -1;
  }
  void remove(int i) noexcept {
    if (i >= 0) slots_[static_cast<std::size_t>(i)].state.store(kFree, std::memory_order_release);
  }
  /// Async-signal-safe: unlink() every registered path.
  void unlink_all() noexcept {
    for (auto& e : slots_)
      if (e.state.load(std::memory_order_acquire) == kInUse) ::unlink(e.path.data());
  }

 private:
  static constexpr int kSlots = 16;
  static constexpr std::size_t kPathMax = 4096;
  static constexpr int kFree = 0, kFilling = 1, kInUse = 2;
  struct entry {
    std::atomic<int> state{kFree};
    std::array<char, kPathMax> path{};
  };
  static_assert(std::atomic<int>::is_always_lock_free, "the registry is read from signal handlers");
  std::array<entry, kSlots> slots_;
};

constinit unfinished_files unfinished;  // constant-initialised: no guard a signal handler could hit
unfinished_files& registry() noexcept { return unfinished; }

class registration {
 public:
  explicit registration(const std::filesystem::path& path) noexcept : slot_(registry().add(path)) {}
  ~registration() { registry().remove(slot_); }
  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;

 private:
  int slot_;
};

}  // namespace

namespace {

/// An output stream buffer over a file descriptor that keeps the errno of the first failed
/// write(), which std::ofstream loses: the message can then say "No space left on device" or
/// "File too large" (with SIGXFSZ ignored, as the CLI does) instead of only "write failed".
class fd_buffer : public std::streambuf {
 public:
  explicit fd_buffer(int fd) : fd_(fd) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  fd_buffer(const fd_buffer&) = delete;
  fd_buffer& operator=(const fd_buffer&) = delete;
  /// The errno of the first failed write, 0 if none failed.
  int error() const noexcept { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n >= static_cast<std::streamsize>(buffer_.size())) {  // large blocks (heatmaps) go straight through
      if (!drain() || !write_all(s, static_cast<std::size_t>(n))) return 0;
      return n;
    }
    return std::streambuf::xsputn(s, n);
  }

 private:
  bool drain() {
    const auto n = static_cast<std::size_t>(pptr() - pbase());
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return write_all(buffer_.data(), n);
  }
  bool write_all(const char* data, std::size_t n) {
    if (error_) return false;  // after the first failure nothing more is written
    while (n > 0) {
      const auto written = ::write(fd_, data, n);
      if (written < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      if (written == 0) {  // no progress and no errno: say so rather than loop
        error_ = EIO;
        return false;
      }
      data += written;
      n -= static_cast<std::size_t>(written);
    }
    return true;
  }

  int fd_;
  int error_ = 0;
  std::array<char, 1 << 16> buffer_{};
};

/// Closes the descriptor on every path (a failed close after a good write is reported by hand).
class file_descriptor {
 public:
  explicit file_descriptor(int fd) noexcept : fd_(fd) {}
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const noexcept { return fd_; }
  /// close(), returning its errno (0 if it succeeded).
  int close() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::filesystem::path& file, const char* what, int error) {
  throw std::runtime_error(fmt::format("{}: {}: {}", file.string(), what, std::strerror(error)));
}

}  // namespace

std::string temporary_name(const std::filesystem::path& file, long pid, unsigned n) {
  return fmt::format("{}.tmp.{}.{}", file.filename().string(), pid, n);
}

std::optional<temporary_file_name> parse_temporary_name(const std::string& name) {
  // <output>.tmp.<pid>.<n>, both numbers decimal without sign.
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 19 && std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto last_dot = name.rfind('.');
  if (last_dot == std::string::npos || !digits(std::string_view(name).substr(last_dot + 1))) return std::nullopt;
  const auto pid_dot = name.rfind('.', last_dot - 1);
  if (pid_dot == std::string::npos || pid_dot == 0) return std::nullopt;
  const auto pid = std::string_view(name).substr(pid_dot + 1, last_dot - pid_dot - 1);
  if (!digits(pid)) return std::nullopt;
  constexpr std::string_view tmp = ".tmp";
  if (pid_dot < tmp.size() + 1 || std::string_view(name).substr(pid_dot - tmp.size(), tmp.size()) != tmp)
    return std::nullopt;
  return temporary_file_name{name.substr(0, pid_dot - tmp.size()), std::stoll(std::string(pid))};
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // nothing to make durable that we could reach
  ::fsync(fd);         // best effort: some file systems refuse fsync on a directory
  ::close(fd);
}

void write_file_atomically(const std::filesystem::path& file, const std::function<void(std::ostream&)>& write,
                           durability level) {
  static std::atomic<unsigned> counter{0};
  const auto temp = file.parent_path() / temporary_name(file, ::getpid(), counter++);
  const registration registered(temp);  // registered before the file exists, released after the rename
  // Every message names the output (the temporary beside it is an implementation detail, and is
  // removed) and the cause as the system gave it.
  file_descriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (fd.get() < 0) fail(file, "cannot create a temporary file beside it", errno);
  try {
    fd_buffer buffer(fd.get());
    {
      std::ostream out(&buffer);
      write(out);
      out.flush();
      if (!out && buffer.error() == 0) throw std::runtime_error(fmt::format("{}: cannot write", file.string()));
    }
    if (buffer.error()) fail(file, "cannot write", buffer.error());
    // The data reaches the disk before the name does, so that after a crash the name holds the whole
    // file, not an empty one.
    if (level == durability::synced && ::fsync(fd.get()) != 0 && errno != EINVAL && errno != EROFS)
      fail(file, "cannot write", errno);
    if (const int error = fd.close()) fail(file, "cannot write", error);
    if (::rename(temp.c_str(), file.c_str()) != 0) fail(file, "cannot rename into place", errno);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
}

}  // namespace detail

void remove_unfinished_outputs() noexcept { detail::registry().unlink_all(); }

}  // namespace maskscan
