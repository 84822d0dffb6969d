#pragma once
// Internal: pieces of the balancing statistics shared by src/stats/balance.cpp and the writers.
#include <optional>
#include <vector>

#include <maskscan/balance.hpp>

namespace maskscan::detail {

/// numpy.median: the middle value, or the mean of the two middle values for an even count;
/// nullopt for no values.
std::optional<double> numpy_median(std::vector<double> values);

/// The medians the median-frequency weights divide by, over the weighted classes of `classes`
/// (not ignored, pixels > 0): of n_c / T_c (`present`) and of n_c / P (`all`). nullopt when no
/// class is weighted.
struct frequency_medians {
  std::optional<double> present;
  std::optional<double> all;
};
frequency_medians median_frequencies(const std::vector<class_balance>& classes);

}  // namespace maskscan::detail

namespace maskscan::detail {

/// Per class id, the component sizes of all groups summed (stats.component_sizes has one entry
/// per group, "" without grouping); as long as the longest entry (empty without components).
std::vector<size_histogram> component_sizes_of_all_groups(const dataset_stats& stats);

}  // namespace maskscan::detail
