// Balancing statistics: class weights, repeat factors, co-occurrence and component summaries.
// Every formula, with its source, is in docs/statistics.md; the symbols below are the ones used there.
#include <maskscan/balance.hpp>
#include <maskscan/option_error.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "stats/balance_detail.hpp"
#include "stats/frame_stats.hpp"

namespace maskscan {

namespace detail {

std::optional<double> numpy_median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  const auto n = values.size();
  const auto upper = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(values.begin(), upper, values.end());
  if (n % 2 == 1) return *upper;
  // Even count: the lower middle value is the largest of the lower half.
  const double lower = *std::max_element(values.begin(), upper);
  return (lower + *upper) / 2;
}

namespace {
bool weighted(const class_balance& c) { return !c.ignored && c.pixels > 0; }
}  // namespace

frequency_medians median_frequencies(const std::vector<class_balance>& classes) {
  std::vector<double> present, all;
  for (const auto& c : classes) {
    if (!weighted(c)) continue;
    present.push_back(static_cast<double>(c.pixels) / static_cast<double>(c.pixels_of_frames_present));
    all.push_back(c.frequency);
  }
  return {numpy_median(std::move(present)), numpy_median(std::move(all))};
}

std::vector<size_histogram> component_sizes_of_all_groups(const dataset_stats& stats) {
  if (stats.component_sizes.size() == 1) return stats.component_sizes.begin()->second;
  std::vector<size_histogram> sum;
  for (const auto& [group, per_class] : stats.component_sizes) add_component_sizes(sum, per_class);
  return sum;
}

}  // namespace detail

void validate(const balance_options& options) {
  using O = option_error;
  // Written as !(valid) so that NaN is refused as well.
  if (!(options.enet_c > 1))
    throw O(
        {O::text("ENet constant c"), O::mention("enet_c"),
         O::text(fmt::format(" must be > 1 (the weight 1 / ln(c + p) needs ln(c + p) > 0), got {}", options.enet_c))});
  if (!(options.effective_beta >= 0 && options.effective_beta < 1))
    throw O({O::text("effective-number beta"), O::mention("effective_beta"),
             O::text(fmt::format(" must be in [0, 1), got {}", options.effective_beta))});
  if (options.repeat_threshold && !(*options.repeat_threshold > 0))
    throw O({O::text("repeat-factor threshold t"), O::mention("repeat_threshold"),
             O::text(fmt::format(" must be > 0, got {}", *options.repeat_threshold))});
}

std::vector<class_balance> class_weights(const dataset_stats& stats, const balance_options& options) {
  validate(options);
  const std::size_t classes = stats.class_names.size();
  std::vector<class_balance> out(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    out[c].id = static_cast<std::uint32_t>(c);
    out[c].name = stats.class_names[c];
    out[c].ignored = std::ranges::find(stats.ignore, static_cast<std::uint32_t>(c)) != stats.ignore.end();
  }

  // n_c, F_c, T_c and P in one pass. A frame's labelled pixels are its pixels of non-ignored class
  // ids (ignore-listed values never reach class_pixels in a scan, so this is the sum of the row).
  std::uint64_t labelled = 0;  // P
  for (const auto& row : stats.frames) {
    const std::size_t n = std::min(classes, row.class_pixels.size());
    std::uint64_t frame_labelled = 0;
    for (std::size_t c = 0; c < n; ++c)
      if (!out[c].ignored) frame_labelled += row.class_pixels[c];
    labelled += frame_labelled;
    for (std::size_t c = 0; c < n; ++c) {
      if (row.class_pixels[c] == 0) continue;
      out[c].pixels += row.class_pixels[c];
      ++out[c].frames_present;
      out[c].pixels_of_frames_present += frame_labelled;
    }
  }
  const auto P = static_cast<double>(labelled);
  const auto N = static_cast<double>(stats.frames.size());
  std::size_t weighted_classes = 0;  // K
  for (auto& c : out) {
    c.frequency = labelled ? static_cast<double>(c.pixels) / P : 0.0;
    c.frame_frequency = stats.frames.empty() ? 0.0 : static_cast<double>(c.frames_present) / N;
    weighted_classes += detail::weighted(c);
  }
  if (weighted_classes == 0) return out;
  const auto K = static_cast<double>(weighted_classes);

  const auto medians = detail::median_frequencies(out);
  const double beta = options.effective_beta;
  const double log_beta = std::log1p(beta - 1);  // ln(beta); beta - 1 is exact for beta >= 0.5; -inf for 0
  double effective_sum = 0;
  for (auto& c : out) {
    if (!detail::weighted(c)) continue;
    const auto n = static_cast<double>(c.pixels);
    c.inverse_frequency = P / (K * n);
    c.inverse_sqrt_frequency = std::sqrt(P / (K * n));
    c.median_frequency_present = *medians.present / (n / static_cast<double>(c.pixels_of_frames_present));
    c.median_frequency_all = *medians.all / c.frequency;
    c.enet = 1 / std::log(options.enet_c + c.frequency);
    // 1 - beta^s = -expm1(s ln beta): exact where 1 - pow(beta, s) would cancel (beta near 1).
    const auto s = static_cast<double>(options.unit == effective_unit::frames ? c.frames_present : c.pixels);
    const double raw = (1 - beta) / -std::expm1(s * log_beta);
    c.effective_number = raw;
    effective_sum += raw;
    if (options.repeat_threshold)
      c.repeat_factor = std::max(1.0, std::sqrt(*options.repeat_threshold / c.frame_frequency));
  }
  // Normalized so that the weights of the K weighted classes sum to K (Cui et al.'s code).
  for (auto& c : out)
    if (c.effective_number) *c.effective_number = *c.effective_number / effective_sum * K;
  return out;
}

std::vector<double> repeat_factors(const dataset_stats& stats, const balance_options& options) {
  const auto classes = class_weights(stats, options);
  std::vector<double> out;
  if (!options.repeat_threshold) return out;
  out.reserve(stats.frames.size());
  for (const auto& row : stats.frames) out.push_back(repeat_factor_of(row, classes));
  return out;
}

double repeat_factor_of(const frame_row& row, const std::vector<class_balance>& classes) {
  double r = 1;
  const std::size_t n = std::min(classes.size(), row.class_pixels.size());
  for (std::size_t c = 0; c < n; ++c)
    if (row.class_pixels[c] > 0 && classes[c].repeat_factor) r = std::max(r, *classes[c].repeat_factor);
  return r;
}

std::vector<std::vector<std::uint64_t>> cooccurrence(const dataset_stats& stats) {
  const std::size_t classes = stats.class_names.size();
  std::vector<std::vector<std::uint64_t>> matrix(classes, std::vector<std::uint64_t>(classes, 0));
  std::vector<std::size_t> present;
  for (const auto& row : stats.frames) {
    present.clear();
    const std::size_t n = std::min(classes, row.class_pixels.size());
    for (std::size_t c = 0; c < n; ++c)
      if (row.class_pixels[c] > 0) present.push_back(c);
    for (const auto a : present)
      for (const auto b : present) ++matrix[a][b];
  }
  return matrix;
}

std::vector<component_summary> summarize_components(const std::vector<size_histogram>& sizes,
                                                    const std::vector<std::string>& class_names,
                                                    std::uint64_t min_pixels) {
  if (sizes.size() > class_names.size())
    throw std::invalid_argument(
        fmt::format("component sizes of {} classes, but only {} class names", sizes.size(), class_names.size()));
  std::vector<component_summary> out(class_names.size());
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    auto& s = out[c];
    s.id = static_cast<std::uint32_t>(c);
    s.name = class_names[c];
    if (c >= sizes.size()) continue;
    // The instances' sizes: the histogram from min_pixels on (specks are counted apart).
    const auto& all = sizes[c];
    const auto first_instance = all.lower_bound(std::max<std::uint64_t>(min_pixels, 1));
    for (auto it = all.begin(); it != first_instance; ++it) {
      if (it->first == 0 && it->second) throw std::invalid_argument(fmt::format("class {}: a component of size 0", c));
      s.specks += it->second;
      s.speck_pixels += it->first * it->second;
    }
    // (Iterators, not std::ranges::subrange: clang 14, which builds the fuzzers, rejects it with GCC 12's library.)
    for (auto it = first_instance; it != all.end(); ++it) {
      const auto& [size, count] = *it;
      if (count == 0) continue;
      if (s.instances == 0) s.min_pixels = size;  // the map is ascending
      s.max_pixels = size;
      s.instances += count;
      s.pixels += size * count;
      const auto bin = static_cast<std::size_t>(std::bit_width(size) - 1);  // floor(log2 size)
      if (s.log2_histogram.size() <= bin) s.log2_histogram.resize(bin + 1, 0);
      s.log2_histogram[bin] += count;
    }
    if (s.instances == 0) continue;
    s.mean_pixels = static_cast<double>(s.pixels) / static_cast<double>(s.instances);
    // The sizes at 0-based positions (m - 1) / 2 and m / 2 of the sorted multiset (equal for odd m).
    const std::uint64_t lower_pos = (s.instances - 1) / 2, upper_pos = s.instances / 2;
    std::uint64_t seen = 0, lower = 0, upper = 0;
    bool have_lower = false;
    for (auto it = first_instance; it != all.end(); ++it) {
      const auto& [size, count] = *it;
      seen += count;  // positions [seen - count, seen) hold `size`
      if (!have_lower && lower_pos < seen) {
        lower = size;
        have_lower = true;
      }
      if (upper_pos < seen) {
        upper = size;
        break;
      }
    }
    s.median_pixels = (static_cast<double>(lower) + static_cast<double>(upper)) / 2;
  }
  return out;
}

}  // namespace maskscan
