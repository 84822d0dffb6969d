#pragma once
// How names that are not text are written. A file name is bytes: on Linux it need not be UTF-8,
// and JSON, CSV read as UTF-8, HTML and terminals all need text. Every output writes frame, group
// and class names through printable_name, so a name reads the same in every file.
#include <string>
#include <string_view>

namespace maskscan {

/// `name` itself when it is valid UTF-8; otherwise every byte that is not part of a valid UTF-8
/// sequence is written as the four characters \xNN (two upper-case hex digits), as Python's
/// "backslashreplace" does, and the rest is kept. The result is always valid UTF-8.
std::string printable_name(std::string_view name);

/// True if `text` is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace maskscan
