// The fast path for 8-bit gray/palette PNGs. See fast_png.hpp for the contract.
#include "decode/fast_png.hpp"
#include "decode/png_bytes.hpp"

#include <libdeflate.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace maskscan::detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Chunks

constexpr std::array<unsigned char, 8> png_signature{137, 80, 78, 71, 13, 10, 26, 10};
constexpr std::uint32_t png_max_u31 = 0x7fffffffU;  // the spec's bound on lengths and dimensions

bool is_type(const std::uint8_t* type, const char (&name)[5]) { return std::memcmp(type, name, 4) == 0; }

// ---------------------------------------------------------------------------------------------
// zlib's rules
//
// libspng inflates with zlib, and zlib refuses some streams that libdeflate 1.14 decodes (each
// checked by a test): litlen symbols 286/287 and distance symbols 30/31, which libdeflate takes
// for length 258 and far distances (one flipped bit turns a fixed-code 285 into 287, with the very
// same output and Adler-32); the unused codeword of a one-symbol distance code; a used empty
// distance code; more than 30 distance codes declared. So a stream libdeflate inflated is walked
// once more, and accepted only where zlib provably agrees: every dynamic block must have complete
// codes (real encoders write nothing else; the rest goes to the reference), and fixed blocks are
// checked symbol by symbol. The walk only decodes symbols, writes no output, and skips the final
// dynamic block: complete codes over at most 286 + 30 symbols hold nothing zlib would refuse.

/// Reads bits LSB first. Past the end it yields zero bits and counts them (`overrun`), as
/// inflaters pad; a stream that needs them is invalid.
class bit_reader {
 public:
  bit_reader(const std::uint8_t* begin, const std::uint8_t* end) : next_(begin), end_(end) {}

  std::uint32_t peek(unsigned n) {  // n <= 32
    if (count_ < n) refill();
    return static_cast<std::uint32_t>(bits_ & ((std::uint64_t{1} << n) - 1));
  }
  void drop(unsigned n) {
    bits_ >>= n;
    count_ -= n;
  }
  std::uint32_t take(unsigned n) {
    const std::uint32_t v = peek(n);
    drop(n);
    return v;
  }
  /// True once a bit beyond the end has been consumed.
  bool overrun() const { return padding_ * 8 > count_; }

  /// For stored blocks: drops the rest of the current byte, then skips `n` whole bytes.
  bool skip_bytes(std::size_t n) {
    drop(count_ % 8);
    for (; n > 0 && count_ >= 8; --n) drop(8);
    if (overrun()) return false;
    if (n == 0) return true;
    if (padding_ > 0 || n > static_cast<std::size_t>(end_ - next_)) return false;
    next_ += n;
    return true;
  }

 private:
  void refill() {
    while (count_ <= 56) {
      std::uint64_t byte = 0;
      if (next_ != end_) {
        byte = *next_++;
      } else {
        ++padding_;
      }
      bits_ |= byte << count_;
      count_ += 8;
    }
  }

  const std::uint8_t* next_;
  const std::uint8_t* end_;
  std::uint64_t bits_ = 0;
  unsigned count_ = 0;
  std::size_t padding_ = 0;
};

/// A canonical Huffman code of at most 288 symbols and 15-bit codewords. Codewords of up to
/// `fast_bits` bits decode with one table lookup; longer ones, which are rare, bit by bit.
class huffman_code {
 public:
  /// false unless the lengths form a complete prefix code (Kraft sum exactly 1).
  bool build(const std::uint8_t* lengths, unsigned n) {
    count_.fill(0);
    for (unsigned s = 0; s < n; ++s) ++count_[lengths[s]];
    count_[0] = 0;
    int left = 1;
    for (unsigned len = 1; len <= 15; ++len) {
      left = 2 * left - count_[len];
      if (left < 0) return false;  // over-subscribed
    }
    if (left != 0) return false;  // incomplete (includes empty and one-symbol codes)

    std::array<std::uint16_t, 16> offset{};
    for (unsigned len = 1; len < 15; ++len) offset[len + 1] = offset[len] + count_[len];
    for (unsigned s = 0; s < n; ++s) {
      if (lengths[s]) sorted_[offset[lengths[s]]++] = static_cast<std::uint16_t>(s);
    }

    fast_.fill(0);
    unsigned code = 0, index = 0;
    for (unsigned len = 1; len <= fast_bits; ++len, code <<= 1) {
      for (unsigned k = 0; k < count_[len]; ++k, ++code, ++index) {
        unsigned reversed = 0;
        for (unsigned b = 0; b < len; ++b) reversed |= ((code >> b) & 1U) << (len - 1 - b);
        const auto entry = static_cast<std::uint16_t>(sorted_[index] | (len << 9));
        for (unsigned j = reversed; j < fast_.size(); j += 1U << len) fast_[j] = entry;
      }
    }
    return true;
  }

  unsigned decode(bit_reader& in) const {
    const std::uint16_t entry = fast_[in.peek(fast_bits)];
    if (entry >> 9) {
      in.drop(entry >> 9);
      return entry & 511U;
    }
    // Longer than fast_bits: canonical decoding one bit at a time (codes are MSB first).
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= 15; ++len) {
      code |= static_cast<int>(in.take(1));
      const int count = count_[len];
      if (code - first < count) return sorted_[static_cast<std::size_t>(index + code - first)];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    return 0;  // unreachable for a complete code
  }

 private:
  static constexpr unsigned fast_bits = 10;
  std::array<std::uint16_t, 1U << fast_bits> fast_{};  ///< symbol | length << 9; 0: longer code
  std::array<std::uint16_t, 16> count_{};              ///< codewords per length
  std::array<std::uint16_t, 288> sorted_{};            ///< symbols by (length, value)
};

constexpr std::array<std::uint8_t, 29> length_extra_bits{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                         2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<std::uint8_t, 30> distance_extra_bits{0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                           6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/// Walks one block's symbols up to its end-of-block code; false at a symbol zlib refuses.
bool walk_symbols(bit_reader& in, const huffman_code& litlen, const huffman_code& distance) {
  for (;;) {
    if (in.overrun()) return false;
    const unsigned symbol = litlen.decode(in);
    if (symbol < 256) continue;
    if (symbol == 256) return true;
    if (symbol > 285) return false;
    in.take(length_extra_bits[symbol - 257]);
    const unsigned d = distance.decode(in);
    if (d > 29) return false;
    in.take(distance_extra_bits[d]);
  }
}

struct fixed_codes {
  huffman_code litlen, distance;
  fixed_codes() {
    std::array<std::uint8_t, 288> lengths{};
    for (unsigned s = 0; s < 288; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    litlen.build(lengths.data(), 288);
    lengths.fill(5);
    distance.build(lengths.data(), 32);
  }
};

struct dynamic_codes {
  huffman_code precode, litlen, distance;
};

/// Reads a dynamic block's header; false unless zlib would accept it and both codes are complete.
bool read_dynamic_header(bit_reader& in, dynamic_codes& codes) {
  static constexpr std::array<std::uint8_t, 19> precode_order{16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                              11, 4,  12, 3, 13, 2, 14, 1, 15};
  const unsigned litlens = in.take(5) + 257, distances = in.take(5) + 1, precodes = in.take(4) + 4;
  if (litlens > 286 || distances > 30) return false;
  std::array<std::uint8_t, 19> precode_lengths{};
  for (unsigned i = 0; i < precodes; ++i) {
    precode_lengths[precode_order[i]] = static_cast<std::uint8_t>(in.take(3));
  }
  if (!codes.precode.build(precode_lengths.data(), 19)) return false;

  std::array<std::uint8_t, 286 + 30> lengths{};
  const unsigned total = litlens + distances;
  for (unsigned i = 0; i < total;) {
    if (in.overrun()) return false;
    const unsigned symbol = codes.precode.decode(in);
    if (symbol < 16) {
      lengths[i++] = static_cast<std::uint8_t>(symbol);
      continue;
    }
    std::uint8_t value = 0;
    unsigned repeat = 0;
    if (symbol == 16) {
      if (i == 0) return false;
      value = lengths[i - 1];
      repeat = 3 + in.take(2);
    } else if (symbol == 17) {
      repeat = 3 + in.take(3);
    } else {
      repeat = 11 + in.take(7);
    }
    if (repeat > total - i) return false;
    for (; repeat > 0; --repeat) lengths[i++] = value;
  }
  if (lengths[256] == 0) return false;  // zlib: "missing end-of-block"
  return codes.litlen.build(lengths.data(), litlens) && codes.distance.build(lengths.data() + litlens, distances);
}

/// True if zlib (as libspng uses it: 32 KiB window, no dictionary) accepts the whole stream
/// wherever libdeflate does. Adler-32, sizes and distances are libdeflate's to check.
bool follows_zlib_rules(std::span<const std::uint8_t> zlib) {
  if (zlib.size() < 2 + 4) return false;
  const unsigned cmf = zlib[0], flg = zlib[1];
  if ((cmf & 0x0fU) != 8 || (cmf >> 4) > 7 || (cmf * 256 + flg) % 31 != 0 || (flg & 0x20U)) {
    return false;
  }
  static const fixed_codes fixed;
  dynamic_codes dynamic;
  bit_reader in(zlib.data() + 2, zlib.data() + zlib.size() - 4);
  for (;;) {
    const bool final_block = in.take(1) != 0;
    switch (in.take(2)) {
      case 0: {  // stored: byte-aligned LEN, NLEN = ~LEN, then LEN bytes
        if (!in.skip_bytes(0)) return false;
        const std::uint32_t len = in.take(16), nlen = in.take(16);
        if (len != (~nlen & 0xffffU) || !in.skip_bytes(len)) return false;
        break;
      }
      case 1:
        if (!walk_symbols(in, fixed.litlen, fixed.distance)) return false;
        break;
      case 2:
        if (!read_dynamic_header(in, dynamic)) return false;
        if (final_block) return !in.overrun();
        if (!walk_symbols(in, dynamic.litlen, dynamic.distance)) return false;
        break;
      default: return false;
    }
    if (in.overrun()) return false;
    if (final_block) return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Unfiltering, one byte per pixel (a = left, b = up, c = up-left)

#if defined(__SSE2__)
/// Byte-wise prefix sum of one 16-byte block (mod 256), in four shifted adds.
__m128i prefix_sum(__m128i v) {
  v = _mm_add_epi8(v, _mm_slli_si128(v, 1));
  v = _mm_add_epi8(v, _mm_slli_si128(v, 2));
  v = _mm_add_epi8(v, _mm_slli_si128(v, 4));
  return _mm_add_epi8(v, _mm_slli_si128(v, 8));
}

/// Byte 15 in all 16 bytes, with SSE2 only.
__m128i broadcast_last(__m128i v) {
  v = _mm_unpackhi_epi8(v, v);
  v = _mm_unpackhi_epi16(v, v);
  return _mm_shuffle_epi32(v, 0xff);
}
#endif

void unfilter_sub(std::uint8_t* row, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  // The running total is advanced by each block's own sum, which keeps it off the chain of
  // prefix sums: one add per block is all that serializes.
  __m128i carry = _mm_setzero_si128();  // every byte: the last id so far
  for (; i + 16 <= n; i += 16) {
    auto* p = reinterpret_cast<__m128i*>(row + i);
    const __m128i v = prefix_sum(_mm_loadu_si128(p));
    _mm_storeu_si128(p, _mm_add_epi8(v, carry));
    carry = _mm_add_epi8(carry, broadcast_last(v));
  }
#endif
  std::uint8_t a = i ? row[i - 1] : 0;
  for (; i < n; ++i) row[i] = a = static_cast<std::uint8_t>(row[i] + a);
}

void unfilter_up(std::uint8_t* row, const std::uint8_t* up, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    auto* p = reinterpret_cast<__m128i*>(row + i);
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(up + i));
    _mm_storeu_si128(p, _mm_add_epi8(_mm_loadu_si128(p), b));
  }
#endif
  for (; i < n; ++i) row[i] = static_cast<std::uint8_t>(row[i] + up[i]);
}

/// floor((a + b) / 2) with a 9-bit sum, as the spec says; `up` null for the first row (b = 0).
void unfilter_average(std::uint8_t* row, const std::uint8_t* up, std::size_t n) {
  unsigned a = 0;
  if (up) {
    for (std::size_t i = 0; i < n; ++i) {
      a = (row[i] + ((a + up[i]) >> 1)) & 0xffU;
      row[i] = static_cast<std::uint8_t>(a);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      a = (row[i] + (a >> 1)) & 0xffU;
      row[i] = static_cast<std::uint8_t>(a);
    }
  }
}

/// Paeth over `n` bytes, byte by byte, given the left id `a` and up-left `c` of the first.
/// Returns the last id.
int paeth_bytes(std::uint8_t* row, const std::uint8_t* up, std::size_t n, int a, int c) {
  for (std::size_t i = 0; i < n; ++i) {
    const int b = up[i];
    // p = a + b - c; the spec's distances |p - a|, |p - b|, |p - c|, ties to a, then b.
    const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
    const int predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
    a = (row[i] + predictor) & 0xff;
    row[i] = static_cast<std::uint8_t>(a);
    c = b;
  }
  return a;
}

void unfilter_paeth(std::uint8_t* row, const std::uint8_t* up, std::size_t n) {
  if (n == 0) return;
  int a = paeth_bytes(row, up, 1, 0, 0);  // the first byte has no left or up-left (c = 0)
  std::size_t i = 1;
#if defined(__SSE2__)
  // Byte by byte, Paeth is one long dependency chain. But where the row above is flat (b == c),
  // pa = 0 and the predictor is a: that stretch is plain Sub. Masks are flat almost everywhere,
  // so most 16-byte blocks take Sub's prefix sum and only the blocks under an edge go one by one.
  for (; i + 16 <= n; i += 16) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(up + i - 1));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(up + i));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(b, c)) != 0xffff) {
      a = paeth_bytes(row + i, up + i, 16, a, up[i - 1]);
      continue;
    }
    auto* p = reinterpret_cast<__m128i*>(row + i);
    const __m128i v = _mm_add_epi8(prefix_sum(_mm_loadu_si128(p)), _mm_set1_epi8(static_cast<char>(a)));
    _mm_storeu_si128(p, v);
    a = _mm_cvtsi128_si32(_mm_srli_si128(v, 15)) & 0xff;
  }
#endif
  paeth_bytes(row + i, up + i, n - i, a, up[i - 1]);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool fast_png_parse(std::span<const std::byte> bytes, fast_png_scratch& scratch, fast_png_image& image) {
  const auto* const data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::size_t size = bytes.size();
  if (size < png_signature.size() || std::memcmp(data, png_signature.data(), 8) != 0) return false;

  unsigned colour_type = 0, palette_entries = 0;
  bool have_header = false, have_palette = false, have_transparency = false;
  const std::uint8_t* first_idat = nullptr;
  std::size_t idat_chunks = 0, idat_bytes = 0;

  // Pass 1: the chunk sequence and every CRC. IDAT data is gathered in pass 2, and only when it
  // is split over several chunks (one IDAT is inflated where it lies).
  std::size_t at = png_signature.size();
  for (;;) {
    if (size - at < 12) return false;
    const std::uint32_t length = load_be32(data + at);
    if (length > png_max_u31 || length > size - at - 12) return false;
    const std::uint8_t* const type = data + at + 4;
    const std::uint8_t* const body = data + at + 8;
    if (libdeflate_crc32(0, type, std::size_t{length} + 4) != load_be32(body + length)) {
      return false;
    }
    at += std::size_t{length} + 12;

    if (!have_header) {  // the first chunk must be IHDR
      if (!is_type(type, "IHDR") || length != 13) return false;
      image.width = load_be32(body);
      image.height = load_be32(body + 4);
      colour_type = body[9];
      if (image.width == 0 || image.width > png_max_u31 || image.height == 0 || image.height > png_max_u31 ||
          body[8] != 8 || (colour_type != 0 && colour_type != 3) || body[10] != 0 || body[11] != 0 || body[12] != 0) {
        return false;
      }
      have_header = true;
    } else if (is_type(type, "IDAT")) {
      if (colour_type == 3 && !have_palette) return false;
      if (!first_idat) first_idat = body;
      ++idat_chunks;
      idat_bytes += length;
    } else if (idat_chunks > 0) {  // after the IDATs: IEND, ending the file
      if (!is_type(type, "IEND") || length != 0 || at != size) return false;
      break;
    } else if (is_type(type, "PLTE")) {
      if (colour_type != 3 || have_palette || have_transparency || length == 0 || length % 3 != 0 || length > 256 * 3) {
        return false;
      }
      palette_entries = length / 3;
      have_palette = true;
    } else if (is_type(type, "tRNS")) {
      if (have_transparency) return false;
      if (colour_type == 3 ? !have_palette || length == 0 || length > palette_entries : length != 2) {
        return false;
      }
      have_transparency = true;
    } else {
      return false;  // any other chunk, IEND before IDAT included: the reference decides
    }
  }

  if (idat_chunks == 1) {
    image.zlib = {first_idat, idat_bytes};
    return true;
  }
  // Pass 2: the IDATs are consecutive and already checked, so walk them from the first.
  scratch.idat.resize(idat_bytes);
  std::uint8_t* out = scratch.idat.data();
  for (const std::uint8_t* chunk = first_idat - 8; idat_chunks > 0; --idat_chunks) {
    const std::uint32_t length = load_be32(chunk);
    if (length) std::memcpy(out, chunk + 8, length);
    out += length;
    chunk += std::size_t{length} + 12;
  }
  image.zlib = {scratch.idat.data(), idat_bytes};
  return true;
}

bool fast_png_inflate(const fast_png_image& image, fast_png_scratch& scratch) {
  const std::uint64_t stride = std::uint64_t{image.width} + 1;
  const std::uint64_t expected = filtered_image_bytes(image.width, image.height, 8, false);
  // A stream too short for the image is refused before its buffer is allocated. The rule is
  // decode_png's, given the zlib stream itself: never looser than decode_png's file size.
  if (!image_data_can_fit(expected, image.zlib.size())) return false;
  if (expected > std::numeric_limits<std::size_t>::max()) return false;

  scratch.inflated.resize(static_cast<std::size_t>(expected));
  std::size_t consumed = 0;
  const libdeflate_result result =
      libdeflate_zlib_decompress_ex(&thread_inflater(), image.zlib.data(), image.zlib.size(), scratch.inflated.data(),
                                    scratch.inflated.size(), &consumed, nullptr);
  // The reference ignores bytes after the zlib stream; the fast path refuses them (being
  // stricter than the reference is always safe).
  if (result != LIBDEFLATE_SUCCESS || consumed != image.zlib.size()) return false;
  if (!follows_zlib_rules(image.zlib)) return false;

  const std::uint8_t* filter = scratch.inflated.data();
  for (std::uint32_t y = 0; y < image.height; ++y, filter += stride) {
    if (*filter > 4) return false;
  }
  return true;
}

const std::uint8_t* fast_png_unfilter_row(fast_png_scratch& scratch, std::uint32_t width, std::uint32_t y) noexcept {
  const std::size_t stride = std::size_t{width} + 1;
  std::uint8_t* const row = scratch.inflated.data() + y * stride + 1;
  const std::uint8_t* const up = y > 0 ? row - stride : nullptr;
  switch (row[-1]) {
    case 1: unfilter_sub(row, width); break;
    case 2:
      if (up) unfilter_up(row, up, width);
      break;
    case 3: unfilter_average(row, up, width); break;
    case 4:  // on the first row b = c = 0, so Paeth predicts a: it is Sub
      if (up) {
        unfilter_paeth(row, up, width);
      } else {
        unfilter_sub(row, width);
      }
      break;
    default: break;  // None (the filter types were checked in fast_png_inflate)
  }
  return row;
}

}  // namespace maskscan::detail
