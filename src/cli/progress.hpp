#pragma once
// The progress line of a scan on stderr:
//   [#########-----------]  412/824 frames  (3 skipped)  187 frames/s  ETA 0:02  elapsed 0:02
// redrawn in place ('\r') at most 10 times a second, and ended with a newline by the last frame.
#include <functional>
#include <iosfwd>
#include <string>

#include <maskscan/options.hpp>

namespace maskscan::cli {

/// `seconds` (rounded down) as m:ss, or h:mm:ss from an hour on.
std::string format_duration(double seconds);

/// One progress line of at most `columns` - 1 code points (the last column stays free, so that a
/// terminal never wraps the line): bar, frames done / total, skipped (when there are), frames/s,
/// ETA (not on the final line, done == total), elapsed time. The bar takes the room the text leaves
/// (at least 8 cells); `unicode`: eighth blocks, else '#' and '-'. When the line does not fit, the
/// elapsed time goes first, then frames/s, the skipped count, the bar, the ETA and the word "frames".
///
/// frames/s is the average over the whole run, done / elapsed: a function of the report alone, the
/// same figure the summary prints at the end, and an ETA that does not jump with every slow file (a
/// scan's rate is steady after its first fraction of a second). ETA = (total - done) / that rate,
/// "ETA --" until a frame is done.
std::string format_progress(const scan_progress& p, unsigned columns, bool unicode);

/// Draws progress reports as one line redrawn in place on a stream, throttled by the reports' own
/// elapsed time (so it can be tested without a clock).
class progress_line {
 public:
  struct settings {
    bool terminal = false;          ///< the stream is a terminal: ESC[K clears the rest of the line
    bool unicode = false;           ///< see format_progress
    double interval_seconds = 0.1;  ///< the least time between two redraws
  };
  /// `columns` is asked before each redraw (a terminal may be resized during a scan).
  progress_line(std::ostream& out, settings s, std::function<unsigned()> columns);

  /// Draws the first report, then one whenever `interval_seconds` have passed since the last one
  /// drawn, and always the final one (done >= total), which ends the line. Later reports are ignored.
  void update(const scan_progress& p);
  /// Draws `p` and ends the line now, if it is not ended yet; later reports are ignored. For a scan
  /// that will stop before its last frame: what is printed next starts on a line of its own.
  void finish(const scan_progress& p);
  bool finished() const noexcept { return finished_; }

 private:
  void draw(const scan_progress& p, bool last);

  std::ostream& out_;
  settings settings_;
  std::function<unsigned()> columns_;
  bool drawn_ = false;
  bool finished_ = false;
  double drawn_at_ = 0;
  std::size_t drawn_size_ = 0;  // code points of the line on screen
};

/// Whether the environment's locale uses UTF-8 (the first set of LC_ALL, LC_CTYPE, LANG decides).
bool utf8_locale();
/// The width of the terminal on `fd` (TIOCGWINSZ), else $COLUMNS, else 80.
unsigned terminal_columns(int fd);

/// An on_progress for a scan run from the command line: a progress_line on stderr (terminal: from
/// the stream; unicode: from the locale; width: terminal_columns(stderr), asked at each redraw).
/// `stopping` is asked with each report; once it returns true the line is ended and nothing more is
/// drawn (interrupted, or --strict after a skipped file: only the frames in flight are finished).
std::function<void(const scan_progress&)> stderr_progress(std::function<bool(const scan_progress&)> stopping = {});

}  // namespace maskscan::cli
