#pragma once
// A corpus of broken PNGs made from a valid one, each with the outcome a scanner must report.
// Every mutation is built so that its outcome is certain: flipped bits either leave the chunk CRC
// stale (so the CRC must catch them) or hit a field whose damage no decoder can miss (the Adler-32,
// the zlib header, a filter type byte), with the CRCs recomputed so only that damage is left.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <maskscan/errors.hpp>

namespace maskscan::test {

/// One mutated file. `expected == errc::ok` means the file must be scanned to exactly the ids of
/// the valid PNG it was made from.
struct corrupt_variant {
  std::string name;  ///< usable as a file name: "truncated_mid_first_IDAT", ...
  std::vector<std::byte> bytes;
  errc expected = errc::corrupt_png;
  std::string message_part = {};  ///< the error message must contain this ("" : any message)
  /// Non-empty while the scanner is known to get this variant wrong: what it does instead. Tests
  /// then WARN instead of failing; emptying it makes the check strict.
  std::string known_issue = {};
};

// One function per kind of mutation. `png` must be a valid PNG: signature, IHDR, ..., one or more
// consecutive IDATs, IEND at the very end.

/// Cut at 0 bytes, inside the signature, at every chunk boundary, in the middle of the first and
/// the last IDAT, and inside IEND's CRC.
std::vector<corrupt_variant> truncations(std::span<const std::byte> png);

/// One bit flipped in IHDR, the first and last IDAT's data, an IDAT CRC and IEND's CRC; the CRC
/// is not fixed, so it must be what catches the damage.
std::vector<corrupt_variant> stale_crcs(std::span<const std::byte> png);

/// The image data's zlib stream damaged under correct chunk CRCs: Adler-32 trailer, zlib header,
/// a scanline filter type of 5 (Adler-32 recomputed), one row too few.
std::vector<corrupt_variant> zlib_damage(std::span<const std::byte> png);

/// Bytes after IEND (a chunk-like record and plain text): the image itself is intact.
std::vector<corrupt_variant> trailing_data(std::span<const std::byte> png);

/// Files with a .png name that are no PNG: text, a JPEG's first bytes, random bytes.
std::vector<corrupt_variant> not_pngs();

/// IHDRs that lie about the size, with valid CRCs: 100000x100000 (too large to accept), and
/// 16384x16384 (within max_pixels) over the tiny image data of `png`.
std::vector<corrupt_variant> absurd_headers(std::span<const std::byte> png);

/// A 64x64 8-bit gray PNG whose image data inflates to `inflated_bytes` zeros (about 1 MB of
/// compressed data for 1 GiB): built with zlib streaming, never holding the inflated bytes.
corrupt_variant inflation_bomb(std::uint64_t inflated_bytes = std::uint64_t{1} << 30);

/// All of the above for `png` except the bomb (large and slow to build; add it once).
std::vector<corrupt_variant> corruption_corpus(std::span<const std::byte> png);

/// `png` with its image data re-split into IDAT chunks of `chunk_bytes` (the last may be
/// shorter): the same image, so that the first and the last IDAT differ.
std::vector<std::byte> with_idat_chunks(std::span<const std::byte> png, std::size_t chunk_bytes);

}  // namespace maskscan::test
