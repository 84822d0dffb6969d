// report.html: its tables hold the scan's numbers (computed here from the hand-built masks), every
// picture is embedded from the bytes of the file written beside it, nothing refers outside the page.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <maskscan/class_map.hpp>
#include <maskscan/output.hpp>
#include <maskscan/report.hpp>
#include <maskscan/scan.hpp>

#include "support/reference_png.hpp"
#include "support/test_data.hpp"
#include "visual/colormap.hpp"
#include "visual/heatmap_images.hpp"
#include "visual/overlay.hpp"

namespace fs = std::filesystem;
using namespace maskscan;
using maskscan::test::temp_dir;

namespace {

constexpr std::uint32_t W = 8, H = 6;

/// Frame k: class 1 (road) in the bottom half; class 4 (person) in a 2x2 block at (1 + k, 0);
/// class 9 on one pixel of frame 0 only; the rest void (0).
std::vector<std::uint8_t> plane(unsigned k) {
  std::vector<std::uint8_t> p(W * H, 0);
  for (std::uint32_t y = H / 2; y < H; ++y)
    for (std::uint32_t x = 0; x < W; ++x) p[y * W + x] = 1;
  for (std::uint32_t y = 0; y < 2; ++y)
    for (std::uint32_t x = 1 + k; x < 3 + k; ++x) p[y * W + x] = 4;
  if (k == 0) p[2 * W + 7] = 9;
  return p;
}

void write_gray(const fs::path& file, const std::vector<std::uint8_t>& p) {
  test::write_png(file, {W, H, 8, 0, false}, p);
}

void write_rgb(const fs::path& file, std::uint8_t shade) {
  test::write_png(file, {W, H, 8, 2, false}, std::vector<std::uint8_t>(W * H * 3, shade));
}

std::vector<std::uint8_t> base64_decode(const std::string& s) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<std::uint8_t> out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : s) {
    if (c == '=') break;
    const auto v = alphabet.find(c);
    REQUIRE(v != std::string::npos);
    acc = acc << 6 | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> embedded_pngs(const std::string& html) {
  std::vector<std::vector<std::uint8_t>> out;
  const std::string marker = "src=\"data:image/png;base64,";
  for (auto at = html.find(marker); at != std::string::npos; at = html.find(marker, at + 1)) {
    const auto begin = at + marker.size();
    out.push_back(base64_decode(html.substr(begin, html.find('"', begin) - begin)));
  }
  return out;
}

std::vector<std::uint8_t> file_bytes(const fs::path& file) {
  const auto s = test::read_file(file);
  return {s.begin(), s.end()};
}

scan_result scan_dir(const fs::path& dir, bool heatmaps, const std::string& group_by = {}) {
  scan_options o;
  o.labels = "woodscape";  // the masks are WoodScape's ten classes
  o.heatmaps = heatmaps;
  o.group_by = group_by;
  o.workers = 2;
  return scan(frame_source::from_directory(dir), o);
}

/// The summary table's row of class `id`: (pixels, frames present) as printed.
std::pair<std::string, std::string> summary_row(const std::string& html, std::uint32_t id, const std::string& name) {
  const std::regex row(fmt::format(
      R"(<tr[^>]*><td class="num">{}</td><td class="name">(?:<span[^>]*></span>)?{}[^<]*</td><td class="num">([0-9,]+)</td>)"
      R"(<td class="num">[^<]*</td><td>.*?</td><td class="num">([0-9,]+)</td>)",
      id, name));
  std::smatch m;
  REQUIRE(std::regex_search(html, m, row));
  return {m[1], m[2]};
}

}  // namespace

TEST_CASE("report.html holds the scan's numbers, embeds the pictures written beside it and refers to nothing outside",
          "[report]") {
  temp_dir data, out;
  for (unsigned k = 0; k < 3; ++k) write_gray(data / fmt::format("f{}_FV.png", k), plane(k));
  test::write_file(data / "bad<&>.png", "not a png\n");
  const auto result = scan_dir(data.path(), true);
  REQUIRE(result.stats.frames.size() == 3);
  REQUIRE(result.stats.errors.size() == 1);

  report_options options;
  options.command_line = "maskscan scan <here> --report";
  const auto file = write_report(result, out.path(), {}, options);
  CHECK(file == out / "report.html");
  const auto html = test::read_file(file);

  SECTION("every section heading") {
    for (const char* h :
         {"Summary", "Class distribution", "Heatmaps", "Class weights", "Co-occurrence", "Skipped files", "Run"})
      CHECK(html.find(fmt::format(">{}</h2>", h)) != std::string::npos);
    CHECK(html.find(">Groups</h2>") == std::string::npos);  // not grouped
  }

  SECTION("the summary table gives the pixels and frames counted by hand") {
    std::array<std::uint64_t, 10> pixels{}, frames{};
    for (unsigned k = 0; k < 3; ++k) {
      std::array<std::uint64_t, 10> here{};
      for (const auto v : plane(k)) ++here[v];
      for (std::size_t c = 0; c < 10; ++c) {
        pixels[c] += here[c];
        frames[c] += here[c] > 0;
      }
    }
    CHECK(pixels[0] == 3 * 24 - 12 - 1);  // the top halves less the person blocks and one pixel
    const auto names = woodscape_class_names();
    for (std::uint32_t c = 0; c < 10; ++c) {
      const auto [p, f] = summary_row(html, c, names[c]);
      std::string digits = p;
      std::erase(digits, ',');
      CHECK(digits == std::to_string(pixels[c]));
      CHECK(f == std::to_string(frames[c]));
    }
  }

  SECTION("the imbalance card: the most common class against the rarest present one") {
    // road: the bottom halves, 3 x 24 pixels; traffic_sign: one pixel of frame 0.
    CHECK(html.find("<b>72 : 1</b><span>pixels of road to traffic_sign</span>") != std::string::npos);
  }

  SECTION("skipped files are listed, escaped") {
    CHECK(html.find("bad&lt;&amp;&gt;.png") != std::string::npos);
    CHECK(html.find("bad<&>") == std::string::npos);
    CHECK(html.find("maskscan scan &lt;here&gt; --report") != std::string::npos);
  }

  SECTION("self-contained: no reference to anything outside the page") {
    std::string rest = html;
    for (const std::string ns : {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"})
      for (auto at = rest.find(ns); at != std::string::npos; at = rest.find(ns)) rest.erase(at, ns.size());
    CHECK(rest.find("http:") == std::string::npos);
    CHECK(rest.find("https:") == std::string::npos);
    CHECK(rest.find("url(") == std::string::npos);
    CHECK(rest.find("<link") == std::string::npos);
    CHECK(rest.find("<script") == std::string::npos);
    const std::regex src(R"re(src="([^"]{0,10}))re");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), src); it != std::sregex_iterator(); ++it)
      CHECK((*it)[1].str().starts_with("data:"));
  }

  SECTION("each embedded picture is a file under images/, byte for byte") {
    const auto embedded = embedded_pngs(html);
    const fs::path heat = out / "images/heatmaps/8x6";
    std::vector<fs::path> expected{heat / "grid.png"};
    const auto names = woodscape_class_names();
    for (std::size_t c = 0; c < 10; ++c) expected.push_back(heat / fmt::format("{:02}_{}.png", c, names[c]));
    REQUIRE(embedded.size() == expected.size());
    for (const auto& f : expected) {
      INFO(f);
      REQUIRE(fs::is_regular_file(f));
      CHECK(std::ranges::find(embedded, file_bytes(f)) != embedded.end());
      const auto png = test::read_file_bytes(f);
      CHECK(test::reference_header(png).colour_type == 2);
    }
    for (const char* svg : {"class_distribution.svg", "class_distribution_log.svg", "class_weights.svg"}) {
      INFO(svg);
      const auto text = test::read_file(out / "images" / svg);
      REQUIRE(text.find("<svg") != std::string::npos);
      CHECK(html.find(text.substr(text.find("<svg"))) != std::string::npos);  // inlined whole
    }
  }

  SECTION("the brightest pixel of a class's heatmap image is where the masks put the class most often") {
    // Count, per pixel, the frames holding person (4) in the masks themselves.
    std::vector<unsigned> frames_with_person(W * H, 0);
    for (unsigned k = 0; k < 3; ++k) {
      const auto p = plane(k);
      for (std::size_t i = 0; i < p.size(); ++i) frames_with_person[i] += p[i] == 4;
    }
    const unsigned most = *std::ranges::max_element(frames_with_person);
    std::set<std::pair<std::uint32_t, std::uint32_t>> expected;
    for (std::uint32_t y = 0; y < H; ++y)
      for (std::uint32_t x = 0; x < W; ++x)
        if (frames_with_person[y * W + x] == most) expected.insert({x, y});
    REQUIRE(expected.size() == 4);  // x 2..3 of rows 0..1: the blocks of two frames overlap there

    // The picture, decoded by libspng; colours back to their index in viridis.
    const auto image = detail::decode_rgb_image(out / "images/heatmaps/8x6/04_person.png");
    const auto& set = result.stats.heatmaps.begin()->second;
    const auto layout = detail::layout_class_heatmap(set, 4, "person");
    REQUIRE(image.width == layout.width);
    REQUIRE(image.height == layout.height);
    const auto& table = detail::viridis_table;
    int brightest = -1;
    std::set<std::pair<std::uint32_t, std::uint32_t>> at;
    for (std::uint32_t y = 0; y < H; ++y)
      for (std::uint32_t x = 0; x < W; ++x) {
        const auto colour = image.get(layout.map_x + x, layout.map_y + y);
        const auto it = std::ranges::find(table, colour);
        REQUIRE(it != table.end());
        const int index = static_cast<int>(it - table.begin());
        if (index > brightest) at.clear(), brightest = index;
        if (index == brightest) at.insert({x, y});
      }
    CHECK(brightest == 255);
    CHECK(at == expected);
  }

  SECTION("the grid shows every class on one scale: equal shares of frames in two classes are one colour") {
    // From the masks: pixels holding person (4) in exactly one of the 3 frames, and the one pixel
    // of traffic_sign (9), also in one frame. Person's own maximum is 2 frames, traffic_sign's 1.
    std::vector<unsigned> person(W * H, 0), sign(W * H, 0);
    for (unsigned k = 0; k < 3; ++k) {
      const auto p = plane(k);
      for (std::size_t i = 0; i < p.size(); ++i) person[i] += p[i] == 4, sign[i] += p[i] == 9;
    }
    const auto image = detail::decode_rgb_image(out / "images/heatmaps/8x6/grid.png");
    const auto& set = result.stats.heatmaps.begin()->second;
    const auto names = woodscape_class_names();
    const auto layout = detail::layout_heatmap_grid(set, names);
    REQUIRE(image.width == layout.width);
    REQUIRE(layout.thumb_width == W);  // full size: a thumbnail pixel is a mask pixel
    const auto at = [&](std::size_t c, std::size_t i) {
      return image.get(layout.thumbs[c].first + static_cast<std::uint32_t>(i % W),
                       layout.thumbs[c].second + static_cast<std::uint32_t>(i / W));
    };
    const auto sign_pixel = static_cast<std::size_t>(std::ranges::find(sign, 1u) - sign.begin());
    std::size_t compared = 0;
    for (std::size_t i = 0; i < person.size(); ++i)
      if (person[i] == 1) {
        CAPTURE(i);
        CHECK(at(4, i) == at(9, sign_pixel));
        ++compared;
      }
    CHECK(compared >= 2);
    // The colour bar is there: left to right, viridis from its first entry to its last, never falling.
    const auto& table = detail::viridis_table;
    int previous = -1;
    for (std::uint32_t x = layout.bar_x; x < layout.bar_x + layout.bar_width; ++x) {
      const auto it = std::ranges::find(table, image.get(x, layout.bar_y));
      REQUIRE(it != table.end());
      const int index = static_cast<int>(it - table.begin());
      REQUIRE(index >= previous);
      previous = index;
    }
    CHECK(std::ranges::find(table, image.get(layout.bar_x, layout.bar_y)) == table.begin());
    CHECK(previous == 255);
  }

  SECTION("no overlays without RGB frames, and the page says where it looked") {
    CHECK(html.find("No RGB frames were found") != std::string::npos);
    CHECK_FALSE(fs::exists(out / "images/overlays"));
  }
}

TEST_CASE("report.html: the headline cards are about the data, the scan's time and speed are in the Run section",
          "[report]") {
  temp_dir data, out;
  for (unsigned k = 0; k < 3; ++k) write_gray(data / fmt::format("f{}.png", k), plane(k));
  test::write_file(data / "bad.png", "not a png\n");
  auto result = scan_dir(data.path(), false);
  REQUIRE(result.stats.frames.size() == 3);
  REQUIRE(result.stats.errors.size() == 1);
  result.wall_seconds = 0.25;  // 4 files handled (3 scanned, 1 skipped) in 0.25 s: 16 frames/s
  const auto html = test::read_file(write_report(result, out.path()));
  const auto summary = html.find("<h2 id=\"summary\">"), run = html.find("<h2 id=\"run\">");
  REQUIRE(summary != std::string::npos);
  REQUIRE(run != std::string::npos);
  const auto headline = html.substr(0, summary), run_section = html.substr(run);
  CHECK(headline.find("<b>3</b><span>frames scanned</span>") != std::string::npos);
  CHECK(headline.find("frames/s") == std::string::npos);
  CHECK(headline.find("0.25 s") == std::string::npos);
  CHECK(headline.find("scan time") == std::string::npos);
  CHECK(run_section.find("<b>0.25 s</b><span>scan time (wall)</span>") != std::string::npos);
  CHECK(run_section.find("<b>16</b><span>frames/s (scanned and skipped)</span>") != std::string::npos);
}

namespace {
std::string weights_section(const std::string& html) {
  const auto begin = html.find("<h2 id=\"weights\">"), end = html.find("<h2 id=\"cooccurrence\">");
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  return html.substr(begin, end - begin);
}
bool has_header(const std::string& section, const std::string& header) {
  return section.find("<th class=\"num\">" + header + "</th>") != std::string::npos;
}
const std::array<const char*, 6> weight_headers{"inverse frequency",      "inverse sqrt", "median frequency (present)",
                                                "median frequency (all)", "ENet",         "effective number"};
}  // namespace

TEST_CASE("report.html: a weights column in which every class has the same value is left out, with the reason",
          "[report]") {
  temp_dir data;
  for (unsigned k = 0; k < 3; ++k) write_gray(data / fmt::format("f{}.png", k), plane(k));
  const auto result = scan_dir(data.path(), false);
  // From the masks: void, road and person are in all 3 frames, traffic_sign (9) in 1.
  std::array<unsigned, 10> frames_with{};
  for (unsigned k = 0; k < 3; ++k) {
    const auto p = plane(k);
    for (std::uint32_t c = 0; c < 10; ++c) frames_with[c] += std::ranges::count(p, c) > 0;
  }
  REQUIRE(frames_with[9] == 1);
  const double rarest = frames_with[9] / 3.0;
  // The weights section of the report of `result` with this repeat threshold (none: the default).
  const auto weights_html = [&](std::optional<double> repeat_threshold) {
    temp_dir out;
    balance_options balance;
    balance.repeat_threshold = repeat_threshold;
    return weights_section(test::read_file(write_report(result, out.path(), balance)));
  };

  SECTION("no threshold (the default): no repeat-factor column, and the page says how to ask for one") {
    const auto html = weights_html(std::nullopt);
    CHECK_FALSE(has_header(html, "repeat factor"));
    for (const auto* h : weight_headers) CHECK(has_header(html, h));
    CHECK(html.find("no repeat factors (<code>--repeat-threshold t</code>") != std::string::npos);
  }

  SECTION("LVIS's threshold 0.001: every repeat factor is 1, the column is replaced by a note") {
    const auto html = weights_html(0.001);
    CHECK_FALSE(has_header(html, "repeat factor"));
    for (const auto* h : weight_headers) CHECK(has_header(html, h));
    CHECK(html.find("<b>repeat factor</b>: 1 for every class") != std::string::npos);
    CHECK(html.find("t = 0.001 is at or below every class's frame frequency") != std::string::npos);
    CHECK(html.find(fmt::format("traffic_sign's ({:.1f}% of the frames)", 100 * rarest)) != std::string::npos);
    CHECK(html.find(fmt::format("<code>--repeat-threshold</code> above {:.3g}", rarest)) != std::string::npos);
  }

  SECTION("a threshold above the rarest class's frame frequency: the column is shown with its values") {
    const auto html = weights_html(0.5);
    CHECK(has_header(html, "repeat factor"));
    CHECK(html.find("<ul class=\"flat\">") == std::string::npos);
    for (const std::uint32_t c : {0u, 1u, 4u, 9u}) {
      CAPTURE(c);
      const double f = frames_with[c] / 3.0;
      const std::regex row(
          fmt::format(R"(<td class="name">(?:<span[^>]*></span>)?{}</td>(?:<td class="num">[^<]*</td>){{6}})"
                      R"(<td class="num">([^<]*)</td></tr>)",
                      woodscape_class_names()[c]));
      std::smatch m;
      REQUIRE(std::regex_search(html, m, row));
      CHECK(m[1] ==
            fmt::format("{:.4g}", std::max(1.0, std::sqrt(0.5 / f))));  // as the weights  // LVIS: max(1, sqrt(t / f))
    }
  }

  SECTION("beta = 0 makes every effective-number weight 1: that column goes, with the reason") {
    temp_dir out;
    balance_options balance;
    balance.effective_beta = 0;
    balance.repeat_threshold = 0.5;
    const auto html = weights_section(test::read_file(write_report(result, out.path(), balance)));
    CHECK_FALSE(has_header(html, "effective number"));
    CHECK(has_header(html, "ENet"));
    CHECK(has_header(html, "repeat factor"));
    CHECK(html.find("<b>effective number</b>: 1 for every class") != std::string::npos);
    CHECK(html.find("counts every class as one sample") != std::string::npos);
    CHECK(test::read_file(out / "images/class_weights.svg").find("effective number - 1 for every class") !=
          std::string::npos);
  }

  SECTION("one weighted class: every column is one value, and the note says why") {
    temp_dir road_only, out;
    write_gray(road_only / "a.png", std::vector<std::uint8_t>(W * H, 1));
    const auto html = weights_section(test::read_file(write_report(scan_dir(road_only.path(), false), out.path())));
    for (const auto* h : weight_headers) {
      CAPTURE(h);
      CHECK_FALSE(has_header(html, h));
      // The normalized weights are 1 for a lone class; ENet is not normalized: 1 / ln(c + p), p = 1.
      const double value = std::string_view(h) == "ENet" ? 1 / std::log(balance_options{}.enet_c + 1) : 1.0;
      CHECK(html.find(fmt::format("<b>{}</b>: {:.4g} for every class", h, value)) != std::string::npos);
    }
    CHECK_FALSE(has_header(html, "repeat factor"));
    CHECK(html.find("Only one class, road, is weighted") != std::string::npos);
  }
}

TEST_CASE("report.html of a grouped scan has a section per group with its own heatmaps", "[report]") {
  temp_dir data, out;
  for (unsigned k = 0; k < 4; ++k) write_gray(data / fmt::format("f{}_{}.png", k, k % 2 ? "RV" : "FV"), plane(k));
  const auto result = scan_dir(data.path(), true, "_(FV|RV)\\.png$");
  const auto html = test::read_file(write_report(result, out.path()));
  CHECK(html.find(">Groups</h2>") != std::string::npos);
  CHECK(html.find("<h3 id=\"group-FV\">FV</h3>") != std::string::npos);
  CHECK(html.find("<h3 id=\"group-RV\">RV</h3>") != std::string::npos);
  CHECK(fs::is_regular_file(out / "images/heatmaps/FV/8x6/grid.png"));
  CHECK(fs::is_regular_file(out / "images/heatmaps/RV/8x6/grid.png"));
  CHECK(fs::is_regular_file(out / "images/heatmaps/8x6/grid.png"));  // all frames
  // The overall grid sums both groups' heatmaps: its class-4 frames are the 4 of the scan.
  CHECK(embedded_pngs(html).size() == 1 + 10 + 2);  // overall grid + classes, one grid per group
}

TEST_CASE("report.html without heatmaps, of a partial scan, and bad options", "[report]") {
  temp_dir data, out;
  write_gray(data / "a.png", plane(0));
  auto result = scan_dir(data.path(), false);
  result.partial = true;
  const auto html = test::read_file(write_report(result, out.path()));
  CHECK(html.find("Not accumulated in this scan") != std::string::npos);
  CHECK(html.find("Partial results") != std::string::npos);
  CHECK(embedded_pngs(html).empty());

  temp_dir other;
  report_options bad;
  bad.overlay_alpha = 1.5;
  CHECK_THROWS_AS(write_report(result, other / "r", {}, bad), std::invalid_argument);
  balance_options bad_balance;
  bad_balance.enet_c = 0.5;
  CHECK_THROWS_AS(write_report(result, other / "r", bad_balance), std::invalid_argument);
  CHECK_FALSE(fs::exists(other / "r"));  // refused before anything is written
}

TEST_CASE("report.html shows sample overlays when RGB frames sit beside the masks (WoodScape layout)", "[report]") {
  temp_dir root, out;
  for (unsigned k = 0; k < 6; ++k) {
    write_gray(root / fmt::format("semantic_annotations/gtLabels/{:05}_FV.png", k), plane(k % 3));
    if (k != 2) write_rgb(root / fmt::format("rgb_images/{:05}_FV.png", k), static_cast<std::uint8_t>(40 * k));
  }
  const auto result = scan_dir(root / "semantic_annotations/gtLabels", false);
  report_options options;
  options.overlays = 3;
  const auto html = test::read_file(write_report(result, out.path(), {}, options));
  CHECK(html.find(">Sample overlays</h2>") != std::string::npos);
  std::vector<fs::path> written(fs::directory_iterator(out / "images/overlays"), fs::directory_iterator{});
  CHECK(written.size() == 3);
  const auto embedded = embedded_pngs(html);
  CHECK(embedded.size() == 3);
  for (const auto& f : written) {
    INFO(f);
    CHECK(f.filename().string().find("00002") == std::string::npos);  // has no RGB frame
    CHECK(std::ranges::find(embedded, file_bytes(f)) != embedded.end());
    const auto header = test::reference_header(test::read_file_bytes(f));
    CHECK(header.width == W);
    CHECK(header.height == H);
  }
  options.overlays = 0;
  temp_dir none;
  CHECK(test::read_file(write_report(result, none.path(), {}, options)).find("Sample overlays") == std::string::npos);
}

TEST_CASE("report.html: an ignored class shows the pixels its value holds, and names are escaped everywhere",
          "[report]") {
  temp_dir data, out;
  for (unsigned k = 0; k < 3; ++k) write_gray(data / fmt::format("f{}_<g>.png", k), plane(k));
  scan_options o;
  o.class_names = woodscape_class_names();
  o.class_names[4] = "pe<r>son & \"co\"";
  o.ignore = {0};
  o.group_by = "_(.*)\\.png$";
  const auto result = scan(frame_source::from_directory(data.path()), o);
  REQUIRE(result.stats.frames.size() == 3);
  const auto html = test::read_file(write_report(result, out.path()));
  // void (0) is ignored: 59 pixels (see the first test) in all 3 frames, no share.
  const std::regex void_row(
      R"(<tr class="ignored"><td class="num">0</td><td class="name">(?:<span[^>]*></span>)?void \(ignored\)</td><td class="num">59</td><td class="num">&mdash;</td>)");
  CHECK(std::regex_search(html, void_row));
  CHECK(html.find("pe&lt;r&gt;son &amp; &quot;co&quot;") != std::string::npos);
  CHECK(html.find("pe<r>son") == std::string::npos);
  CHECK(html.find("&lt;g&gt;") != std::string::npos);  // the group's name
  CHECK(html.find("<g>") == std::string::npos);
}

TEST_CASE("report.html: groups whose names sanitize alike get their own folders and anchors", "[report]") {
  temp_dir data, out;
  write_gray(data / "1_a b.png", plane(0));
  write_gray(data / "2_a_b.png", plane(1));
  scan_options o;
  o.labels = "woodscape";
  o.heatmaps = true;
  o.group_by = "^[0-9]_(.*)\\.png$";
  const auto result = scan(frame_source::from_directory(data.path()), o);
  const auto html = test::read_file(write_report(result, out.path()));
  CHECK(fs::is_regular_file(out / "images/heatmaps/a_b/8x6/grid.png"));
  CHECK(fs::is_regular_file(out / "images/heatmaps/a_b-2/8x6/grid.png"));
  for (const char* id : {"id=\"group-a_b\"", "id=\"group-a_b-2\""}) {
    INFO(id);
    const auto first = html.find(id);
    REQUIRE(first != std::string::npos);
    CHECK(html.find(id, first + 1) == std::string::npos);
  }
}

TEST_CASE("report.html of a scan where every file was skipped, or whose group lost every file", "[report]") {
  temp_dir data, out;
  test::write_file(data / "a_FV.png", "not a png");
  test::write_file(data / "b_RV.png", "");
  auto result = scan_dir(data.path(), true, "_(FV|RV)\\.png$");
  REQUIRE(result.stats.frames.empty());
  auto html = test::read_file(write_report(result, out.path()));
  CHECK(html.find(">Skipped files</h2>") != std::string::npos);
  CHECK(html.find("a_FV.png") != std::string::npos);

  write_gray(data / "c_FV.png", plane(0));
  temp_dir out2;
  result = scan_dir(data.path(), true, "_(FV|RV)\\.png$");
  html = test::read_file(write_report(result, out2.path()));
  // RV has no scanned frame: its column has no shares, not 0%.
  const auto groups = html.substr(html.find(">Groups</h2>"));
  const std::regex road_row(
      R"(<td class="name">(?:<span[^>]*></span>)?road</td><td class="num">[^<]*<span class="muted">\(100.0%\)</span></td><td class="num">&mdash;</td></tr>)");
  CHECK(std::regex_search(groups, road_row));
}

TEST_CASE("report.html above 256 classes lists the present classes and leaves out charts and images", "[report]") {
  temp_dir data, out;
  write_gray(data / "a.png", plane(0));
  scan_options o;
  o.heatmaps = true;
  o.class_names = numbered_class_names(300);
  const auto result = scan(frame_source::from_directory(data.path()), o);
  const auto html = test::read_file(write_report(result, out.path()));
  CHECK(html.find("Charts are left out above 256 classes") != std::string::npos);
  CHECK(html.find("Heatmap images are left out above 256 classes") != std::string::npos);
  CHECK(html.find("300 classes: only those present are listed") != std::string::npos);
  CHECK(html.find(">class_4</td>") != std::string::npos);    // present
  CHECK(html.find(">class_299</td>") == std::string::npos);  // absent
  CHECK(html.find("<svg") == std::string::npos);
  CHECK(embedded_pngs(html).empty());
}

TEST_CASE("report.html of merged statistics shows no scan timing, concurrency or overlays", "[report]") {
  temp_dir root, out;
  write_gray(root / "semantic_annotations/gtLabels/a.png", plane(0));
  write_rgb(root / "rgb_images/a.png", 90);
  auto result = scan_dir(root / "semantic_annotations/gtLabels", false);
  result.input = "merged: a.state, b.state";
  report_options options;
  options.merged = true;
  const auto html = test::read_file(write_report(result, out.path(), {}, options));
  CHECK(html.find("merged from state files") != std::string::npos);
  CHECK(html.find("scan time") == std::string::npos);
  CHECK(html.find("frames/s") == std::string::npos);
  CHECK(html.find("<dt>concurrency</dt>") == std::string::npos);
  CHECK(html.find("Sample overlays") == std::string::npos);
  CHECK(html.find("merged: a.state, b.state") != std::string::npos);
}

TEST_CASE("report.html of a heatmap grid shows the grid set's images, zoomed, for all frames and per group",
          "[report][heatmap-grid]") {
  temp_dir data, out;
  // Frames of two sizes: the 8x6 masks, and the same masks at 16x12 (each pixel a 2x2 block). A 4x3
  // grid samples both at the same places: columns (2j+1)8/8 = 1, 3, 5, 7 and rows (2i+1)6/6 = 1, 3, 5
  // of the 8x6 masks; columns 2, 6, 10, 14 and rows 2, 6, 10 of the 16x12 ones, the same pixels.
  for (unsigned k = 0; k < 4; ++k) {
    const auto small = plane(k);
    write_gray(data / fmt::format("f{}_{}.png", k, k % 2 ? "RV" : "FV"), small);
    std::vector<std::uint8_t> big(4 * W * H);
    for (std::uint32_t y = 0; y < 2 * H; ++y)
      for (std::uint32_t x = 0; x < 2 * W; ++x) big[y * 2 * W + x] = small[(y / 2) * W + x / 2];
    const auto png = test::encode_png({2 * W, 2 * H, 8, 0, false}, big);
    test::write_file(data / fmt::format("g{}_{}.png", k, k % 2 ? "RV" : "FV"),
                     std::string(reinterpret_cast<const char*>(png.data()), png.size()));
  }
  scan_options o;
  o.labels = "woodscape";
  o.heatmap_grid = {4, 3};
  o.group_by = "_(FV|RV)\\.png$";
  const auto result = scan(frame_source::from_directory(data.path()), o);
  REQUIRE(result.stats.frames.size() == 8);
  const auto html = test::read_file(write_report(result, out.path()));

  CHECK(html.find("Not accumulated") == std::string::npos);
  CHECK(html.find("All frames on the 4&times;3 grid") != std::string::npos);
  CHECK(html.find("8 frames of every size sampled onto the 4&times;3 grid") != std::string::npos);
  CHECK(html.find("on a 4x3 grid") != std::string::npos);  // the Run section
  CHECK(fs::is_regular_file(out / "images/heatmaps/grid_4x3/grid.png"));
  CHECK(fs::is_regular_file(out / "images/heatmaps/grid_4x3/01_road.png"));
  CHECK(fs::is_regular_file(out / "images/heatmaps/FV/grid_4x3/grid.png"));
  CHECK(fs::is_regular_file(out / "images/heatmaps/RV/grid_4x3/grid.png"));
  CHECK_FALSE(fs::exists(out / "images/heatmaps/8x6"));  // no per-size sets were asked for
  // Every embedded picture is a file under images/: the overall grid + 10 classes, one grid per group.
  CHECK(embedded_pngs(html).size() == 1 + 10 + 2);

  // Road (1) holds the bottom half of every mask: grid rows 1 and 2 (mask rows 3 and 5) in all 8
  // frames, grid row 0 (mask row 1) in none. Drawn with each cell a 64 x 64 square (4 cells to 256
  // pixels), on road's own scale: the top 64 rows the lowest colour, the rest the highest.
  const auto image = detail::decode_rgb_image(out / "images/heatmaps/grid_4x3/01_road.png");
  const auto overall = ungroup(result.stats);
  const auto& grid = overall.grid_heatmaps.at("");
  const auto zoomed = detail::zoom_heatmap(grid, 64);
  const auto layout = detail::layout_class_heatmap(zoomed, 1, "road", {.grid = grid_size{4, 3}});
  REQUIRE(image.width == layout.width);
  REQUIRE(image.height == layout.height);
  const auto& table = detail::viridis_table;
  for (std::uint32_t y = 0; y < 3 * 64; ++y)
    for (std::uint32_t x = 0; x < 4 * 64; x += 7) {
      CAPTURE(x, y);
      REQUIRE(image.get(layout.map_x + x, layout.map_y + y) == (y < 64 ? table[0] : table[255]));
    }
}

TEST_CASE("report.html above 256 classes with a heatmap grid only names the grid's .npy and draws nothing",
          "[report][heatmap-grid]") {
  temp_dir data, out;
  write_gray(data / "a.png", plane(0));
  scan_options o;
  o.heatmap_grid = {4, 3};
  o.class_names = numbered_class_names(300);
  const auto result = scan(frame_source::from_directory(data.path()), o);
  REQUIRE(result.stats.grid_heatmaps.size() == 1);
  const auto html = test::read_file(write_report(result, out.path()));
  CHECK(html.find("Heatmap images are left out above 256 classes; the counts are in "
                  "<code>heatmaps_grid_&lt;W&gt;x&lt;H&gt;.npy</code>.") != std::string::npos);
  CHECK(html.find("Not accumulated") == std::string::npos);
  CHECK(embedded_pngs(html).empty());
  CHECK_FALSE(fs::exists(out / "images/heatmaps"));
}

TEST_CASE("report.html names ignored values by the class map's names, not by their numbers alone", "[report]") {
  temp_dir out;
  scan_options o;
  o.labels = "camvid11";  // 11 = Unlabelled, SegNet's ignore_label
  const auto result = scan(frame_source::from_directory(test::data_root() / "real/gray8_ids/camvid_segnet"), o);
  const auto html = test::read_file(write_report(result, out.path()));
  std::uint64_t unlabelled = 0;
  for (const auto& [file, counts] :
       test::load_expected_counts(test::data_root() / "real/gray8_ids/expected_counts.json"))
    if (file.starts_with("camvid_segnet/") && counts.count(11)) unlabelled += counts.at(11);
  CHECK(html.find("ignored pixels, excluded from shares and weights: Unlabelled (value 11).") != std::string::npos);
  std::string grouped = std::to_string(unlabelled);  // the page's digit groups: 297,271
  for (auto i = static_cast<std::ptrdiff_t>(grouped.size()) - 3; i > 0; i -= 3)
    grouped.insert(static_cast<std::size_t>(i), ",");
  CHECK(html.find(grouped + " ignored pixels") != std::string::npos);
}

namespace {
/// Every file under `dir` (relative name -> bytes), report.html with its generation minute and the
/// scan's number of workers (the Run section) masked.
std::map<std::string, std::string> report_files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    auto bytes = test::read_file(entry.path());
    const auto rel = entry.path().lexically_relative(dir).generic_string();
    if (rel == "report.html") {
      bytes = std::regex_replace(bytes, std::regex("generated [0-9-]+ [0-9:]+ UTC"), "generated <date>");
      bytes = std::regex_replace(bytes, std::regex("workers=[0-9]+"), "workers=<n>");
    }
    files.emplace(rel, std::move(bytes));
  }
  return files;
}

/// Eight frames of two cameras (FV, RV) in WoodScape's layout, with their RGB frames.
void write_two_cameras(const fs::path& root) {
  for (unsigned k = 0; k < 8; ++k) {
    const auto name = fmt::format("{:05}_{}.png", k, k % 2 ? "RV" : "FV");
    write_gray(root / "semantic_annotations/gtLabels" / name, plane(k % 5));
    write_rgb(root / "rgb_images" / name, static_cast<std::uint8_t>(30 * k));
  }
}
}  // namespace

TEST_CASE("report.html and every picture are the same byte for byte drawn by one thread or by several", "[report]") {
  // Every kind of picture: per-size and grid heatmaps, overall and per group, and overlays.
  temp_dir root;
  write_two_cameras(root.path());
  scan_options o;
  o.labels = "woodscape";
  o.heatmaps = true;
  o.heatmap_grid = {4, 3};
  o.group_by = "_(FV|RV)\\.png$";
  o.workers = 1;  // write_report without a pool: the calling thread alone
  const auto result = scan(frame_source::from_directory(root / "semantic_annotations/gtLabels"), o);
  REQUIRE(result.stats.frames.size() == 8);
  report_options options;
  options.overlays = 3;

  temp_dir one, several, shared;
  write_report(result, one.path(), {}, options);
  compute_pool pool(4);
  write_report(result, several.path(), {}, options, pool);
  auto many = result;
  many.options.workers = 3;  // threads of its own (the Run section says 3: masked)
  write_report(many, shared.path(), {}, options);

  const auto expected = report_files(one.path());
  CHECK(expected.size() == 1 + 3 + 3 * 2 * 11 + 3);  // page, charts, 3 sets x (size + grid) x 11, overlays
  CHECK(embedded_pngs(expected.at("report.html")).size() == 2 * 11 + 2 * 2 + 3);
  for (const auto* dir : {&several, &shared}) {
    const auto got = report_files(dir->path());
    CHECK(got.size() == expected.size());
    for (const auto& [name, bytes] : expected) {
      INFO(name);
      REQUIRE(got.contains(name));
      CHECK(got.at(name) == bytes);  // not CHECK(a == b) of whole maps: a difference names its file
    }
  }
}

TEST_CASE("write_outputs_and_report writes the files of write_outputs then write_report, grouped or not", "[report]") {
  // One call sums a grouped scan's groups once for both and writes the outputs while the report
  // draws: the files must be those of the two calls one after the other, on 1 or 3 threads.
  temp_dir root;
  write_two_cameras(root.path());
  const bool grouped = GENERATE(false, true);
  const unsigned workers = GENERATE(1u, 3u);
  CAPTURE(grouped, workers);
  scan_options o;
  o.labels = "woodscape";
  o.heatmaps = true;
  o.heatmap_grid = {4, 3};
  o.components = 8;
  if (grouped) o.group_by = "_(FV|RV)\\.png$";
  o.workers = workers;
  const auto result = scan(frame_source::from_directory(root / "semantic_annotations/gtLabels"), o);
  REQUIRE(result.stats.frames.size() == 8);
  report_options options;
  options.overlays = 2;
  balance_options balance;
  balance.repeat_threshold = 0.5;  // frames.csv gets its repeat_factor column

  temp_dir apart, together;
  write_outputs(result, apart.path(), balance);
  const auto page = write_report(result, apart.path(), balance, options);
  CHECK(write_outputs_and_report(result, together.path(), balance, options) == together / page.filename());
  const auto expected = report_files(apart.path());
  const auto got = report_files(together.path());
  CHECK(expected.contains("heatmaps_8x6.npy"));
  CHECK(expected.contains("report.html"));
  CHECK(expected.contains("frames.csv"));
  CHECK(expected.contains("groups/FV/summary.json") == grouped);
  CHECK(got.size() == expected.size());
  for (const auto& [name, bytes] : expected) {
    INFO(name);
    REQUIRE(got.contains(name));
    CHECK(got.at(name) == bytes);
  }

  // Bad options of either part are refused before anything is written.
  report_options bad;
  bad.overlay_alpha = -0.5;
  CHECK_THROWS_AS(write_outputs_and_report(result, together / "bad", balance, bad), std::invalid_argument);
  balance_options bad_balance;
  bad_balance.enet_c = 0.5;
  CHECK_THROWS_AS(write_outputs_and_report(result, together / "bad", bad_balance, options), std::invalid_argument);
  CHECK_FALSE(fs::exists(together / "bad"));
}
