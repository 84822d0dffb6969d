// The versioned binary form of dataset_stats (`--save-state`, `maskscan merge`).
//
// Layout, all integers little-endian:
//   "MSKSTATE" u32 version (4; version 3 files, written before shards, are read as whole)
//   scan_meaning, its fields in for_each_field's order (reader::field, writer::field):
//   u8 classes_from_values
//   u32 classes, classes x string            (string = u32 length + bytes)
//   u32 ignores, ignores x u32
//   u32 ignore names, names x {u32 value, string name}
//   u8 has_heatmaps, u32 heatmap grid width, u32 heatmap grid height   (0, 0: no grid)
//   u32 colours, colours x {u32 rgba, u32 value}
//   u32 remaps, remaps x {u32 from, u32 to}
//   u32 instance_divisor, u32 components, u64 min_component_pixels, string grouping, u8 partial
//   u32 shard count, u32 shards held, held x u32 (sorted)      (1, 1, 0: a whole source; not in version 3)
//   u64 frames, frames x {string path, string group, u64 file size, i64 file mtime (ns),
//                         u32 width, u32 height, classes x u64,
//                         values (ignored), values (out of range), values (unknown colours),
//                         u32 n, n x u32 (instances)}     (values = u32 n, n x {u32 value, u64 pixels})
//   u64 errors, errors x {string path, string group, u32 code, string message}
//   u32 heatmap sets, sets x {string group, u32 width, u32 height, u64 frames, classes*height*width x u32}
//   u32 grid sets, sets x {string group, u64 frames, classes*grid height*grid width x u32}
//   u32 component groups, groups x {string group, u32 classes, classes x {u64 n, n x {u64 size, u64 count}}}
//   u32 CRC-32 of everything before it
#include <maskscan/stats.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>
#include <libdeflate.h>

#include "core/atomic_file.hpp"
#include "stats/row_codec.hpp"

static_assert(std::endian::native == std::endian::little, "state files assume a little-endian host");

namespace maskscan {
namespace {

constexpr char magic[8] = {'M', 'S', 'K', 'S', 'T', 'A', 'T', 'E'};

using detail::reader;
using detail::writer;

}  // namespace

namespace {
void write_state(const dataset_stats& stats, std::ostream& out) {
  writer w(out);
  w.bytes(magic, sizeof magic);
  w.put(state_format_version);
  for_each_field(static_cast<const scan_meaning&>(stats), [&](const char*, const auto& field) { w.field(field); });
  w.put(static_cast<std::uint8_t>(stats.partial));
  w.put(stats.shards.count);
  w.put(static_cast<std::uint32_t>(stats.shards.held.size()));
  for (auto index : stats.shards.held) w.put(index);
  w.put(static_cast<std::uint64_t>(stats.frames.size()));
  for (const auto& row : stats.frames) {
    if (row.class_pixels.size() != stats.class_names.size())
      throw std::logic_error("frame row with a different class count");
    detail::put_row(w, row);
  }
  w.put(static_cast<std::uint64_t>(stats.errors.size()));
  for (const auto& e : stats.errors) {
    w.str(e.path);
    w.str(e.group);
    w.put(static_cast<std::uint32_t>(e.code));
    w.str(e.message);
  }
  w.put(static_cast<std::uint32_t>(stats.heatmaps.size()));
  for (const auto& [key, heat] : stats.heatmaps) {
    w.str(key.group);
    w.put(heat.width);
    w.put(heat.height);
    w.put(heat.frames);
    w.bytes(heat.counts.data(), heat.counts.size() * sizeof(std::uint32_t));
  }
  w.put(static_cast<std::uint32_t>(stats.grid_heatmaps.size()));
  for (const auto& [group, heat] : stats.grid_heatmaps) {
    if (heat.width != stats.heatmap_grid.width || heat.height != stats.heatmap_grid.height ||
        heat.counts.size() != stats.class_names.size() * heat.width * heat.height)
      throw std::logic_error("grid heatmaps of another size or class count than the statistics'");
    w.str(group);
    w.put(heat.frames);
    w.bytes(heat.counts.data(), heat.counts.size() * sizeof(std::uint32_t));
  }
  w.put(static_cast<std::uint32_t>(stats.component_sizes.size()));
  for (const auto& [group, sizes] : stats.component_sizes) {
    w.str(group);
    w.put(static_cast<std::uint32_t>(sizes.size()));
    for (const auto& hist : sizes) {
      w.put(static_cast<std::uint64_t>(hist.size()));
      for (const auto& [size, count] : hist) {
        w.put(size);
        w.put(count);
      }
    }
  }
  w.finish();
}

dataset_stats read_state(const std::vector<char>& data, const std::string& name) {
  if (data.size() < sizeof magic + 8 || std::memcmp(data.data(), magic, sizeof magic) != 0)
    throw std::runtime_error(fmt::format("{}: not a maskscan state file (no MSKSTATE header)", name));
  const std::size_t body = data.size() - 4;
  std::uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + body, 4);
  if (libdeflate_crc32(0, data.data(), body) != stored_crc)
    throw std::runtime_error(fmt::format("{}: the state file is corrupt (CRC mismatch)", name));

  reader r(data.data(), body, name);
  char header[sizeof magic];
  r.bytes(header, sizeof header);
  const auto version = r.get<std::uint32_t>();
  if (version != state_format_version && version != 3)
    throw std::runtime_error(fmt::format("{}: state format version {} is not supported (this build reads 3 and {})",
                                         name, version, state_format_version));
  dataset_stats stats;
  for_each_field(static_cast<scan_meaning&>(stats), [&](const char*, auto& field) { r.field(field); });
  const auto classes = stats.class_names.size();
  stats.partial = r.get<std::uint8_t>() != 0;
  if (version >= 4) {
    stats.shards.count = r.get<std::uint32_t>();
    stats.shards.held.resize(r.count(r.get<std::uint32_t>(), 4));
    for (auto& index : stats.shards.held) index = r.get<std::uint32_t>();
    const auto& held = stats.shards.held;
    if (stats.shards.count < 1 || stats.shards.count > max_shard_count || held.empty() ||
        held.size() > stats.shards.count || !std::ranges::is_sorted(held) ||
        std::ranges::adjacent_find(held) != held.end() || held.back() >= stats.shards.count ||
        (stats.shards.count == 1) != (held.size() == stats.shards.count))
      r.fail("an impossible set of shards");
  }
  {
    std::vector<frame_row> rows(r.count(r.get<std::uint64_t>(), detail::min_row_bytes(classes)));
    for (auto& row : rows) detail::get_row(r, row, classes);
    stats.frames = frame_rows(std::move(rows));
  }
  stats.errors.resize(r.count(r.get<std::uint64_t>(), 16));
  for (auto& e : stats.errors) {
    e.path = r.str();
    e.group = r.str();
    e.code = static_cast<errc>(r.get<std::uint32_t>());
    e.message = r.str();
  }
  const auto sets = r.count(r.get<std::uint32_t>(), 20);
  for (std::uint64_t i = 0; i < sets; ++i) {
    std::string group = r.str();
    heatmap_set heat;
    heat.width = r.get<std::uint32_t>();
    heat.height = r.get<std::uint32_t>();
    heat.frames = r.get<std::uint64_t>();
    std::uint64_t cells = std::uint64_t{heat.width} * heat.height;  // < 2^64: both are 32-bit
    if (classes && cells > UINT64_MAX / classes) r.fail("heatmap size overflows");
    cells *= classes;
    heat.counts.resize(r.count(cells, 4));
    r.bytes(heat.counts.data(), heat.counts.size() * sizeof(std::uint32_t));
    heatmap_key key{std::move(group), heat.width, heat.height};
    if (!stats.heatmaps.emplace(std::move(key), std::move(heat)).second)
      r.fail("two heatmap sets of one group and resolution");
  }
  const auto grid_sets = r.count(r.get<std::uint32_t>(), 12);
  if (grid_sets && stats.heatmap_grid.empty()) r.fail("grid heatmaps without a heatmap grid");
  for (std::uint64_t i = 0; i < grid_sets; ++i) {
    std::string group = r.str();
    heatmap_set heat;
    heat.width = stats.heatmap_grid.width;
    heat.height = stats.heatmap_grid.height;
    heat.frames = r.get<std::uint64_t>();
    // At most 4096 x 4096 x 65536 (classes are counted by a u32, but bounded by the file): no overflow.
    heat.counts.resize(r.count(std::uint64_t{heat.width} * heat.height * classes, 4));
    r.bytes(heat.counts.data(), heat.counts.size() * sizeof(std::uint32_t));
    if (!stats.grid_heatmaps.emplace(std::move(group), std::move(heat)).second)
      r.fail("two grid heatmap sets of one group");
  }
  const auto component_groups = r.count(r.get<std::uint32_t>(), 8);
  for (std::uint64_t i = 0; i < component_groups; ++i) {
    std::string group = r.str();
    std::vector<size_histogram> sizes(r.count(r.get<std::uint32_t>(), 8));
    for (auto& hist : sizes) {
      const auto n = r.count(r.get<std::uint64_t>(), 16);
      for (std::uint64_t k = 0; k < n; ++k) {
        const auto size = r.get<std::uint64_t>();
        hist[size] = r.get<std::uint64_t>();
      }
    }
    if (!stats.component_sizes.emplace(std::move(group), std::move(sizes)).second)
      r.fail("two component entries of one group");
  }
  if (!r.done()) r.fail("trailing bytes");
  normalize(stats);
  return stats;
}
}  // namespace

void save_state(const dataset_stats& stats, const std::filesystem::path& file) {
  detail::write_file_atomically(
      file, [&](std::ostream& out) { write_state(stats, out); }, detail::durability::synced);
}

dataset_stats load_state(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the state file", file.string()));
  const std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return read_state(data, file.string());
}

std::vector<char> state_bytes(const dataset_stats& stats) {
  std::ostringstream out(std::ios::binary);
  write_state(stats, out);
  const auto text = std::move(out).str();
  return {text.begin(), text.end()};
}

dataset_stats stats_from_state_bytes(const std::vector<char>& bytes, const std::string& name) {
  return read_state(bytes, name);
}

}  // namespace maskscan
