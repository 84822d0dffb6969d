#pragma once
// Internal: CSV field quoting shared by the CSV writers.
#include <string>

#include <maskscan/text.hpp>

namespace maskscan::detail {

/// `text` as one CSV field (RFC 4180): quoted, with inner quotes doubled, if it holds a comma, a
/// quote or a line break; otherwise unchanged. A name that is not UTF-8 is written as printable_name
/// gives it, so the file reads as UTF-8.
inline std::string csv_field(const std::string& text) {
  const std::string s = printable_name(text);
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

}  // namespace maskscan::detail
