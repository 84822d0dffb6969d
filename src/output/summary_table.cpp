#include <maskscan/output.hpp>
#include <maskscan/text.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <ostream>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "output/summary_table.hpp"

namespace maskscan {
namespace detail {

bool utf8_locale(const char* lc_all, const char* lc_ctype, const char* lang) noexcept {
  const char* locale = "";
  for (const char* v : {lc_all, lc_ctype, lang})
    if (v && *v) {
      locale = v;
      break;
    }
  std::string lower(locale);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

bool utf8_environment() noexcept {
  return utf8_locale(std::getenv("LC_ALL"), std::getenv("LC_CTYPE"), std::getenv("LANG"));
}

std::string share_bar(std::uint64_t pixels, std::uint64_t largest, unsigned cells, bool unicode) {
  if (pixels == 0 || largest == 0) return {};
  const unsigned steps = unicode ? 8 : 1;
  const double exact = static_cast<double>(pixels) / static_cast<double>(largest) * cells * steps;
  const auto n = std::clamp<long long>(std::llround(exact), 1, static_cast<long long>(cells) * steps);
  if (!unicode) return std::string(static_cast<std::size_t>(n), '#');
  return eighth_blocks(static_cast<std::size_t>(n));
}

std::string eighth_blocks(std::size_t eighths) {
  static constexpr std::string_view partial[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  std::string bar;
  for (std::size_t i = 0; i < eighths / 8; ++i) bar += "█";
  bar += partial[eighths % 8];
  return bar;
}

std::size_t code_points(std::string_view text) noexcept {
  return static_cast<std::size_t>(
      std::ranges::count_if(text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace detail

namespace {

std::size_t digits(std::uint64_t v) { return fmt::formatted_size("{}", v); }

/// A percentage that never reads as 0 for a non-zero count.
std::string percent(std::uint64_t part, std::uint64_t whole, int decimals) {
  if (part == 0 || whole == 0) return fmt::format("{:.{}f}%", 0.0, decimals);
  const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  const double smallest = std::pow(10.0, -decimals);
  if (p < smallest / 2) return fmt::format("<{:.{}f}%", smallest, decimals);
  return fmt::format("{:.{}f}%", p, decimals);
}

}  // namespace

void print_summary(const scan_result& result, std::ostream& out) {
  print_summary(result, out, detail::utf8_environment());
}

void print_summary(const scan_result& result, std::ostream& out, bool unicode) {
  const auto totals = compute_totals(result.stats);
  // An ignored class id has no class pixels (ignoring takes precedence): its row shows what the
  // id holds, marked "ignored" where the share would be, and has no bar.
  std::map<std::uint32_t, const value_total*> ignored;
  for (const auto& v : totals.ignored) ignored[v.value] = &v;
  const auto& ignore = result.stats.ignore;

  struct row {
    std::uint32_t id;
    std::string name;
    std::uint64_t pixels, frames;
    std::string share, frames_percent, bar;
  };
  std::vector<row> rows;
  std::uint64_t largest = 0;
  for (const auto& c : totals.classes) largest = std::max(largest, c.pixels);
  for (const auto& c : totals.classes) {
    // Classes from values: a value that does not occur is no class of the data.
    if (result.stats.classes_from_values && c.pixels == 0 && !ignored.contains(c.id)) continue;
    if (std::ranges::binary_search(ignore, c.id)) {
      const auto it = ignored.find(c.id);
      const std::uint64_t pixels = it == ignored.end() ? 0 : it->second->pixels;
      const std::uint64_t frames = it == ignored.end() ? 0 : it->second->frames;
      rows.push_back({c.id, printable_name(c.name), pixels, frames, "ignored", percent(frames, totals.frames, 1), {}});
    } else {
      rows.push_back({c.id, printable_name(c.name), c.pixels, c.frames_present,
                      percent(c.pixels, totals.labelled_pixels, 3), percent(c.frames_present, totals.frames, 1),
                      detail::share_bar(c.pixels, largest, detail::summary_bar_cells, unicode)});
    }
  }

  std::size_t id_w = 2, name_w = 5, pixels_w = 6, share_w = 7, frames_w = 6, frames_percent_w = 8;
  for (const auto& r : rows) {
    id_w = std::max(id_w, digits(r.id));
    name_w = std::max(name_w, detail::code_points(r.name));
    pixels_w = std::max(pixels_w, digits(r.pixels));
    share_w = std::max(share_w, r.share.size());
    frames_w = std::max(frames_w, digits(r.frames));
    frames_percent_w = std::max(frames_percent_w, r.frames_percent.size());
  }
  // fmt pads by its own idea of a character's width; class names are padded by code points here.
  const auto name_cell = [&](std::string_view name) {
    return fmt::format("{}{:{}}", name, "", name_w - detail::code_points(name));
  };
  fmt::print(out, "{:>{}}  {}  {:>{}}  {:>{}}  {:>{}}  {:>{}}  bar\n", "id", id_w, name_cell("class"), "pixels",
             pixels_w, "share", share_w, "frames", frames_w, "frames %", frames_percent_w);
  for (const auto& r : rows) {
    fmt::print(out, "{:>{}}  {}  {:>{}}  {:>{}}  {:>{}}  {:>{}}{}{}\n", r.id, id_w, name_cell(r.name), r.pixels,
               pixels_w, r.share, share_w, r.frames, frames_w, r.frames_percent, frames_percent_w,
               r.bar.empty() ? "" : "  ", r.bar);
  }

  if (totals.ignored_pixels) {
    std::string values;  // "11 Unlabelled: 297271"
    for (const auto& v : totals.ignored) {
      const auto name = value_name(result.stats, v.value);
      values += fmt::format("{}{}{}{}: {}", values.empty() ? "" : ", ", v.value, name.empty() ? "" : " ",
                            printable_name(name), v.pixels);
    }
    fmt::print(out, "ignored pixels: {} ({})\n", totals.ignored_pixels, values);
  }
  if (totals.out_of_range_pixels)
    fmt::print(out, "out-of-range pixels: {} (values not in the class list; see summary.json)\n",
               totals.out_of_range_pixels);
  if (totals.unknown_colour_pixels)
    fmt::print(out, "unknown-colour pixels: {} in {} colours not in the colour table (see summary.json)\n",
               totals.unknown_colour_pixels, totals.unknown_colours.size());
  if (!result.stats.grouping.empty()) {
    std::map<std::string, std::uint64_t> frames;
    for (const auto& row : result.stats.frames) ++frames[row.group];
    std::string list;
    for (const auto& [group, n] : frames)
      list += fmt::format("{}{} {}", list.empty() ? "" : ", ", printable_name(group), n);
    fmt::print(out, "{} groups (frames): {}\n", frames.size(), list);
  }
  const char* partial = !(result.partial || result.stats.partial) ? ""
                        : result.stopped_at.empty()               ? " (PARTIAL: interrupted)"
                                                                  : " (PARTIAL: stopped at the first bad file)";
  if (result.options.workers == 0)  // no scan ran (merged state files): there is no time or speed to tell
    fmt::print(out, "{} frames scanned, {} skipped{} (merged statistics)\n", totals.frames, totals.skipped, partial);
  else
    fmt::print(
        out, "{} frames scanned, {} skipped{} in {:.2f} s ({:.0f} frames/s, io={}, workers={})\n", totals.frames,
        totals.skipped, partial, result.wall_seconds,
        result.wall_seconds > 0 ? static_cast<double>(totals.frames + totals.skipped) / result.wall_seconds : 0.0,
        result.options.serial ? "serial" : to_string(result.io_used), result.options.workers);
  if (!result.stats.shards.whole())
    fmt::print(out,
               "these are the statistics of {} only: `maskscan merge` of every shard's --save-state gives the "
               "whole dataset's\n",
               describe(result.stats.shards));
  constexpr std::size_t listed = 20;
  for (std::size_t i = 0; i < result.stats.errors.size() && i < listed; ++i)
    fmt::print(out, "skipped {}: {}\n", printable_name(result.stats.errors[i].path), result.stats.errors[i].message);
  if (result.stats.errors.size() > listed)
    fmt::print(out, "... and {} more skipped files, all listed in summary.json\n", result.stats.errors.size() - listed);
}

}  // namespace maskscan
