#include "visual/overlay.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <spng.h>

#include "core/pascal_voc_colour.hpp"
#include "core/paths.hpp"
#include "decode/png_bytes.hpp"
#include "stats/frame_stats.hpp"

namespace maskscan::detail {
namespace fs = std::filesystem;

namespace {

struct ctx_deleter {
  void operator()(spng_ctx* c) const noexcept { spng_ctx_free(c); }
};

/// The whole file, refused before reading if it is larger than `max_bytes`.
std::vector<std::byte> read_whole_file(const fs::path& file, std::uint64_t max_bytes) {
  std::error_code ec;
  if (fs::is_directory(file, ec))
    throw std::runtime_error(fmt::format("{}: is a directory, not a PNG file", file.string()));
  const auto size = fs::file_size(file, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot read the file ({})", file.string(), ec.message()));
  if (size > max_bytes)
    throw std::runtime_error(
        fmt::format("{}: the file has {} bytes, more than the limit of {}", file.string(), size, max_bytes));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the file", file.string()));
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::uint64_t>(in.gcount()) != size)
    throw std::runtime_error(fmt::format("{}: cannot read the file (it changed while being read)", file.string()));
  return bytes;
}

unsigned channels_of(std::uint8_t colour_type) noexcept {
  switch (colour_type) {
    case SPNG_COLOR_TYPE_TRUECOLOR: return 3;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return 2;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: return 4;
    default: return 1;  // gray, palette
  }
}

std::string size_text(std::uint32_t w, std::uint32_t h) { return fmt::format("{}x{}", w, h); }

void check_alpha(double alpha) {
  if (!(alpha >= 0.0 && alpha <= 1.0))
    throw std::invalid_argument(fmt::format("the overlay's alpha must be between 0 and 1, not {}", alpha));
}

}  // namespace

rgb_image decode_rgb_png(std::span<const std::byte> png, std::uint64_t max_pixels) {
  std::unique_ptr<spng_ctx, ctx_deleter> c(spng_ctx_new(0));
  if (!c) throw std::bad_alloc();
  auto check = [](int ret, const char* step) {
    if (ret != 0) throw std::runtime_error(fmt::format("libspng: {} (while {})", spng_strerror(ret), step));
  };
  // Ancillary chunks (text, ICC profiles) are not needed: cap what libspng may keep of them.
  check(spng_set_chunk_limits(c.get(), std::size_t{64} << 20, std::size_t{128} << 20), "setting limits");
  check(spng_set_png_buffer(c.get(), png.data(), png.size()), "reading the signature");
  spng_ihdr ihdr{};
  check(spng_get_ihdr(c.get(), &ihdr), "reading the header");
  const std::uint64_t pixels = std::uint64_t{ihdr.width} * ihdr.height;
  if (pixels > max_pixels)
    throw std::runtime_error(fmt::format("the image is {}x{} = {} pixels, more than the limit of {}", ihdr.width,
                                         ihdr.height, pixels, max_pixels));
  // A header claiming far more image data than the file could hold is a lie: refuse it before the
  // image buffer is allocated.
  const auto filtered = filtered_image_bytes(ihdr.width, ihdr.height, channels_of(ihdr.color_type) * ihdr.bit_depth,
                                             ihdr.interlace_method != 0);
  if (!image_data_can_fit(filtered, png.size()))
    throw std::runtime_error(fmt::format("the header claims a {}x{} image, more data than the {}-byte file can hold",
                                         ihdr.width, ihdr.height, png.size()));
  std::size_t size = 0;
  check(spng_decoded_image_size(c.get(), SPNG_FMT_RGB8, &size), "sizing the image");
  rgb_image out;
  out.width = ihdr.width;
  out.height = ihdr.height;
  out.pixels.resize(size);
  check(spng_decode_image(c.get(), out.pixels.data(), size, SPNG_FMT_RGB8, 0), "decoding the image");
  return out;
}

rgb_image decode_rgb_image(const fs::path& file, std::uint64_t max_pixels, std::uint64_t max_file_bytes) {
  const auto bytes = read_whole_file(file, max_file_bytes);
  try {
    return decode_rgb_png(bytes, max_pixels);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: cannot decode the image: {}", file.string(), e.what()));
  }
}

label_plane decode_mask_file(const fs::path& file, const scan_options& options) {
  const auto bytes = read_whole_file(file, options.max_file_bytes);
  decode_limits limits;
  limits.max_pixels = options.max_pixels;
  label_plane plane;
  diagnostics diag;
  if (const auto ec = decode_png(bytes, limits, plane, diag, options.colours))
    throw std::runtime_error(fmt::format("{}: cannot decode the mask ({}): {}", file.string(),
                                         to_string(static_cast<errc>(ec.value())), diag.message));
  return plane;
}

rgb8 voc_colour(std::uint32_t index) noexcept {
  const rgba c = pascal_voc_colour(index);
  return {c.r, c.g, c.b};
}

std::vector<rgb8> class_palette(const scan_options& options) {
  scan_meaning meaning;  // its colours: the options', else the built-in map's of these names
  meaning.colours = options.colours;
  if (meaning.colours.empty()) {
    const auto builtins = builtin_class_map_names();
    if (std::ranges::find(builtins, options.labels) != builtins.end()) {
      auto builtin = builtin_class_map(options.labels);
      if (builtin.names == options.class_names) meaning.colours = std::move(builtin.colours);
    }
  }
  std::vector<rgb8> palette;
  palette.reserve(options.class_names.size());
  for (std::uint32_t id = 0; id < options.class_names.size(); ++id) {
    if (const rgba* c = class_colour(meaning, id))
      palette.push_back({c->r, c->g, c->b});
    else
      palette.push_back(voc_colour(id + 1));
  }
  return palette;
}

rgb_image render_overlay(const rgb_image& photo, const label_plane& mask, std::span<const rgb8> palette,
                         const scan_options& options, double alpha) {
  return render_overlay(rgb_image(photo), mask, palette, options, alpha);
}

rgb_image render_overlay(rgb_image&& photo, const label_plane& mask, std::span<const rgb8> palette,
                         const scan_options& options, double alpha) {
  check_alpha(alpha);
  if (photo.width != mask.width || photo.height != mask.height)
    throw std::invalid_argument(fmt::format("the image is {} and the mask {}: they must have the same size",
                                            size_text(photo.width, photo.height), size_text(mask.width, mask.height)));
  // Per raw value of the plane, the palette index it is drawn with (-1: keep the photo).
  const std::size_t values = mask.depth == 16 ? std::size_t{1} << 16 : std::size_t{1} << 8;
  const auto lut =
      mask.from_colours ? std::vector<std::uint32_t>{} : make_value_lut(options.instance_divisor, options.remap);
  const std::size_t drawn = std::min(palette.size(), options.class_names.size());
  auto ignore = options.ignore;  // sorted by resolve_defaults; not trusted here
  std::ranges::sort(ignore);
  std::vector<std::int32_t> colour_of(values, -1);
  for (std::size_t raw = 0; raw < values; ++raw) {
    if (mask.from_colours && raw == unknown_colour_marker) continue;
    const std::uint32_t value = lut.empty() ? static_cast<std::uint32_t>(raw) : lut[raw];
    if (value >= drawn || std::ranges::binary_search(ignore, value)) continue;
    colour_of[raw] = static_cast<std::int32_t>(value);
  }

  const auto blend = [&](std::uint8_t photo_value, std::uint8_t class_value) {
    return static_cast<std::uint8_t>(std::floor((1.0 - alpha) * photo_value + alpha * class_value + 0.5));
  };
  // The blend of every photo value with each channel of the classes drawn, computed once per class
  // (the same expression: the same bytes), up to a limit on the classes: per pixel it was most of
  // an overlay's time.
  constexpr std::size_t tabled_classes = 1024;
  std::vector<std::array<std::uint8_t, 3 * 256>> tables;
  if (drawn <= tabled_classes) {
    tables.resize(drawn);
    for (std::size_t c = 0; c < drawn; ++c)
      for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t v = 0; v < 256; ++v)
          tables[c][k * 256 + v] = blend(static_cast<std::uint8_t>(v), palette[c][k]);
  }
  rgb_image out = std::move(photo);  // blended in place
  const std::size_t n = static_cast<std::size_t>(mask.pixels());
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t raw = mask.depth == 16 ? mask.u16[i] : mask.u8[i];
    const std::int32_t c = colour_of[raw];
    if (c < 0) continue;
    std::uint8_t* px = &out.pixels[i * 3];
    if (!tables.empty()) {
      const auto& t = tables[static_cast<std::size_t>(c)];
      px[0] = t[px[0]], px[1] = t[256 + px[1]], px[2] = t[512 + px[2]];
      continue;
    }
    const rgb8& colour = palette[static_cast<std::size_t>(c)];
    for (std::size_t k = 0; k < 3; ++k) px[k] = blend(px[k], colour[k]);
  }
  return out;
}

rgb_image overlay_files(const fs::path& image, const fs::path& mask, const scan_options& resolved_options,
                        double alpha) {
  check_alpha(alpha);
  rgb_image photo = decode_rgb_image(image, resolved_options.max_pixels, resolved_options.max_file_bytes);
  const label_plane plane = decode_mask_file(mask, resolved_options);
  if (photo.width != plane.width || photo.height != plane.height)
    throw std::runtime_error(fmt::format("the image {} is {} but the mask {} is {}: they must have the same size",
                                         image.string(), size_text(photo.width, photo.height), mask.string(),
                                         size_text(plane.width, plane.height)));
  return render_overlay(std::move(photo), plane, class_palette(resolved_options), resolved_options, alpha);
}

std::optional<fs::path> find_rgb_dir(const fs::path& mask_root) {
  std::error_code ec;
  fs::path dir = mask_root.lexically_normal();
  if (fs::is_regular_file(dir, ec)) dir = dir.parent_path();
  if (!dir.has_filename()) dir = dir.parent_path();  // "a/gtLabels/" -> "a/gtLabels"
  if (dir.empty() || dir.filename() == "." || dir.filename() == "..") {
    dir = fs::absolute(dir.empty() ? fs::path(".") : dir, ec).lexically_normal();
    if (!dir.has_filename()) dir = dir.parent_path();
  }
  fs::path root;
  if (dir.filename() == "gtLabels" || dir.filename() == "rgbLabels") {
    root = dir.parent_path();
    if (root.filename() == "semantic_annotations") root = root.parent_path();
  } else if (dir.filename() == "semantic_annotations") {
    root = dir.parent_path();
  } else {
    return std::nullopt;
  }
  fs::path rgb = root / "rgb_images";
  if (!fs::is_directory(rgb, ec)) return std::nullopt;
  return rgb;
}

std::vector<std::pair<std::string, fs::path>> sample_frame_pairs(const dataset_stats& stats, const fs::path& mask_root,
                                                                 const fs::path& rgb_dir, std::size_t count,
                                                                 const fs::path& confine_to) {
  std::error_code ec;
  const fs::path masks = fs::is_regular_file(mask_root, ec) ? mask_root.parent_path() : mask_root;
  // Rows on disk are read one at a time (frame_rows): a first pass keeps, per eligible frame, only
  // its position among the rows and its class count; a second copies the chosen frames' paths.
  struct candidate {
    std::size_t row;  ///< position in stats.frames
    std::size_t classes;
  };
  if (count == 0) return {};
  std::vector<candidate> eligible;
  std::size_t position = 0;
  for (const auto& frame : stats.frames) {
    const std::size_t row = position++;
    const fs::path name(frame.path);
    if (name.empty() || name.is_absolute() || name.has_root_name()) continue;
    const auto normal = name.lexically_normal();
    if (normal.empty() || *normal.begin() == "..") continue;
    if (!fs::is_regular_file(masks / name, ec) || !fs::is_regular_file(rgb_dir / name, ec)) continue;
    if (!confine_to.empty() && !resolves_within(confine_to, rgb_dir / name)) continue;
    eligible.push_back({row, static_cast<std::size_t>(
                                 std::ranges::count_if(frame.class_pixels, [](std::uint64_t p) { return p != 0; }))});
  }
  std::vector<std::size_t> chosen;  // rows, ascending
  const std::size_t slices = std::min(count, eligible.size());
  for (std::size_t s = 0; s < slices; ++s) {
    const auto first = eligible.begin() + static_cast<std::ptrdiff_t>(s * eligible.size() / slices);
    const auto last = eligible.begin() + static_cast<std::ptrdiff_t>((s + 1) * eligible.size() / slices);
    // max_element returns the first of equal maxima: the earliest frame of the slice wins a tie.
    chosen.push_back(std::max_element(first, last, [](const candidate& a, const candidate& b) {
                       return a.classes < b.classes;
                     })->row);
  }
  std::vector<std::pair<std::string, fs::path>> out;
  position = 0;
  auto next = chosen.begin();
  for (const auto& frame : stats.frames) {
    if (next == chosen.end()) break;
    if (position++ != *next) continue;
    out.emplace_back(frame.path, rgb_dir / frame.path);
    ++next;
  }
  return out;
}

}  // namespace maskscan::detail
