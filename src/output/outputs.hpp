#pragma once
// write_outputs for a caller that has the groups summed already (write_outputs_and_report).
#include <filesystem>

#include <maskscan/balance.hpp>
#include <maskscan/scan.hpp>

namespace maskscan::detail {

/// maskscan::write_outputs, the heatmaps and grid heatmaps at the top of a grouped scan's outputs
/// taken from `summed` (ungroup(result.stats), which this does not sum again); nullptr: summed here.
void write_outputs(const scan_result& result, const dataset_stats* summed, const std::filesystem::path& dir,
                   const balance_options& balance);

}  // namespace maskscan::detail
