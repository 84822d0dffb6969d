#pragma once
// The process's CPU time and peak resident memory, for measurements (tune's trials).
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

#include <thread>

#include <sched.h>
#include <sys/resource.h>

namespace maskscan::detail {

/// The CPUs the process may run on (its affinity mask, as taskset or a cpuset sets it), at least 1.
inline unsigned usable_cpus() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

/// User + system CPU seconds of every thread of the process so far.
inline double process_cpu_seconds() noexcept {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// Resets the process's peak resident memory (VmHWM) to its current resident memory, so that a
/// later peak_resident_bytes() is the peak since (Linux: /proc/self/clear_refs). False if it cannot.
inline bool reset_peak_resident() noexcept {
  std::ofstream refs("/proc/self/clear_refs");
  if (!refs) return false;
  refs << "5";
  refs.flush();
  return static_cast<bool>(refs);
}

/// The process's peak resident memory in bytes (VmHWM; since reset_peak_resident), 0 if unknown.
inline std::uint64_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6)) * 1024;  // "VmHWM:   123456 kB"
  return 0;
}

}  // namespace maskscan::detail
