// What the numbers cannot say themselves: whether the class map fits the values found.
#include <maskscan/stats.hpp>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <maskscan/class_map.hpp>
#include <maskscan/text.hpp>

namespace maskscan {
namespace {

constexpr double warn_share = 0.01;         // more than 1% of the pixels
constexpr double suggested_coverage = 0.5;  // a map is suggested when at least half of its values occur

std::string percent(std::uint64_t part, std::uint64_t whole) {
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

/// "0..11" for consecutive values, else a list (the first 12).
std::string value_list(const std::set<std::uint32_t>& values) {
  if (values.empty()) return "none";
  if (*values.rbegin() - *values.begin() + 1 == values.size() && values.size() > 2)
    return fmt::format("{}..{}", *values.begin(), *values.rbegin());
  std::vector<std::uint32_t> shown(values.begin(), values.end());
  const bool more = shown.size() > 12;
  if (more) shown.resize(12);
  return fmt::format("{}{}", fmt::join(shown, ", "), more ? fmt::format(" and {} more", values.size() - 12) : "");
}

/// Built-in maps that name every value (a class id or an ignore value of the map) and of whose
/// values at least `min_coverage` occur, the tightest first: fewest of the map's values left unused.
/// (Coverage keeps a big map from "fitting" any few small values: Mapillary's 17..85 are all below
/// ADE20K's 151 classes, but are not ADE20K's.)
std::vector<class_map> fitting_maps(const std::set<std::uint32_t>& values, double min_coverage) {
  std::vector<std::pair<std::size_t, class_map>> fits;
  for (const auto& name : builtin_class_map_names()) {
    auto map = builtin_class_map(name);
    const bool fits_all = std::ranges::all_of(
        values, [&](std::uint32_t v) { return v < map.names.size() || std::ranges::binary_search(map.ignore, v); });
    if (!fits_all) continue;
    std::set<std::uint32_t> named(map.ignore.begin(), map.ignore.end());
    for (std::uint32_t id = 0; id < map.names.size(); ++id) named.insert(id);
    if (static_cast<double>(values.size()) < min_coverage * static_cast<double>(named.size())) continue;
    fits.emplace_back(named.size() - values.size(), std::move(map));
  }
  std::ranges::stable_sort(fits, {}, &std::pair<std::size_t, class_map>::first);
  std::vector<class_map> best;
  for (auto& [slack, map] : fits)
    if (slack == fits.front().first) best.push_back(std::move(map));
  return best;
}

std::string suggest(const std::vector<class_map>& maps) {
  std::vector<std::string> flags;
  for (const auto& m : maps) flags.push_back("--labels " + m.name);
  return fmt::format("{}", fmt::join(flags, " or "));
}

}  // namespace

std::string common_failure(const dataset_stats& stats) {
  if (!stats.frames.empty() || stats.errors.empty()) return {};
  const auto& first = stats.errors.front();
  const auto code = first.code;
  if (!std::ranges::all_of(stats.errors, [&](const file_error& e) { return e.code == code; })) return {};
  const auto n = stats.errors.size();
  // "all 26 files are ..." / "the only file, x.png, is ..." with the plural or singular noun.
  const auto all_are = [&](std::string_view plural, std::string_view singular) {
    return n == 1 ? fmt::format("the only file, {}, is {}", printable_name(first.path), singular)
                  : fmt::format("all {} files are {}", n, plural);
  };
  switch (code) {
    case errc::unsupported_color_type:
      // (The decoder's message for an RGB/RGBA mask read without a colour table.)
      if (std::ranges::all_of(stats.errors, [](const file_error& e) {
            return e.message.find("needs a colour table") != std::string::npos;
          }))
        return all_are("colour-coded masks (RGB/RGBA)", "a colour-coded mask (RGB/RGBA)") +
               ", which needs a colour table: give --labels FILE with the classes and their colours "
               "(docs/class-maps.md)";
      break;
    case errc::not_png:
      return fmt::format("{} ({}): label masks must be PNGs", all_are("not PNG files", "not a PNG file"),
                         n == 1 ? first.message : "the first: " + first.message);
    case errc::file_too_large: return all_are("larger", "larger") + " than --max-file-bytes: raise it";
    case errc::not_fast_decodable:
      return all_are("PNGs", "a PNG") + " the fast decoder does not handle: use --decoder auto";
    default: break;
  }
  return n == 1 ? fmt::format("the only file, {}, could not be scanned ({}): {}", printable_name(first.path),
                              to_string(code), first.message)
                : fmt::format("all {} files could not be scanned ({}); the first, {}: {}", n, to_string(code),
                              printable_name(first.path), first.message);
}

std::vector<std::string> class_map_warnings(const dataset_stats& stats) {
  std::vector<std::string> warnings;
  if (auto failure = common_failure(stats); !failure.empty()) warnings.push_back("nothing was scanned: " + failure);
  const auto totals = compute_totals(stats);
  if (totals.pixels == 0) return warnings;

  // The values found, as the masks hold them (meaningful only without a remap or divisor).
  std::set<std::uint32_t> values;
  for (const auto& c : totals.classes)
    if (c.pixels) values.insert(c.id);
  for (const auto& v : totals.ignored) values.insert(v.value);
  for (const auto& v : totals.out_of_range) values.insert(v.value);
  // (Values of colour masks come from the table and are never out of range, so a colour table
  // does not change what the out-of-range values are.)
  const bool raw_values = stats.remap.empty() && stats.instance_divisor == 0;

  if (stats.classes_from_values) {
    std::string text = fmt::format(
        "no class map was given (--labels), so the classes are the values found, named by their number "
        "(class_0 .. class_{}); values found: {}",
        stats.class_names.empty() ? 0 : stats.class_names.size() - 1, value_list(values));
    if (const auto maps = raw_values ? fitting_maps(values, suggested_coverage) : std::vector<class_map>{};
        !maps.empty())
      text += fmt::format(". {} would name them", suggest(maps));
    else if (!values.empty() && *values.rbegin() >= 1000)
      text +=
          ". No built-in class map has these values; if they are instance-coded (class x 1000 + instance, as "
          "Cityscapes instanceIds), add --instance-divisor 1000";
    else
      text +=
          ". No built-in class map is known to name them: give --labels FILE or --class-names FILE "
          "(docs/class-maps.md)";
    warnings.push_back(std::move(text));
  }

  if (totals.out_of_range_pixels > warn_share * static_cast<double>(totals.pixels)) {
    std::set<std::uint32_t> out;
    for (const auto& v : totals.out_of_range) out.insert(v.value);
    std::string text =
        stats.classes_from_values
            ? fmt::format(
                  "{} of the pixels ({}) hold values of {} or more (values {}), which are counted as out of "
                  "range, not as classes, when there is no class map",
                  percent(totals.out_of_range_pixels, totals.pixels), totals.out_of_range_pixels, max_value_classes,
                  value_list(out))
            : fmt::format(
                  "{} of the pixels ({}) hold values that are not class ids of the {} classes (values {}): "
                  "the class map does not fit these masks",
                  percent(totals.out_of_range_pixels, totals.pixels), totals.out_of_range_pixels,
                  stats.class_names.size(), value_list(out));
    if (raw_values && !stats.classes_from_values) {
      // Values above the 19 trainIds, all of them Cityscapes labelIds: the classic mix-up.
      const auto all_labelids = fitting_maps(values, 0);
      const bool labelids_as_trainids =
          stats.class_names == builtin_class_map("cityscapes-train").names &&
          std::ranges::any_of(all_labelids, [](const class_map& m) { return m.name == "cityscapes"; });
      if (labelids_as_trainids)
        text +=
            "; they look like Cityscapes labelIds read as trainIds: use --labels cityscapes, with --remap "
            "cityscapes-train to count the 19 trainIds";
      else if (const auto maps = fitting_maps(values, suggested_coverage); !maps.empty())
        text += fmt::format("; every value found fits {}", suggest(maps));
    }
    warnings.push_back(std::move(text));
  }

  if (totals.unknown_colour_pixels > warn_share * static_cast<double>(totals.pixels)) {
    const auto& colours = totals.unknown_colours;
    const auto most = std::ranges::max_element(colours, {}, &value_total::pixels);
    std::string text = fmt::format(
        "{} of the pixels ({}) have colours that are not in the colour table ({} colours, the most common {}): the "
        "colour table does not fit these masks",
        percent(totals.unknown_colour_pixels, totals.pixels), totals.unknown_colour_pixels, colours.size(),
        to_string(rgba::unpack(most->value)));
    // ADE20K's full format encodes the class as R/10*256 + G (instances in B): every red a multiple of 10.
    const bool ade_full = colours.size() >= 4 && std::ranges::all_of(colours, [](const value_total& v) {
                            return rgba::unpack(v.value).r % 10 == 0;
                          });
    if (ade_full)
      text +=
          "; they look like ADE20K full-format masks (class = R / 10 x 256 + G, instances in B), which no colour "
          "table reads: scan the 150-class challenge masks (gray ids) with --labels ade20k-150";
    warnings.push_back(std::move(text));
  }
  return warnings;
}

}  // namespace maskscan
