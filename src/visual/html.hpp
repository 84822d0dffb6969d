#pragma once
// Small pieces of HTML writing: escaping and data: URIs (base64, RFC 4648).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace maskscan::detail {

/// Text safe inside HTML elements and quoted attribute values (& < > " ' escaped).
std::string escape_html(std::string_view text);

/// Standard base64 with '=' padding (RFC 4648 section 4).
std::string base64(std::span<const std::uint8_t> bytes);

/// "data:<mime>;base64,<...>" for an <img src>.
std::string data_uri(std::string_view mime, std::span<const std::uint8_t> bytes);

}  // namespace maskscan::detail
