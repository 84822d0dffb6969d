// weights.csv, cooccurrence.csv and components.csv: the balancing statistics of balance.hpp as CSV.
// Formats and formulas: docs/statistics.md.
#include <maskscan/output.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "core/atomic_file.hpp"
#include "output/csv.hpp"
#include "stats/balance_detail.hpp"
#include "stats/component_totals.hpp"

namespace maskscan {

namespace {

using detail::csv_field;

/// The shortest text that reads back as the same double (fmt's "{}").
std::string number(double v) { return fmt::format("{}", v); }
std::string number(const std::optional<double>& v) { return v ? number(*v) : std::string(); }

/// Header of log2 size bin k: sizes [2^k, 2^(k+1) - 1].
std::string bin_name(std::size_t k) {
  if (k == 0) return "size_1";
  const std::uint64_t low = std::uint64_t{1} << k;
  return fmt::format("size_{}_{}", low, low + (low - 1));
}

}  // namespace

void write_weights_csv(const dataset_stats& stats, const balance_options& options, const std::filesystem::path& file) {
  validate(options);  // throws on invalid options before any file exists
  detail::write_file_atomically(
      file, [&](std::ostream& out) { write_weights_csv(stats, options, out); }, detail::durability::synced);
}

void write_weights_csv(const dataset_stats& stats, const balance_options& options, std::ostream& out) {
  const auto classes = class_weights(stats, options);
  {
    // repeat_factor, last, only when a threshold was given.
    const bool repeat = options.repeat_threshold.has_value();
    out << "id,name,ignored,pixels,frames_present,pixels_of_frames_present,frequency,frame_frequency,"
           "inverse_frequency,inverse_sqrt_frequency,median_frequency_present,median_frequency_all,enet,"
           "effective_number"
        << (repeat ? ",repeat_factor\n" : "\n");
    for (const auto& c : classes) {
      fmt::print(out, "{},{},{},{},{},{},{},{},{},{},{},{},{},{}", c.id, csv_field(c.name), c.ignored, c.pixels,
                 c.frames_present, c.pixels_of_frames_present, number(c.frequency), number(c.frame_frequency),
                 number(c.inverse_frequency), number(c.inverse_sqrt_frequency), number(c.median_frequency_present),
                 number(c.median_frequency_all), number(c.enet), number(c.effective_number));
      out << (repeat ? "," + number(c.repeat_factor) + "\n" : "\n");
    }
  }
}

void write_cooccurrence_csv(const dataset_stats& stats, const std::filesystem::path& file) {
  detail::write_file_atomically(
      file, [&](std::ostream& out) { write_cooccurrence_csv(stats, out); }, detail::durability::synced);
}

void write_cooccurrence_csv(const dataset_stats& stats, std::ostream& out) {
  const auto matrix = cooccurrence(stats);
  {
    // "with_" keeps the header unique whatever the classes are called (one may be named "class").
    out << "class";
    for (const auto& name : stats.class_names) out << ',' << csv_field("with_" + name);
    out << '\n';
    for (std::size_t a = 0; a < matrix.size(); ++a) {
      out << csv_field(stats.class_names[a]);
      for (const auto n : matrix[a]) fmt::print(out, ",{}", n);
      out << '\n';
    }
  }
}

void write_components_csv(const dataset_stats& stats, const std::filesystem::path& file) {
  detail::write_file_atomically(
      file, [&](std::ostream& out) { write_components_csv(stats, out); }, detail::durability::synced);
}

void write_components_csv(const dataset_stats& stats, std::ostream& out) {
  const auto summaries = detail::component_totals(stats);
  std::size_t bins = 0;
  for (const auto& s : summaries) bins = std::max(bins, s.log2_histogram.size());
  {
    out << "id,name,instances,pixels,mean_pixels,median_pixels,min_pixels,max_pixels,specks,speck_pixels";
    for (std::size_t k = 0; k < bins; ++k) out << ',' << bin_name(k);
    out << '\n';
    for (const auto& s : summaries) {
      fmt::print(out, "{},{},{},{},{},{},{},{},{},{}", s.id, csv_field(s.name), s.instances, s.pixels,
                 number(s.mean_pixels), number(s.median_pixels), s.min_pixels, s.max_pixels, s.specks, s.speck_pixels);
      for (std::size_t k = 0; k < bins; ++k)
        fmt::print(out, ",{}", k < s.log2_histogram.size() ? s.log2_histogram[k] : 0);
      out << '\n';
    }
  }
}

}  // namespace maskscan
