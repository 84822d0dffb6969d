#pragma once
// How Catch prints the library's small values in a failed assertion.
#include <string>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <maskscan/stats.hpp>

namespace Catch {

/// {0xRRGGBBAA: pixels}: a colour mask's value is a packed colour, read best in hex.
template <>
struct StringMaker<maskscan::value_pixels> {
  static std::string convert(const maskscan::value_pixels& v) {
    return fmt::format("{{0x{:08x}: {}}}", v.value, v.pixels);
  }
};

}  // namespace Catch
