#include "stats/component_totals.hpp"

#include "stats/balance_detail.hpp"

namespace maskscan::detail {

std::vector<component_summary> component_totals(const dataset_stats& stats) {
  return summarize_components(component_sizes_of_all_groups(stats), stats.class_names, stats.min_component_pixels);
}

}  // namespace maskscan::detail
