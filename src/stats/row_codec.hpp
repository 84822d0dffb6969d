#pragma once
// The byte layout of state files (state_file.cpp) and of rows spilled to disk (frame_rows.cpp):
// one writer, one reader, one encoding of a row.
#include <cstdint>
#include <cstring>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <libdeflate.h>

#include <maskscan/stats.hpp>

namespace maskscan::detail {

/// Writes the layout of state_file.cpp to a stream (with the CRC-32 of what it wrote) or appends
/// it to a string (rows spilled to disk: no CRC).
class writer {
 public:
  explicit writer(std::ostream& out) : out_(&out) {}
  explicit writer(std::string& buffer) : buffer_(&buffer) {}
  void bytes(const void* data, std::size_t n) {
    if (buffer_) {
      buffer_->append(static_cast<const char*>(data), n);
      return;
    }
    crc_ = libdeflate_crc32(crc_, data, n);
    out_->write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  }
  template <class T>
  void put(T v) {
    bytes(&v, sizeof v);
  }
  void str(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void values(const std::vector<value_pixels>& vs) {
    put(static_cast<std::uint32_t>(vs.size()));
    for (const auto& v : vs) {
      put(v.value);
      put(v.pixels);
    }
  }
  // The fields of scan_meaning (for_each_field), in the layout above.
  void field(bool v) { put(static_cast<std::uint8_t>(v)); }
  void field(std::uint32_t v) { put(v); }
  void field(std::uint64_t v) { put(v); }
  void field(const std::string& s) { str(s); }
  void field(const grid_size& g) {
    put(g.width);
    put(g.height);
  }
  void field(const colour_entry& c) {
    put(c.colour.packed());
    put(c.value);
  }
  void field(const value_remap& r) {
    put(r.from);
    put(r.to);
  }
  template <class T>
  void field(const std::vector<T>& items) {
    put(static_cast<std::uint32_t>(items.size()));
    for (const auto& item : items) field(item);
  }
  void field(const std::map<std::uint32_t, std::string>& names) {
    put(static_cast<std::uint32_t>(names.size()));
    for (const auto& [value, name] : names) {
      put(value);
      str(name);
    }
  }
  void finish() {
    const std::uint32_t crc = crc_;
    out_->write(reinterpret_cast<const char*>(&crc), sizeof crc);
  }

 private:
  std::ostream* out_ = nullptr;
  std::string* buffer_ = nullptr;
  std::uint32_t crc_ = 0;
};

/// Reads what writer wrote, from data[0, end); `file` names the bytes in its errors (and outlives it).
class reader {
 public:
  reader(const char* data, std::size_t end, std::string_view file) : data_(data), end_(end), file_(file) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: not a valid maskscan state file ({} at byte {})", file_, what, pos_));
  }
  void need(std::uint64_t n) const {
    if (n > end_ - pos_) fail("truncated");
  }
  void bytes(void* out, std::size_t n) {
    need(n);
    std::memcpy(out, data_ + pos_, n);
    pos_ += n;
  }
  template <class T>
  T get() {
    T v;
    bytes(&v, sizeof v);
    return v;
  }
  /// A count of items that each take at least `min_size` bytes: bounded by what is left, so a
  /// corrupt count cannot make us allocate more than the file could describe.
  std::uint64_t count(std::uint64_t n, std::uint64_t min_size) const {
    if (min_size && n > (end_ - pos_) / min_size) fail("count larger than the file");
    return n;
  }
  std::string str() {
    const auto n = get<std::uint32_t>();
    need(n);
    std::string s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<value_pixels> values() {
    const auto n = count(get<std::uint32_t>(), 12);
    std::vector<value_pixels> vs(n);
    for (auto& v : vs) {
      v.value = get<std::uint32_t>();
      v.pixels = get<std::uint64_t>();
    }
    return vs;
  }
  // The fields of scan_meaning (for_each_field), as writer::field writes them.
  void field(bool& v) { v = get<std::uint8_t>() != 0; }
  void field(std::uint32_t& v) { v = get<std::uint32_t>(); }
  void field(std::uint64_t& v) { v = get<std::uint64_t>(); }
  void field(std::string& s) { s = str(); }
  void field(grid_size& g) {
    g.width = get<std::uint32_t>();
    g.height = get<std::uint32_t>();
    if (g != grid_size{} && (g.empty() || g.width > max_grid_side || g.height > max_grid_side))
      fail(fmt::format("a heatmap grid of {}x{}", g.width, g.height));
  }
  void field(colour_entry& c) {
    c.colour = rgba::unpack(get<std::uint32_t>());
    c.value = get<std::uint32_t>();
  }
  void field(value_remap& r) {
    r.from = get<std::uint32_t>();
    r.to = get<std::uint32_t>();
  }
  template <class T>
  void field(std::vector<T>& items) {
    // Each item takes at least 4 bytes (a string's length, a value).
    items.resize(
        count(get<std::uint32_t>(), std::is_same_v<T, colour_entry> || std::is_same_v<T, value_remap> ? 8 : 4));
    for (auto& item : items) field(item);
  }
  void field(std::map<std::uint32_t, std::string>& names) {
    const auto n = count(get<std::uint32_t>(), 8);
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto value = get<std::uint32_t>();
      if (!names.emplace(value, str()).second) fail("an ignore value named twice");
    }
  }
  bool done() const { return pos_ == end_; }

 private:
  const char* data_;
  std::size_t end_;
  std::size_t pos_ = 0;
  std::string_view file_;
};

/// A row as state files hold it: path, group, file size, mtime, width, height, the class counts
/// (as many as the statistics have classes: not stored), the three value lists, the instances.
inline void put_row(writer& w, const frame_row& row) {
  w.str(row.path);
  w.str(row.group);
  w.put(row.file_size);
  w.put(row.file_mtime_ns);
  w.put(row.width);
  w.put(row.height);
  for (auto p : row.class_pixels) w.put(p);
  w.values(row.ignored);
  w.values(row.out_of_range);
  w.values(row.unknown_colours);
  w.put(static_cast<std::uint32_t>(row.instances.size()));
  for (auto n : row.instances) w.put(n);
}

/// The bytes a row takes at least with `classes` class counts (r.count's bound).
constexpr std::uint64_t min_row_bytes(std::uint64_t classes) { return 48 + 8 * classes; }

/// What put_row wrote, with `classes` class counts.
inline void get_row(reader& r, frame_row& row, std::size_t classes) {
  row.path = r.str();
  row.group = r.str();
  row.file_size = r.get<std::uint64_t>();
  row.file_mtime_ns = r.get<std::int64_t>();
  row.width = r.get<std::uint32_t>();
  row.height = r.get<std::uint32_t>();
  row.class_pixels.resize(classes);
  for (auto& p : row.class_pixels) p = r.get<std::uint64_t>();
  row.ignored = r.values();
  row.out_of_range = r.values();
  row.unknown_colours = r.values();
  row.instances.resize(r.count(r.get<std::uint32_t>(), 4));
  for (auto& n : row.instances) n = r.get<std::uint32_t>();
}

}  // namespace maskscan::detail
