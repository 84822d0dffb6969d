#include "visual/heatmap_images.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include <maskscan/grouping.hpp>

#include "visual/font.hpp"
#include "visual/png_writer.hpp"

namespace maskscan::detail {
namespace {

constexpr rgb8 text_colour{33, 33, 33};
constexpr std::uint32_t margin = 16;
constexpr std::uint32_t bar_gap = 16;  // between the map and the colour bar
constexpr std::uint32_t bar_width = 20;
constexpr std::uint32_t min_bar_height = 120;  // room for three tick labels beside a short map
constexpr std::uint32_t tick_length = 4;
constexpr std::uint32_t label_gap = 3;  // between a tick and its label
constexpr std::uint32_t cell_gap = 16;  // between grid cells
constexpr std::uint32_t line_gap = 3;   // between a thumbnail and its labels

std::uint32_t u32(int v) { return static_cast<std::uint32_t>(std::max(v, 0)); }

std::span<const std::uint32_t> plane_of(const heatmap_set& set, std::size_t c) {
  const std::size_t n = std::size_t{set.width} * set.height;
  return std::span<const std::uint32_t>(set.counts).subspan(c * n, n);
}

std::uint32_t max_count(std::span<const std::uint32_t> plane) {
  return plane.empty() ? 0 : *std::max_element(plane.begin(), plane.end());
}

double fraction(std::uint32_t count, std::uint64_t frames) {
  return frames == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(frames);
}

// Decimals that show `f` as a percentage with three significant digits.
int percent_decimals(double f) {
  const double p = f * 100.0;
  return p > 0 ? std::clamp(2 - static_cast<int>(std::floor(std::log10(p))), 0, 6) : 0;
}

// A fraction as a percentage with `decimals` decimals, trailing zeros dropped: "0%", "2.1%",
// "37.2%", "100%", "0.0125%".
std::string percent(double f, int decimals) {
  const double p = f * 100.0;
  if (!(p > 0)) return "0%";
  std::string s = fmt::format("{:.{}f}", p, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s + "%";
}

std::string percent(double f) { return percent(f, percent_decimals(f)); }

std::string frames_text(std::uint64_t frames) { return fmt::format("{} frame{}", frames, frames == 1 ? "" : "s"); }

std::string display_name(std::string_view name, std::size_t class_index) {
  return name.empty() ? fmt::format("class {}", class_index) : std::string(name);
}

// `text` cut to `width` pixels with "..." when it does not fit.
std::string fit(std::string text, std::uint32_t width) {
  const auto cells = static_cast<std::size_t>(width / font_cell_width);
  if (text.size() <= cells) return text;
  if (cells <= 3) return text.substr(0, cells);
  return text.substr(0, cells - 3) + "...";
}

struct bar_ticks {
  std::vector<std::pair<double, std::string>> ticks;  // position in [0, 1] (0 = bottom), label
  std::string top_note;                               // written beside the top when there are no ticks there
};

bar_ticks ticks_of(std::uint32_t max, std::uint64_t frames) {
  bar_ticks t;
  if (max == 0) {
    t.ticks = {{0.0, "0%"}};
    t.top_note = "never present";
    return t;
  }
  const double f = fraction(max, frames);
  const int decimals = percent_decimals(f);  // the max's, so that the labels line up
  t.ticks = {{0.0, "0%"}, {0.5, percent(f / 2, decimals)}, {1.0, percent(f, decimals)}};
  return t;
}

std::string caption_of(const heatmap_set& set, std::uint32_t max, const heatmap_image_options& options) {
  if (options.grid)
    return fmt::format("fraction of the {} (all sizes, {}x{} grid) holding the class at each cell{}",
                       frames_text(set.frames), options.grid->width, options.grid->height,
                       max == 0 ? " - never present" : "");
  return fmt::format("fraction of the {} ({}x{}) holding the class at each pixel{}", frames_text(set.frames), set.width,
                     set.height, max == 0 ? " - never present" : "");
}

struct class_parts {
  std::string title;
  std::string caption;
  bar_ticks ticks;
  std::uint32_t max = 0;
  class_heatmap_layout layout;
};

class_parts class_parts_of(const heatmap_set& set, std::size_t class_index, std::string_view class_name,
                           const heatmap_image_options& options) {
  const std::size_t classes = heatmap_classes(set);
  if (class_index >= classes)
    throw std::invalid_argument(
        fmt::format("class {} is not one of the {} classes of the heatmaps", class_index, classes));
  class_parts p;
  p.max = max_count(plane_of(set, class_index));
  p.title = display_name(class_name, class_index);
  p.caption = caption_of(set, p.max, options);
  p.ticks = ticks_of(p.max, set.frames);

  int label_width = text_width(p.ticks.top_note);
  for (const auto& [pos, label] : p.ticks.ticks) label_width = std::max(label_width, text_width(label));

  auto& l = p.layout;
  l.map_x = margin;
  l.map_y = margin + u32(text_height(2)) + 4 + u32(text_height()) + 12;
  l.bar_x = l.map_x + set.width + bar_gap;
  l.bar_y = l.map_y;
  l.bar_width = bar_width;
  l.bar_height = std::max(set.height, min_bar_height);
  const std::uint32_t right = l.bar_x + bar_width + tick_length + label_gap + u32(label_width) + margin;
  l.width =
      std::max({right, margin + u32(text_width(p.title, 2)) + margin, margin + u32(text_width(p.caption)) + margin});
  l.height = l.map_y + std::max(set.height, l.bar_height) + margin;
  return p;
}

// Area-average weights of one axis: destination pixel i covers [i * n, (i + 1) * n) and source
// pixel k covers [k * m, (k + 1) * m), in units of 1 / m source pixels (n source, m destination
// pixels); the weights of a destination pixel sum to n.
struct axis_weights {
  std::vector<std::uint32_t> first;   // first source pixel of each destination pixel
  std::vector<std::uint32_t> offset;  // into weight, one past the last for the end
  std::vector<std::uint64_t> weight;
};

axis_weights weights_of(std::uint32_t n, std::uint32_t m) {
  axis_weights w;
  w.first.resize(m);
  w.offset.resize(std::size_t{m} + 1);
  for (std::uint32_t i = 0; i < m; ++i) {
    const std::uint64_t lo = std::uint64_t{i} * n, hi = std::uint64_t{i + 1} * n;
    const auto k0 = static_cast<std::uint32_t>(lo / m);
    const auto k1 = static_cast<std::uint32_t>((hi + m - 1) / m);
    w.first[i] = k0;
    w.offset[i] = static_cast<std::uint32_t>(w.weight.size());
    for (std::uint32_t k = k0; k < k1; ++k)
      w.weight.push_back(std::min(std::uint64_t{k + 1} * m, hi) - std::max(std::uint64_t{k} * m, lo));
  }
  w.offset[m] = static_cast<std::uint32_t>(w.weight.size());
  return w;
}

// The grid's shared scale (heatmap_grid_layout): a fraction of the frames to t in [0, 1], log
// between floor and top. A log scale, because one linear scale for every class would leave a class
// in 2% of the frames a flat dark tile beside the road's 100%.
struct log_scale {
  double floor = 0;
  double top = 0;
  double inverse_span = 0;  // 1 / log(top / floor)

  static log_scale of(double top) {
    log_scale s;
    if (!(top > 0)) return s;
    s.top = top;
    // The largest 1, 2 or 5 x 10^k at most top / 1000: round tick values, three decades or a bit more.
    const double x = top / 1000.0;
    const double decade = std::pow(10.0, std::floor(std::log10(x) + 1e-9));
    const double m = x / decade;
    s.floor = (m >= 5 - 1e-9 ? 5 : m >= 2 - 1e-9 ? 2 : 1) * decade;
    s.inverse_span = 1.0 / std::log(top / s.floor);
    return s;
  }
  double t(double fraction) const {
    return fraction > floor && top > 0 ? std::min(1.0, std::log(fraction / floor) * inverse_span) : 0.0;
  }
};

// The thumbnail of one plane as colours: each pixel is the area average of the counts it covers,
// as a fraction of the frames on the shared scale.
void draw_thumbnail(rgb_image& image, std::uint32_t x0, std::uint32_t y0, std::span<const std::uint32_t> plane,
                    std::uint32_t width, std::uint32_t height, const axis_weights& wx, const axis_weights& wy,
                    std::uint32_t tw, std::uint32_t th, std::uint32_t max, std::uint64_t frames, const log_scale& scale,
                    colormap map, std::vector<std::uint64_t>& rows) {
  if (max == 0) {
    image.fill_rect(x0, y0, tw, th, table_of(map)[0]);
    return;
  }
  rows.resize(std::size_t{height} * tw);  // horizontal pass, every entry written (one buffer for every class)
  for (std::uint32_t y = 0; y < height; ++y) {
    const std::uint32_t* src = plane.data() + std::size_t{y} * width;
    std::uint64_t* dst = rows.data() + std::size_t{y} * tw;
    for (std::uint32_t i = 0; i < tw; ++i) {
      std::uint64_t sum = 0;
      for (std::uint32_t j = wx.offset[i], k = wx.first[i]; j < wx.offset[i + 1]; ++j, ++k)
        sum += wx.weight[j] * src[k];
      dst[i] = sum;
    }
  }
  // The weights sum to width and height: a sum over (width * height * frames) is a fraction of the frames.
  const double per_fraction = static_cast<double>(width) * height * static_cast<double>(frames);
  std::vector<std::uint64_t> sums(tw);
  for (std::uint32_t ty = 0; ty < th; ++ty) {
    std::fill(sums.begin(), sums.end(), 0);
    for (std::uint32_t j = wy.offset[ty], y = wy.first[ty]; j < wy.offset[ty + 1]; ++j, ++y) {
      const std::uint64_t* row = rows.data() + std::size_t{y} * tw;
      for (std::uint32_t i = 0; i < tw; ++i) sums[i] += wy.weight[j] * row[i];
    }
    for (std::uint32_t i = 0; i < tw; ++i)
      image.set(x0 + i, y0 + ty, colour_at(map, scale.t(static_cast<double>(sums[i]) / per_fraction)));
  }
}

struct grid_parts {
  std::string title;
  std::string caption;
  std::vector<std::string> names;  // fitted to a cell
  std::vector<std::string> notes;  // under each thumbnail
  std::vector<std::uint32_t> maxima;
  std::uint32_t cell_width = 0;
  log_scale scale;
  heatmap_grid_layout layout;
};

constexpr std::uint32_t grid_bar_height = 12;
constexpr std::uint32_t min_grid_bar_width = 320;  // three decades, a 1-2-5 tick label each 30 px or more
constexpr std::uint32_t max_grid_bar_width = 640;
constexpr std::uint32_t tick_label_gap = 8;  // between two tick labels

// The bar's ticks: both ends, then the 1, 2 and 5 x 10^k between whose centred label does not
// touch a label already placed.
std::vector<heatmap_scale_tick> grid_ticks(const log_scale& scale, std::uint32_t bar_x, std::uint32_t bar_length) {
  const auto x_of = [&](double f) {
    return bar_x + static_cast<std::uint32_t>(std::lround(scale.t(f) * (bar_length - 1)));
  };
  if (!(scale.top > 0)) return {{bar_x, 0.0, "0%"}};
  heatmap_scale_tick low{bar_x, scale.floor, "<=" + percent(scale.floor)};
  heatmap_scale_tick high{bar_x + bar_length - 1, scale.top, percent(scale.top)};
  // Occupied label spans: the ends' labels are aligned inside the bar (left end left, right end right).
  std::vector<std::pair<std::int64_t, std::int64_t>> taken{
      {low.x, std::int64_t{low.x} + text_width(low.label)},
      {std::int64_t{high.x} + 1 - text_width(high.label), high.x + 1}};
  std::vector<heatmap_scale_tick> ticks{low};
  // The floor is 1, 2 or 5 x 10^k: the candidates start in its decade.
  for (auto k = static_cast<int>(std::floor(std::log10(scale.floor) + 1e-9)); std::pow(10.0, k) < scale.top; ++k)
    for (const double m : {1.0, 2.0, 5.0}) {
      const double f = m * std::pow(10.0, k);
      if (f <= scale.floor * (1 + 1e-9) || f >= scale.top * (1 - 1e-9)) continue;
      heatmap_scale_tick t{x_of(f), f, percent(f)};
      const std::int64_t w = text_width(t.label), l = std::int64_t{t.x} - w / 2, r = l + w;
      if (std::ranges::any_of(
              taken, [&](const auto& s) { return l < s.second + tick_label_gap && s.first < r + tick_label_gap; }))
        continue;
      taken.emplace_back(l, r);
      ticks.push_back(std::move(t));
    }
  ticks.push_back(std::move(high));
  return ticks;
}

grid_parts grid_parts_of(const heatmap_set& set, std::span<const std::string> class_names, std::uint32_t thumb_width,
                         const heatmap_image_options& options) {
  const std::size_t classes = heatmap_classes(set);
  if (class_names.size() != classes)
    throw std::invalid_argument(fmt::format("{} class names for heatmaps of {} classes", class_names.size(), classes));
  grid_parts p;
  auto& l = p.layout;
  l.thumb_width = std::clamp<std::uint32_t>(thumb_width, 1, set.width);
  l.thumb_height = static_cast<std::uint32_t>(
      std::max<std::uint64_t>(1, (std::uint64_t{set.height} * l.thumb_width + set.width / 2) / set.width));
  l.columns =
      std::min<std::uint32_t>(4, static_cast<std::uint32_t>(std::ceil(std::sqrt(static_cast<double>(classes)))));
  l.rows = static_cast<std::uint32_t>((classes + l.columns - 1) / l.columns);

  p.title = options.grid ? fmt::format("{} of all sizes, {}x{} grid", frames_text(set.frames), options.grid->width,
                                       options.grid->height)
                         : fmt::format("{}, {}x{}", frames_text(set.frames), set.width, set.height);
  p.caption = fmt::format("each {}: fraction of the frames holding the class - one log scale for every class",
                          options.grid ? "cell" : "pixel");
  std::uint32_t cell_width = l.thumb_width;
  std::uint32_t top_count = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    p.maxima.push_back(max_count(plane_of(set, c)));
    top_count = std::max(top_count, p.maxima.back());
    p.notes.push_back(p.maxima.back() == 0
                          ? std::string("never present")
                          : fmt::format("max {} of frames", percent(fraction(p.maxima.back(), set.frames))));
    cell_width = std::max(cell_width, u32(text_width(p.notes.back())));
  }
  p.cell_width = cell_width;
  for (std::size_t c = 0; c < classes; ++c) p.names.push_back(fit(display_name(class_names[c], c), cell_width));

  p.scale = log_scale::of(fraction(top_count, set.frames));
  l.scale_top = p.scale.top;
  l.scale_floor = p.scale.floor;

  const std::uint32_t line = u32(text_height());
  const std::uint32_t cells_width = l.columns * cell_width + (l.columns - 1) * cell_gap;
  l.bar_x = margin;
  l.bar_y = margin + u32(text_height(2)) + 4 + line + 10;
  l.bar_width = std::clamp(cells_width, min_grid_bar_width, max_grid_bar_width);
  l.bar_height = grid_bar_height;
  l.ticks = grid_ticks(p.scale, l.bar_x, l.bar_width);
  const std::uint32_t cell_height = line + line_gap + l.thumb_height + line_gap + line;
  const std::uint32_t top = l.bar_y + l.bar_height + tick_length + label_gap + line + 14;
  for (std::size_t c = 0; c < classes; ++c) {
    const auto col = static_cast<std::uint32_t>(c % l.columns), row = static_cast<std::uint32_t>(c / l.columns);
    l.thumbs.emplace_back(margin + col * (cell_width + cell_gap),
                          top + row * (cell_height + cell_gap) + line + line_gap);
  }
  l.width = std::max({margin + cells_width + margin, margin + l.bar_width + margin,
                      margin + u32(text_width(p.title, 2)) + margin, margin + u32(text_width(p.caption)) + margin});
  l.height = top + l.rows * cell_height + (l.rows - 1) * cell_gap + margin;
  return p;
}

/// A blank image of width x height with the title (double size) and the caption under it.
void start_titled_image(rgb_image& image, std::uint32_t width, std::uint32_t height, std::string_view title,
                        std::string_view caption) {
  image.reset(width, height);
  draw_text(image, margin, margin, title, text_colour, 2);
  draw_text(image, margin, margin + u32(text_height(2)) + 4, caption, text_colour);
}

void draw_class_heatmap(rgb_image& image, const heatmap_set& set, std::size_t class_index, std::string_view class_name,
                        const heatmap_image_options& options);
void draw_heatmap_grid(rgb_image& image, const heatmap_set& set, std::span<const std::string> class_names,
                       std::uint32_t thumb_width, const heatmap_image_options& options);

}  // namespace

std::size_t heatmap_classes(const heatmap_set& set) {
  const std::size_t plane = std::size_t{set.width} * set.height;
  if (plane == 0)
    throw std::invalid_argument(fmt::format("heatmaps of {}x{} pixels have nothing to draw", set.width, set.height));
  if (set.counts.size() % plane != 0)
    throw std::invalid_argument(
        fmt::format("{} heatmap counts are not whole {}x{} planes", set.counts.size(), set.width, set.height));
  return set.counts.size() / plane;
}

heatmap_set zoom_heatmap(const heatmap_set& set, std::uint32_t factor) {
  if (factor == 0 || std::uint64_t{std::max(set.width, set.height)} * factor > UINT32_MAX)
    throw std::invalid_argument(fmt::format("a {}x{} heatmap cannot be zoomed by {}", set.width, set.height, factor));
  const std::size_t classes = heatmap_classes(set);
  heatmap_set out;
  out.width = set.width * factor;
  out.height = set.height * factor;
  out.frames = set.frames;
  out.counts.reserve(classes * out.width * out.height);
  for (std::size_t c = 0; c < classes; ++c) {
    const auto plane = plane_of(set, c);
    for (std::uint32_t y = 0; y < out.height; ++y) {
      const std::uint32_t* src = plane.data() + std::size_t{y / factor} * set.width;
      for (std::uint32_t x = 0; x < out.width; ++x) out.counts.push_back(src[x / factor]);
    }
  }
  return out;
}

class_heatmap_layout layout_class_heatmap(const heatmap_set& set, std::size_t class_index, std::string_view class_name,
                                          const heatmap_image_options& options) {
  return class_parts_of(set, class_index, class_name, options).layout;
}

rgb_image render_class_heatmap(const heatmap_set& set, std::size_t class_index, std::string_view class_name,
                               const heatmap_image_options& options) {
  rgb_image image;
  draw_class_heatmap(image, set, class_index, class_name, options);
  return image;
}

namespace {
void draw_class_heatmap(rgb_image& image, const heatmap_set& set, std::size_t class_index, std::string_view class_name,
                        const heatmap_image_options& options) {
  const class_parts p = class_parts_of(set, class_index, class_name, options);
  const auto& l = p.layout;
  start_titled_image(image, l.width, l.height, p.title, p.caption);

  const auto plane = plane_of(set, class_index);
  const auto& table = table_of(options.map);
  const auto colour_of = [&](std::uint32_t count) {
    return p.max == 0 ? table[0] : colour_at(options.map, static_cast<double>(count) / p.max);
  };
  // The colour of every count from 0 to max, once, when there are fewer counts than pixels:
  // colour_at on every pixel was most of the drawing. The same function of the same count: the
  // same colours.
  std::vector<rgb8> colours;
  if (std::uint64_t{p.max} < std::uint64_t{set.width} * set.height) {
    colours.resize(std::size_t{p.max} + 1);
    for (std::uint32_t k = 0; k <= p.max; ++k) colours[k] = colour_of(k);
  }
  for (std::uint32_t y = 0; y < set.height; ++y) {
    const std::uint32_t* src = plane.data() + std::size_t{y} * set.width;
    std::uint8_t* dst = image.pixels.data() + ((std::size_t{l.map_y} + y) * l.width + l.map_x) * 3;
    for (std::uint32_t x = 0; x < set.width; ++x, dst += 3) {
      const rgb8 c = colours.empty() ? colour_of(src[x]) : colours[src[x]];
      dst[0] = c[0], dst[1] = c[1], dst[2] = c[2];
    }
  }

  const std::uint32_t h = l.bar_height;
  for (std::uint32_t r = 0; r < h; ++r) {
    const double t = p.max == 0 || h == 1 ? 0.0 : static_cast<double>(h - 1 - r) / (h - 1);
    image.fill_rect(l.bar_x, l.bar_y + r, l.bar_width, 1, colour_at(options.map, t));
  }
  const std::int64_t label_x = std::int64_t{l.bar_x} + l.bar_width + tick_length + label_gap;
  const std::int64_t half_line = text_height() / 2;
  for (const auto& [pos, label] : p.ticks.ticks) {
    const std::int64_t y = l.bar_y + std::llround((1.0 - pos) * (h - 1));
    image.fill_rect(std::int64_t{l.bar_x} + l.bar_width, y, tick_length, 1, text_colour);
    draw_text(image, label_x, y - half_line, label, text_colour);
  }
  if (!p.ticks.top_note.empty()) draw_text(image, label_x, l.bar_y, p.ticks.top_note, text_colour);
}
}  // namespace

heatmap_grid_layout layout_heatmap_grid(const heatmap_set& set, std::span<const std::string> class_names,
                                        std::uint32_t thumb_width, const heatmap_image_options& options) {
  return grid_parts_of(set, class_names, thumb_width, options).layout;
}

rgb_image render_heatmap_grid(const heatmap_set& set, std::span<const std::string> class_names,
                              std::uint32_t thumb_width, const heatmap_image_options& options) {
  rgb_image image;
  draw_heatmap_grid(image, set, class_names, thumb_width, options);
  return image;
}

namespace {
void draw_heatmap_grid(rgb_image& image, const heatmap_set& set, std::span<const std::string> class_names,
                       std::uint32_t thumb_width, const heatmap_image_options& options) {
  const grid_parts p = grid_parts_of(set, class_names, thumb_width, options);
  const auto& l = p.layout;
  start_titled_image(image, l.width, l.height, p.title, p.caption);
  for (std::uint32_t i = 0; i < l.bar_width; ++i)
    image.fill_rect(
        l.bar_x + i, l.bar_y, 1, l.bar_height,
        colour_at(options.map, p.scale.top > 0 && l.bar_width > 1 ? static_cast<double>(i) / (l.bar_width - 1) : 0.0));
  const std::int64_t label_y = std::int64_t{l.bar_y} + l.bar_height + tick_length + label_gap;
  for (std::size_t k = 0; k < l.ticks.size(); ++k) {
    const auto& t = l.ticks[k];
    image.fill_rect(t.x, std::int64_t{l.bar_y} + l.bar_height, 1, tick_length, text_colour);
    const std::int64_t w = text_width(t.label);
    const std::int64_t x = k == 0                    ? t.x
                           : k + 1 == l.ticks.size() ? std::int64_t{t.x} + 1 - w
                                                     : std::int64_t{t.x} - w / 2;
    draw_text(image, x, label_y, t.label, text_colour);
  }

  const auto wx = weights_of(set.width, l.thumb_width);
  const auto wy = weights_of(set.height, l.thumb_height);
  const std::int64_t line = text_height();
  std::vector<std::uint64_t> rows;
  for (std::size_t c = 0; c < p.names.size(); ++c) {
    const auto [x, y] = l.thumbs[c];
    draw_text(image, x, std::int64_t{y} - line_gap - line, p.names[c], text_colour);
    draw_thumbnail(image, x, y, plane_of(set, c), set.width, set.height, wx, wy, l.thumb_width, l.thumb_height,
                   p.maxima[c], set.frames, p.scale, options.map, rows);
    draw_text(image, x, std::int64_t{y} + l.thumb_height + line_gap, p.notes[c], text_colour);
  }
}
}  // namespace

void render_heatmap_picture(const heatmap_set& set, std::span<const std::string> class_names, std::size_t index,
                            const heatmap_image_options& options, rgb_image& into) {
  const std::size_t classes = heatmap_classes(set);
  if (class_names.size() != classes)
    throw std::invalid_argument(fmt::format("{} class names for heatmaps of {} classes", class_names.size(), classes));
  if (index < classes)
    draw_class_heatmap(into, set, index, class_names[index], options);
  else
    draw_heatmap_grid(into, set, class_names, 320, options);
}

rgb_image render_heatmap_picture(const heatmap_set& set, std::span<const std::string> class_names, std::size_t index,
                                 const heatmap_image_options& options) {
  rgb_image image;
  render_heatmap_picture(set, class_names, index, options, image);
  return image;
}

std::vector<std::filesystem::path> heatmap_picture_files(std::span<const std::string> class_names,
                                                         const std::filesystem::path& dir) {
  const std::size_t classes = class_names.size();
  const std::size_t digits = std::max<std::size_t>(2, fmt::formatted_size("{}", classes == 0 ? 0 : classes - 1));
  std::vector<std::filesystem::path> files;
  for (std::size_t c = 0; c < classes; ++c)
    // The name part is cut at 100 bytes: a file name longer than 255 bytes cannot be created.
    files.push_back(dir / fmt::format("{:0{}}_{}.png", c, digits, group_directory_name(class_names[c]).substr(0, 100)));
  files.push_back(dir / "grid.png");
  return files;
}

std::vector<std::filesystem::path> write_heatmap_images(const heatmap_set& set,
                                                        std::span<const std::string> class_names,
                                                        const std::filesystem::path& dir,
                                                        const heatmap_image_options& options) {
  const std::size_t classes = heatmap_classes(set);
  if (class_names.size() != classes)
    throw std::invalid_argument(fmt::format("{} class names for heatmaps of {} classes", class_names.size(), classes));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot create the directory ({})", dir.string(), ec.message()));
  auto files = heatmap_picture_files(class_names, dir);
  for (std::size_t k = 0; k < files.size(); ++k)
    write_png(files[k], render_heatmap_picture(set, class_names, k, options));
  return files;
}

}  // namespace maskscan::detail
