// A header may claim any size up to max_pixels, but the file must be able to hold that much image
// data: deflate expands at most 1032:1. Both decoders refuse an impossible claim before allocating
// anything of the claimed size (png_bytes.hpp: image_data_can_fit), and the rule never refuses a
// valid PNG, not even one compressed at deflate's very limit.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "decode/fast_png.hpp"
#include "decode/png_bytes.hpp"
#include "decode/png_decoder.hpp"
#include "support/reference_png.hpp"

namespace {

using namespace maskscan;
using namespace maskscan::detail;
namespace ref = maskscan::test;
using bytes = std::vector<std::uint8_t>;

void append(std::vector<std::byte>& out, const std::vector<std::byte>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

using ref::zlib_compress;

/// Signature, IHDR, PLTE (palette images), one IDAT holding `zlib`, IEND.
std::vector<std::byte> make_png(const bytes& header, const bytes& zlib) {
  std::vector<std::byte> png = ref::png_signature_bytes();
  append(png, ref::make_chunk("IHDR", header));
  if (header[9] == 3) append(png, ref::make_chunk("PLTE", bytes(3 * (std::size_t{1} << header[8]), 0)));
  append(png, ref::make_chunk("IDAT", zlib));
  append(png, ref::make_chunk("IEND", {}));
  return png;
}

struct fast_run {
  fast_status status = fast_status::not_handled;
  int headers = 0;
  bytes ids;
};

fast_run run_fast(std::span<const std::byte> png, fast_png_scratch& scratch) {
  fast_run r;
  r.status = decode_png_fast(
      png, scratch,
      [&](std::uint32_t, std::uint32_t) {
        ++r.headers;
        return true;
      },
      [&](std::uint32_t, std::span<const std::uint8_t> row) { r.ids.insert(r.ids.end(), row.begin(), row.end()); });
  return r;
}

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/// Runs `work` in a forked child and returns by how much the child's peak RSS grew meanwhile, in
/// KiB. A child's peak starts at its RSS when forked (Linux resets the high-water mark on fork),
/// so whatever earlier tests made this process's own peak, an allocation made by `work` shows.
/// Fails the test if `work` returned false in the child or the child did not exit normally.
long peak_rss_growth_in_child(const std::function<bool()>& work) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    const long before = max_rss_kib();
    const bool ok = work();
    const long growth = max_rss_kib() - before;
    const bool written = write(fds[1], &growth, sizeof growth) == static_cast<ssize_t>(sizeof growth);
    _exit(ok && written ? 0 : 1);
  }
  close(fds[1]);
  long growth = -1;
  const bool got = read(fds[0], &growth, sizeof growth) == static_cast<ssize_t>(sizeof growth);
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got);
  return growth;
}

/// Writes a deflate stream bit by bit: values LSB first, Huffman codewords MSB first.
class bit_writer {
 public:
  void bits(std::uint32_t value, unsigned n) {
    for (unsigned i = 0; i < n; ++i) bit((value >> i) & 1U);
  }
  void code(std::uint32_t codeword, unsigned length) {
    for (unsigned i = length; i-- > 0;) bit((codeword >> i) & 1U);
  }
  bytes finish() && { return std::move(out_); }

 private:
  void bit(unsigned b) {
    if (used_ == 0) out_.push_back(0);
    out_.back() = static_cast<std::uint8_t>(out_.back() | (b << used_));
    used_ = (used_ + 1) % 8;
  }
  bytes out_;
  unsigned used_ = 0;
};

/// `n` zero bytes as a zlib stream at deflate's limit: one dynamic block whose length code 285
/// (258 bytes) and distance code 0 (distance 1) are one bit each, so every 258 bytes cost 2 bits.
/// Both codes are complete (litlen {285: 1, 0: 2, 256: 2}, distance {0: 1, 1: 1}), which
/// zlib, libdeflate and the fast path's own check all accept.
bytes densest_zlib_of_zeros(std::size_t n) {
  bit_writer w;
  w.bits(1, 1);          // BFINAL
  w.bits(2, 2);          // dynamic Huffman codes
  w.bits(286 - 257, 5);  // HLIT: litlen codes 0..285
  w.bits(2 - 1, 5);      // HDIST: distance codes 0..1
  w.bits(18 - 4, 4);     // HCLEN: code length codes up to "1" in the permuted order
  // Code length code lengths in the order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1:
  // 18 -> 1 bit (codeword 0), 1 -> 2 bits (10), 2 -> 2 bits (11).
  for (unsigned len : {0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2}) w.bits(len, 3);
  const auto length_2 = [&] { w.code(0b11, 2); };
  const auto length_1 = [&] { w.code(0b10, 2); };
  const auto zeros = [&](unsigned count) {  // code 18: 11..138 zeros
    w.code(0b0, 1);
    w.bits(count - 11, 7);
  };
  length_2();  // litlen 0
  zeros(138);  // litlen 1..138
  zeros(117);  // litlen 139..255
  length_2();  // litlen 256 (end of block)
  zeros(28);   // litlen 257..284
  length_1();  // litlen 285
  length_1();  // distance 0
  length_1();  // distance 1
  // Canonical codewords: litlen 285 = 0, 0 = 10, 256 = 11; distance 0 = 0, 1 = 1.
  const auto literal_zero = [&] { w.code(0b10, 2); };
  REQUIRE(n > 0);
  literal_zero();
  std::size_t done = 1;
  for (; n - done >= 258; done += 258) {
    w.code(0b0, 1);  // length 258, no extra bits
    w.code(0b0, 1);  // distance 1, no extra bits
  }
  for (; done < n; ++done) literal_zero();
  w.code(0b11, 2);  // end of block
  bytes deflate = std::move(w).finish();

  bytes zlib{0x78, 0x01};  // deflate, 32 KiB window; (0x78 * 256 + 0x01) % 31 == 0
  zlib.insert(zlib.end(), deflate.begin(), deflate.end());
  const bytes raw(n, 0);
  const auto adler = static_cast<std::uint32_t>(adler32(adler32(0, nullptr, 0), raw.data(), static_cast<uInt>(n)));
  for (int s = 24; s >= 0; s -= 8) zlib.push_back(static_cast<std::uint8_t>(adler >> s));
  return zlib;
}

}  // namespace

TEST_CASE("A tiny file whose header claims a huge image is corrupt, and the message says why", "[decode][limits]") {
  struct claim {
    std::uint32_t width, height;
    std::uint8_t depth, colour_type, interlace;
  };
  const claim c = GENERATE(claim{16000, 16000, 8, 0, 0}, claim{16384, 16384, 8, 3, 0}, claim{16384, 16384, 1, 0, 0},
                           claim{16000, 16000, 8, 0, 1}, claim{10000, 10000, 16, 0, 0}, claim{1, 0x0fffffff, 8, 0, 0},
                           claim{0x0fffffff, 1, 2, 3, 1});
  CAPTURE(c.width, c.height, c.depth, c.colour_type, c.interlace);
  const std::vector<std::byte> png =
      make_png(ref::ihdr_data(c.width, c.height, c.depth, c.colour_type, c.interlace), zlib_compress(bytes(64, 0), 9));

  label_plane plane;
  diagnostics diag;
  REQUIRE(decode_png(png, decode_limits{}, plane, diag) == errc::corrupt_png);
  REQUIRE(diag.message == "the header claims " + std::to_string(c.width) + "x" + std::to_string(c.height) + " but a " +
                              std::to_string(png.size()) +
                              "-byte file cannot hold that much image data (deflate compresses at most 1032:1)");
  REQUIRE(plane.u8.capacity() == 0);
  REQUIRE(plane.u16.capacity() == 0);
  REQUIRE(plane.scratch.capacity() == 0);

  fast_png_scratch scratch;
  const fast_run fast = run_fast(png, scratch);
  REQUIRE(fast.status == fast_status::not_handled);
  REQUIRE(fast.ids.empty());
  REQUIRE(scratch.inflated.capacity() == 0);
}

TEST_CASE("Refusing an impossible 16000x16000 claim does not raise the peak RSS", "[decode][limits]") {
  // 256 MB if either decoder allocated the claimed plane or scanlines (and zero-filled them).
  const std::vector<std::byte> png = make_png(ref::ihdr_data(16000, 16000, 8, 0), zlib_compress(bytes(64, 0), 9));
  constexpr long limit_kib = 64 * 1024;

  const long reference_growth = peak_rss_growth_in_child([&] {
    label_plane plane;
    diagnostics diag;
    return decode_png(png, decode_limits{}, plane, diag) == errc::corrupt_png;
  });
  CHECK(reference_growth < limit_kib);

  const long fast_growth = peak_rss_growth_in_child([&] {
    fast_png_scratch scratch;
    return run_fast(png, scratch).status == fast_status::not_handled;
  });
  CHECK(fast_growth < limit_kib);
}

TEST_CASE("The rule never refuses a valid PNG, not even one compressed at deflate's limit", "[decode][limits]") {
  SECTION("4096x4096 zeros, zlib level 9") {
    const bytes raw(std::size_t{4096} * 4097, 0);
    const std::vector<std::byte> png = make_png(ref::ihdr_data(4096, 4096, 8, 0), zlib_compress(raw, 9));
    CAPTURE(png.size(), raw.size() / png.size());

    label_plane plane;
    diagnostics diag;
    INFO(diag.message);
    REQUIRE_FALSE(decode_png(png, decode_limits{}, plane, diag));
    REQUIRE(plane.width == 4096);
    REQUIRE(plane.height == 4096);
    REQUIRE(plane.u8 == bytes(std::size_t{4096} * 4096, 0));

    fast_png_scratch scratch;
    const fast_run fast = run_fast(png, scratch);
    REQUIRE(fast.status == fast_status::decoded);
    REQUIRE(fast.ids == plane.u8);
  }
  SECTION("258x65533 zeros, every 258 bytes in 2 bits: deflate's 1032:1 less the block header") {
    // 65533 rows of a filter byte and 258 ids: n = 1 + 258 * 65787, one literal and whole matches.
    const std::size_t n = std::size_t{259} * 65533;
    const bytes zlib = densest_zlib_of_zeros(n);
    // The stream is valid for zlib itself, and as dense as deflate gets.
    bytes check(n + 1);
    uLongf check_size = static_cast<uLongf>(check.size());
    REQUIRE(uncompress(check.data(), &check_size, zlib.data(), static_cast<uLong>(zlib.size())) == Z_OK);
    REQUIRE(check_size == n);
    REQUIRE(n > 1031 * (zlib.size() - 6));

    const std::vector<std::byte> png = make_png(ref::ihdr_data(258, 65533, 8, 0), zlib);
    CAPTURE(png.size(), zlib.size());
    label_plane plane;
    diagnostics diag;
    const std::error_code ec = decode_png(png, decode_limits{}, plane, diag);
    INFO(diag.message);
    REQUIRE_FALSE(ec);
    REQUIRE(plane.u8 == bytes(std::size_t{258} * 65533, 0));

    fast_png_scratch scratch;
    const fast_run fast = run_fast(png, scratch);
    REQUIRE(fast.status == fast_status::decoded);
    REQUIRE(fast.ids == plane.u8);
  }
}

TEST_CASE("image_data_can_fit is exactly 1032:1 plus 4 KiB, without overflow", "[decode][limits]") {
  using maskscan::detail::filtered_image_bytes;
  using maskscan::detail::image_data_can_fit;
  REQUIRE(image_data_can_fit(1032 * 100 + 4096, 100));
  REQUIRE_FALSE(image_data_can_fit(1032 * 100 + 4097, 100));
  REQUIRE(image_data_can_fit(4096, 0));
  REQUIRE(image_data_can_fit(~std::uint64_t{0}, ~std::uint64_t{0}));
  REQUIRE_FALSE(image_data_can_fit(~std::uint64_t{0}, std::uint64_t{1} << 40));

  REQUIRE(filtered_image_bytes(10, 3, 8, false) == 3 * 11);
  REQUIRE(filtered_image_bytes(10, 3, 1, false) == 3 * 3);
  REQUIRE(filtered_image_bytes(10, 3, 16, false) == 3 * 21);
  // Adam7 on 1x1: only the first pass has a pixel.
  REQUIRE(filtered_image_bytes(1, 1, 8, true) == 2);
  // 8x8, 8-bit: passes of 1x1, 1x1, 2x1, 2x2, 4x2, 4x4, 8x4 pixels.
  REQUIRE(filtered_image_bytes(8, 8, 8, true) == 2 + 2 + 3 + 2 * 3 + 2 * 5 + 4 * 5 + 4 * 9);
}
