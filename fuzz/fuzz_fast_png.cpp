// decode_png_fast on arbitrary bytes, and on them with their checksums repaired (png_repair.hpp):
// never a crash, leak or undefined behaviour, and the
// contract of fast_png.hpp: one on_header call at most, and either every row in order (decoded)
// or no row at all (not_handled).
#include <cstddef>
#include <cstdint>
#include <span>

#include "decode/fast_png.hpp"
#include "fuzz_common.hpp"
#include "png_repair.hpp"

using namespace maskscan;

namespace {

void decode(const std::uint8_t* data, std::size_t size) {
  detail::fast_png_scratch scratch;
  int headers = 0;
  std::uint32_t width = 0, height = 0, rows = 0;
  std::uint8_t sum = 0;  // reads every id, so ASan sees any row that is not all there
  const detail::fast_status status = detail::decode_png_fast(
      std::as_bytes(std::span(data, size)), scratch,
      [&](std::uint32_t w, std::uint32_t h) {
        ++headers;
        width = w;
        height = h;
        return std::uint64_t{w} * h <= fuzz::fuzz_limits().max_pixels;  // as frame_processor does
      },
      [&](std::uint32_t y, std::span<const std::uint8_t> ids) {
        fuzz::check(y == rows && ids.size() == width, "rows out of order or of the wrong width");
        for (const std::uint8_t id : ids) sum = static_cast<std::uint8_t>(sum + id);
        ++rows;
      });
  fuzz::check(headers <= 1, "on_header called more than once");
  if (status == detail::fast_status::decoded) {
    fuzz::check(headers == 1 && rows == height && width > 0, "decoded without every row");
  } else {
    fuzz::check(rows == 0, "not_handled after delivering rows");
  }
  volatile std::uint8_t sink = sum;
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::for_input_and_repaired(data, size, decode);
  return 0;
}
