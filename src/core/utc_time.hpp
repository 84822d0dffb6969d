#pragma once
// The current time in UTC as text, for stamps in outputs (report.html's date, a service's records).
#include <ctime>
#include <string>

namespace maskscan::detail {

/// Now, UTC, formatted by strftime's `format` (e.g. "%Y-%m-%dT%H:%M:%SZ").
inline std::string utc_now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  const auto n = std::strftime(text, sizeof text, format, &tm);
  return std::string(text, n);
}

}  // namespace maskscan::detail
