#pragma once
// frame_row: what a scan found in one frame; frame_rows: the rows of a set of statistics, held in
// memory up to a bound and beyond it in sorted runs on disk, so that a scan of millions of frames
// needs memory for the bound, not for every row (docs/scale-out.md, "Millions of frames").
#include <compare>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace maskscan {

/// A pixel value and how many pixels of a frame hold it.
struct value_pixels {
  std::uint32_t value = 0;
  std::uint64_t pixels = 0;
  friend bool operator==(const value_pixels&, const value_pixels&) = default;
  friend auto operator<=>(const value_pixels&, const value_pixels&) = default;
};

/// One scanned frame. `path` is relative to the scanned root (generic form, '/' separators).
struct frame_row {
  std::string path;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint64_t> class_pixels;  ///< one entry per class id
  std::vector<value_pixels> ignored;        ///< ignore-listed values present, ascending by value
  std::vector<value_pixels> out_of_range;   ///< other values >= class count, ascending by value
  /// Colour masks: colours not in the colour table (value = rgba::packed()), ascending.
  std::vector<value_pixels> unknown_colours;
  /// With connected components: the number of components of each class (else empty).
  std::vector<std::uint32_t> instances;
  std::string group;  ///< with grouping: the frame's group (else empty)
  /// The file as it was read (fstat of the open file): `--resume` refuses to keep the counts of a
  /// frame whose file has changed since (frame_source::remaining).
  std::uint64_t file_size = 0;
  std::int64_t file_mtime_ns = 0;  ///< modification time, nanoseconds since the epoch
  friend bool operator==(const frame_row&, const frame_row&) = default;
  friend auto operator<=>(const frame_row&, const frame_row&) = default;
};

/// The bytes a row takes in memory: the struct and what its strings and vectors hold on the heap.
std::size_t row_bytes(const frame_row& row) noexcept;

/// Where rows go beyond a bound (scan_options::max_row_memory, spill_directory).
struct row_spill {
  /// The rows held in memory, in bytes (row_bytes); beyond it they are sorted and written to a
  /// temporary file. 0: every row stays in memory.
  std::uint64_t max_bytes = 0;
  /// The directory of those files; empty: the system's (TMPDIR, else /tmp). The files have no name
  /// (O_TMPFILE, else removed as soon as they are created): nothing is left behind by any exit.
  std::filesystem::path directory;
  friend bool operator==(const row_spill&, const row_spill&) = default;
};

class frame_row_reader;

/// Throws std::runtime_error naming the directory when `spill` has a bound and no file can be made
/// in its directory: a scan or a merge says so when it starts, not when the bound is first reached.
void check_spill_directory(const row_spill& spill);

/// The rows of dataset_stats. Without a bound (the default) this is a vector of rows, read and
/// changed in place, in the order they were added until sort(). With one (spill_beyond), rows past
/// the bound are sorted and moved to temporary files, and the rows are read (begin(), end()) in
/// sorted order, the files' and memory's merged: random access (operator[], front, back, resize,
/// in_memory) then throws std::logic_error, and two rows of one path found while reading throw
/// duplicate_frame (merge() cannot look for them before it adds rows that are on disk). Copies
/// share the files, which are removed with the last copy.
class frame_rows {
 public:
  class const_iterator;
  using value_type = frame_row;
  using size_type = std::size_t;
  using reference = const frame_row&;
  using const_reference = const frame_row&;
  using iterator = const_iterator;

  frame_rows() = default;
  frame_rows(std::initializer_list<frame_row> rows) : memory_(rows) { count(); }
  explicit frame_rows(std::vector<frame_row> rows) : memory_(std::move(rows)) { count(); }
  frame_rows(const frame_rows&) = default;
  frame_rows& operator=(const frame_rows&) = default;
  /// Leaves `other` empty, without a bound.
  frame_rows(frame_rows&& other) noexcept;
  frame_rows& operator=(frame_rows&& other) noexcept;

  /// Sets the bound, and moves rows beyond it to disk now. Throws std::runtime_error naming the
  /// directory when a file cannot be made or written there (check_spill_directory says it first).
  void spill_beyond(row_spill spill);
  const row_spill& spill() const noexcept { return spill_; }
  /// Some rows are on disk.
  bool spilled() const noexcept { return !runs_.empty(); }

  std::size_t size() const noexcept { return memory_.size() + on_disk_; }
  bool empty() const noexcept { return size() == 0; }
  /// Adds a row; beyond the bound, the rows in memory go to disk (throws as spill_beyond).
  void push_back(frame_row row);
  /// `n` more rows are coming: room for them (with a bound, for no more than it holds).
  void reserve(std::size_t n);
  void clear() noexcept;
  /// Into their canonical order (by path first): normalize() calls it.
  void sort();
  /// Rows added (their order kept when both are sorted and nothing is on disk).
  void append(const frame_rows& more);
  /// Calls f(row&) on every row: in place in memory, else into a new set of files.
  template <class F>
  void update(F f);

  const_iterator begin() const;
  const_iterator end() const;

  // Random access, for rows all in memory (throws std::logic_error for spilled rows).
  std::vector<frame_row>& in_memory();
  const std::vector<frame_row>& in_memory() const;
  frame_row& operator[](std::size_t i) { return in_memory()[i]; }
  const frame_row& operator[](std::size_t i) const { return in_memory()[i]; }
  frame_row& front() { return in_memory().front(); }
  const frame_row& front() const { return in_memory().front(); }
  frame_row& back() { return in_memory().back(); }
  const frame_row& back() const { return in_memory().back(); }
  void pop_back();
  void resize(std::size_t n);

  /// Every row, in the order begin() gives them.
  std::vector<frame_row> to_vector() const;

  friend bool operator==(const frame_rows& a, const frame_rows& b);

  struct run;

 private:
  void count();
  void recount() noexcept;
  void spill_memory();

  std::vector<frame_row> memory_;
  std::uint64_t bytes_ = 0;   ///< row_bytes of memory_'s rows (unless stale_bytes_)
  bool stale_bytes_ = false;  ///< in_memory() was given out: recount before using bytes_
  bool sorted_ = true;        ///< memory_ is in canonical order (sort() since the last change)
  std::vector<std::shared_ptr<const run>> runs_;
  std::size_t on_disk_ = 0;
  row_spill spill_;
};

/// Reads rows in order: memory's directly, spilled ones merged from their files.
class frame_rows::const_iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using iterator_concept = std::input_iterator_tag;
  using value_type = frame_row;
  using difference_type = std::ptrdiff_t;
  using pointer = const frame_row*;
  using reference = const frame_row&;

  const_iterator() = default;
  reference operator*() const;
  pointer operator->() const { return &**this; }
  const_iterator& operator++();
  void operator++(int) { ++*this; }
  friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept;

 private:
  friend class frame_rows;
  const frame_row* at_ = nullptr;             // rows in memory, not spilled
  std::shared_ptr<frame_row_reader> reader_;  // spilled
};

template <class F>
void frame_rows::update(F f) {
  if (!spilled() && !spill_.max_bytes) {
    for (auto& row : memory_) f(row);
    count();
    return;
  }
  if (!spilled()) {  // row by row through push_back: rows that grow go to disk beyond the bound
    auto rows = std::move(memory_);
    clear();
    for (auto& row : rows) {
      f(row);
      push_back(std::move(row));
    }
    return;
  }
  frame_rows out;
  out.spill_beyond(spill_);
  for (auto row : *this) {
    f(row);
    out.push_back(std::move(row));
  }
  *this = std::move(out);
}

}  // namespace maskscan
