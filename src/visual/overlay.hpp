#pragma once
// Overlays: an RGB frame (the camera image) with its label mask blended on top, each class in its
// colour. The mask is read exactly as a scan reads it (png_decoder.hpp, then the instance divisor
// and the remap of scan_options), so an overlay shows what was counted.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <maskscan/options.hpp>
#include <maskscan/stats.hpp>

#include "decode/png_decoder.hpp"
#include "visual/canvas.hpp"
#include "visual/colormap.hpp"

namespace maskscan::detail {

/// Any PNG (gray, gray+alpha, palette, RGB, RGBA; 1 to 16 bits; interlaced or not) as 8-bit RGB,
/// decoded by libspng (SPNG_FMT_RGB8: 16-bit samples keep their high byte, low bit depths are
/// scaled to 0..255, palette indexes become their colour; alpha, tRNS and gamma are ignored).
/// Throws std::runtime_error saying what is wrong (libspng's message) for a file that is not a
/// valid PNG, and for images of more than `max_pixels` pixels (checked on the header, before the
/// image is allocated).
rgb_image decode_rgb_png(std::span<const std::byte> png, std::uint64_t max_pixels = std::uint64_t{1} << 28);

/// decode_rgb_png of a file; every error names the file and the cause. Files larger than
/// `max_file_bytes` are refused before they are read.
rgb_image decode_rgb_image(const std::filesystem::path& file, std::uint64_t max_pixels = std::uint64_t{1} << 28,
                           std::uint64_t max_file_bytes = std::uint64_t{256} << 20);

/// A mask file decoded as a scan decodes it (libspng, the reference decoder; colour masks through
/// options.colours; limits options.max_pixels and options.max_file_bytes). The instance divisor and
/// remap are not applied yet: render_overlay applies them, as the scan's counters do.
/// Throws std::runtime_error naming the file and the cause.
label_plane decode_mask_file(const std::filesystem::path& file, const scan_options& options);

/// One display colour per class id (the vector has options.class_names.size() entries), so that a
/// class has the same colour in overlays, charts and the report:
/// - the colour table's colour of the class (class_colour over options.colours), where it has one;
/// - without any colour table (options.colours empty, as scan_options' default WoodScape class
///   list has), the colours of the built-in class map named by options.labels when its class
///   names are options.class_names (WoodScape's own colours for the default options);
/// - otherwise the Pascal VOC colour map (bit-interleaved: bits 0/1/2 of the index go to the top
///   bits of R/G/B, the next three one bit lower, ...) at index id + 1 -- index 0 (black) is
///   skipped, so no class is black and neighbouring ids differ strongly. Deterministic: it
///   depends on the id only.
/// The alpha of a table colour is dropped.
std::vector<rgb8> class_palette(const scan_options& options);

/// The Pascal VOC colour map's colour of `index` (0 is black, 1 dark red, 2 dark green, ...).
rgb8 voc_colour(std::uint32_t index) noexcept;

/// `photo` with `mask` blended on top: a pixel of class c becomes, channel by channel,
/// round((1 - alpha) * photo + alpha * palette[c]) (halves rounded up), so alpha 0 gives the
/// photo and alpha 1 the class colours. The mask's values are read as a scan counts them: raw
/// gray/palette values go through options.instance_divisor and options.remap first (colour masks
/// hold their table value already); ignore-listed values (options.ignore), values that are no
/// class id (>= options.class_names.size()), classes without a palette entry and colours not in the
/// colour table keep the photo's pixel unchanged.
/// Throws std::invalid_argument if alpha is not in [0, 1] (or NaN), or if the photo and the mask
/// differ in size (the message gives both sizes).
rgb_image render_overlay(const rgb_image& photo, const label_plane& mask, std::span<const rgb8> palette,
                         const scan_options& options, double alpha);
/// render_overlay blending into `photo` itself (no copy of the frame).
rgb_image render_overlay(rgb_image&& photo, const label_plane& mask, std::span<const rgb8> palette,
                         const scan_options& options, double alpha);

/// The overlay of two files: decode_rgb_image(image), decode_mask_file(mask), class_palette and
/// render_overlay with `resolved_options` (see resolve_defaults). Throws std::runtime_error naming
/// the file and the cause when one cannot be decoded, and naming both files and both sizes when
/// they differ in size; std::invalid_argument for a bad alpha.
rgb_image overlay_files(const std::filesystem::path& image, const std::filesystem::path& mask,
                        const scan_options& resolved_options, double alpha);

/// Where the RGB frames of a mask directory are, in WoodScape's layout: the masks are in
/// `<root>/semantic_annotations/gtLabels/` (or `.../rgbLabels/`), `<root>/semantic_annotations/`,
/// `<root>/gtLabels/` or `<root>/rgbLabels/`, and the RGB frames with the same file names in
/// `<root>/rgb_images/`. Returns `<root>/rgb_images` if `mask_root` has one of these forms and that
/// directory exists, else nullopt. A trailing '/' is ignored; a file as `mask_root` stands for its
/// directory. Path components compare exactly (case-sensitive). No files are read.
std::optional<std::filesystem::path> find_rgb_dir(const std::filesystem::path& mask_root);

/// Up to `count` scanned frames to show as overlays: (frame name as in stats.frames, the path of
/// its RGB frame `rgb_dir / name`). Only frames whose mask (`mask_root / name`; a file as
/// `mask_root` stands for its directory) and RGB frame are regular files count; names that are
/// absolute or leave the root are skipped. The eligible frames, in the order of stats.frames
/// (sorted by path), are cut into `count` equal consecutive slices and each slice gives its frame
/// holding the most classes (the first such), so the choice is deterministic, spread over the
/// dataset and shows many classes. Returned in the order of stats.frames. A non-empty `confine_to`
/// (canonical) leaves out RGB frames that do not resolve, symlinks followed, inside it.
std::vector<std::pair<std::string, std::filesystem::path>> sample_frame_pairs(
    const dataset_stats& stats, const std::filesystem::path& mask_root, const std::filesystem::path& rgb_dir,
    std::size_t count, const std::filesystem::path& confine_to = {});

}  // namespace maskscan::detail
