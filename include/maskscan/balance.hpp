#pragma once
// Statistics for balancing rare classes, derived exactly from a dataset_stats: class weights,
// per-frame repeat factors, frame co-occurrence and connected-component summaries. The formulas,
// with their sources, are in docs/statistics.md; every raw input is in the returned values.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

namespace maskscan {

/// What the effective-number weights count as samples of a class.
enum class effective_unit { frames, pixels };

/// "frames" or "pixels", as summary.json, the report and --effective-unit name the unit.
constexpr const char* to_string(effective_unit unit) noexcept {
  return unit == effective_unit::frames ? "frames" : "pixels";
}

struct balance_options {
  double enet_c = 1.02;            ///< ENet: w = 1 / ln(c + p), c > 1
  double effective_beta = 0.9999;  ///< effective number: E = (1 - beta^s) / (1 - beta), 0 <= beta < 1
  effective_unit unit = effective_unit::frames;
  /// LVIS repeat factors: r_c = max(1, sqrt(t / f_c)), t > 0. None by default: LVIS's t = 0.001 is
  /// below the frame frequency of every class of every segmentation dataset tried (the rarest
  /// class of the WoodScape-like demo is in 21% of the frames), so every factor would be 1. A
  /// class in fewer than a fraction t of the frames is repeated; choose t from frame_frequency.
  std::optional<double> repeat_threshold;
};

/// One class's raw inputs and weights. Classes whose id is ignore-listed, and classes with no pixel,
/// have no weights (nullopt): every weight divides by the class's count.
struct class_balance {
  std::uint32_t id = 0;
  std::string name;
  bool ignored = false;                        ///< the id is ignore-listed: not weighted
  std::uint64_t pixels = 0;                    ///< n_c
  std::uint64_t frames_present = 0;            ///< F_c: frames with at least one pixel of c
  std::uint64_t pixels_of_frames_present = 0;  ///< T_c: labelled pixels of those frames
  double frequency = 0;                        ///< p_c = n_c / P (P: labelled pixels of all frames; 0 if P = 0)
  double frame_frequency = 0;                  ///< f_c = F_c / N (N: scanned frames; 0 if N = 0)
  std::optional<double> inverse_frequency;
  std::optional<double> inverse_sqrt_frequency;
  std::optional<double> median_frequency_present;  ///< SegNet / ENet-PyTorch / MATLAB definition
  std::optional<double> median_frequency_all;
  std::optional<double> enet;
  std::optional<double> effective_number;
  /// r_c = max(1, sqrt(t / f_c)) for a weighted class when a threshold t is given, else none.
  std::optional<double> repeat_factor;
};

/// Throws option_error (a std::invalid_argument) naming the option if enet_c <= 1, effective_beta is outside
/// [0, 1) or repeat_threshold <= 0 (NaN is refused too); class_weights and repeat_factors call it.
void validate(const balance_options& options);

/// Per class id, in id order. Weighted classes: not ignore-listed and n_c > 0 (K of them); every
/// weight is computed over them only (docs/statistics.md). Throws std::invalid_argument if
/// enet_c <= 1, effective_beta is not in [0, 1) or repeat_threshold <= 0 (or any is NaN).
std::vector<class_balance> class_weights(const dataset_stats& stats, const balance_options& options = {});

/// Per frame of stats.frames (same order): r = max over the weighted classes present in the frame
/// (class_pixels[c] > 0) of r_c; 1 when no weighted class is present. Empty without a
/// repeat_threshold. Throws as class_weights.
std::vector<double> repeat_factors(const dataset_stats& stats, const balance_options& options = {});

/// The repeat factor of one frame, given class_weights of its statistics (computed with a
/// repeat_threshold): what repeat_factors gives for `row`.
double repeat_factor_of(const frame_row& row, const std::vector<class_balance>& classes);

/// matrix[a][b] = frames in which both class a and class b have at least one pixel (the diagonal:
/// frames_present). classes x classes, ignore-listed ids included.
std::vector<std::vector<std::uint64_t>> cooccurrence(const dataset_stats& stats);

/// Connected components of one class, summed over frames. Components of at least the minimum size
/// are instances; smaller ones are specks, counted apart.
struct component_summary {
  std::uint32_t id = 0;
  std::string name;
  std::uint64_t instances = 0;
  std::uint64_t pixels = 0;  ///< sum of the instances' sizes (the class's pixels less the specks')
  double mean_pixels = 0;    ///< of the instances; 0 without instances
  double median_pixels = 0;  ///< of the instances' sizes; the mean of the two middle ones for an even count
  std::uint64_t min_pixels = 0, max_pixels = 0;
  /// log2_histogram[k] = instances of size in [2^k, 2^(k+1)); as long as the largest size needs.
  std::vector<std::uint64_t> log2_histogram;
  std::uint64_t specks = 0;        ///< components smaller than the minimum size
  std::uint64_t speck_pixels = 0;  ///< their pixels
};
/// Per class id; `sizes` is one entry of dataset_stats::component_sizes (or their sum over groups),
/// `min_pixels` the smallest instance (dataset_stats::min_component_pixels; 0 or 1: every component).
/// Ids beyond sizes.size() have no instances. Throws std::invalid_argument for a component of size 0
/// or more histograms than class names.
std::vector<component_summary> summarize_components(const std::vector<size_histogram>& sizes,
                                                    const std::vector<std::string>& class_names,
                                                    std::uint64_t min_pixels = 1);

}  // namespace maskscan
