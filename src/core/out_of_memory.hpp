#pragma once
// Allocation failure as an error that names what did not fit. std::bad_alloc says only
// "std::bad_alloc"; the scan turns it into this at the places that allocate much (heatmap sets,
// read buffers, label planes, the rows of every frame), so a user under `ulimit -v` or a cgroup
// limit learns which knob to turn.
#include <cstdint>
#include <iterator>
#include <new>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace maskscan::detail {

/// std::system_error(std::errc::not_enough_memory): "not enough memory for <what>".
inline std::system_error out_of_memory(const std::string& what) {
  return std::system_error(std::make_error_code(std::errc::not_enough_memory), "not enough memory for " + what);
}

/// Runs `fn`; a std::bad_alloc from it becomes out_of_memory(describe()). An out_of_memory from
/// deeper down (which names its allocation more precisely) passes through.
template <class F, class Describe>
decltype(auto) naming_allocation(F&& fn, Describe&& describe) {
  try {
    return std::forward<F>(fn)();
  } catch (const std::bad_alloc&) {
    throw out_of_memory(std::forward<Describe>(describe)());
  }
}

/// Bytes in words: "49.5 MB" (decimal units, as `ls -lh --si` and df -H).
inline std::string byte_size(std::uint64_t bytes) {
  if (bytes < 1000) return fmt::format("{} bytes", bytes);
  constexpr const char* units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes) / 1000;
  std::size_t u = 0;
  while (v >= 1000 && u + 1 < std::size(units)) v /= 1000, ++u;
  return fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace maskscan::detail
