// The fast path against the reference, on arbitrary bytes and on them with their checksums
// repaired (png_repair.hpp): whenever decode_png_fast decodes, decode_png must succeed
// with the same width, height and ids, row by row (fast_png.hpp: the fast path never reports an
// error of its own, so anything it accepts must be exactly what libspng makes of it).
// Both decoders also run a second time on reused working space, as each worker reuses it from
// frame to frame, and must give the same result again.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "decode/fast_png.hpp"
#include "fuzz_common.hpp"
#include "png_repair.hpp"

using namespace maskscan;

namespace {

struct fast_result {
  bool decoded = false;
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> ids;  // row-major, as delivered
};

fast_result run_fast(std::span<const std::byte> png, detail::fast_png_scratch& scratch) {
  fast_result r;
  const auto status = detail::decode_png_fast(
      png, scratch,
      [&](std::uint32_t w, std::uint32_t h) {
        r.width = w;
        r.height = h;
        return std::uint64_t{w} * h <= fuzz::fuzz_limits().max_pixels;
      },
      [&](std::uint32_t y, std::span<const std::uint8_t> row) {
        fuzz::check(y * std::size_t{r.width} == r.ids.size() && row.size() == r.width,
                    "fast path: rows out of order or of the wrong width");
        r.ids.insert(r.ids.end(), row.begin(), row.end());
      });
  r.decoded = status == detail::fast_status::decoded;
  if (!r.decoded) fuzz::check(r.ids.empty(), "fast path: not_handled after delivering rows");
  return r;
}

void compare(const std::uint8_t* data, std::size_t size) {
  const auto png = std::as_bytes(std::span(data, size));
  detail::fast_png_scratch scratch;
  const fast_result fast = run_fast(png, scratch);
  if (!fast.decoded) return;

  detail::label_plane plane;
  diagnostics diag;
  if (detail::decode_png(png, fuzz::fuzz_limits(), plane, diag)) {
    std::fprintf(stderr, "the reference refuses what the fast path decoded: %s\n", diag.message.c_str());
    fuzz::fail("fast path decoded a file the reference rejects");
  }
  fuzz::check(plane.depth == 8, "reference: not an 8-bit plane");
  fuzz::check(plane.width == fast.width && plane.height == fast.height, "different width or height");
  fuzz::check(plane.u8.size() == fast.ids.size(), "different number of ids");
  for (std::uint32_t y = 0; y < plane.height; ++y) {
    const std::size_t at = y * std::size_t{plane.width};
    if (std::memcmp(plane.u8.data() + at, fast.ids.data() + at, plane.width) != 0) {
      std::fprintf(stderr, "row %u of %ux%u differs\n", y, plane.width, plane.height);
      fuzz::fail("fast path and reference decode different ids");
    }
  }

  // Once more on the used buffers: nothing of the first run may leak into the second.
  const fast_result again = run_fast(png, scratch);
  fuzz::check(again.decoded && again.ids == fast.ids, "fast path: a second run on reused scratch differs");
  detail::label_plane& reused = plane;
  fuzz::check(!detail::decode_png(png, fuzz::fuzz_limits(), reused, diag) && reused.u8 == fast.ids,
              "reference: a second run on a reused plane differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::for_input_and_repaired(data, size, compare);
  return 0;
}
