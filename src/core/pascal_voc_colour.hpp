#pragma once
// The Pascal VOC colour map, which the pascal-voc class map and the palette of unnamed classes share.
#include <cstdint>

#include <maskscan/class_map.hpp>

namespace maskscan::detail {

/// The VOC devkit's colour of `index` (VOCdevkit/VOCcode/VOClabelcolormap.m): the bits of the index
/// are dealt out to r, g, b from the most significant bit down (0 is black, 1 dark red, 2 dark green, ...).
constexpr rgba pascal_voc_colour(std::uint32_t index) noexcept {
  std::uint32_t r = 0, g = 0, b = 0;
  for (int bit = 7; bit >= 0; --bit, index >>= 3) {
    r |= (index & 1) << bit;
    g |= (index >> 1 & 1) << bit;
    b |= (index >> 2 & 1) << bit;
  }
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b)};
}

}  // namespace maskscan::detail
