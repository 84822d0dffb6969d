#pragma once
// Heatmap pictures: per class, the fraction of frames in which each pixel holds the class, as a
// colour-mapped image with a title and a colour bar; and a grid of every class's thumbnail.
// A class's own image is scaled to its own maximum (as matplotlib's imshow does), so a rare class
// shows where it lives in detail. The grid is for comparing classes: every thumbnail is on one
// logarithmic scale shared by all classes, with one labelled colour bar, so equal colours are
// equal fractions in any two tiles and a class in 1% of the frames is still seen beside the road.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <maskscan/stats.hpp>

#include "visual/canvas.hpp"
#include "visual/colormap.hpp"

namespace maskscan::detail {

struct heatmap_image_options {
  colormap map = colormap::viridis;  ///< the colour map; its lowest colour is 0, its highest the class's max
  /// The set is a grid set (dataset_stats::grid_heatmaps) of this grid, maybe zoomed (zoom_heatmap):
  /// titles and captions name the grid and speak of cells of frames of every size, not of pixels.
  std::optional<grid_size> grid;
};

/// `set` with each count repeated over a `factor` x `factor` square (nearest neighbour: every
/// fraction stays as it was), to draw a small grid set large enough to see. Throws
/// std::invalid_argument for factor 0 and as heatmap_classes.
heatmap_set zoom_heatmap(const heatmap_set& set, std::uint32_t factor);

/// Where render_class_heatmap puts the map and the colour bar, in pixels of its image.
struct class_heatmap_layout {
  std::uint32_t width = 0;   ///< of the image
  std::uint32_t height = 0;  ///< of the image
  std::uint32_t map_x = 0;   ///< top-left corner of the map, set.width x set.height pixels
  std::uint32_t map_y = 0;
  std::uint32_t bar_x = 0;  ///< top-left corner of the colour bar: its bottom row is 0, its top row the max
  std::uint32_t bar_y = 0;
  std::uint32_t bar_width = 0;
  std::uint32_t bar_height = 0;
};

/// One labelled tick of the grid's colour bar.
struct heatmap_scale_tick {
  std::uint32_t x = 0;  ///< the bar's pixel column of this fraction
  double fraction = 0;  ///< of the frames
  std::string label;    ///< as drawn under the tick ("20%"; the lowest end "<=0.1%")
};

/// Where render_heatmap_grid puts the thumbnails and the colour bar, in pixels of its image, and
/// the scale they share.
struct heatmap_grid_layout {
  std::uint32_t width = 0;  ///< of the image
  std::uint32_t height = 0;
  /// The shared scale: a fraction f of the frames is colour_at(map, t), t = log(f / scale_floor) /
  /// log(scale_top / scale_floor) clamped to [0, 1]. scale_top is the largest fraction of any class
  /// at any pixel; scale_floor the largest 1, 2 or 5 x 10^k at most scale_top / 1000 (three decades
  /// at least), so f <= scale_floor, 0 included, is the lowest colour. Both 0 when no class is
  /// ever present (then everything is the lowest colour).
  double scale_top = 0;
  double scale_floor = 0;
  std::uint32_t bar_x = 0;  ///< top-left corner of the horizontal colour bar: its left column is
  std::uint32_t bar_y = 0;  ///< scale_floor and below, its right column scale_top
  std::uint32_t bar_width = 0;
  std::uint32_t bar_height = 0;
  std::vector<heatmap_scale_tick> ticks;  ///< left to right: both ends and the 1-2-5 values that fit between
  std::uint32_t columns = 0;              ///< min(4, ceil(sqrt(classes))); classes fill rows left to right
  std::uint32_t rows = 0;
  std::uint32_t thumb_width = 0;   ///< min(requested, set.width)
  std::uint32_t thumb_height = 0;  ///< set.height scaled like the width (rounded, at least 1)
  std::vector<std::pair<std::uint32_t, std::uint32_t>> thumbs;  ///< top-left corner of each class's thumbnail
};

/// The number of classes of `set`: counts.size() / (width * height). Throws std::invalid_argument
/// if the set is empty (no pixel) or counts is not a whole number of planes.
std::size_t heatmap_classes(const heatmap_set& set);

class_heatmap_layout layout_class_heatmap(const heatmap_set& set, std::size_t class_index, std::string_view class_name,
                                          const heatmap_image_options& options = {});

/// One class at full resolution: pixel (x, y) of the map is colour_at(map, f / max), f the fraction
/// of set.frames in which the pixel holds the class and max the largest f of the class (a class
/// never present is the lowest colour throughout, and the bar says so). Above it the class name
/// (scale 2) and a caption; on its right a colour bar with ticks at 0, max / 2 and max, labelled as
/// percentages of frames. Throws std::invalid_argument if class_index is not a class of the set
/// (see heatmap_classes for the other cases).
rgb_image render_class_heatmap(const heatmap_set& set, std::size_t class_index, std::string_view class_name,
                               const heatmap_image_options& options = {});

heatmap_grid_layout layout_heatmap_grid(const heatmap_set& set, std::span<const std::string> class_names,
                                        std::uint32_t thumb_width = 320, const heatmap_image_options& options = {});

/// Every class as a thumbnail, thumb_width pixels wide at most (0 counts as 1), in a grid under a
/// title line and one colour bar. A thumbnail pixel is the area average of the fractions of the
/// source pixels it covers (exact for integer factors), coloured on the scale shared by every class
/// (heatmap_grid_layout::scale_top), so two tiles compare colour for colour. Each thumbnail has the
/// class name above it and "max X% of frames" below. Throws std::invalid_argument if class_names
/// does not name every class of the set, and as heatmap_classes.
rgb_image render_heatmap_grid(const heatmap_set& set, std::span<const std::string> class_names,
                              std::uint32_t thumb_width = 320, const heatmap_image_options& options = {});

/// The pictures of a set, in the order write_heatmap_images writes them: each class's
/// render_class_heatmap, then the render_heatmap_grid of every class (default thumbnail width).
/// `index` goes from 0 to heatmap_classes(set) (the grid). Throws as those two.
rgb_image render_heatmap_picture(const heatmap_set& set, std::span<const std::string> class_names, std::size_t index,
                                 const heatmap_image_options& options = {});
/// render_heatmap_picture into `into`, in its memory when that is large enough (see rgb_image::reset).
void render_heatmap_picture(const heatmap_set& set, std::span<const std::string> class_names, std::size_t index,
                            const heatmap_image_options& options, rgb_image& into);

/// The files write_heatmap_images writes into `dir` for classes named `class_names`: one a class,
/// then grid.png (see there).
std::vector<std::filesystem::path> heatmap_picture_files(std::span<const std::string> class_names,
                                                         const std::filesystem::path& dir);

/// Creates `dir` and writes into it one render_class_heatmap PNG a class, named
/// "<id>_<group_directory_name(name)>.png" with the id zero-padded to the digits of the largest id
/// (at least two: 00_void.png .. 09_traffic_sign.png), and "grid.png" (render_heatmap_grid,
/// default thumbnail width). Files are written atomically. Returns the paths written, classes in
/// id order, the grid last. Throws std::runtime_error naming the directory or file that could not
/// be written, std::invalid_argument as render_heatmap_grid.
std::vector<std::filesystem::path> write_heatmap_images(const heatmap_set& set,
                                                        std::span<const std::string> class_names,
                                                        const std::filesystem::path& dir,
                                                        const heatmap_image_options& options = {});

}  // namespace maskscan::detail
