#pragma once
// Internal: the balancing statistics of balance.hpp as Boost.JSON values, for summary.json.
// Keys and formulas: docs/statistics.md.
#include <boost/json.hpp>

#include <maskscan/balance.hpp>
#include <maskscan/stats.hpp>

namespace maskscan::detail {

/// {"options": {enet_c, effective_beta, effective_unit ("frames"/"pixels"), repeat_threshold},
///  "weighted_classes": K,
///  "classes": [per class id, every field of class_balance; null for a weight the class has not],
///  "median_frequency_present_median": median of n_c / T_c over the weighted classes (null if K = 0),
///  "median_frequency_all_median": median of n_c / P over the weighted classes (null if K = 0)}.
/// Throws std::invalid_argument for invalid options (as class_weights does).
boost::json::object balance_json(const dataset_stats& stats, const balance_options& options);

/// The co-occurrence matrix as rows: result[a][b] = frames holding both class a and class b.
boost::json::array cooccurrence_json(const dataset_stats& stats);

/// Per class id {id, name, instances, pixels, mean_pixels, median_pixels, min_pixels, max_pixels,
/// log2_histogram: [...]}, from the component sizes of all groups summed; empty when components
/// were not counted (stats.components == 0).
boost::json::array components_json(const dataset_stats& stats);

}  // namespace maskscan::detail
