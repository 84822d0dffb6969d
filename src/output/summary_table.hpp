#pragma once
// The pieces of print_summary's table that are worth testing on their own, and the terminal
// helpers the CLI's progress line shares with it.
#include <cstdint>
#include <string>
#include <string_view>

namespace maskscan::detail {

/// Width of the share bars in cells: the most frequent class fills all of them.
inline constexpr unsigned summary_bar_cells = 30;

/// True if the locale selected by these environment values uses UTF-8. As setlocale() resolves
/// LC_CTYPE, the first of them that is set and non-empty decides (LC_ALL=C overrides a UTF-8 LANG);
/// "UTF-8" and "utf8" match in any letter case. Null: not set.
bool utf8_locale(const char* lc_all, const char* lc_ctype, const char* lang) noexcept;
/// utf8_locale() of this process's environment.
bool utf8_environment() noexcept;

/// A bar of pixels / largest of `cells` cells: whole cells of U+2588 and one partial eighth block
/// (U+258F..U+2589) rounded to the nearest eighth with `unicode`, else '#' rounded to whole cells.
/// Any non-zero count gets at least the thinnest mark; zero gets an empty string.
std::string share_bar(std::uint64_t pixels, std::uint64_t largest, unsigned cells, bool unicode);

/// `eighths` eighths of a cell: U+2588 full blocks and one partial eighth block (U+258F..U+2589).
/// Shared by the table's bars and the progress bar.
std::string eighth_blocks(std::size_t eighths);

/// Code points of UTF-8 text (bytes that do not continue a sequence): the width of a line of
/// block characters and ASCII on a terminal.
std::size_t code_points(std::string_view text) noexcept;

}  // namespace maskscan::detail
