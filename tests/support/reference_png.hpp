#pragma once
// An independent PNG decoder for tests, written from the PNG specification with zlib only (not
// libspng), so that the real decoder is checked against something that shares none of its code.
// It is meant for valid files: it skips CRC checks and throws on anything it cannot decode.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace maskscan::test {

/// The IHDR fields.
struct png_header {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  unsigned bit_depth = 0;
  unsigned colour_type = 0;
  bool interlaced = false;
};

/// A decoded grayscale or palette image: one value per pixel, row-major; the raw sample (never
/// scaled) or the palette index.
struct reference_image {
  png_header header;
  std::size_t palette_entries = 0;  ///< PLTE entries (0 without a PLTE chunk)
  std::vector<std::uint32_t> values;
};

struct reference_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Where one chunk sits in a file: its length field is at `offset`, its data at `offset + 8`,
/// its CRC at `offset + 8 + length`.
struct chunk_location {
  std::string type;
  std::size_t offset = 0;
  std::uint32_t length = 0;
};

/// The chunks of a file, in order, up to and including IEND. Throws reference_error if the file
/// has no signature or a chunk runs past the end.
std::vector<chunk_location> png_chunks(std::span<const std::byte> png);

/// Reads the IHDR chunk only. Throws reference_error if there is none.
png_header reference_header(std::span<const std::byte> png);

/// Decodes a grayscale (colour type 0) or palette (3) PNG of any bit depth, interlaced or not.
/// Throws reference_error on other colour types and on anything it cannot decode.
reference_image reference_decode(std::span<const std::byte> png);

/// The whole file. Throws reference_error if it cannot be read.
std::vector<std::byte> read_file_bytes(const std::filesystem::path& path);

/// One chunk: length, type, data and its CRC (zlib crc32 over type and data), for building
/// PNGs by hand in tests.
std::vector<std::byte> make_chunk(std::string_view type, std::span<const std::uint8_t> data);

/// The 8-byte PNG signature.
std::vector<std::byte> png_signature_bytes();

/// The 13 bytes of an IHDR chunk's data (compression and filter method 0).
std::vector<std::uint8_t> ihdr_data(std::uint32_t width, std::uint32_t height, std::uint8_t depth,
                                    std::uint8_t colour_type, std::uint8_t interlace = 0);

/// `raw` as one zlib stream (zlib's compress2 at `level`; -1: zlib's default). Throws reference_error
/// if zlib fails.
std::vector<std::uint8_t> zlib_compress(std::span<const std::uint8_t> raw, int level = -1);

/// A complete PNG of a gray, RGB, gray+alpha or RGBA image (colour types 0, 2, 4, 6; no PLTE), for
/// building test files: signature, IHDR, one IDAT (zlib level 6, filter type 0 on every row),
/// IEND. `rows` is the unfiltered image, row-major, (width * channels * bit_depth + 7) / 8 bytes
/// a row, 16-bit samples big-endian. header.interlaced: the Adam7 passes are cut from it (bit
/// depths 8 and 16 only). Throws reference_error on anything else.
std::vector<std::byte> encode_png(const png_header& header, std::span<const std::uint8_t> rows);

/// encode_png(header, rows) written to `file`, its directory created if needed. Throws
/// reference_error if it cannot be written.
void write_png(const std::filesystem::path& file, const png_header& header, std::span<const std::uint8_t> rows);

}  // namespace maskscan::test
