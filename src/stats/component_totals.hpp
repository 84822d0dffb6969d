#pragma once
// The connected components of a whole dataset, as summary.json, components.csv and the report show them.
#include <vector>

#include <maskscan/balance.hpp>
#include <maskscan/stats.hpp>

namespace maskscan::detail {

/// Per class id, the components of every group together, instances from stats.min_component_pixels
/// on. Throws as summarize_components.
std::vector<component_summary> component_totals(const dataset_stats& stats);

}  // namespace maskscan::detail
