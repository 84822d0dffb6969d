#include "output/statistics_json.hpp"

#include <optional>

#include "stats/balance_detail.hpp"
#include "stats/component_totals.hpp"

namespace maskscan::detail {
namespace json = boost::json;

namespace {
json::value optional_number(const std::optional<double>& v) { return v ? json::value(*v) : json::value(nullptr); }
}  // namespace

json::object balance_json(const dataset_stats& stats, const balance_options& options) {
  const auto classes = class_weights(stats, options);
  json::array out_classes;
  std::uint64_t weighted = 0;
  for (const auto& c : classes) {
    weighted += !c.ignored && c.pixels > 0;
    out_classes.push_back(json::object{
        {"id", c.id},
        {"name", c.name},
        {"ignored", c.ignored},
        {"pixels", c.pixels},
        {"frames_present", c.frames_present},
        {"pixels_of_frames_present", c.pixels_of_frames_present},
        {"frequency", c.frequency},
        {"frame_frequency", c.frame_frequency},
        {"inverse_frequency", optional_number(c.inverse_frequency)},
        {"inverse_sqrt_frequency", optional_number(c.inverse_sqrt_frequency)},
        {"median_frequency_present", optional_number(c.median_frequency_present)},
        {"median_frequency_all", optional_number(c.median_frequency_all)},
        {"enet", optional_number(c.enet)},
        {"effective_number", optional_number(c.effective_number)},
        {"repeat_factor", optional_number(c.repeat_factor)},
    });
  }
  const auto medians = median_frequencies(classes);
  return json::object{
      {"options", json::object{{"enet_c", options.enet_c},
                               {"effective_beta", options.effective_beta},
                               {"effective_unit", to_string(options.unit)},
                               {"repeat_threshold", optional_number(options.repeat_threshold)}}},
      {"weighted_classes", weighted},
      {"classes", std::move(out_classes)},
      {"median_frequency_present_median", optional_number(medians.present)},
      {"median_frequency_all_median", optional_number(medians.all)},
  };
}

json::array cooccurrence_json(const dataset_stats& stats) {
  json::array rows;
  for (const auto& row : cooccurrence(stats)) rows.push_back(json::array(row.begin(), row.end()));
  return rows;
}

json::array components_json(const dataset_stats& stats) {
  json::array out;
  if (stats.components == 0) return out;
  for (const auto& s : component_totals(stats))
    out.push_back(json::object{
        {"id", s.id},
        {"name", s.name},
        {"instances", s.instances},
        {"pixels", s.pixels},
        {"mean_pixels", s.mean_pixels},
        {"median_pixels", s.median_pixels},
        {"min_pixels", s.min_pixels},
        {"max_pixels", s.max_pixels},
        {"log2_histogram", json::array(s.log2_histogram.begin(), s.log2_histogram.end())},
        {"specks", s.specks},
        {"speck_pixels", s.speck_pixels},
    });
  return out;
}

}  // namespace maskscan::detail
