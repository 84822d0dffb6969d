#pragma once
// Internal: CSV field quoting shared by the CSV writers.
#include <string>

namespace maskscan::detail {

/// `s` as one CSV field (RFC 4180): quoted, with inner quotes doubled, if it holds a comma, a quote
/// or a line break; otherwise unchanged.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

}  // namespace maskscan::detail
