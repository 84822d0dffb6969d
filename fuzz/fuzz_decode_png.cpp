// decode_png (libspng, the reference decoder) on arbitrary bytes, and on them with their checksums
// repaired (png_repair.hpp): errors are fine, crashes, leaks and undefined behaviour are not; and
// whatever it returns keeps the documented contract.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_common.hpp"
#include "png_repair.hpp"

using namespace maskscan;

namespace {

void decode(const std::uint8_t* data, std::size_t size) {
  detail::label_plane plane;
  diagnostics diag;
  const std::error_code ec = detail::decode_png(std::as_bytes(std::span(data, size)), fuzz::fuzz_limits(), plane, diag);
  if (ec) {
    fuzz::check(ec.category() == error_category(), "an error outside maskscan's category");
    fuzz::check(!diag.message.empty(), "an error without a message");
    return;
  }
  fuzz::check(plane.width > 0 && plane.height > 0, "an empty image decoded");
  fuzz::check(plane.pixels() <= fuzz::fuzz_limits().max_pixels, "an image over max_pixels decoded");
  if (plane.depth == 16) {
    fuzz::check(plane.u16.size() == plane.pixels() && plane.u8.empty(), "16-bit plane of the wrong size");
  } else {
    fuzz::check(plane.depth == 8, "a depth other than 8 or 16");
    fuzz::check(plane.u8.size() == plane.pixels() && plane.u16.empty(), "8-bit plane of the wrong size");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::for_input_and_repaired(data, size, decode);
  return 0;
}
