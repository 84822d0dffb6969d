#pragma once
// Exact connected-component labelling per class, fed with the same runs of equal ids, row by row, as
// the other frame accumulators (see frame_stats.hpp): pure code, no I/O, no threads.
//
// The runs of a row are collected (adjacent runs of one value joined) and labelled when the row is
// complete: each run takes the label of the first same-class run of the previous row that it touches
// (a new label if none) and is unioned with every other one it touches. The previous row is swept
// with a second pointer, so a row costs O(its runs + the previous row's runs) plus the union-find's
// near-constant finds (union by pixel count, path halving); a component's pixel count is kept at its
// root. A frame costs O(runs * alpha(runs)) time and O(runs) memory; the buffers are kept from
// frame to frame (cleared, not freed).
#include <cstddef>
#include <cstdint>
#include <vector>

#include <maskscan/stats.hpp>

namespace maskscan::detail {

class component_counter {
 public:
  /// classes: class count; ids >= classes and ignore-listed ids are not labelled. connectivity 4 or 8
  /// (std::invalid_argument otherwise). `from_values` (classes from values, `classes` ignored): every
  /// value that is not ignored is a class, and finish() sizes `instances` to the largest one present.
  /// Components of fewer than `min_pixels` pixels are specks: finish() counts them in `sizes` but
  /// not in `instances`.
  component_counter(std::size_t classes, const std::vector<std::uint32_t>& ignore, unsigned connectivity,
                    bool from_values = false, std::uint64_t min_pixels = 1);

  /// Starts a frame (and drops whatever a frame that was not finished left behind).
  void begin(std::uint32_t width, std::uint32_t height);

  /// Runs of one value [x0, x1) on row y; rows arrive in order 0..height-1 and each row's runs left to
  /// right covering the row (runs of not-labelled values may be passed; they are dropped). Adjacent
  /// runs of the same value on a row may occur (they touch, so they are connected).
  void add_run(std::uint32_t y, std::uint32_t x0, std::uint32_t x1, std::uint32_t value) {
    if (value >= classes_ || !labelled_[value] || x0 >= x1) return;
    if (y != row_) next_row(y);
    if (!cur_.empty() && cur_.back().x1 == x0 && cur_.back().value == value) {
      cur_.back().x1 = x1;  // touches the run before it: one run
      return;
    }
    cur_.push_back({x0, x1, value, 0});
  }

  /// Ends the frame: instances[c] = number of components of class c of at least min_pixels pixels
  /// (instances is resized to classes,
  /// from values: to the largest class present + 1), and each component's size is added to sizes[c]
  /// (sizes is resized to that many if smaller). The counter is then ready for the next frame.
  void finish(std::vector<std::uint32_t>& instances, std::vector<size_histogram>& sizes);

 private:
  struct run {
    std::uint32_t x0, x1;  // [x0, x1)
    std::uint32_t value;
    std::uint32_t label;  // once labelled: a label of the run's component (not necessarily its root)
  };
  struct node {
    std::uint32_t parent;
    std::uint32_t value;   // the class
    std::uint64_t pixels;  // at a root: the component's pixel count so far
  };
  static constexpr std::uint64_t no_row = ~std::uint64_t{0};

  void next_row(std::uint32_t y);  // labels the current row; y becomes the current row
  void label_row();                // labels the runs of cur_ against those of prev_
  std::uint32_t find(std::uint32_t label) noexcept;
  std::uint32_t unite(std::uint32_t root_a, std::uint32_t root_b) noexcept;  // two roots -> the new root
  void reset() noexcept;

  std::size_t classes_;
  bool from_values_;
  std::uint64_t min_pixels_;
  std::vector<std::uint8_t> labelled_;  // per class id: not ignore-listed
  std::uint32_t touch_;                 // 0 with 4-connectivity, 1 with 8 (diagonal neighbours touch)
  std::uint64_t row_ = no_row;          // the row of cur_
  std::vector<run> prev_;               // the labelled runs of the row above cur_'s (empty if none)
  std::vector<run> cur_;                // the current row's labelled runs, not labelled until it ends
  std::vector<node> nodes_;             // the union-find, one node per label (< 2^32: a frame has at most 2^28 pixels)
};

}  // namespace maskscan::detail
