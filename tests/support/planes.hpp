#pragma once
// Label planes built by hand: the masks of the stats and overlay tests, without a PNG in between.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "decode/png_decoder.hpp"

namespace maskscan::test {

/// A plane of w x h ids, row-major: 8-bit for std::uint8_t ids, 16-bit for std::uint16_t;
/// `from_colours`: the ids are colour-table indices.
template <class Id>
detail::label_plane plane_of(std::uint32_t w, std::uint32_t h, std::vector<Id> ids, bool from_colours = false) {
  static_assert(sizeof(Id) == 1 || sizeof(Id) == 2);
  REQUIRE(ids.size() == std::size_t{w} * h);
  detail::label_plane p;
  p.width = w;
  p.height = h;
  p.depth = static_cast<unsigned>(8 * sizeof(Id));
  if constexpr (sizeof(Id) == 1)
    p.u8 = std::move(ids);
  else
    p.u16 = std::move(ids);
  p.from_colours = from_colours;
  return p;
}

inline detail::label_plane plane8(std::uint32_t w, std::uint32_t h, std::vector<std::uint8_t> ids) {
  return plane_of(w, h, std::move(ids));
}

inline detail::label_plane plane16(std::uint32_t w, std::uint32_t h, std::vector<std::uint16_t> ids,
                                   bool from_colours = false) {
  return plane_of(w, h, std::move(ids), from_colours);
}

}  // namespace maskscan::test
