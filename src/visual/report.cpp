// report.html: one self-contained page of a scan's statistics and pictures (docs/report.md), rendered
// from report_model (what the page shows). Everything the page shows is also written as a file under
// images/, and embedded from the same bytes, so the report and the files never disagree; this file
// is the only one of the report that touches the file system.
#include <maskscan/report.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <maskscan/class_map.hpp>
#include <maskscan/grouping.hpp>
#include <maskscan/output.hpp>

#include "core/atomic_file.hpp"
#include "core/paths.hpp"
#include "core/thread_pool.hpp"
#include "core/utc_time.hpp"
#include "output/outputs.hpp"
#include "visual/heatmap_images.hpp"
#include "visual/html.hpp"
#include "visual/image_jobs.hpp"
#include "visual/overlay.hpp"
#include "visual/png_writer.hpp"
#include "visual/report_model.hpp"
#include "visual/svg_charts.hpp"

namespace maskscan {
namespace {

namespace fs = std::filesystem;
using detail::css_colour;
using detail::digit_groups;
using detail::escape_html;
using detail::report_model;

void write_text(const fs::path& file, const std::string& text) {
  detail::write_file_atomically(file, [&](std::ostream& out) { out << text; });
}

void make_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot create the directory ({})", dir.string(), ec.message()));
}

/// A share as a percentage; never rounded to "0%" or "100%" unless it is exactly that.
std::string percent(double fraction) {
  const double p = 100.0 * fraction;
  if (p == 0) return "0%";
  if (p < 0.01) return "&lt;0.01%";
  if (p < 10) return fmt::format("{:.2f}%", p);
  if (p < 100 && p >= 99.95) return "&gt;99.9%";
  return fmt::format("{:.1f}%", p);
}

using detail::heatmap_sizes_shown;
using detail::report_class_limit;

/// 2801.4 -> "2,801", 14.03 -> "14", 1.4 -> "1.4": three significant digits at most below 1,000.
std::string ratio_text(double r) {
  if (r >= 999.5) return digit_groups(static_cast<std::uint64_t>(std::llround(r)));
  return fmt::format("{:.3g}", r);
}

std::string weight_cell(const std::optional<double>& w) {
  return w ? fmt::format("{:.4g}", *w) : std::string("&mdash;");
}

std::string img(const std::string& uri, const std::string& alt, const std::string& cls = {}) {
  return fmt::format(R"(<img src="{}" alt="{}"{}>)", uri, escape_html(alt),
                     cls.empty() ? "" : fmt::format(R"( class="{}")", cls));
}

std::string png_img(std::span<const std::uint8_t> png, const std::string& alt, const std::string& cls = {}) {
  return img(detail::data_uri("image/png", png), alt, cls);
}

std::string utc_now() { return detail::utc_now("%Y-%m-%d %H:%M UTC"); }

/// "all 1280×966", or "1280×966: 30, 640×480: 10" (frames of each size).
std::string sizes_text(const detail::frame_size_counts& sizes) {
  if (sizes.size() == 1) return fmt::format("all {}&times;{}", sizes.begin()->first.first, sizes.begin()->first.second);
  std::string out;
  for (const auto& [size, n] : sizes)
    out += fmt::format("{}{}&times;{}: {}", out.empty() ? "" : ", ", size.first, size.second, digit_groups(n));
  return out.empty() ? "no frames" : "frames of each size: " + out;
}

/// The memory a picture is drawn and encoded in, handed from one picture to the next (as many sets
/// as pictures are drawn at once): fresh pages for every picture cost more than drawing it.
struct picture_memory {
  detail::rgb_image canvas;
  detail::png_scratch png;
};

class picture_memory_shelf {
 public:
  std::unique_ptr<picture_memory> take() {
    const std::lock_guard lock(mutex_);
    if (free_.empty()) return std::make_unique<picture_memory>();
    auto m = std::move(free_.back());
    free_.pop_back();
    return m;
  }
  void put(std::unique_ptr<picture_memory> m) {
    const std::lock_guard lock(mutex_);
    free_.push_back(std::move(m));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<picture_memory>> free_;
};

class report_builder {
 public:
  report_builder(const report_model& model, const fs::path& dir, detail::image_jobs& pictures,
                 picture_memory_shelf& memory)
      : model_(model),
        result_(*model.result),
        dir_(dir),
        balance_(model.balance),
        options_(model.options),
        palette_(detail::class_palette(result_.options)),
        map_{options_.colormap == heatmap_colormap::magma ? detail::colormap::magma : detail::colormap::viridis},
        pictures_(pictures),
        memory_(memory) {}

  fs::path write() {
    // images/ is the report's own tree: pictures of an earlier report (other groups, classes or
    // sizes) must not stay beside the new ones.
    std::error_code ec;
    fs::remove_all(dir_ / "images", ec);
    if (ec)
      throw std::runtime_error(fmt::format("{}: cannot remove the earlier report's pictures ({})",
                                           (dir_ / "images").string(), ec.message()));
    make_directory(dir_ / "images");
    const bool grouped = !result_.stats.grouping.empty();
    const dataset_stats& overall = *model_.overall;

    std::string body;
    body += header();
    body += summary_section(overall);
    body += distribution_section(overall);
    body += heatmap_section(overall);
    body += weights_section(overall);
    body += cooccurrence_section(overall);
    if (overall.components) body += components_section(overall);
    if (grouped) body += groups_section();
    body += overlays_section();
    body += skipped_section();
    body += run_section();

    // The pictures were queued as the sections were written; the page waits for them here.
    const fs::path file = dir_ / "report.html";
    write_text(file, pictures_.fill(page(body)));
    return file;
  }

 private:
  std::string page(const std::string& body) const {
    return fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>maskscan report: {}</title>
<style>{}</style>
</head>
<body>
<main>
{}
</main>
</body>
</html>
)",
                       escape_html(result_.input), style(), body);
  }

  static const char* style() {
    return R"(
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p, li { max-width: 90ch; }
.muted { color: var(--muted); }
.banner { background: #fff8c5; border: 1px solid #d4a72c; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; background: var(--soft); }
.card b { display: block; font-size: 20px; }
.card span { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
table.weights th { vertical-align: bottom; }
table.weights th.num { white-space: normal; min-width: 5.5em; }
ul.flat { color: var(--muted); font-size: 14px; }
.scroll { overflow-x: auto; }
td.name { white-space: nowrap; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.ignored td { color: var(--muted); font-style: italic; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; border: 1px solid rgba(0,0,0,.25); vertical-align: -1px; margin-right: 6px; }
.bar { display: inline-block; height: 10px; background: var(--accent); border-radius: 2px; vertical-align: 0; }
figure { margin: 12px 0 20px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
img.full, svg { max-width: 100%; height: auto; }
.heatmaps { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
.heatmaps img { width: 100%; border: 1px solid var(--line); }
.overlays { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
.overlays img { width: 100%; border: 1px solid var(--line); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; margin: 8px 0; }
table.heat td { text-align: center; font-variant-numeric: tabular-nums; min-width: 44px; padding: 3px 4px; font-size: 12px; border: 1px solid #fff; }
table.heat th { font-size: 12px; padding: 3px 6px; }
table.heat th.col { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; text-align: left; }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--accent); }
code { background: var(--soft); padding: 1px 4px; border-radius: 4px; font-size: 13px; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.run dt { color: var(--muted); }
dl.run dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; word-break: break-all; }
)";
  }

  std::string swatch(std::uint32_t id) const {
    if (id >= palette_.size()) return {};
    return fmt::format(R"(<span class="swatch" style="background:{}"></span>)", css_colour(palette_[id]));
  }

  std::string header() const {
    const auto& h = model_.headline;
    std::string out =
        fmt::format("<h1>maskscan report</h1>\n<p class=\"muted\">{} &middot; generated {} by maskscan {}</p>\n",
                    escape_html(result_.input), utc_now(), MASKSCAN_VERSION);
    if (result_.partial)
      out += fmt::format(
          "<p class=\"banner\"><b>Partial results.</b> {} The statistics below cover only the frames done.</p>\n",
          result_.stopped_at.empty() ? "The scan was interrupted."
                                     : fmt::format("The scan stopped at the first bad file, <code>{}</code>.",
                                                   escape_html(result_.stopped_at)));
    out += "<div class=\"cards\">";
    const auto card = [&](const std::string& value, const std::string& what) {
      out += fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>", value, what);
    };
    card(digit_groups(h.frames), "frames scanned");
    card(digit_groups(h.skipped), h.skipped ? fmt::format("skipped ({})", percent(h.skipped_share)) : "skipped");
    card(fmt::format("{} / {}", h.classes_present, h.classes), "classes present");
    card(digit_groups(h.labelled_pixels), "labelled pixels");
    // The imbalance at a glance: the most common class against the rarest present one.
    if (h.imbalance)
      card(ratio_text(h.imbalance->ratio) + " : 1",
           fmt::format("pixels of {} to {}", escape_html(h.imbalance->most), escape_html(h.imbalance->least)));
    out += "</div>\n";
    return out;
  }

  /// The machine's side of the scan (time and throughput), for the Run section: the cards at the
  /// top are about the data. Nothing for merged statistics, which have no scan to time.
  std::string speed_cards() const {
    if (options_.merged) return {};
    std::string out = "<div class=\"cards\">";
    const auto card = [&](const std::string& value, const std::string& what) {
      out += fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>", value, what);
    };
    card(fmt::format("{:.2f} s", result_.wall_seconds), "scan time (wall)");
    // Skipped files were read and decoded as far as they went: they count as frames handled.
    if (model_.frames_per_second)
      card(fmt::format("{:.0f}", *model_.frames_per_second), "frames/s (scanned and skipped)");
    return out + "</div>\n";
  }

  /// Summary table: per class its pixels, share, frames present, with a bar of the share.
  std::string class_table(const detail::report_class_table& table) const {
    std::string out =
        "<div class=\"scroll\"><table>\n<tr><th class=\"num\">id</th><th>class</th><th class=\"num\">pixels</th><th "
        "class=\"num\">share of "
        "labelled pixels</th><th></th><th class=\"num\">frames present</th><th class=\"num\">of frames</th></tr>\n";
    for (const auto& c : table.rows)
      out += fmt::format(
          "<tr{}><td class=\"num\">{}</td><td class=\"name\">{}{}{}</td><td class=\"num\">{}</td><td "
          "class=\"num\">{}</td>"
          "<td><span class=\"bar\" style=\"width:{:.1f}px;background:{}\"></span></td><td class=\"num\">{}</td><td "
          "class=\"num\">{}</td></tr>\n",
          c.ignored ? " class=\"ignored\"" : "", c.id, swatch(c.id), escape_html(c.name), c.ignored ? " (ignored)" : "",
          digit_groups(c.pixels), c.ignored ? "&mdash;" : percent(c.share), c.bar,
          c.id < palette_.size() ? css_colour(palette_[c.id]) : "#0969da", digit_groups(c.frames_present),
          percent(c.frames_share));
    out += "</table></div>\n";
    if (table.present_only)
      out += fmt::format("<p class=\"muted\">{} classes: only those present are listed.</p>\n",
                         digit_groups(table.classes));
    return out;
  }

  std::string summary_section(const dataset_stats& overall) const {
    const auto& totals = model_.totals;
    std::string out = "<h2 id=\"summary\">Summary</h2>\n";
    out += fmt::format(
        "<p>{} frames scanned ({}), {} labelled pixels of {}. The share of a class is of the labelled pixels; "
        "<i>frames present</i> counts the frames with at least one pixel of the class.</p>\n",
        digit_groups(totals.frames), sizes_text(model_.sizes), digit_groups(totals.labelled_pixels),
        digit_groups(totals.pixels));
    out += class_table(model_.classes);
    std::vector<std::string> notes;
    if (totals.ignored_pixels)
      notes.push_back(fmt::format(
          "{} ignored pixels, excluded from shares and weights: {}.", digit_groups(totals.ignored_pixels), [&] {
            std::string v;  // "Unlabelled (value 11)", or "value 11" unnamed
            for (const auto& t : totals.ignored) {
              const auto name = value_name(overall, t.value);
              v += fmt::format("{}{}", v.empty() ? "" : ", ",
                               name.empty() ? fmt::format("value {}", t.value)
                                            : fmt::format("{} (value {})", escape_html(name), t.value));
            }
            return v;
          }()));
    if (totals.out_of_range_pixels) {
      std::string v;
      for (std::size_t i = 0; i < totals.out_of_range.size() && i < 20; ++i)
        v += fmt::format("{}{} ({} px)", i ? ", " : "", totals.out_of_range[i].value,
                         digit_groups(totals.out_of_range[i].pixels));
      notes.push_back(fmt::format("<b>{} out-of-range pixels</b>: values not in the class list: {}{}.",
                                  digit_groups(totals.out_of_range_pixels), v,
                                  totals.out_of_range.size() > 20 ? ", &hellip; (all in summary.json)" : ""));
    }
    if (totals.unknown_colour_pixels)
      notes.push_back(fmt::format("<b>{} pixels of {} colours not in the colour table</b> (listed in summary.json).",
                                  digit_groups(totals.unknown_colour_pixels), totals.unknown_colours.size()));
    if (!notes.empty()) {
      out += "<ul>";
      for (const auto& n : notes) out += "<li>" + n + "</li>";
      out += "</ul>\n";
    }
    return out;
  }

  std::string inline_svg(const std::string& svg, const std::string& file_name) const {
    write_text(dir_ / "images" / file_name, svg);
    // The SVG goes into the page as markup (no XML declaration inside HTML).
    std::string markup = svg;
    if (markup.starts_with("<?xml")) markup.erase(0, markup.find("?>") + 2);
    return markup;
  }

  std::string distribution_section(const dataset_stats& overall) const {
    std::string out = "<h2 id=\"distribution\">Class distribution</h2>\n";
    if (overall.class_names.size() > report_class_limit)
      return out + fmt::format(
                       "<p>Charts are left out above {} classes: see the table above and "
                       "<code>summary.json</code>.</p>\n",
                       report_class_limit);
    out += "<p>Pixels and frames per class. The log scale shows the rare classes the linear one flattens.</p>\n";
    out += "<figure>" + inline_svg(detail::class_distribution_svg(overall, false, palette_), "class_distribution.svg") +
           "<figcaption>Linear scale (images/class_distribution.svg)</figcaption></figure>\n";
    out += "<figure>" +
           inline_svg(detail::class_distribution_svg(overall, true, palette_), "class_distribution_log.svg") +
           "<figcaption>Log scale (images/class_distribution_log.svg)</figcaption></figure>\n";
    return out;
  }

  /// Queues the heatmap images of one set and returns the grid and per-class images, as HTML.
  std::string heatmap_set_html(const heatmap_set& set, const fs::path& sub, bool per_class_shown) const {
    const auto name = fmt::format("{}x{}", set.width, set.height);
    const std::string what = fmt::format("{} frames of {}&times;{}", digit_groups(set.frames), set.width, set.height);
    // Not owned: the set is the scan's (or the model's), which outlive the pictures.
    return set_images_html(std::shared_ptr<const heatmap_set>(std::shared_ptr<void>(), &set), {.map = map_}, sub, name,
                           what, per_class_shown ? "Each class at full resolution" : "");
  }

  /// Queues the images of a grid set (drawn zoomed, each cell a square) and returns them as HTML.
  std::string grid_set_html(const heatmap_set& grid, const fs::path& sub, bool per_class_shown) const {
    const std::string what = fmt::format("{} frames of every size sampled onto the {}&times;{} grid",
                                         digit_groups(grid.frames), grid.width, grid.height);
    return set_images_html(std::make_shared<const heatmap_set>(detail::zoom_heatmap(grid, detail::grid_zoom(grid))),
                           {.map = map_, .grid = grid_size{grid.width, grid.height}}, sub,
                           fmt::format("grid_{}x{}", grid.width, grid.height), what,
                           per_class_shown ? "Each class on the grid" : "");
  }

  /// Queues the pictures of `set` (write_heatmap_images' files, under images/heatmaps/<sub>/<name>/)
  /// and returns the grid image as a figure, and the per-class images folded under `per_class`
  /// (none if empty: then they are files only).
  std::string set_images_html(std::shared_ptr<const heatmap_set> set, const detail::heatmap_image_options& options,
                              const fs::path& sub, const std::string& name, const std::string& what,
                              const std::string& per_class) const {
    const fs::path dir = dir_ / "images" / "heatmaps" / sub / name;
    make_directory(dir);
    const auto& names = result_.stats.class_names;
    const auto files = detail::heatmap_picture_files(names, dir);
    std::vector<std::string> html;  // per picture, its placeholder
    for (std::size_t k = 0; k < files.size(); ++k) {
      const bool grid = k + 1 == files.size();
      const bool embedded = grid || !per_class.empty();
      html.push_back(pictures_.add([set, &names, options, k, file = files[k], embedded, grid, &shelf = memory_] {
        auto memory = shelf.take();
        detail::render_heatmap_picture(*set, names, k, options, memory->canvas);
        const auto png = detail::write_png(file, memory->canvas, {}, &memory->png);
        shelf.put(std::move(memory));
        if (!embedded) return std::string();
        return grid ? png_img(png, "heatmaps of all classes", "full") : png_img(png, "heatmap of " + names[k]);
      }));
    }
    std::string out =
        fmt::format("<figure>{}<figcaption>All classes on one scale, {} (images/{})</figcaption></figure>\n",
                    html.back(), what, escape_html((fs::path("heatmaps") / sub / name / "grid.png").generic_string()));
    if (per_class.empty()) return out;
    out += "<details><summary>" + per_class + "</summary>\n<div class=\"heatmaps\">\n";
    for (std::size_t c = 0; c + 1 < html.size(); ++c) out += fmt::format("<figure>{}</figure>\n", html[c]);
    out += "</div></details>\n";
    return out;
  }

  std::string heatmap_section(const dataset_stats& overall) const {
    std::string out = "<h2 id=\"heatmaps\">Heatmaps</h2>\n";
    const bool grid = !overall.heatmap_grid.empty();
    if (!overall.has_heatmaps && !grid)
      return out +
             "<p>Not accumulated in this scan: run <code>maskscan scan &hellip; --heatmaps --report</code> (one "
             "set per frame size) or <code>--heatmap-grid 64x48</code> (frames of every size on one grid) to "
             "see where each class lives.</p>\n";
    if (overall.heatmaps.empty() && overall.grid_heatmaps.empty()) return out + "<p>No frame was scanned.</p>\n";
    out += fmt::format(
        "<p>Where each class lives: each pixel shows the fraction of the frames in which it holds the class "
        "({} colour map). The grid puts every class on one logarithmic scale, its colour bar above the tiles, so "
        "equal colours are equal fractions in any two tiles; each class at full resolution is scaled to its own "
        "maximum, with its own colour bar.{}{}</p>\n",
        map_ == detail::colormap::magma ? "magma" : "viridis", overall.has_heatmaps ? " One set per frame size." : "",
        grid ? fmt::format(" On the {0}&times;{1} grid, every frame, whatever its size, is sampled at {0}&times;{1} "
                           "points (the pixel nearest each cell's centre), so frames of all sizes add up in one set.",
                           overall.heatmap_grid.width, overall.heatmap_grid.height)
             : std::string());
    if (overall.class_names.size() > report_class_limit)
      return out + fmt::format("<p>Heatmap images are left out above {} classes; the counts are in {}.</p>\n",
                               report_class_limit,
                               overall.has_heatmaps && grid ? "<code>heatmaps_&lt;W&gt;x&lt;H&gt;.npy</code> and "
                                                              "<code>heatmaps_grid_&lt;W&gt;x&lt;H&gt;.npy</code>"
                               : grid                       ? "<code>heatmaps_grid_&lt;W&gt;x&lt;H&gt;.npy</code>"
                                                            : "<code>heatmaps_&lt;W&gt;x&lt;H&gt;.npy</code>");
    if (model_.grid) {
      out += fmt::format("<h3 id=\"heatmap-grid\">All frames on the {}&times;{} grid</h3>\n", model_.grid->width,
                         model_.grid->height);
      out += grid_set_html(*model_.grid, {}, true);
    }
    if (!overall.has_heatmaps) return out;
    if (grid) out += "<h3 id=\"heatmap-sizes\">Per frame size</h3>\n";
    for (const auto* set : model_.size_sets) out += heatmap_set_html(*set, {}, true);
    if (overall.heatmaps.size() > heatmap_sizes_shown)
      out += fmt::format(
          "<p class=\"muted\">Images of the {} most common of {} frame sizes; every size is in the "
          ".npy files.</p>\n",
          heatmap_sizes_shown, overall.heatmaps.size());
    return out;
  }

  std::string weights_section(const dataset_stats& overall) const {
    const auto& weights = model_.weights;
    std::string out = "<h2 id=\"weights\">Class weights</h2>\n";
    out +=
        "<p>Loss weights from the counts above, one column per method (formulas and sources in "
        "<code>docs/statistics.md</code>; the same values are in <code>weights.csv</code>). Ignored and absent "
        "classes have no weight.</p>\n";
    const bool many = overall.class_names.size() > report_class_limit;
    if (!many)
      out += "<figure>" + inline_svg(detail::class_weights_svg(overall, balance_, palette_), "class_weights.svg") +
             "<figcaption>images/class_weights.svg</figcaption></figure>\n";
    // A column in which every weighted class has the same value sets no class apart: it is left out
    // of the table and said in one line under it instead (weights.csv keeps every column).
    const auto& columns = model_.weight_columns;
    std::vector<std::string> flat_notes;
    for (const auto& c : columns)
      if (c.uniform)
        flat_notes.push_back(
            flat_column_note(c.header, *c.uniform, c.weight == &class_balance::repeat_factor, weights));

    out += "<div class=\"scroll\"><table class=\"weights\">\n<tr><th class=\"num\">id</th><th>class</th>";
    for (const auto& c : columns)
      if (!c.uniform) out += fmt::format("<th class=\"num\">{}</th>", c.header);
    out += "</tr>\n";
    for (const auto& w : weights) {
      if (many && !w.inverse_frequency) continue;  // above the limit: the weighted classes only
      out += fmt::format("<tr{}><td class=\"num\">{}</td><td class=\"name\">{}{}</td>",
                         w.ignored ? " class=\"ignored\"" : "", w.id, swatch(w.id), escape_html(w.name));
      for (const auto& c : columns) {
        if (c.uniform) continue;
        out += "<td class=\"num\">" + weight_cell(w.*(c.weight)) + "</td>";
      }
      out += "</tr>\n";
    }
    out += "</table></div>\n";
    if (!flat_notes.empty()) {
      out += "<ul class=\"flat\">";
      for (const auto& n : flat_notes) out += "<li>" + n + "</li>";
      out += "</ul>\n";
    }
    out += fmt::format(
        "<p class=\"muted\">ENet c = {}, effective number &beta; = {} over {}, {}.</p>\n", balance_.enet_c,
        balance_.effective_beta, to_string(balance_.unit),
        balance_.repeat_threshold
            ? fmt::format("repeat threshold t = {}", *balance_.repeat_threshold)
            : std::string("no repeat factors (<code>--repeat-threshold t</code> repeats the frames of classes in "
                          "fewer than a fraction t of the frames; frame frequencies are in <code>weights.csv</code>)"));
    return out;
  }

  /// Why a weight or repeat-factor column holds one value for every weighted class, and what to
  /// change for it to say something.
  std::string flat_column_note(const char* header, double value, bool repeat_factor,
                               const std::vector<class_balance>& weights) const {
    const class_balance* rarest = nullptr;  // the weighted class in the fewest frames
    std::size_t weighted = 0;
    for (const auto& c : weights)
      if (c.inverse_frequency) {
        ++weighted;
        if (!rarest || c.frame_frequency < rarest->frame_frequency) rarest = &c;
      }
    std::string why;
    if (weighted == 1)
      why = fmt::format("Only one class, {}, is weighted: the others are absent or ignored", escape_html(rarest->name));
    else if (repeat_factor && value == 1)
      why = fmt::format(
          "The threshold t = {} is at or below every class's frame frequency f, the lowest being {}'s ({} of the "
          "frames), and r = max(1, &radic;(t / f)): choose <code>--repeat-threshold</code> above {:.3g} to "
          "repeat the frames of the rarer classes",
          balance_.repeat_threshold.value_or(0), escape_html(rarest->name), percent(rarest->frame_frequency),
          rarest->frame_frequency);
    else if (!repeat_factor && header == std::string_view("effective number") && balance_.effective_beta == 0)
      why = "&beta; = 0 counts every class as one sample: choose <code>--effective-beta</code> closer to 1";
    else if (!repeat_factor && header == std::string_view("effective number"))
      why = fmt::format(
          "With &beta; = {} every class has so many {} that &beta;<sup>n</sup> is 0 and its effective "
          "number the limit 1 / (1 &minus; &beta;): choose <code>--effective-beta</code> closer to 1{}",
          balance_.effective_beta, to_string(balance_.unit),
          balance_.unit == effective_unit::pixels ? " or <code>--effective-unit frames</code>" : "");
    else
      why = "The weighted classes' counts give every class the same value";
    return fmt::format(
        "<b>{}</b>: {:.4g} for every class, so it is left out of the table (the column stays in "
        "<code>weights.csv</code>). {}.",
        header, value, why);
  }

  std::string cooccurrence_section(const dataset_stats& overall) const {
    std::string out = "<h2 id=\"cooccurrence\">Co-occurrence</h2>\n";
    const auto& [shown, cut, too_many, matrix] = model_.cooccurrence;
    if (shown.empty()) return out + "<p>No class is present.</p>\n";
    if (too_many) return out + "<p>Left out above 1,024 classes (see <code>docs/statistics.md</code>).</p>\n";
    out +=
        "<p>Row <i>a</i>, column <i>b</i>: of the frames holding <i>a</i>, the share that also hold <i>b</i> "
        "(hover for the frame counts; the diagonal is 100%). Frame counts for every pair are in "
        "<code>cooccurrence.csv</code>.";
    if (cut)
      out += fmt::format(" The {} classes present in the most frames are shown.", detail::cooccurrence_classes_shown);
    out += "</p>\n<div class=\"scroll\"><table class=\"heat\">\n<tr><th></th>";
    for (const auto b : shown) out += fmt::format("<th class=\"col\">{}</th>", escape_html(overall.class_names[b]));
    out += "</tr>\n";
    for (const auto a : shown) {
      out += fmt::format("<tr><th>{}{}</th>", swatch(a), escape_html(overall.class_names[a]));
      for (const auto b : shown) {
        const double share = static_cast<double>(matrix[a][b]) / static_cast<double>(matrix[a][a]);
        // White to the accent blue; white text on the dark half.
        const auto mix = [&](int from, int to) { return static_cast<int>(std::lround(from + (to - from) * share)); };
        out += fmt::format(
            "<td style=\"background:rgb({},{},{});color:{}\" title=\"{} of the {} frames holding {} also hold "
            "{}\">{:.0f}</td>",
            mix(255, 8), mix(255, 81), mix(255, 156), share > 0.55 ? "#fff" : "#1f2328", digit_groups(matrix[a][b]),
            digit_groups(matrix[a][a]), escape_html(overall.class_names[a]), escape_html(overall.class_names[b]),
            std::floor(100 * share));  // 99.96% shows 99: only a class with itself (or always with it) is 100
      }
      out += "</tr>\n";
    }
    out += "</table></div>\n<p class=\"muted\">Values in %.</p>\n";
    return out;
  }

  std::string components_section(const dataset_stats& overall) const {
    const auto& summary = model_.components;
    std::string out = fmt::format(
        "<h2 id=\"components\">Connected components</h2>\n<p>Instances per class, {}-connected. A component of "
        "fewer than {} pixels is a speck, not an instance (<code>--min-component-pixels</code>); specks are counted "
        "apart. Size histograms are in <code>components.csv</code>.</p>\n",
        overall.components, digit_groups(overall.min_component_pixels));
    out +=
        "<table>\n<tr><th class=\"num\">id</th><th>class</th><th class=\"num\">instances</th><th class=\"num\">mean "
        "px</th><th class=\"num\">median px</th><th class=\"num\">min px</th><th class=\"num\">max px</th>"
        "<th class=\"num\">specks</th><th class=\"num\">speck px</th></tr>\n";
    for (const auto& s : summary)
      out += fmt::format(
          "<tr><td class=\"num\">{}</td><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1f}</td><td "
          "class=\"num\">{:.1f}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
          "class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
          s.id, swatch(s.id), escape_html(s.name), digit_groups(s.instances), s.mean_pixels, s.median_pixels,
          digit_groups(s.min_pixels), digit_groups(s.max_pixels), digit_groups(s.specks), digit_groups(s.speck_pixels));
    return out + "</table>\n";
  }

  std::string groups_section() const {
    std::string out = fmt::format(
        "<h2 id=\"groups\">Groups</h2>\n<p>Grouped by <code>{}</code>. Each group's full set "
        "of files is in <code>groups/&lt;group&gt;/</code>.</p>\n",
        escape_html(result_.stats.grouping));
    const auto& groups = model_.groups;
    // Side by side first: the share of each class in each group, and the frames holding it.
    out += "<p>Share of labelled pixels, and in brackets the share of frames holding the class, per group:</p>\n";
    out += "<div class=\"scroll\"><table>\n<tr><th class=\"num\">id</th><th>class</th>";
    for (const auto& g : groups)
      out +=
          fmt::format("<th class=\"num\"><a href=\"#group-{}\">{}</a><br><span class=\"muted\">{} frames</span></th>",
                      escape_html(g.directory), escape_html(g.name), digit_groups(g.totals.frames));
    out += "</tr>\n";
    for (const auto& row : model_.group_rows) {
      out += fmt::format("<tr><td class=\"num\">{}</td><td class=\"name\">{}{}</td>", row.id, swatch(row.id),
                         escape_html(row.name));
      for (const auto& share : row.groups) {
        if (!share) {
          out += "<td class=\"num\">&mdash;</td>";  // every file of the group was skipped
          continue;
        }
        out += fmt::format("<td class=\"num\">{} <span class=\"muted\">({})</span></td>", percent(share->pixels),
                           percent(share->frames));
      }
      out += "</tr>\n";
    }
    out += "</table></div>\n";
    for (const auto& g : groups) {
      out += fmt::format("<h3 id=\"group-{}\">{}</h3>\n<p>{} frames scanned ({}), {} skipped.</p>\n",
                         escape_html(g.directory), escape_html(g.name), digit_groups(g.totals.frames),
                         sizes_text(g.sizes), digit_groups(g.totals.skipped));
      out += "<details><summary>Class table and heatmaps of " + escape_html(g.name) + "</summary>\n";
      out += class_table(g.table);
      if (g.grid) out += grid_set_html(*g.grid, g.directory, false);
      for (const auto* set : g.size_sets) out += heatmap_set_html(*set, g.directory, false);
      out += "</details>\n";
    }
    return out;
  }

  std::string overlays_section() const {
    if (options_.overlays == 0 || options_.merged) return {};
    fs::path rgb_dir = options_.rgb_dir;
    if (rgb_dir.empty()) {
      if (const auto found = detail::find_rgb_dir(result_.input)) rgb_dir = *found;
      // Found beside the masks: used only inside the folder the frames are confined to.
      if (!rgb_dir.empty() && !options_.confine_rgb_to.empty() &&
          !detail::resolves_within(options_.confine_rgb_to, rgb_dir))
        rgb_dir.clear();
    }
    std::string out = "<h2 id=\"overlays\">Sample overlays</h2>\n";
    if (rgb_dir.empty())
      return out +
             "<p>No RGB frames were found beside the masks (WoodScape layout: <code>rgb_images/</code> next to "
             "<code>semantic_annotations/gtLabels/</code>); pass <code>--rgb-dir</code> to show overlays.</p>\n";
    const auto pairs =
        detail::sample_frame_pairs(result_.stats, result_.input, rgb_dir, options_.overlays, options_.confine_rgb_to);
    if (pairs.empty())
      return out +
             fmt::format("<p>None of the scanned frames has an RGB frame of the same name in <code>{}</code>.</p>\n",
                         escape_html(rgb_dir.string()));
    out += fmt::format(
        "<p>Masks over their RGB frames from <code>{}</code> (opacity {}), to check that they line up.</p>\n",
        escape_html(rgb_dir.string()), options_.overlay_alpha);
    out += "<div class=\"legend\">";
    for (const auto& c : model_.totals.classes)  // the legend lists the classes present
      if (c.pixels > 0 && !detail::is_ignored(result_.stats, c.id))
        out += "<span>" + swatch(c.id) + escape_html(c.name) + "</span>";
    out += "</div>\n<div class=\"overlays\">\n";
    make_directory(dir_ / "images" / "overlays");
    const fs::path input(result_.input);  // a one-file source names its frame by the file name
    const fs::path masks = fs::is_regular_file(input) ? input.parent_path() : input;
    std::set<std::string> files;  // images/overlays/ was emptied: the names taken are these
    for (const auto& [name, rgb] : pairs) {
      // Frames in subdirectories become one flat file name ("cam/a.png" -> "cam_a.png").
      std::string base = group_directory_name(name);
      if (base.ends_with(".png")) base.resize(base.size() - 4);
      std::string file_name = base + ".png";
      for (int k = 2; files.contains(file_name); ++k) file_name = fmt::format("{}-{}.png", base, k);
      files.insert(file_name);
      const auto html =
          pictures_.add([&scan = result_.options, alpha = options_.overlay_alpha, name = name, rgb = rgb,
                         mask = masks / name, file = dir_ / "images" / "overlays" / file_name, &shelf = memory_] {
            try {
              auto memory = shelf.take();
              const auto png = detail::write_png(file, detail::overlay_files(rgb, mask, scan, alpha),
                                                 detail::photo_png_encoding, &memory->png);
              shelf.put(std::move(memory));
              return png_img(png, "overlay of " + name);
            } catch (const std::exception& e) {
              return fmt::format("<p class=\"banner\">{}</p>", escape_html(e.what()));
            }
          });
      out += fmt::format("<figure>{}<figcaption>{}</figcaption></figure>\n", html, escape_html(name));
    }
    return out + "</div>\n";
  }

  std::string skipped_section() const {
    const auto& errors = result_.stats.errors;
    std::string out = "<h2 id=\"skipped\">Skipped files</h2>\n";
    if (errors.empty()) return out + "<p>None: every file was scanned.</p>\n";
    out += fmt::format(
        "<p>{} files could not be scanned and are left out of every statistic{}.</p>\n", digit_groups(errors.size()),
        errors.size() > detail::skipped_files_listed
            ? fmt::format("; the first {} are listed (all of them are in summary.json)", detail::skipped_files_listed)
            : "");
    out += "<table>\n<tr><th>file</th><th>cause</th></tr>\n";
    for (std::size_t i = 0; i < errors.size() && i < detail::skipped_files_listed; ++i)
      out += fmt::format("<tr><td><code>{}</code></td><td>{}</td></tr>\n", escape_html(errors[i].path),
                         escape_html(errors[i].message));
    return out + "</table>\n";
  }

  std::string run_section() const {
    const auto& rows = model_.run;
    std::string out = "<h2 id=\"run\">Run</h2>\n" + speed_cards() + "<dl class=\"run\">\n";
    for (const auto& [k, v] : rows) out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", escape_html(k), escape_html(v));
    return out + "</dl>\n";
  }

  const report_model& model_;
  const scan_result& result_;
  fs::path dir_;
  balance_options balance_;
  report_options options_;
  std::vector<detail::rgb8> palette_;
  detail::colormap map_;
  detail::image_jobs& pictures_;
  picture_memory_shelf& memory_;
};

/// Bad report options are refused before anything is written.
void check_report_options(const report_options& options) {
  if (!(options.overlay_alpha >= 0 && options.overlay_alpha <= 1))
    throw std::invalid_argument(fmt::format("the overlay opacity must be in [0, 1], not {}", options.overlay_alpha));
}

/// `summed`: the groups of a grouped scan summed already (ungroup(result.stats)), or nullptr.
fs::path write_report_on(const scan_result& result, const fs::path& dir, const balance_options& balance,
                         const report_options& options, std::optional<boost::asio::any_io_executor> pool,
                         const dataset_stats* summed = nullptr) {
  check_report_options(options);
  // Bad balance options are refused before anything is written.
  const report_model model = detail::make_report_model(result, balance, options, summed);
  // The pictures refer to the model, the result and the memory: they end before these go.
  picture_memory_shelf memory;
  detail::image_jobs pictures(std::move(pool));
  return report_builder(model, dir, pictures, memory).write();
}

/// write_report_on as many threads as the scan had workers, at most one per hardware thread (drawing
/// and encoding use the CPU alone: a thread more than the cores adds its picture memory, ~8 MB at
/// 1280x966, not speed), the calling thread one of them.
fs::path write_report_on_threads(const scan_result& result, const fs::path& dir, const balance_options& balance,
                                 const report_options& options, const dataset_stats* summed) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers = result.options.workers != 0 ? std::min(result.options.workers, cores) : cores;
  std::optional<detail::thread_pool> threads;
  if (const unsigned more = std::min(workers, max_workers) - 1; more > 0) {
    try {
      threads.emplace(more, "report threads");
    } catch (const std::system_error&) {
      // No thread to spare: the calling thread draws every picture, as it would with one worker.
    }
  }
  return write_report_on(result, dir, balance, options,
                         threads ? std::optional<boost::asio::any_io_executor>(threads->get_executor()) : std::nullopt,
                         summed);
}

}  // namespace

fs::path write_report(const scan_result& result, const fs::path& dir, const balance_options& balance,
                      const report_options& options, compute_pool& pool) {
  return write_report_on(result, dir, balance, options, pool.get_executor());
}

fs::path write_report(const scan_result& result, const fs::path& dir, const balance_options& balance,
                      const report_options& options) {
  return write_report_on_threads(result, dir, balance, options, nullptr);
}

fs::path write_outputs_and_report(const scan_result& result, const fs::path& dir, const balance_options& balance,
                                  const report_options& options) {
  // Bad options are refused before anything is written, as by each call alone.
  check_report_options(options);
  validate(balance);
  const bool grouped = !result.stats.grouping.empty();
  const dataset_stats summed = grouped ? ungroup(result.stats) : dataset_stats{};
  const dataset_stats* sums = grouped ? &summed : nullptr;
  // The outputs are written on a thread of their own while the report draws: writing is mostly the
  // kernel copying the .npy files, one thread at a time, which the pictures fill in around. They
  // share nothing but `result` and `summed`, which neither changes; their files are different ones.
  std::future<void> outputs;  // its destructor waits for the outputs, also when the report throws
  try {
    outputs = std::async(std::launch::async, [&] { detail::write_outputs(result, sums, dir, balance); });
  } catch (const std::system_error&) {
    detail::write_outputs(result, sums, dir, balance);  // no thread to spare: one after the other
  }
  const auto page = write_report_on_threads(result, dir, balance, options, sums);
  if (outputs.valid()) outputs.get();  // the outputs' error, if they failed
  return page;
}

}  // namespace maskscan
