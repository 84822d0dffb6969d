#pragma once
// Perceptual colour maps for heatmap images: matplotlib's viridis and magma, 256 entries each
// (colormap_tables.cpp, generated from matplotlib's own data).
#include <array>
#include <cstdint>
#include <string_view>

namespace maskscan::detail {

using rgb8 = std::array<std::uint8_t, 3>;

extern const std::array<rgb8, 256> viridis_table;
extern const std::array<rgb8, 256> magma_table;

enum class colormap { viridis, magma };

/// The table of a colour map.
const std::array<rgb8, 256>& table_of(colormap map) noexcept;

/// The colour of t in [0, 1] (clamped; NaN gives the lowest colour): entry round(t * 255).
rgb8 colour_at(colormap map, double t) noexcept;

}  // namespace maskscan::detail
