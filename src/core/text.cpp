#include <maskscan/text.hpp>

#include <cstdint>

#include <fmt/format.h>

namespace maskscan {
namespace {
/// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629), or 0 if there is none.
std::size_t utf8_sequence(std::string_view s) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  const auto continuation = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const std::uint8_t b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    const std::uint8_t b1 = byte(1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    const std::uint8_t b1 = byte(1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}
}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  while (!text.empty()) {
    const auto n = utf8_sequence(text);
    if (n == 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

std::string printable_name(std::string_view name) {
  if (is_valid_utf8(name)) return std::string(name);
  std::string out;
  out.reserve(name.size() + 8);
  while (!name.empty()) {
    if (const auto n = utf8_sequence(name)) {
      out.append(name.substr(0, n));
      name.remove_prefix(n);
    } else {
      out += fmt::format("\\x{:02X}", static_cast<std::uint8_t>(name[0]));
      name.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace maskscan
