#include "cli/progress.hpp"

#include "output/summary_table.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace maskscan::cli {
namespace {

constexpr unsigned min_bar_cells = 8;

using maskscan::detail::code_points;

/// "[...]" of `cells` cells inside, filled to `fraction` rounded down (full only when done).
std::string progress_bar(double fraction, unsigned cells, bool unicode) {
  const unsigned steps = unicode ? 8 : 1;
  const auto filled = static_cast<unsigned>(std::clamp(fraction, 0.0, 1.0) * cells * steps);
  std::string bar = "[";
  if (unicode) {
    bar += maskscan::detail::eighth_blocks(filled);
    bar.append(cells - filled / 8 - (filled % 8 != 0), ' ');
  } else {
    bar.append(filled, '#');
    bar.append(cells - filled, '-');
  }
  bar += ']';
  return bar;
}

}  // namespace

std::string format_duration(double seconds) {
  const auto s = std::isfinite(seconds) && seconds > 0 ? static_cast<std::uint64_t>(seconds) : std::uint64_t{0};
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string format_progress(const scan_progress& p, unsigned columns, bool unicode) {
  const std::size_t budget = columns > 0 ? columns - 1 : 0;
  const bool done = p.frames_done >= p.frames_total;
  const double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.frames_done) / p.elapsed_seconds : -1;

  // Display order; `rank`: the lower, the longer a field stays when the line is narrow.
  struct field {
    std::string text;
    int rank;
  };
  constexpr int bar_rank = 2;
  std::vector<field> fields;
  fields.push_back(
      {fmt::format("{:>{}}/{} frames", p.frames_done, fmt::formatted_size("{}", p.frames_total), p.frames_total), 0});
  if (p.frames_skipped > 0) fields.push_back({fmt::format("({} skipped)", p.frames_skipped), 3});
  fields.push_back(
      {rate < 0 ? std::string("-- frames/s") : fmt::format("{:.{}f} frames/s", rate, rate < 10 ? 1 : 0), 4});
  if (!done) {
    const double eta = rate > 0 ? static_cast<double>(p.frames_total - p.frames_done) / rate : -1;
    // Rounded up (a small tolerance absorbs the division's rounding): "0:00" only when done.
    fields.push_back({eta >= 0 && eta < 1e7 ? "ETA " + format_duration(std::ceil(eta - 1e-6)) : "ETA --", 1});
  }
  fields.push_back({"elapsed " + format_duration(p.elapsed_seconds), 5});

  for (int keep = 6; keep > 0; --keep) {
    std::string text;
    for (const auto& f : fields)
      if (f.rank < keep) text += (text.empty() ? "" : "  ") + f.text;
    const bool with_bar = keep > bar_rank;
    const std::size_t size = text.size() + (with_bar ? min_bar_cells + 4 : 0);  // "[" "]" "  "
    if (size > budget) continue;
    if (!with_bar) return text;
    const double fraction =
        p.frames_total ? static_cast<double>(p.frames_done) / static_cast<double>(p.frames_total) : 1.0;
    return progress_bar(fraction, static_cast<unsigned>(budget - text.size() - 4), unicode) + "  " + text;
  }
  return fmt::format("{}/{}", p.frames_done, p.frames_total).substr(0, budget);
}

progress_line::progress_line(std::ostream& out, settings s, std::function<unsigned()> columns)
    : out_(out), settings_(s), columns_(std::move(columns)) {}

void progress_line::update(const scan_progress& p) {
  if (finished_) return;
  const bool last = p.frames_done >= p.frames_total;
  if (drawn_ && !last && p.elapsed_seconds - drawn_at_ < settings_.interval_seconds) return;
  draw(p, last);
}

void progress_line::finish(const scan_progress& p) {
  if (!finished_) draw(p, true);
}

void progress_line::draw(const scan_progress& p, bool last) {
  const auto line = format_progress(p, columns_ ? columns_() : 80, settings_.unicode);
  const auto size = code_points(line);
  std::string text = "\r" + line;
  if (settings_.terminal) {
    text += "\x1b[K";
    drawn_size_ = size;
  } else {  // no escape codes into a file: blank out the rest of a longer line drawn before
    text.append(drawn_size_ > size ? drawn_size_ - size : 0, ' ');
    drawn_size_ = std::max(drawn_size_, size);
  }
  if (last) text += '\n';
  out_ << text << std::flush;
  drawn_ = true;
  finished_ = last;
  drawn_at_ = p.elapsed_seconds;
}

bool utf8_locale() { return maskscan::detail::utf8_environment(); }

unsigned terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* env = std::getenv("COLUMNS")) {
    unsigned columns = 0;
    const auto end = env + std::strlen(env);
    if (const auto [ptr, ec] = std::from_chars(env, end, columns); ec == std::errc{} && ptr == end && columns > 0)
      return columns;
  }
  return 80;
}

std::function<void(const scan_progress&)> stderr_progress(std::function<bool(const scan_progress&)> stopping) {
  const progress_line::settings settings{.terminal = ::isatty(STDERR_FILENO) == 1, .unicode = utf8_locale()};
  auto line = std::make_shared<progress_line>(std::cerr, settings, [] { return terminal_columns(STDERR_FILENO); });
  return [line, stopping = std::move(stopping)](const scan_progress& p) {
    if (stopping && stopping(p))
      line->finish(p);
    else
      line->update(p);
  };
}

}  // namespace maskscan::cli
