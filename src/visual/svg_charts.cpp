#include "visual/svg_charts.hpp"
#include "visual/html.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <maskscan/text.hpp>

namespace maskscan::detail {
namespace {

// ---- text -------------------------------------------------------------------------------------

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

/// Text for XML character data and quoted attribute values: escape_html's (a name that is not UTF-8
/// as every output writes it, the five special characters escaped), with line breaks and tabs as
/// spaces and the characters XML does not allow (other C0 controls, U+FFFE, U+FFFF) as U+FFFD.
std::string escape(std::string_view raw) {
  const std::string text = printable_name(raw);
  std::string allowed;
  allowed.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::string_view rest = std::string_view(text).substr(i);
    if (rest.starts_with("\xEF\xBF\xBE") || rest.starts_with("\xEF\xBF\xBF")) {
      allowed += replacement_character;
      i += 2;
    } else if (c == '\t' || c == '\n' || c == '\r') {
      allowed += ' ';
    } else if (c < 0x20) {
      allowed += replacement_character;
    } else {
      allowed += text[i];
    }
  }
  return escape_html(allowed);
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// An estimate of the rendered width: there is no font metric at hand, and DejaVu Sans (the
/// widest of the fonts asked for) averages a little under 0.6 em a character.
double text_width(std::string_view text, double font_size) {
  return static_cast<double>(code_points(text)) * font_size * 0.6;
}

/// At most `limit` code points, the last one an ellipsis when cut.
std::string shorten(std::string_view text, std::size_t limit) {
  if (code_points(text) <= limit) return std::string(text);
  std::size_t kept = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && kept++ == limit - 1) break;
  }
  return std::string(text.substr(0, i)) + "\xE2\x80\xA6";
}

// ---- numbers ----------------------------------------------------------------------------------

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

/// 3 significant digits, no trailing zeros; for 0 < v < 1000.
std::string three_digits(double v) {
  if (v == 0) return "0";
  const int exponent = static_cast<int>(std::floor(std::log10(v)));
  return trim_zeros(fmt::format("{:.{}f}", v, std::max(0, 2 - exponent)));
}

/// 1.23e-5: 3 significant digits, exponent without '+' or leading zeros.
std::string scientific(double v) {
  const auto s = fmt::format("{:.2e}", v);
  const auto e = s.find('e');
  auto mantissa = trim_zeros(s.substr(0, e));
  auto exponent = std::stoi(s.substr(e + 1));
  return fmt::format("{}e{}", mantissa, exponent);
}

/// v >= 1000 as 3 significant digits with k, M, B or T.
std::string with_suffix(double v) {
  const int exponent = static_cast<int>(std::floor(std::log10(v)));
  const double unit = std::pow(10.0, exponent - 2);
  const double rounded = std::round(v / unit) * unit;  // so 999,950 becomes 1M, not 1000k
  static constexpr std::array<std::pair<double, const char*>, 4> suffixes{
      {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}}};
  for (const auto& [size, suffix] : suffixes) {
    if (rounded >= size * (1 - 1e-12)) {
      const double in_units = rounded / size;
      return (in_units >= 1000 ? fmt::format("{:.0f}", in_units) : three_digits(in_units)) + suffix;
    }
  }
  return three_digits(v);
}

std::string format_value(double v, value_format format) {
  switch (format) {
    case value_format::count:
      if (v >= 1000) return with_suffix(v);
      if (v == std::floor(v)) return fmt::format("{}", static_cast<std::uint64_t>(v));
      return v >= 0.0001 ? three_digits(v) : scientific(v);
    case value_format::percent: {
      const double p = v * 100;
      if (p == 0) return "0%";
      if (p >= 1000) return fmt::format("{:.0f}%", p);
      auto text = p >= 0.0001 ? three_digits(p) : scientific(p);
      // Short of 100% never reads as 100%: 99.99%.
      for (int decimals = 2; p < 100 && text == "100" && decimals <= 9; ++decimals)
        text = trim_zeros(fmt::format("{:.{}f}", p, decimals));
      return text + "%";
    }
    case value_format::number:
      if (v == 0) return "0";
      if (v >= 1000) return with_suffix(v);
      return v >= 0.0001 ? three_digits(v) : scientific(v);
  }
  return {};
}

/// A coordinate: 3 decimals at most, no trailing zeros.
std::string px(double v) {
  if (std::abs(v) < 0.0005) return "0";
  return trim_zeros(fmt::format("{:.3f}", v));
}

// ---- axes -------------------------------------------------------------------------------------

struct tick {
  double value = 0;
  bool labelled = true;
};

struct axis {
  bool log = false;
  double lo = 0, hi = 1;  ///< linear: values; log: exponents of ten
  std::vector<tick> major;
  std::vector<double> minor;

  /// Where v lies, as a fraction of the axis length (not clamped).
  double at(double v) const {
    if (!log) return (v - lo) / (hi - lo);
    return (std::log10(v) - lo) / (hi - lo);
  }
  bool shows(double v) const {
    if (log && v <= 0) return false;
    const double t = at(v);
    return t >= -1e-9 && t <= 1 + 1e-9;
  }
};

/// m x 10^k, computed so that it is the double nearest to the decimal (3 x 0.1 is not 0.3).
double scaled(double m, int k) { return k >= 0 ? m * std::pow(10.0, k) : m / std::pow(10.0, -k); }

/// A tick step of 1, 2 or 5 x 10^exponent.
struct nice_step {
  int mantissa = 1;
  int exponent = 0;
  /// The smallest one at least `raw` (> 0).
  static nice_step at_least(double raw) {
    nice_step s{1, static_cast<int>(std::floor(std::log10(raw)))};
    const double n = raw / scaled(1, s.exponent);
    s.mantissa = n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10;
    if (s.mantissa == 10) s = {1, s.exponent + 1};
    return s;
  }
  nice_step next() const {
    return mantissa == 5 ? nice_step{1, exponent + 1} : nice_step{mantissa == 1 ? 2 : 5, exponent};
  }
  double times(int i) const { return scaled(static_cast<double>(i) * mantissa, exponent); }
};

axis make_axis(const bar_panel& panel, double width) {
  axis a;
  a.log = panel.log_scale;
  double smallest = 0, largest = 0;
  for (const auto& v : panel.values) {
    if (!v || *v <= 0) continue;
    smallest = smallest == 0 ? *v : std::min(smallest, *v);
    largest = std::max(largest, *v);
  }
  // As matplotlib: the axis ends 5% beyond the longest bar (of the axis's length, in log space on a
  // log axis), and ticks stop at the last one inside it.
  constexpr double margin_fraction = 0.05;
  const double tick_font = 10;
  if (!a.log) {
    if (largest == 0) largest = 1;
    a.lo = 0;
    a.hi = largest * (1 + margin_fraction);
    // As MaxNLocator: the smallest 1, 2 or 5 x 10^k step giving at most one interval per 40 px,
    // then larger ones while the labels would touch.
    auto step = nice_step::at_least(largest / std::max(2.0, std::floor(width / 40)));
    if (panel.format == value_format::count && step.exponent < 0) step = {1, 0};
    auto labels_fit = [&](nice_step s) {
      double widest = 0;
      for (int i = 0; s.times(i) <= a.hi; ++i)
        widest = std::max(widest, text_width(format_value(s.times(i), panel.format), tick_font));
      return s.times(1) / a.hi * width >= widest + 8;
    };
    while (!labels_fit(step)) step = step.next();
    for (int i = 0; step.times(i) <= a.hi; ++i) a.major.push_back({step.times(i), true});
    return a;
  }
  if (largest > 0) {
    // The lowest decade shown lies at least half a decade below the smallest value, so that the
    // shortest bar (which starts at that decade) is seen, even for a value just above a power of ten.
    const double top = std::log10(largest);
    a.lo = std::floor(std::log10(smallest) - 0.5);
    a.hi = std::max(top + margin_fraction * (top - a.lo), a.lo + 1);
  }
  const int lo = static_cast<int>(a.lo), last = static_cast<int>(std::floor(a.hi + 1e-9));
  const double decade = width / (a.hi - a.lo);
  double label_width = 0;
  for (int k = lo; k <= last; ++k)
    label_width = std::max(label_width, text_width(format_value(scaled(1, k), panel.format), tick_font));
  // Not every decade is labelled where labels would touch: every 2nd, 3rd... (1, 100, 10k).
  const int every = std::max(1, static_cast<int>(std::ceil((label_width + 8) / decade)));
  for (int k = lo; k <= last; ++k) a.major.push_back({scaled(1, k), ((k % every) + every) % every == 0});
  if (decade >= 30) {
    for (int k = lo; k <= last; ++k)
      for (int m = 2; m <= 9; ++m)
        if (std::log10(m) + k <= a.hi) a.minor.push_back(scaled(m, k));
  }
  return a;
}

// ---- layout -----------------------------------------------------------------------------------

constexpr double margin = 12;
constexpr double bold_factor = 1.1;  // bold text is wider
constexpr double title_size = 15;
constexpr double subtitle_size = 11;
constexpr double panel_title_size = 12;
constexpr double label_size = 11;
constexpr double tick_size = 10;
constexpr double value_size = 10;
constexpr double row_height = 18;
constexpr double bar_height = 13;  // 0.72 of a row, as matplotlib's barh (0.8) leaves a gap
constexpr double row_padding = 5;  // above the first and below the last row
constexpr double label_gap = 8;
constexpr double panel_gap = 26;
constexpr double value_gap = 4;
constexpr std::size_t label_limit = 40;           // code points; longer names are cut (full name in a tooltip)
constexpr std::size_t top_axis_rows = 20;         // more rows than this: tick labels above the bars too
constexpr rgb8 default_colour{0x1f, 0x77, 0xb4};  // matplotlib's tab:blue
constexpr std::string_view text_colour = "#222222", tick_colour = "#444444", grid_colour = "#dddddd",
                           stripe_colour = "#f4f4f4", muted_colour = "#666666";

bool is_light(rgb8 c) { return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] > 0.85 * 255; }

void check(const bar_chart& chart) {
  const auto n = chart.categories.size();
  if (!chart.colours.empty() && chart.colours.size() != n)
    throw std::invalid_argument(fmt::format("bar chart: {} colours for {} categories", chart.colours.size(), n));
  for (const auto& panel : chart.panels) {
    if (panel.values.size() != n)
      throw std::invalid_argument(
          fmt::format("bar chart panel '{}': {} values for {} categories", panel.title, panel.values.size(), n));
    if (!panel.value_labels.empty() && panel.value_labels.size() != n)
      throw std::invalid_argument(fmt::format("bar chart panel '{}': {} value labels for {} categories", panel.title,
                                              panel.value_labels.size(), n));
    for (const auto& v : panel.values)
      if (v && !(std::isfinite(*v) && *v >= 0))
        throw std::invalid_argument(
            fmt::format("bar chart panel '{}': value {} is not finite and >= 0", panel.title, *v));
  }
  if (!(chart.plot_width > 0 && std::isfinite(chart.plot_width)))
    throw std::invalid_argument("bar chart: plot_width must be positive");
}

}  // namespace

std::string render_bar_chart_svg(const bar_chart& chart) {
  check(chart);
  const auto n = chart.categories.size();
  const double width = chart.plot_width;

  std::vector<std::string> labels(n);
  double label_width = 40;
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = shorten(chart.categories[i], label_limit);
    label_width = std::max(label_width, text_width(labels[i], label_size));
  }

  struct panel_layout {
    axis scale;
    std::string title;
    std::vector<std::string> texts;
    double x = 0;     ///< where the axis starts
    double slot = 0;  ///< axis, value texts and title
  };
  std::vector<panel_layout> panels;
  double x = margin + label_width + label_gap;
  for (const auto& panel : chart.panels) {
    panel_layout p;
    p.scale = make_axis(panel, width);
    p.title = panel.log_scale ? panel.title + " (log scale)" : panel.title;
    double reserve = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& v = panel.values[i];
      std::string text = !panel.value_labels.empty() && !panel.value_labels[i].empty() ? panel.value_labels[i]
                         : v                                                           ? format_value(*v, panel.format)
                                                                                       : "\xE2\x80\x94";  // em dash
      reserve = std::max(reserve, value_gap + text_width(text, value_size));
      p.texts.push_back(std::move(text));
    }
    for (const auto& t : p.scale.major)
      if (t.labelled) reserve = std::max(reserve, text_width(format_value(t.value, panel.format), tick_size) / 2);
    p.x = x;
    p.slot = std::max(width + reserve, text_width(p.title, panel_title_size) * bold_factor);
    x += p.slot + panel_gap;
    panels.push_back(std::move(p));
  }
  const double total_width = std::ceil(std::max({panels.empty() ? x + margin : x - panel_gap + margin,
                                                 2 * margin + text_width(chart.title, title_size) * bold_factor,
                                                 2 * margin + text_width(chart.subtitle, subtitle_size)}));

  double y = margin;
  const double title_baseline = y + title_size;
  if (!chart.title.empty()) y += title_size + 8;
  const double subtitle_baseline = y + subtitle_size;
  if (!chart.subtitle.empty()) y += subtitle_size + 8;
  y += 4;
  const double panel_title_baseline = y + panel_title_size;
  y += panel_title_size + 8;
  const bool top_axis = n > top_axis_rows;
  const double top_labels_baseline = y + tick_size;
  if (top_axis) y += tick_size + 8;
  const double plot_top = y;
  const double plot_bottom = plot_top + 2 * row_padding + static_cast<double>(std::max<std::size_t>(n, 1)) * row_height;
  const double total_height = std::ceil(plot_bottom + 6 + tick_size + 4 + margin);
  auto row_centre = [&](std::size_t i) { return plot_top + row_padding + (static_cast<double>(i) + 0.5) * row_height; };

  std::string out;
  auto w = std::back_inserter(out);

  fmt::format_to(w,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                 "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" font-size=\"{2}\">\n",
                 px(total_width), px(total_height), px(label_size));
  fmt::format_to(w, "<title>{}</title>\n", escape(chart.title));
  fmt::format_to(w, "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", px(total_width),
                 px(total_height));
  if (!chart.title.empty())
    fmt::format_to(w, "<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"bold\" fill=\"{}\">{}</text>\n",
                   px(margin), px(title_baseline), px(title_size), text_colour, escape(chart.title));
  if (!chart.subtitle.empty())
    fmt::format_to(w, "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\">{}</text>\n", px(margin),
                   px(subtitle_baseline), px(subtitle_size), muted_colour, escape(chart.subtitle));

  // Every other row shaded across labels and panels, so a row can be followed to its bars.
  out += "<g class=\"rows\">\n";
  for (std::size_t i = 1; i < n; i += 2)
    fmt::format_to(w, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", px(margin / 2),
                   px(row_centre(i) - row_height / 2), px(total_width - margin), px(row_height), stripe_colour);
  out += "</g>\n<g class=\"categories\" text-anchor=\"end\">\n";
  for (std::size_t i = 0; i < n; ++i) {
    fmt::format_to(w, "<text class=\"category\" data-index=\"{}\" x=\"{}\" y=\"{}\" dy=\"0.35em\" fill=\"{}\">{}", i,
                   px(margin + label_width), px(row_centre(i)), text_colour, escape(labels[i]));
    if (labels[i] != chart.categories[i]) fmt::format_to(w, "<title>{}</title>", escape(chart.categories[i]));
    out += "</text>\n";
  }
  out += "</g>\n";

  for (std::size_t p = 0; p < panels.size(); ++p) {
    const auto& panel = chart.panels[p];
    const auto& layout = panels[p];
    const auto& scale = layout.scale;
    const double x0 = layout.x;
    auto x_of = [&](double v) { return x0 + scale.at(v) * width; };
    fmt::format_to(w, "<g class=\"panel\" data-panel=\"{}\" data-scale=\"{}\">\n", p, scale.log ? "log" : "linear");
    fmt::format_to(w, "<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"bold\" fill=\"{}\">{}</text>\n", px(x0),
                   px(panel_title_baseline), px(panel_title_size), text_colour, escape(layout.title));

    for (const auto& t : scale.major)
      fmt::format_to(w,
                     "<line data-panel=\"{}\" data-tick=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
                     "stroke-width=\"1\"/>\n",
                     p, t.value, px(x_of(t.value)), px(plot_top), px(x_of(t.value)), px(plot_bottom), grid_colour);

    // Bars, then the reference line over them, then the texts over both: each text has a halo of
    // its row's background, so it stays readable across grid and reference lines.
    std::vector<double> ends(n, x0);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& v = panel.values[i];
      if (!v || (scale.log && *v <= 0)) continue;
      const rgb8 colour = chart.colours.empty() ? default_colour : chart.colours[i];
      ends[i] = x_of(*v);
      fmt::format_to(w,
                     "<rect data-panel=\"{}\" data-index=\"{}\" data-category=\"{}\" data-value=\"{}\" x=\"{}\" "
                     "y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"",
                     p, i, escape(chart.categories[i]), *v, px(x0), px(row_centre(i) - bar_height / 2),
                     px(ends[i] - x0), px(bar_height), css_colour(colour));
      if (is_light(colour) && ends[i] > x0) out += " stroke=\"#999999\" stroke-width=\"0.5\"";  // white on white
      fmt::format_to(w, "><title>{}: {}</title></rect>\n", escape(chart.categories[i]), escape(layout.texts[i]));
    }

    if (panel.reference && std::isfinite(*panel.reference) && scale.shows(*panel.reference))
      fmt::format_to(w,
                     "<line class=\"reference\" data-reference=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" "
                     "stroke=\"#555555\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n",
                     *panel.reference, px(x_of(*panel.reference)), px(plot_top), px(x_of(*panel.reference)),
                     px(plot_bottom));

    fmt::format_to(w, "<g font-size=\"{}\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">\n",
                   px(value_size));
    for (std::size_t i = 0; i < n; ++i)
      fmt::format_to(w,
                     "<text class=\"value\" data-panel=\"{}\" data-index=\"{}\" x=\"{}\" y=\"{}\" dy=\"0.35em\" "
                     "fill=\"{}\" stroke=\"{}\">{}</text>\n",
                     p, i, px(ends[i] + value_gap), px(row_centre(i)), panel.values[i] ? tick_colour : muted_colour,
                     i % 2 ? stripe_colour : "#ffffff", escape(layout.texts[i]));
    out += "</g>\n";

    // Spines (left and bottom, top with a top axis) and ticks.
    fmt::format_to(w, "<g stroke=\"{}\" stroke-width=\"1\">\n", tick_colour);
    fmt::format_to(w, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", px(x0), px(plot_top), px(plot_bottom));
    fmt::format_to(w, "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\"/>\n", px(x0), px(x0 + width), px(plot_bottom));
    if (top_axis)
      fmt::format_to(w, "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\"/>\n", px(x0), px(x0 + width), px(plot_top));
    auto tick_marks = [&](double value, double length) {
      fmt::format_to(w, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", px(x_of(value)), px(plot_bottom),
                     px(plot_bottom + length));
      if (top_axis)
        fmt::format_to(w, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", px(x_of(value)), px(plot_top),
                       px(plot_top - length));
    };
    for (const auto& t : scale.major) tick_marks(t.value, 4);
    for (const auto m : scale.minor) tick_marks(m, 2);
    out += "</g>\n";
    fmt::format_to(w, "<g font-size=\"{}\" fill=\"{}\" text-anchor=\"middle\">\n", px(tick_size), tick_colour);
    for (const auto& t : scale.major) {
      if (!t.labelled) continue;
      const auto label = escape(format_value(t.value, panel.format));
      fmt::format_to(w, "<text x=\"{}\" y=\"{}\">{}</text>\n", px(x_of(t.value)), px(plot_bottom + 6 + tick_size),
                     label);
      if (top_axis)
        fmt::format_to(w, "<text x=\"{}\" y=\"{}\">{}</text>\n", px(x_of(t.value)), px(top_labels_baseline), label);
    }
    out += "</g>\n</g>\n";
  }
  out += "</svg>\n";
  return out;
}

namespace {
constexpr rgb8 ignored_colour{0xb0, 0xb0, 0xb0};

rgb8 class_colour(std::span<const rgb8> colours, std::size_t id) {
  return id < colours.size() ? colours[id] : default_colour;
}
bool is_ignored(const dataset_stats& stats, std::size_t id) {
  return std::binary_search(stats.ignore.begin(), stats.ignore.end(), static_cast<std::uint32_t>(id));
}
}  // namespace

std::string class_distribution_svg(const dataset_stats& stats, bool log_scale, std::span<const rgb8> class_colours) {
  const auto totals = compute_totals(stats);
  const auto n = stats.class_names.size();
  bar_chart chart;
  chart.title = "Class distribution";
  bar_panel pixels{"pixels (share of labelled pixels)", {}, log_scale, value_format::count, {}, {}};
  bar_panel frames{
      fmt::format("frames present (of {})", digit_groups(totals.frames)), {}, log_scale, value_format::count, {}, {}};
  std::size_t ignored_classes = 0;
  for (std::size_t c = 0; c < n; ++c) {
    const auto& total = totals.classes[c];
    std::uint64_t class_pixels = total.pixels, class_frames = total.frames_present;
    const bool ignored = is_ignored(stats, c);
    if (ignored) {
      // A scan puts an ignore-listed id's pixels into row.ignored: count those (once per frame).
      ++ignored_classes;
      class_pixels = class_frames = 0;
      for (const auto& row : stats.frames) {
        std::uint64_t in_frame = c < row.class_pixels.size() ? row.class_pixels[c] : 0;
        for (const auto& v : row.ignored)
          if (v.value == c) in_frame += v.pixels;
        class_pixels += in_frame;
        class_frames += in_frame > 0;
      }
    }
    chart.categories.push_back(ignored ? total.name + " (ignored)" : total.name);
    chart.colours.push_back(ignored ? ignored_colour : class_colour(class_colours, c));
    pixels.values.push_back(static_cast<double>(class_pixels));
    frames.values.push_back(static_cast<double>(class_frames));
    auto pixel_text = format_value(static_cast<double>(class_pixels), value_format::count);
    if (!ignored && class_pixels > 0)
      pixel_text += fmt::format(" ({})", format_value(total.fraction, value_format::percent));
    pixels.value_labels.push_back(std::move(pixel_text));
    auto frame_text = digit_groups(class_frames);  // exact: frame counts are short
    if (class_frames > 0 && totals.frames > 0) {
      const double share = static_cast<double>(class_frames) / static_cast<double>(totals.frames);
      frame_text += fmt::format(" ({})", format_value(share, value_format::percent));
    }
    frames.value_labels.push_back(std::move(frame_text));
  }
  chart.subtitle = fmt::format("{} frames, {} labelled pixels, {} classes", digit_groups(totals.frames),
                               digit_groups(totals.labelled_pixels), n);
  if (ignored_classes > 0) chart.subtitle += "; grey: ignored classes, with the pixels that held their value";
  chart.panels = {std::move(pixels), std::move(frames)};
  return render_bar_chart_svg(chart);
}

namespace {
std::optional<double> uniform_of(std::span<const class_balance> weights, auto value_of) {
  std::optional<double> first;
  for (const auto& c : weights) {
    if (!c.inverse_frequency) continue;  // not weighted
    const std::optional<double> v = value_of(c);
    if (!v) return std::nullopt;
    if (!first)
      first = v;
    else if (std::abs(*v - *first) > 1e-9 * std::max(std::abs(*v), std::abs(*first)))
      return std::nullopt;
  }
  return first;
}
}  // namespace

std::optional<double> uniform_weight(std::span<const class_balance> weights,
                                     std::optional<double> class_balance::*weight) {
  return uniform_of(weights, [&](const class_balance& c) { return c.*weight; });
}

std::string class_weights_svg(const dataset_stats& stats, const balance_options& balance,
                              std::span<const rgb8> class_colours) {
  const auto weights = class_weights(stats, balance);
  struct kind {
    const char* title;
    std::optional<double> class_balance::*weight;
  };
  static constexpr std::array<kind, 6> kinds{{
      {"inverse frequency", &class_balance::inverse_frequency},
      {"inverse sqrt frequency", &class_balance::inverse_sqrt_frequency},
      {"median frequency (present)", &class_balance::median_frequency_present},
      {"median frequency (all)", &class_balance::median_frequency_all},
      {"ENet", &class_balance::enet},
      {"effective number", &class_balance::effective_number},
  }};
  bar_chart chart;
  chart.title = "Class weights";
  chart.plot_width = 170;
  std::size_t weighted = 0;
  for (const auto& c : weights) {
    chart.categories.push_back(c.ignored ? c.name + " (ignored)" : c.name);
    chart.colours.push_back(c.ignored ? ignored_colour : class_colour(class_colours, c.id));
    weighted += c.inverse_frequency.has_value();
  }
  for (const auto& k : kinds) {
    bar_panel panel{k.title, {}, false, value_format::number, {}, 1.0};
    if (const auto same = uniform_weight(weights, k.weight))
      panel.title += fmt::format(" - {:.4g} for every class", *same);
    double smallest = 0, largest = 0;
    for (const auto& c : weights) {
      const auto& v = c.*(k.weight);
      panel.values.push_back(v);
      if (v && *v > 0) {
        smallest = smallest == 0 ? *v : std::min(smallest, *v);
        largest = std::max(largest, *v);
      }
    }
    panel.log_scale = smallest > 0 && largest / smallest > 100;
    chart.panels.push_back(std::move(panel));
  }
  chart.subtitle = fmt::format(
      "{} of {} classes weighted (not ignored, with pixels); the others have none. ENet c = {}; effective number "
      "\xCE\xB2 = {} over {}. Dashed: weight 1.",
      weighted, weights.size(), balance.enet_c, balance.effective_beta, to_string(balance.unit));
  return render_bar_chart_svg(chart);
}

}  // namespace maskscan::detail
