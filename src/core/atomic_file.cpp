#include "core/atomic_file.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

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

void write_file_atomically(const std::filesystem::path& file,
                           const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  auto temp = file;
  temp += fmt::format(".tmp.{}.{}", ::getpid(), counter++);
  const registration registered(temp);  // registered before the file exists, released after the rename
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out)
        throw std::runtime_error(fmt::format("{}: cannot create ({})", temp.string(), std::strerror(errno)));
      write(out);
      out.flush();
      if (!out) throw std::runtime_error(fmt::format("{}: write failed", temp.string()));
    }
    std::error_code ec;
    std::filesystem::rename(temp, file, ec);
    if (ec) throw std::runtime_error(fmt::format("{}: cannot rename into place ({})", file.string(), ec.message()));
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

}  // namespace detail

void remove_unfinished_outputs() noexcept { detail::registry().unlink_all(); }

}  // namespace maskscan
