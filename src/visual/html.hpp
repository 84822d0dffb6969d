#pragma once
// Small pieces of HTML/SVG writing: escaping, number and colour formats, data: URIs (base64, RFC 4648).
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace maskscan::detail {

/// Text safe inside HTML elements and quoted attribute values (& < > " ' escaped).
std::string escape_html(std::string_view text);

/// Standard base64 with '=' padding (RFC 4648 section 4).
std::string base64(std::span<const std::uint8_t> bytes);

/// 1234567 -> "1,234,567" (the report's tables and the charts).
std::string digit_groups(std::uint64_t value);

/// "#rrggbb".
std::string css_colour(const std::array<std::uint8_t, 3>& rgb);

/// "data:<mime>;base64,<...>" for an <img src>.
std::string data_uri(std::string_view mime, std::span<const std::uint8_t> bytes);

}  // namespace maskscan::detail
