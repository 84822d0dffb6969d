// report.html in a real browser: headless Chromium (support/browser.hpp) loads it from disk with the
// network off; the page must render (a screenshot of many colours), hold its section headings as
// <h2> elements, log no console error, request nothing from a network and load nothing from disk
// but itself. Each of the harness's checks is first shown to fail on a page built to fail it.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include "support/browser.hpp"
#include "support/run_cli.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
using test::browser_result;
using test::quote;
using test::run_cli;
namespace fs = std::filesystem;

/// Writes a fixture page `name`.html with this body into `work` and loads it.
browser_result load_page(const test::temp_dir& work, const std::string& name, const std::string& body) {
  const auto file = work / (name + ".html");
  test::write_file(file, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + name +
                             "</title></head>\n<body>\n" + body + "\n</body></html>\n");
  return test::load_in_chromium(file, work / (name + "-chromium"));
}

/// What a failing check should show: the console, the requests, chromium's timing.
std::string describe(const browser_result& r) {
  std::string text = fmt::format("{}x{} screenshot, {} colours, {} ms\nconsole:\n", r.width, r.height,
                                 r.distinct_colours(), r.elapsed.count());
  for (const auto& m : r.console) text += fmt::format("  [{}] {} ({})\n", m.level, m.text, m.source);
  text += fmt::format("page requests: {}\nNetLog requests:\n", r.page_requests);
  for (const auto& n : r.network_requests) text += fmt::format("  {} (initiator {})\n", n.url, n.initiator);
  text += fmt::format("headings: ");
  for (const auto& h : r.headings) text += fmt::format("<{}>{} ", h.tag, h.text);
  return text;
}

/// The wanted <h2> texts that the DOM does not hold.
std::vector<std::string> missing_h2(const browser_result& r, std::initializer_list<std::string> wanted) {
  const auto have = r.texts_of("h2");
  std::vector<std::string> missing;
  for (const auto& w : wanted)
    if (std::ranges::find(have, w) == have.end()) missing.push_back(w);
  return missing;
}

/// Distinct colours that are not a gray (text anti-aliasing is gray; images and charts are not).
std::size_t chromatic_colours(const browser_result& r) {
  std::vector<bool> seen(std::size_t{1} << 24);
  std::size_t n = 0;
  for (std::size_t i = 0; i + 2 < r.rgb.size(); i += 3) {
    const auto [lo, hi] = std::minmax({r.rgb[i], r.rgb[i + 1], r.rgb[i + 2]});
    const auto key = (std::size_t{r.rgb[i]} << 16) | (std::size_t{r.rgb[i + 1]} << 8) | r.rgb[i + 2];
    if (hi - lo > 16 && !seen[key]) {
      seen[key] = true;
      ++n;
    }
  }
  return n;
}

/// The page's requests that are local files other than the page itself: a self-contained report has none.
std::vector<std::string> other_files(const browser_result& r, const fs::path& page) {
  std::vector<std::string> out;
  for (const auto& url : r.page_requests)
    if (url.starts_with("file:") && !url.ends_with("/" + page.filename().string())) out.push_back(url);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::ranges::find(v, s) != v.end(); }

/// Sets an environment variable for one scope, restoring what was there.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("browser harness: a well-formed page passes every check", "[browser]") {
  test::temp_dir work;
  const auto r =
      load_page(work, "good",
                "<h1>Report</h1><h2>Summary</h2><p>Some text.</p>\n"
                "<svg width=\"200\" height=\"40\"><rect width=\"200\" height=\"40\" fill=\"#3b528b\"/></svg>\n"
                "<img alt=\"dot\" src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe"
                "AAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC\">\n"
                "<script>console.log('a log line'); console.warn('a warning');\n"
                "  const h = document.createElement('h2'); h.textContent = 'Run'; document.body.append(h);</script>");
  INFO(describe(r));
  CHECK_FALSE(r.blank());
  CHECK(chromatic_colours(r) >= 1);
  CHECK(r.console_errors().empty());
  CHECK(r.console.size() == 2);  // the log line and the warning, neither an error
  CHECK(r.external_requests().empty());
  CHECK(r.texts_of("h2") == std::vector<std::string>{"Summary", "Run"});  // "Run" exists only after the script ran
  CHECK(r.dom.find("<h2>Run</h2>") != std::string::npos);
  CHECK(r.width == 1280);
  CHECK(r.height >= 1);
  // The page itself went through the Network events: an empty list would prove nothing.
  CHECK(contains(r.page_requests, "file://" + (work / "good.html").string()));
  CHECK(other_files(r, work / "good.html").empty());
}

TEST_CASE("browser harness: console.error, a failed assertion and uncaught errors are console errors", "[browser]") {
  struct row {
    std::string script, level, text;
  };
  const auto [script, level, text] = GENERATE(values<row>({
      {"console.error('boom')", "error", "boom"},
      {"console.assert(1 === 2, 'kaput')", "assert", "kaput"},
      {"throw new Error('thrown')", "exception", "thrown"},
      {"Promise.reject(new Error('rejected'))", "exception", "rejected"},
      {"undefinedFunction()", "exception", "undefinedFunction is not defined"},
  }));
  CAPTURE(script);
  test::temp_dir work;
  const auto r = load_page(work, "error", "<h2>Summary</h2><script>" + script + "</script>");
  INFO(describe(r));
  const auto errors = r.console_errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].level == level);
  CHECK(errors[0].text.find(text) != std::string::npos);
  CHECK(errors[0].source.find("error.html:") != std::string::npos);
  CHECK(r.external_requests().empty());
}

TEST_CASE("browser harness: a request to a network is caught and fails at once, the network being off", "[browser]") {
  struct row {
    std::string body, url;
  };
  const auto [body, url] = GENERATE(values<row>({
      {"<img alt=\"x\" src=\"http://example.com/x.png\">", "http://example.com/x.png"},
      {"<script>fetch('https://example.com').catch(() => {});</script>", "https://example.com/"},
      {"<link rel=\"stylesheet\" href=\"https://fonts.googleapis.com/css?family=Roboto\">",
       "https://fonts.googleapis.com/css?family=Roboto"},
      {"<script>fetch('http://127.0.0.1:8000/data.json').catch(() => {});</script>", "http://127.0.0.1:8000/data.json"},
  }));
  CAPTURE(body);
  test::temp_dir work;
  const auto r = load_page(work, "external", "<h2>Summary</h2>" + body);
  INFO(describe(r));
  CHECK(r.external_requests() == std::vector<std::string>{url});
  // Both records saw it: the page's Network events and the NetLog of what reached the network stack.
  CHECK(contains(r.page_requests, url));
  CHECK(std::ranges::count(r.network_requests, url, &test::network_request::url) >= 1);
  // Refused at once by the dead proxy, not left to time out (one run takes about 2.5 s here).
  CHECK(std::ranges::any_of(r.console_errors(), [](const test::console_message& m) {
    return m.text.find("net::ERR_PROXY_CONNECTION_FAILED") != std::string::npos;
  }));
  CHECK(r.elapsed < std::chrono::seconds(30));
}

TEST_CASE("browser harness: a page that never finishes loading is an error after the timeout, chromium killed",
          "[browser]") {
  test::temp_dir work;
  test::write_file(work / "hang.html", "<!doctype html><h2>Summary</h2><script>for (;;) {}</script>");
  test::browser_options options;
  options.timeout = std::chrono::seconds(8);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(test::load_in_chromium(work / "hang.html", work / "chromium", options),
                    Catch::Contains("did not finish loading within 8 s"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  // No process is left running with this profile (the killed ones are gone or zombies, whose
  // command line is empty).
  const auto profile = (work / "chromium" / "profile").string();
  for (const auto& entry : fs::directory_iterator("/proc")) {
    if (!std::isdigit(static_cast<unsigned char>(entry.path().filename().string()[0]))) continue;
    std::string cmdline;
    try {
      cmdline = test::read_file(entry.path() / "cmdline");
    } catch (const std::exception&) {
      continue;  // exited meanwhile
    }
    INFO(entry.path().string() + ": " + cmdline);
    CHECK(cmdline.find(profile) == std::string::npos);
  }
}

TEST_CASE("browser harness: a blank page is one colour, a page of text alone is not", "[browser]") {
  test::temp_dir work;
  const auto blank = load_page(work, "blank", "");
  INFO(describe(blank));
  CHECK(blank.blank());
  CHECK(blank.distinct_colours() == 1);
  CHECK(blank.width * blank.height * 3 == static_cast<int>(blank.rgb.size()));
  // Black text only: not blank if and only if a font is installed (without one chromium draws no glyph).
  const auto text = load_page(work, "text", "<p style=\"font: 24px sans-serif; color: #000\">Summary</p>");
  INFO(describe(text));
  CHECK_FALSE(text.blank());
  CHECK(chromatic_colours(text) == 0);
}

TEST_CASE("browser harness: a heading counts only as an <h2> element of the DOM", "[browser]") {
  test::temp_dir work;
  const auto r = load_page(work, "headings",
                           "<h2>Summary</h2>\n<!-- <h2>Heatmaps</h2> -->\n<h3>Class weights</h3>\n"
                           "<p>Co-occurrence</p>\n<script>const s = '<h2>Skipped files</h2>';</script>\n"
                           "<h2>  Class\n   distribution </h2>");
  INFO(describe(r));
  CHECK(
      missing_h2(r, {"Summary", "Class distribution", "Heatmaps", "Class weights", "Co-occurrence", "Skipped files"}) ==
      std::vector<std::string>{"Heatmaps", "Class weights", "Co-occurrence", "Skipped files"});
  CHECK(r.texts_of("h3") == std::vector<std::string>{"Class weights"});
}

TEST_CASE("browser harness: a missing chromium fails the test with the reason, never passes", "[browser]") {
  test::temp_dir work;
  test::write_file(work / "page.html", "<!doctype html><h2>Summary</h2>");
  const scoped_env no_chromium("MASKSCAN_CHROMIUM", "/nonexistent/chromium");
  CHECK_THROWS_WITH(test::load_in_chromium(work / "page.html", work / "chromium"),
                    Catch::Contains("MASKSCAN_CHROMIUM=/nonexistent/chromium is not executable"));
}

namespace {

/// `maskscan synth` then `maskscan scan --heatmaps --report` (plus `scan_args`); the report's path.
/// The frames are in WoodScape's layout with synthetic RGB frames, so the report has overlays.
fs::path make_report(const test::temp_dir& work, const std::string& scan_args) {
  const auto frames = work / "ws/semantic_annotations/gtLabels", out = work / "out";
  const auto synth = run_cli("synth " + quote(frames) + " --frames 16 --width 320 --height 240 --seed 3 --rgb " +
                             quote(work / "ws/rgb_images"));
  INFO(synth.err);
  REQUIRE(synth.status == 0);
  const auto scan = run_cli("scan " + quote(frames) + " --heatmaps --report " + scan_args + " --out " + quote(out));
  INFO(scan.err);
  REQUIRE(scan.status == 0);
  REQUIRE(fs::is_regular_file(out / "report.html"));
  return out / "report.html";
}

void check_report(const fs::path& report, const browser_result& r) {
  INFO(describe(r));
  CHECK(r.distinct_colours() >= 64);
  CHECK(chromatic_colours(r) >= 32);  // the heatmaps and charts drew, not only text
  CHECK(r.console_errors().empty());
  CHECK(r.external_requests().empty());
  CHECK(other_files(r, report).empty());
}

/// The report of a scan with `scan_args`, rendered in Chromium: check_report, and `sections` all there.
void check_rendered(const std::string& scan_args, std::initializer_list<std::string> sections) {
  test::temp_dir work;
  const auto report = make_report(work, scan_args);
  const auto r = test::load_in_chromium(report, work / "chromium");
  check_report(report, r);
  INFO(describe(r));
  CHECK(missing_h2(r, sections).empty());
}

}  // namespace

TEST_CASE("report.html renders in Chromium with its sections, no console error and no request", "[browser][report]") {
  check_rendered(
      "", {"Summary", "Class distribution", "Heatmaps", "Class weights", "Co-occurrence", "Skipped files", "Run"});
}

TEST_CASE("report.html of a grouped scan with components renders in Chromium with every section", "[browser][report]") {
  check_rendered("--components 4 --group-by '_(FV|RV|MVL|MVR)\\.png$'",
                 {"Summary", "Class distribution", "Heatmaps", "Class weights", "Co-occurrence", "Connected components",
                  "Groups", "Sample overlays", "Skipped files", "Run"});
}

namespace {

/// The weights table as Chromium laid it out in a viewport `width` CSS pixels wide.
struct table_geometry {
  int columns = 0;           ///< header cells
  bool fits = false;         ///< the table's right edge is inside its box: nothing hidden
  bool scrollable = false;   ///< the box is wider inside than out and scrolls sideways
  bool box_in_view = false;  ///< the box itself ends inside the viewport (the page does not cut it)
};

/// Loads a copy of `report` with a script that measures the Class weights table into data-
/// attributes of a <pre>: the report has no script of its own, and the DOM is what the harness
/// returns.
table_geometry weights_table_geometry(const test::temp_dir& work, const fs::path& report, int width) {
  const auto copy = work / fmt::format("measured-{}.html", width);
  auto html = test::read_file(report);
  const auto end = html.rfind("</body>");
  REQUIRE(end != std::string::npos);
  html.insert(end, R"(<pre id="measured"></pre><script>
const out = document.getElementById('measured');
const table = document.querySelector('h2#weights ~ div table');
if (!table) out.dataset.error = 'no weights table';
else {
  const box = table.parentElement, b = box.getBoundingClientRect(), t = table.getBoundingClientRect();
  const overflow = getComputedStyle(box).overflowX;
  out.dataset.columns = table.rows[0].cells.length;
  out.dataset.fits = +(t.right <= b.right + 0.5 && box.scrollWidth <= box.clientWidth);
  out.dataset.scrollable = +(box.scrollWidth > box.clientWidth && (overflow === 'auto' || overflow === 'scroll'));
  out.dataset.boxInView = +(b.right <= document.documentElement.clientWidth + 0.5);
}
</script>
)");
  test::write_file(copy, html);
  test::browser_options options;
  options.width = width;
  const auto r = test::load_in_chromium(copy, work / fmt::format("chromium-{}", width), options);
  INFO(describe(r));
  REQUIRE(r.console_errors().empty());
  const auto attribute = [&](const std::string& name) {
    std::smatch m;
    INFO(name);
    REQUIRE(std::regex_search(r.dom, m, std::regex("<pre id=\"measured\"[^>]* data-" + name + "=\"([0-9]+)\"")));
    return std::stoi(m[1]);
  };
  CHECK(r.dom.find("data-error") == std::string::npos);
  return {attribute("columns"), attribute("fits") == 1, attribute("scrollable") == 1, attribute("box-in-view") == 1};
}

}  // namespace

TEST_CASE("report.html: the weights table is whole on a 1400 px page, and scrolls in its own box when narrower",
          "[browser][report]") {
  test::temp_dir work;
  // A threshold above some classes' frame frequency: repeat factors differ, so every column is shown.
  const auto report = make_report(work, "--repeat-threshold 0.9");
  const auto wide = weights_table_geometry(work, report, 1400);
  CHECK(wide.columns == 9);  // id, class, six weights, repeat factor
  CHECK(wide.fits);
  CHECK(wide.box_in_view);
  // On a narrow window the table cannot fit: it must scroll inside its box, not be cut by the page.
  const auto narrow = weights_table_geometry(work, report, 640);
  CHECK_FALSE(narrow.fits);
  CHECK(narrow.scrollable);
  CHECK(narrow.box_in_view);
}
