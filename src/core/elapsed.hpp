#pragma once
// Seconds on the steady clock since a moment: a scan's wall time, tune's budget.
#include <chrono>

namespace maskscan::detail {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace maskscan::detail
