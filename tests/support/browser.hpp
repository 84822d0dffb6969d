#pragma once
// Loads a page from disk in headless Chromium (Debian's `chromium`) with the network disabled and
// returns what a browser test checks: a screenshot, the DOM after scripts ran, every console
// message with its level, and every request the page made.
//
// Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe): its stderr log
// prints console messages without their level (console.log and console.error both come out as
// "INFO:CONSOLE"), so the levels come from the protocol's Runtime and Log events. The requests come
// from two independent records: the protocol's Network events (everything the page asked for,
// file: and data: included) and a NetLog file (everything that reached the network stack).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace maskscan::test {

struct browser_options {
  int width = 1280;                   ///< viewport width in CSS pixels, device scale factor 1
  int height = 1024;                  ///< viewport height; the screenshot covers the whole page
  int max_screenshot_height = 16384;  ///< a longer page is cut here (Skia's texture limit)
  std::chrono::seconds timeout{60};   ///< for the whole run; then chromium is killed
  std::chrono::seconds settle{10};    ///< after `load`, how long to wait for the network to go idle
};

/// One console message. `level` is the protocol's: for the console API the call ("log", "info",
/// "warning", "error", "assert", "debug", ...), "exception" for an uncaught exception or rejection,
/// and for browser-side entries (a failed load, a CSP violation) "verbose", "info", "warning" or
/// "error".
struct console_message {
  std::string level;
  std::string text;
  std::string source;  ///< "url:line" when known
};

/// A request that reached Chromium's network stack (URL_REQUEST_START_JOB in the NetLog).
struct network_request {
  std::string url;
  std::string initiator;  ///< the requesting origin ("null" for a file: page); "not an origin" for the browser's own
};

/// One element's tag (lower case) and its text content, whitespace collapsed and trimmed.
struct heading {
  std::string tag;
  std::string text;
};

struct browser_result {
  int width = 0;  ///< screenshot size in pixels
  int height = 0;
  std::vector<std::uint8_t> rgb;  ///< the screenshot, row-major, 3 bytes a pixel
  std::string dom;                ///< document.documentElement.outerHTML after the page settled
  std::vector<heading> headings;  ///< h1..h6 in document order, as the DOM holds them
  std::vector<console_message> console;
  std::vector<std::string> page_requests;  ///< every URL the page requested, any scheme (data: URLs cut to 64 chars)
  std::vector<network_request> network_requests;  ///< the NetLog's requests, the browser's own included
  std::string chromium_log;                       ///< chromium's stderr, for diagnosis only (never parsed)
  std::chrono::milliseconds elapsed{0};           ///< from launch to exit

  /// Number of different RGB values in the screenshot (1: blank).
  std::size_t distinct_colours() const;
  bool blank() const { return distinct_colours() <= 1; }
  /// Messages at level "error", "assert" or "exception".
  std::vector<console_message> console_errors() const;
  /// The page's requests that are not file:, data:, blob: or about: URLs, and the NetLog requests
  /// the page initiated: anything that would have gone to a network. Sorted, without duplicates.
  std::vector<std::string> external_requests() const;
  /// The texts of the headings with this tag ("h2").
  std::vector<std::string> texts_of(std::string_view tag) const;
};

/// Chromium is missing, or did not do what was asked in time; the message says which and why.
struct browser_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The Chromium executable: $MASKSCAN_CHROMIUM if set, else Debian's /usr/lib/chromium/chromium
/// (the binary behind the /usr/bin/chromium shell wrapper). Throws browser_error if there is none.
std::filesystem::path chromium_executable();

/// Opens `html` (a file) in a fresh headless Chromium with its profile, NetLog, log (chromium.log)
/// and screenshot (screenshot.png) in `work_dir` (created if needed), waits for `load` and then for the network to go
/// idle (at most options.settle), and collects the result. Chromium runs in its own process group, which is killed on
/// every path out; it never outlives the call nor options.timeout. Throws browser_error if Chromium is missing, fails
/// to start, crashes, does not navigate or times out.
browser_result load_in_chromium(const std::filesystem::path& html, const std::filesystem::path& work_dir,
                                const browser_options& options = {});

}  // namespace maskscan::test
