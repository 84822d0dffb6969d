// SVG bar charts (visual/svg_charts.hpp): every chart parsed back with Boost.PropertyTree's XML parser;
// bar lengths checked against the input numbers and against the chart's own tick positions, the class
// charts against hand-computed counts and against class_weights.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <fmt/format.h>

#include <maskscan/balance.hpp>
#include <maskscan/stats.hpp>

#include "visual/svg_charts.hpp"

namespace {

namespace pt = boost::property_tree;
using maskscan::dataset_stats;
using maskscan::frame_row;
using maskscan::value_pixels;
using namespace maskscan::detail;

/// One element of the SVG: its tag, attributes and text (with its children's text left out).
struct element {
  std::string tag;
  std::map<std::string, std::string> attributes;
  std::string text;
  std::vector<std::string> child_tags;
  std::string child_title;  ///< text of a <title> child
  const std::string& at(const std::string& name) const {
    const auto it = attributes.find(name);
    if (it == attributes.end()) FAIL("<" << tag << "> has no attribute " << name);
    return it->second;
  }
  bool has(const std::string& name) const { return attributes.count(name) > 0; }
  double number(const std::string& name) const { return std::stod(at(name)); }
};

void collect(const std::string& tag, const pt::ptree& tree, std::vector<element>& out) {
  element e{tag, {}, tree.data(), {}, {}};
  if (const auto attributes = tree.get_child_optional("<xmlattr>"))
    for (const auto& [name, value] : *attributes) e.attributes[name] = value.data();
  for (const auto& [name, child] : tree)
    if (name != "<xmlattr>" && name != "<xmlcomment>") {
      e.child_tags.push_back(name);
      if (name == "title") e.child_title = child.data();
    }
  out.push_back(e);
  for (const auto& [name, child] : tree)
    if (name != "<xmlattr>" && name != "<xmlcomment>") collect(name, child, out);
}

/// All elements in document order; fails the test if the SVG is not well-formed XML.
std::vector<element> parse(const std::string& svg) {
  std::istringstream in(svg);
  pt::ptree tree;
  REQUIRE_NOTHROW(pt::read_xml(in, tree));
  REQUIRE(tree.size() == 1);
  REQUIRE(tree.begin()->first == "svg");
  std::vector<element> out;
  collect("svg", tree.begin()->second, out);
  return out;
}

std::vector<element> select(const std::vector<element>& all, const std::string& tag, const std::string& attribute,
                            std::optional<std::string> value = std::nullopt) {
  std::vector<element> out;
  for (const auto& e : all)
    if (e.tag == tag && e.has(attribute) && (!value || e.at(attribute) == *value)) out.push_back(e);
  return out;
}

/// The bars of one panel by category index.
std::map<std::size_t, element> bars(const std::vector<element>& all, std::size_t panel) {
  std::map<std::size_t, element> out;
  for (const auto& e : select(all, "rect", "data-category", std::nullopt))
    if (e.at("data-panel") == std::to_string(panel)) out.emplace(std::stoul(e.at("data-index")), e);
  return out;
}

/// The grid lines of one panel: tick value -> x.
std::vector<std::pair<double, double>> ticks(const std::vector<element>& all, std::size_t panel) {
  std::vector<std::pair<double, double>> out;
  for (const auto& e : select(all, "line", "data-tick"))
    if (e.at("data-panel") == std::to_string(panel)) {
      CHECK(e.at("x1") == e.at("x2"));
      out.emplace_back(e.number("data-tick"), e.number("x1"));
    }
  return out;
}

/// The text at each bar's end of one panel, by category index.
std::map<std::size_t, std::string> value_texts(const std::vector<element>& all, std::size_t panel) {
  std::map<std::size_t, std::string> out;
  for (const auto& e : select(all, "text", "class", std::string("value")))
    if (e.at("data-panel") == std::to_string(panel)) out[std::stoul(e.at("data-index"))] = e.text;
  return out;
}

std::map<std::size_t, std::string> category_texts(const std::vector<element>& all) {
  std::map<std::size_t, std::string> out;
  for (const auto& e : select(all, "text", "class", std::string("category")))
    out[std::stoul(e.at("data-index"))] = e.text;
  return out;
}

std::string panel_title(const std::vector<element>& all, std::size_t panel) {
  // The first <text> after the panel's <g> is its title.
  for (auto it = all.begin(); it != all.end(); ++it)
    if (it->tag == "g" && it->has("data-panel") && it->at("data-panel") == std::to_string(panel))
      return std::next(it)->text;
  FAIL("no panel " << panel);
  return {};
}

std::string panel_scale(const std::vector<element>& all, std::size_t panel) {
  for (const auto& e : select(all, "g", "data-panel", std::to_string(panel))) return e.at("data-scale");
  FAIL("no panel " << panel);
  return {};
}

/// No reference to anything outside the document: the namespace name is the only "http".
void check_self_contained(std::string svg) {
  const std::string xmlns = "xmlns=\"http://www.w3.org/2000/svg\"";
  const auto at = svg.find(xmlns);
  REQUIRE(at != std::string::npos);
  svg.erase(at, xmlns.size());
  for (const std::string banned :
       {"http", "url(", "href", "@import", "<image", "<script", "<style", "<foreignObject"}) {
    CAPTURE(banned);
    CHECK(svg.find(banned) == std::string::npos);
  }
}

bar_chart one_panel(std::vector<std::optional<double>> values, bool log_scale,
                    value_format format = value_format::number) {
  bar_chart chart;
  chart.title = "test";
  for (std::size_t i = 0; i < values.size(); ++i) chart.categories.push_back(fmt::format("c{}", i));
  chart.panels.push_back({"values", std::move(values), log_scale, format, {}, {}});
  return chart;
}

constexpr double px_tolerance = 0.002;  // coordinates are written with 3 decimals

frame_row make_row(std::string path, std::vector<std::uint64_t> class_pixels, std::vector<value_pixels> ignored = {}) {
  frame_row row;
  row.path = std::move(path);
  row.width = 4;
  row.height = 4;
  row.class_pixels = std::move(class_pixels);
  row.ignored = std::move(ignored);
  return row;
}

/// docs/statistics.md's worked example: road, car, void (id 2, ignore-listed; its pixels in
/// row.ignored as a scan puts them), bicycle (never present); five 4x4 frames.
///   frame  road car void bicycle
///   a       12   0  (4)    0
///   b       10   6   -     0
///   c       14   2   -     0
///   d       16   0   -     0
///   e        0   0  (16)   0
dataset_stats hand_example() {
  auto s = maskscan::make_stats({"road", "car", "void", "bicycle"}, {2}, false);
  s.frames.push_back(make_row("a.png", {12, 0, 0, 0}, {{2, 4}}));
  s.frames.push_back(make_row("b.png", {10, 6, 0, 0}));
  s.frames.push_back(make_row("c.png", {14, 2, 0, 0}));
  s.frames.push_back(make_row("d.png", {16, 0, 0, 0}));
  s.frames.push_back(make_row("e.png", {0, 0, 0, 0}, {{2, 16}}));
  return s;
}

}  // namespace

TEST_CASE("On a linear axis bars are as long as their values, from the tick at 0", "[svg-charts]") {
  const std::vector<std::optional<double>> values{3, 7.5, 12, std::nullopt, 0, 0.25};
  const auto svg = render_bar_chart_svg(one_panel(values, false));
  const auto all = parse(svg);
  check_self_contained(svg);
  const auto b = bars(all, 0);
  REQUIRE(b.size() == 5);
  CHECK(b.count(3) == 0);  // nullopt: no bar

  const auto t = ticks(all, 0);
  REQUIRE(t.size() >= 2);
  CHECK(t.front().first == 0);
  const double x_zero = t.front().second;
  const double px_per_unit = (t[1].second - t[0].second) / (t[1].first - t[0].first);
  // Ticks are evenly spaced at 1, 2 or 5 x 10^k.
  const double step = t[1].first - t[0].first;
  CHECK(t.size() >= 3);
  CHECK(t.back().first + step > 12);  // ticks go as far as the axis, which holds the longest bar
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
  CHECK((mantissa == Approx(1) || mantissa == Approx(2) || mantissa == Approx(5)));
  for (std::size_t k = 0; k < t.size(); ++k) {
    CHECK(t[k].first == Approx(static_cast<double>(k) * step));
    CHECK(t[k].second == Approx(x_zero + static_cast<double>(k) * step * px_per_unit).margin(px_tolerance));
  }

  const double longest = b.at(2).number("width");
  for (const auto& [i, bar] : b) {
    CAPTURE(i);
    CHECK(std::stod(bar.at("data-value")) == *values[i]);
    CHECK(bar.number("x") == Approx(x_zero).margin(px_tolerance));
    CHECK(bar.number("width") == Approx(longest * *values[i] / 12).margin(px_tolerance));
    CHECK(bar.number("width") == Approx(*values[i] * px_per_unit).margin(px_tolerance));
  }
  const auto texts = value_texts(all, 0);
  CHECK(texts.at(3) == "\xE2\x80\x94");
  CHECK(texts.at(4) == "0");
}

TEST_CASE("On a log axis bar lengths follow log10 of the values, and 0 has no bar", "[svg-charts]") {
  const std::vector<std::optional<double>> values{1, 10, 2500, 0, std::nullopt, 0.5, 123456};
  const auto svg = render_bar_chart_svg(one_panel(values, true, value_format::count));
  const auto all = parse(svg);
  const auto b = bars(all, 0);
  REQUIRE(b.size() == 5);
  CHECK(b.count(3) == 0);  // 0 on a log axis
  CHECK(b.count(4) == 0);  // nullopt

  // Ticks at consecutive powers of ten covering every positive value, evenly spaced.
  const auto t = ticks(all, 0);
  REQUIRE(t.size() >= 2);
  CHECK(t.front().first <= 0.5);
  CHECK(t.back().first * 10 > 123456);
  const double decade_px = t[1].second - t[0].second;
  CHECK(decade_px > 0);
  for (std::size_t k = 1; k < t.size(); ++k) {
    CHECK(t[k].first == Approx(t[k - 1].first * 10));
    CHECK(t[k].second - t[k - 1].second == Approx(decade_px).margin(px_tolerance));
  }

  // Bars start at the lowest decade shown; their ends sit where the ticks put their values.
  for (const auto& [i, bar] : b) {
    CAPTURE(i);
    const double v = *values[i];
    CHECK(std::stod(bar.at("data-value")) == v);
    CHECK(bar.number("x") == Approx(t.front().second).margin(px_tolerance));
    CHECK(bar.number("width") == Approx(std::log10(v / t.front().first) * decade_px).margin(px_tolerance));
    CHECK(bar.number("width") > 0);
  }
  // Differences of lengths are proportional to differences of log10, whatever the axis start.
  const double w1 = b.at(0).number("width"), w10 = b.at(1).number("width"), w2500 = b.at(2).number("width");
  CHECK((w2500 - w1) / (w10 - w1) == Approx(std::log10(2500.0)).epsilon(1e-4));

  const auto texts = value_texts(all, 0);
  CHECK(texts.at(3) == "0");
  CHECK(texts.at(4) == "\xE2\x80\x94");
  CHECK(panel_scale(all, 0) == "log");
}

TEST_CASE("A log axis starts at least half a decade below the smallest value, so its bar is seen", "[svg-charts]") {
  const auto [smallest, largest] =
      GENERATE(std::pair{1.0, 1000.0}, std::pair{101.0, 101.0}, std::pair{0.0101, 42.0}, std::pair{9.99, 10.0});
  CAPTURE(smallest, largest);
  const auto all = parse(render_bar_chart_svg(one_panel({smallest, largest}, true)));
  const auto b = bars(all, 0);
  const auto t = ticks(all, 0);
  REQUIRE(b.size() == 2);
  REQUIRE(t.size() >= 2);
  const double decade_px = t[1].second - t[0].second;
  CHECK(b.at(0).number("width") >= 0.5 * decade_px - px_tolerance);
  CHECK(b.at(0).number("width") <= 1.5 * decade_px + px_tolerance);
  CHECK(b.at(1).number("width") - b.at(0).number("width") ==
        Approx(std::log10(largest / smallest) * decade_px).margin(2 * px_tolerance));
}

TEST_CASE("Values print in a human-readable form", "[svg-charts]") {
  using row = std::pair<double, std::string>;
  const auto check_format = [](value_format format, const std::vector<row>& rows) {
    std::vector<std::optional<double>> values;
    for (const auto& r : rows) values.push_back(r.first);
    const auto texts = value_texts(parse(render_bar_chart_svg(one_panel(values, false, format))), 0);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      CAPTURE(rows[i].first);
      CHECK(texts.at(i) == rows[i].second);
    }
  };
  check_format(value_format::count, {{0, "0"},
                                     {952, "952"},
                                     {1000, "1k"},
                                     {34'500, "34.5k"},
                                     {1'234'567, "1.23M"},
                                     {999'950, "1M"},
                                     {4'500'000'000.0, "4.5B"},
                                     {120'000, "120k"}});
  check_format(value_format::percent, {{0, "0%"},
                                       {52.0 / 60, "86.7%"},
                                       {0.05, "5%"},
                                       {0.00123, "0.123%"},
                                       {1, "100%"},
                                       {2e-7, "2e-5%"},
                                       {6.42e-6, "0.000642%"},
                                       {0.99991, "99.99%"},
                                       {0.9999999, "99.99999%"}});
  check_format(value_format::number, {{0, "0"},
                                      {15.0 / 26, "0.577"},
                                      {3.75, "3.75"},
                                      {12'345, "12.3k"},
                                      {0.0000123, "1.23e-5"},
                                      {0.000903, "0.000903"},
                                      {50.5, "50.5"},
                                      {9.9996, "10"}});
}

TEST_CASE("Text is XML-escaped and comes back unchanged through an XML parser", "[svg-charts]") {
  const std::string name = "a<&\"'>b";
  bar_chart chart = one_panel({1, 2}, false);
  chart.title = "<title> & \"quotes\"";
  chart.categories[0] = name;
  chart.panels[0].title = "<&>";
  chart.panels[0].value_labels = {"x < y", ""};
  const auto svg = render_bar_chart_svg(chart);
  CHECK(svg.find("a&lt;&amp;&quot;&#39;&gt;b") != std::string::npos);  // the report's escaping
  CHECK(svg.find(name) == std::string::npos);
  const auto all = parse(svg);
  CHECK(bars(all, 0).at(0).at("data-category") == name);
  CHECK(category_texts(all).at(0) == name);
  CHECK(value_texts(all, 0).at(0) == "x < y");
  CHECK(value_texts(all, 0).at(1) == "2");
  CHECK(panel_title(all, 0) == "<&>");
  CHECK(all.front().child_title == chart.title);
}

TEST_CASE(
    "Bytes that are not valid UTF-8 read as hex escapes, as in every output, and characters XML forbids become U+FFFD",
    "[svg-charts]") {
  bar_chart chart = one_panel({1, 2, 3}, false);
  chart.categories = {std::string("bell\x07") + "tab\tend", "latin1 caf\xE9", "ok \xC3\xA9 \xE2\x80\x94"};
  const auto svg = render_bar_chart_svg(chart);
  for (const char c : svg) {
    const auto b = static_cast<unsigned char>(c);
    CHECK((b >= 0x20 || b == '\n'));
  }
  const auto names = category_texts(parse(svg));
  CHECK(names.at(0) == "bell\xEF\xBF\xBDtab end");
  CHECK(names.at(1) == "latin1 caf\\xE9");           // printable_name's form, as in summary.json and frames.csv
  CHECK(names.at(2) == "ok \xC3\xA9 \xE2\x80\x94");  // valid UTF-8 is kept
}

TEST_CASE("Long category names are cut in the label, with the full name kept", "[svg-charts]") {
  bar_chart chart = one_panel({1}, false);
  chart.categories[0] = "person, individual, someone, somebody, mortal, soul";
  const auto all = parse(render_bar_chart_svg(chart));
  const auto label = category_texts(all).at(0);
  CHECK(label.size() < chart.categories[0].size());
  CHECK(label.ends_with("\xE2\x80\xA6"));
  CHECK(chart.categories[0].starts_with(label.substr(0, label.size() - 3)));
  CHECK(bars(all, 0).at(0).at("data-category") == chart.categories[0]);
  for (const auto& e : all)
    if (e.tag == "text" && e.has("class") && e.at("class") == "category") CHECK(e.child_title == chart.categories[0]);
}

TEST_CASE("Panels side by side share the category rows, each with its own axis", "[svg-charts]") {
  bar_chart chart;
  chart.categories = {"a", "b", "c"};
  chart.colours = {{255, 0, 0}, {0, 128, 0}, {0, 0, 255}};
  chart.panels.push_back({"small", {1, 2, 3}, false, value_format::number, {}, {}});
  chart.panels.push_back({"large", {1e6, 5e5, std::nullopt}, false, value_format::count, {}, {}});
  const auto svg = render_bar_chart_svg(chart);
  const auto all = parse(svg);
  const auto p0 = bars(all, 0), p1 = bars(all, 1);
  REQUIRE(p0.size() == 3);
  REQUIRE(p1.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(p0.at(i).at("y") == p1.at(i).at("y"));
    CHECK(p0.at(i).at("fill") == p1.at(i).at("fill"));
  }
  CHECK(p0.at(0).at("fill") == "#ff0000");
  CHECK(p0.at(1).at("fill") == "#008000");
  CHECK(p1.at(0).number("x") > p0.at(2).number("x") + p0.at(2).number("width"));  // side by side
  CHECK(ticks(all, 0).back().first < 10);
  CHECK(ticks(all, 1).back().first >= 1e6);
  // Deterministic.
  CHECK(render_bar_chart_svg(chart) == svg);
  // The document declares its size.
  CHECK(all.front().has("width"));
  CHECK(all.front().at("viewBox") == "0 0 " + all.front().at("width") + " " + all.front().at("height"));
}

TEST_CASE("render_bar_chart_svg refuses inconsistent input", "[svg-charts]") {
  auto chart = one_panel({1, 2}, false);
  SECTION("values of another length") { chart.panels[0].values.push_back(3); }
  SECTION("colours of another length") { chart.colours = {{1, 2, 3}}; }
  SECTION("value labels of another length") { chart.panels[0].value_labels = {"x"}; }
  SECTION("a negative value") { chart.panels[0].values[1] = -1; }
  SECTION("NaN") { chart.panels[0].values[1] = std::nan(""); }
  SECTION("infinity") { chart.panels[0].values[0] = HUGE_VAL; }
  CHECK_THROWS_AS(render_bar_chart_svg(chart), std::invalid_argument);
}

TEST_CASE("An empty chart is still a well-formed SVG", "[svg-charts]") {
  bar_chart chart;
  chart.panels.push_back({"nothing", {}, true, value_format::count, {}, {}});
  const auto all = parse(render_bar_chart_svg(chart));
  CHECK(bars(all, 0).empty());
  CHECK(parse(render_bar_chart_svg(bar_chart{})).size() >= 1);
}

TEST_CASE("class_distribution_svg shows each class's pixels and frames, ignored classes marked", "[svg-charts]") {
  const auto stats = hand_example();
  const std::vector<rgb8> colours{{128, 64, 128}, {0, 0, 142}, {0, 0, 0}, {119, 11, 32}};
  // Hand-computed: road 12+10+14+16 = 52 px in 4 frames; car 6+2 = 8 in 2; void (ignored) 4+16 = 20
  // in 2; bicycle 0 in 0. Labelled: 60.
  const std::vector<double> pixels{52, 8, 20, 0}, frames{4, 2, 2, 0};
  const auto log_scale = GENERATE(false, true);
  CAPTURE(log_scale);
  const auto svg = class_distribution_svg(stats, log_scale, colours);
  check_self_contained(svg);
  const auto all = parse(svg);
  const auto px = bars(all, 0), fr = bars(all, 1);
  for (std::size_t c = 0; c < 4; ++c) {
    CAPTURE(c);
    const bool has_bar = !log_scale || pixels[c] > 0;
    REQUIRE(px.count(c) == (has_bar ? 1u : 0u));
    REQUIRE(fr.count(c) == (has_bar ? 1u : 0u));
    if (!has_bar) continue;
    CHECK(std::stod(px.at(c).at("data-value")) == pixels[c]);
    CHECK(std::stod(fr.at(c).at("data-value")) == frames[c]);
  }
  CHECK(px.at(0).at("data-category") == "road");
  CHECK(px.at(2).at("data-category") == "void (ignored)");
  CHECK(category_texts(all).at(2) == "void (ignored)");
  CHECK(px.at(0).at("fill") == "#804080");
  CHECK(px.at(1).at("fill") == "#00008e");
  const auto grey = px.at(2).at("fill");
  CHECK(grey != "#000000");  // not the class colour: ignored classes are grey
  CHECK(grey.substr(1, 2) == grey.substr(3, 2));
  CHECK(grey.substr(3, 2) == grey.substr(5, 2));
  CHECK(fr.at(2).at("fill") == grey);

  const auto px_text = value_texts(all, 0), fr_text = value_texts(all, 1);
  CHECK(px_text.at(0) == "52 (86.7%)");  // 52 / 60
  CHECK(px_text.at(1) == "8 (13.3%)");
  CHECK(px_text.at(2) == "20");  // not labelled: no share
  CHECK(px_text.at(3) == "0");
  CHECK(fr_text.at(0) == "4 (80%)");
  CHECK(fr_text.at(2) == "2 (40%)");
  CHECK(panel_title(all, 1).find("of 5") != std::string::npos);
  CHECK(panel_scale(all, 0) == (log_scale ? "log" : "linear"));
  CHECK(panel_scale(all, 1) == (log_scale ? "log" : "linear"));
}

TEST_CASE("class_distribution_svg prints frame counts exactly and pixel counts shortened", "[svg-charts]") {
  auto stats = maskscan::make_stats({"a", "b"}, {}, false);
  for (int f = 0; f < 2004; ++f) stats.frames.push_back(make_row(fmt::format("{:04}.png", f), {16, f < 3 ? 1u : 0u}));
  const auto all = parse(class_distribution_svg(stats, false, {}));
  CHECK(value_texts(all, 1).at(0) == "2,004 (100%)");
  CHECK(value_texts(all, 1).at(1) == "3 (0.15%)");       // 3 / 2004 = 0.1497%
  CHECK(value_texts(all, 0).at(0) == "32.1k (99.99%)");  // 32,064 px; 32,064 / 32,067
}

TEST_CASE("class_distribution_svg without class colours uses one colour for every class", "[svg-charts]") {
  auto stats = hand_example();
  stats.ignore.clear();
  const auto all = parse(class_distribution_svg(stats, false, {}));
  const auto px = bars(all, 0);
  REQUIRE(px.size() == 4);
  for (const auto& [i, bar] : px) CHECK(bar.at("fill") == px.at(0).at("fill"));
  CHECK(std::stod(px.at(2).at("data-value")) == 0);  // no longer ignored: its class_pixels (0)
}

TEST_CASE("class_weights_svg has one panel per weight kind with class_weights' values", "[svg-charts]") {
  const auto stats = hand_example();
  const maskscan::balance_options options;
  const auto weights = maskscan::class_weights(stats, options);
  const auto svg = class_weights_svg(stats, options, {});
  check_self_contained(svg);
  const auto all = parse(svg);
  using maskscan::class_balance;
  const std::vector<std::pair<std::string, std::optional<double> class_balance::*>> kinds{
      {"inverse frequency", &class_balance::inverse_frequency},
      {"inverse sqrt frequency", &class_balance::inverse_sqrt_frequency},
      {"median frequency (present)", &class_balance::median_frequency_present},
      {"median frequency (all)", &class_balance::median_frequency_all},
      {"ENet", &class_balance::enet},
      {"effective number", &class_balance::effective_number},
  };
  CHECK(select(all, "g", "data-scale").size() == kinds.size());
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    CAPTURE(kinds[k].first);
    CHECK(panel_title(all, k).starts_with(kinds[k].first));
    const auto b = bars(all, k);
    REQUIRE(b.size() == 2);  // road and car; void is ignored, bicycle absent
    for (const std::size_t c : {0u, 1u}) CHECK(std::stod(b.at(c).at("data-value")) == *(weights[c].*kinds[k].second));
    const auto texts = value_texts(all, k);
    CHECK(texts.at(2) == "\xE2\x80\x94");
    CHECK(texts.at(3) == "\xE2\x80\x94");
  }
  // The worked example's numbers (docs/statistics.md).
  CHECK(std::stod(bars(all, 0).at(0).at("data-value")) == Approx(15.0 / 26));
  CHECK(std::stod(bars(all, 0).at(1).at("data-value")) == Approx(3.75));
  CHECK(std::stod(bars(all, 2).at(1).at("data-value")) == Approx(67.0 / 30));
  CHECK(std::stod(bars(all, 4).at(0).at("data-value")) == Approx(1.575271).epsilon(1e-6));
  CHECK(category_texts(all).at(2) == "void (ignored)");
  CHECK(category_texts(all).at(3) == "bicycle");
}

TEST_CASE("class_weights_svg puts a kind on a log axis when its weights span more than two decades", "[svg-charts]") {
  auto stats = maskscan::make_stats({"common", "rare"}, {}, false);
  frame_row row;
  row.path = "a.png";
  row.width = 1000;
  row.height = 1000;
  row.class_pixels = {999'990, 10};  // inverse frequency ratio 99,999; ENet between 1.4 and 50
  stats.frames.push_back(row);
  const auto all = parse(class_weights_svg(stats, {}, {}));
  CHECK(panel_scale(all, 0) == "log");     // inverse frequency: 5 decades
  CHECK(panel_scale(all, 1) == "log");     // its square root: 2.5 decades
  CHECK(panel_scale(all, 4) == "linear");  // ENet
  CHECK(panel_title(all, 0).find("log") != std::string::npos);
  // On the log axis the rare class's bar is 5 decades longer than the common one's.
  const auto t = ticks(all, 0);
  REQUIRE(t.size() >= 2);
  const double decade_px = t[1].second - t[0].second;
  const auto b = bars(all, 0);
  CHECK(b.at(1).number("width") - b.at(0).number("width") ==
        Approx(std::log10(999'990.0 / 10) * decade_px).margin(2 * px_tolerance));
}

TEST_CASE("class_weights_svg refuses bad balance options as class_weights does", "[svg-charts]") {
  maskscan::balance_options options;
  options.enet_c = 1;
  CHECK_THROWS_AS(class_weights_svg(hand_example(), options, {}), std::invalid_argument);
}
