#include "stats/components.hpp"

#include "stats/frame_stats.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace maskscan::detail {
namespace {
constexpr std::uint32_t no_label = ~std::uint32_t{0};
}  // namespace

component_counter::component_counter(std::size_t classes, const std::vector<std::uint32_t>& ignore,
                                     unsigned connectivity, bool from_values, std::uint64_t min_pixels)
    : classes_(from_values ? value_classes : classes),
      from_values_(from_values),
      min_pixels_(min_pixels),
      labelled_(classes_, 1),
      touch_(connectivity == 8 ? 1 : 0) {
  if (connectivity != 4 && connectivity != 8)
    throw std::invalid_argument("connectivity must be 4 or 8, not " + std::to_string(connectivity));
  for (const std::uint32_t id : ignore)
    if (id < classes_) labelled_[id] = 0;
}

void component_counter::reset() noexcept {
  row_ = no_row;
  prev_.clear();
  cur_.clear();
  nodes_.clear();
}

void component_counter::begin(std::uint32_t /*width*/, std::uint32_t /*height*/) { reset(); }

std::uint32_t component_counter::find(std::uint32_t label) noexcept {
  // Path halving: every other node on the way points to its grandparent afterwards.
  while (nodes_[label].parent != label) {
    node& n = nodes_[label];
    n.parent = nodes_[n.parent].parent;
    label = n.parent;
  }
  return label;
}

std::uint32_t component_counter::unite(std::uint32_t root_a, std::uint32_t root_b) noexcept {
  // Union by pixel count: a node's depth grows only when its tree's pixel count at least doubles, so
  // depths stay below log2(pixels of the frame).
  if (nodes_[root_a].pixels < nodes_[root_b].pixels) std::swap(root_a, root_b);
  nodes_[root_b].parent = root_a;
  nodes_[root_a].pixels += nodes_[root_b].pixels;
  return root_a;
}

void component_counter::next_row(std::uint32_t y) {
  label_row();
  // The labelled row becomes the previous one, unless rows without labelled runs come in between
  // (then nothing above touches row y).
  if (row_ != no_row && y == row_ + 1)
    prev_.swap(cur_);
  else
    prev_.clear();
  cur_.clear();
  row_ = y;
}

void component_counter::label_row() {
  const run* const prev = prev_.data();
  const std::size_t prev_runs = prev_.size();
  std::size_t first = 0;  // the first previous-row run that can still touch a run of this row
  for (run& r : cur_) {
    std::uint32_t label = no_label;
    // Previous-row run p touches r iff p.x1 + touch > r.x0 and p.x0 < r.x1 + touch, written without
    // overflow as p.x1 >= lo and p.x0 <= hi. prev_ is sorted and disjoint, so p.x1 grows along it and
    // a run that ends before lo cannot touch any later run of this row either: skip it for good.
    const std::uint32_t lo = r.x0 + 1 - touch_;
    const std::uint32_t hi = r.x1 - 1 + touch_;
    while (first < prev_runs && prev[first].x1 < lo) ++first;
    for (std::size_t k = first; k < prev_runs && prev[k].x0 <= hi; ++k) {
      if (prev[k].value != r.value) continue;
      const std::uint32_t root = find(prev[k].label);
      if (label == no_label)
        label = root;
      else if (root != label)
        label = unite(label, root);
    }
    const std::uint32_t pixels = r.x1 - r.x0;
    if (label == no_label) {
      label = static_cast<std::uint32_t>(nodes_.size());
      nodes_.push_back({label, r.value, pixels});
    } else {
      nodes_[label].pixels += pixels;
    }
    r.label = label;
  }
}

void component_counter::finish(std::vector<std::uint32_t>& instances, std::vector<size_histogram>& sizes) {
  label_row();
  std::size_t classes = classes_;
  if (from_values_) {
    classes = 0;
    for (const node& c : nodes_) classes = std::max<std::size_t>(classes, std::size_t{c.value} + 1);
  }
  instances.assign(classes, 0);
  if (sizes.size() < classes) sizes.resize(classes);
  const std::size_t n = nodes_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const node& c = nodes_[i];
    if (c.parent != i) continue;
    if (c.pixels >= min_pixels_) ++instances[c.value];
    ++sizes[c.value][c.pixels];
  }
  reset();
}

}  // namespace maskscan::detail
