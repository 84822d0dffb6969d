// save_state / load_state: round trips, the documented byte layout (checked with an encoder written
// here from the layout comment in src/stats/state_file.cpp and zlib's CRC-32), and malformed files.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

#include "support/grid_reference.hpp"
#include "support/plane_stats.hpp"
#include "support/test_data.hpp"

#include "decode/png_decoder.hpp"
#include "stats/frame_stats.hpp"

namespace {

namespace fs = std::filesystem;
using namespace maskscan;

using maskscan::test::temp_dir;

using maskscan::test::read_file;

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  REQUIRE(out);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

std::uint32_t zlib_crc(const std::string& bytes, std::size_t n) {
  return static_cast<std::uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n)));
}

/// The documented layout, little-endian, written byte by byte.
struct encoder {
  std::string b;
  void u8(std::uint8_t v) { b += static_cast<char>(v); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    b += s;
  }
  /// Appends the CRC-32 of everything so far.
  std::string finish() {
    u32(zlib_crc(b, b.size()));
    return b;
  }
};

/// Everything up to (not including) the heatmap section.
encoder encode_head(const dataset_stats& s, std::uint32_t version = 4) {
  encoder e;
  e.b = "MSKSTATE";
  e.u32(version);
  e.u8(s.classes_from_values ? 1 : 0);
  e.u32(static_cast<std::uint32_t>(s.class_names.size()));
  for (const auto& n : s.class_names) e.str(n);
  e.u32(static_cast<std::uint32_t>(s.ignore.size()));
  for (auto v : s.ignore) e.u32(v);
  e.u32(static_cast<std::uint32_t>(s.ignore_names.size()));
  for (const auto& [value, name] : s.ignore_names) {
    e.u32(value);
    e.str(name);
  }
  e.u8(s.has_heatmaps ? 1 : 0);
  e.u32(s.heatmap_grid.width);
  e.u32(s.heatmap_grid.height);
  e.u32(static_cast<std::uint32_t>(s.colours.size()));
  for (const auto& c : s.colours) {
    e.u32(std::uint32_t{c.colour.r} << 24 | std::uint32_t{c.colour.g} << 16 | std::uint32_t{c.colour.b} << 8 |
          c.colour.a);
    e.u32(c.value);
  }
  e.u32(static_cast<std::uint32_t>(s.remap.size()));
  for (const auto& r : s.remap) {
    e.u32(r.from);
    e.u32(r.to);
  }
  e.u32(s.instance_divisor);
  e.u32(s.components);
  e.u64(s.min_component_pixels);
  e.str(s.grouping);
  e.u8(s.partial ? 1 : 0);
  if (version >= 4) {  // the shards held (version 3 has none: a whole scan)
    e.u32(s.shards.count);
    e.u32(static_cast<std::uint32_t>(s.shards.held.size()));
    for (const auto index : s.shards.held) e.u32(index);
  }
  e.u64(s.frames.size());
  for (const auto& row : s.frames) {
    e.str(row.path);
    e.str(row.group);
    e.u64(row.file_size);
    e.u64(static_cast<std::uint64_t>(row.file_mtime_ns));
    e.u32(row.width);
    e.u32(row.height);
    for (auto p : row.class_pixels) e.u64(p);
    e.u32(static_cast<std::uint32_t>(row.ignored.size()));
    for (const auto& v : row.ignored) {
      e.u32(v.value);
      e.u64(v.pixels);
    }
    e.u32(static_cast<std::uint32_t>(row.out_of_range.size()));
    for (const auto& v : row.out_of_range) {
      e.u32(v.value);
      e.u64(v.pixels);
    }
    e.u32(static_cast<std::uint32_t>(row.unknown_colours.size()));
    for (const auto& v : row.unknown_colours) {
      e.u32(v.value);
      e.u64(v.pixels);
    }
    e.u32(static_cast<std::uint32_t>(row.instances.size()));
    for (auto n : row.instances) e.u32(n);
  }
  e.u64(s.errors.size());
  for (const auto& err : s.errors) {
    e.str(err.path);
    e.str(err.group);
    e.u32(static_cast<std::uint32_t>(err.code));
    e.str(err.message);
  }
  return e;
}

void encode_sets(encoder& e, const std::vector<std::pair<std::string, heatmap_set>>& sets) {
  e.u32(static_cast<std::uint32_t>(sets.size()));
  for (const auto& [group, h] : sets) {
    e.str(group);
    e.u32(h.width);
    e.u32(h.height);
    e.u64(h.frames);
    for (auto c : h.counts) e.u32(c);
  }
}

/// The grid sets of `s` (their size is the header's heatmap grid).
void encode_grid_sets(encoder& e, const std::vector<std::pair<std::string, heatmap_set>>& sets) {
  e.u32(static_cast<std::uint32_t>(sets.size()));
  for (const auto& [group, h] : sets) {
    e.str(group);
    e.u64(h.frames);
    for (auto c : h.counts) e.u32(c);
  }
}

void encode_components(encoder& e, const dataset_stats& s) {
  e.u32(static_cast<std::uint32_t>(s.component_sizes.size()));
  for (const auto& [group, sizes] : s.component_sizes) {
    e.str(group);
    e.u32(static_cast<std::uint32_t>(sizes.size()));
    for (const auto& hist : sizes) {
      e.u64(hist.size());
      for (const auto& [size, count] : hist) {
        e.u64(size);
        e.u64(count);
      }
    }
  }
}

std::string encode(const dataset_stats& s, std::uint32_t version = 4) {
  auto e = encode_head(s, version);
  std::vector<std::pair<std::string, heatmap_set>> sets;
  for (const auto& [key, h] : s.heatmaps) sets.emplace_back(key.group, h);
  encode_sets(e, sets);
  encode_grid_sets(e, {s.grid_heatmaps.begin(), s.grid_heatmaps.end()});
  encode_components(e, s);
  return e.finish();
}

/// Replaces the trailing CRC of `bytes` (whose last 4 bytes are a CRC slot) with the right one.
std::string with_fixed_crc(std::string bytes) {
  const std::uint32_t crc = zlib_crc(bytes, bytes.size() - 4);
  for (int i = 0; i < 4; ++i)
    bytes[bytes.size() - 4 + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return bytes;
}

/// The outcome of load_state: the message of a std::runtime_error, or why it was something else.
struct load_outcome {
  bool runtime_error = false;
  std::string message;  // the runtime_error's message, or a description of the other outcome
};

load_outcome try_load(const fs::path& file) {
  try {
    (void)load_state(file);
    return {false, "loaded without an error"};
  } catch (const std::runtime_error& e) {
    return {true, e.what()};
  } catch (const std::exception& e) {
    return {false, std::string("threw a non-runtime_error: ") + e.what()};
  }
}

/// Loads `file`, requiring a std::runtime_error whose message names the file; returns the message.
std::string check_refused(const fs::path& file) {
  const auto outcome = try_load(file);
  INFO(outcome.message);
  REQUIRE(outcome.runtime_error);
  CHECK_THAT(outcome.message, Catch::Matchers::Contains(file.string()));
  return outcome.message;
}

/// A value with rows, ignored and out-of-range values, errors, heatmaps of two resolutions and grid
/// heatmaps of two groups, the rows and heatmaps counted from random planes.
dataset_stats sample_stats(std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto s = make_stats({"void", "road", "lane marking", "curb", "person", "rider"}, {255, 250}, true);
  s.heatmap_grid = {3, 2};
  maskscan::test::reused_counter histogram;
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> sizes{{8, 6}, {8, 6}, {5, 9}, {8, 6}, {5, 9}};
  for (std::size_t f = 0; f < sizes.size(); ++f) {
    maskscan::detail::label_plane plane;
    plane.width = sizes[f].first;
    plane.height = sizes[f].second;
    plane.depth = 8;
    for (std::size_t p = 0; p < plane.pixels(); ++p) {
      const auto r = rng() % 20;
      plane.u8.push_back(static_cast<std::uint8_t>(r < 14 ? r % 6 : r < 16 ? 255 : r < 17 ? 250 : 6 + r % 3));
    }
    s.frames.push_back(
        maskscan::test::count_frame(plane, "seq" + std::to_string(f % 2) + "/frame_" + std::to_string(f) + ".png",
                                    s.class_names.size(), s.ignore, histogram));
    maskscan::test::add_to_heatmaps(plane, s.class_names.size(), s.ignore, s.heatmaps);
    auto& grid = s.grid_heatmaps["seq" + std::to_string(f % 2)];
    grid.width = 3;
    grid.height = 2;
    ++grid.frames;
    maskscan::test::add_to_grid_reference(grid.counts, 3, 2, s.class_names.size(), s.ignore,
                                          {plane.u8.begin(), plane.u8.end()}, plane.width, plane.height);
    s.frames.back().file_size = 1000 * f + 7;  // the file's stamp: kept for --resume
    s.frames.back().file_mtime_ns = f == 2 ? -5 : static_cast<std::int64_t>(1'700'000'000'123'456'789 + f);
  }
  s.errors.push_back({"seq1/broken.png", errc::corrupt_png, "IDAT: bad CRC (stored 0x1234, computed 0x5678)"});
  s.errors.push_back({"seq0/a, b\n\"c\".png", errc::not_png, "no PNG signature"});
  s.errors.push_back({"seq0/huge.png", errc::image_too_large, "70000x70000 pixels \xc3\xa9"});
  normalize(s);
  return s;
}

}  // namespace

TEST_CASE("save_state then load_state gives back the same statistics", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "state.bin";
  const auto original = sample_stats(GENERATE(1u, 2u));

  REQUIRE(original.heatmaps.size() == 2);  // the sample really has what the test is about
  REQUIRE(original.grid_heatmaps.size() == 2);
  REQUIRE(!original.errors.empty());
  bool any_out_of_range = false;
  for (const auto& row : original.frames) any_out_of_range = any_out_of_range || !row.out_of_range.empty();
  REQUIRE(any_out_of_range);

  save_state(original, file);
  const auto loaded = load_state(file);
  CHECK(loaded == original);
  CHECK(loaded.heatmaps.size() == 2);
  CHECK(loaded.heatmaps.at(heatmap_key{"", 8, 6}).frames == 3);
  CHECK(loaded.heatmaps.at(heatmap_key{"", 5, 9}).frames == 2);
  CHECK(loaded.heatmap_grid == maskscan::grid_size{3, 2});
  CHECK(loaded.grid_heatmaps.at("seq0").frames == 3);
  CHECK(loaded.grid_heatmaps.at("seq1").frames == 2);
}

TEST_CASE("save_state writes the documented little-endian layout ending in a CRC-32", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "state.bin";
  const auto stats = sample_stats(3);
  save_state(stats, file);
  const auto bytes = read_file(file);

  REQUIRE(bytes.size() > 16);
  CHECK(bytes.substr(0, 8) == "MSKSTATE");
  CHECK(bytes.substr(8, 4) == std::string("\x04\x00\x00\x00", 4));
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= std::uint32_t{static_cast<unsigned char>(bytes[bytes.size() - 4 + static_cast<std::size_t>(i)])}
              << (8 * i);
  CHECK(stored == zlib_crc(bytes, bytes.size() - 4));
  CHECK(bytes == encode(stats));
}

TEST_CASE("load_state reads a file written from the documented layout", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "hand.bin";
  auto want = make_stats({"a", "b"}, {9}, true);
  want.frames.push_back({"x.png", 2, 1, {1, 0}, {{9, 1}}, {}});
  want.frames.push_back({"y.png", 1, 2, {0, 1}, {}, {{300, 1}}});
  want.errors.push_back({"z.png", errc::io_error, "EIO"});
  want.heatmaps[heatmap_key{"", 2, 1}] = heatmap_set{2, 1, 1, {1, 0, 0, 0}};
  want.heatmaps[heatmap_key{"", 1, 2}] = heatmap_set{1, 2, 1, {0, 0, 0, 1}};
  write_bytes(file, encode(want));
  CHECK(load_state(file) == want);
}

TEST_CASE("a shard's state round-trips, and a version 3 file (before shards) reads as a whole scan", "[stats][shard]") {
  temp_dir dir;
  const auto file = dir.path() / "shard.bin";
  auto stats = sample_stats(3);
  stats.shards = shard_set{64, {5, 17, 63}};
  save_state(stats, file);
  CHECK(read_file(file) == encode(stats));
  CHECK(load_state(file) == stats);

  auto old = sample_stats(3);
  write_bytes(file, encode(old, 3));
  const auto loaded = load_state(file);
  CHECK(loaded.shards.whole());
  CHECK(loaded == old);
}

TEST_CASE("state files of empty and unusual statistics round-trip", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "edge.bin";
  struct edge {
    const char* what;
    dataset_stats stats;
  };
  std::vector<edge> edges;
  edges.push_back({"no classes, nothing", make_stats({}, {}, false)});
  edges.push_back({"heatmaps on but none yet", make_stats({"a"}, {0, 1}, true)});
  {
    auto s = make_stats({"a", "b"}, {}, false);
    s.heatmap_grid = {4096, 1};  // the largest side, and a grid without any frame yet
    edges.push_back({"a heatmap grid but no grid set", s});
    s.heatmap_grid = {1, 1};
    s.frames.push_back({"a.png", 7, 3, {20, 1}, {}, {}});
    s.grid_heatmaps[""] = heatmap_set{1, 1, 1, {1, 0}};
    edges.push_back({"a 1x1 grid", s});
  }
  {
    auto s = make_stats({"", std::string("nul\0inside", 10), "\xff\xfe"}, {}, false);
    s.frames.push_back({"", 0, 0, {0, 0, 0}, {}, {}});
    s.frames.push_back({"big.png", 65535, 65535, {std::uint64_t{1} << 40, 0, 0xffffffffffffffffULL}, {}, {}});
    s.errors.push_back({"e", errc::cancelled, ""});
    edges.push_back({"empty and binary strings, large numbers", s});
  }
  {
    auto s = make_stats({"class_0", "class_1"}, {255}, false);
    s.classes_from_values = true;  // no class map: the classes are the values found
    s.partial = true;              // an interrupted scan's
    s.ignore_names = {{255, "void"}};
    s.frames.push_back({"a.png", 1, 1, {0, 1}, {}, {}});
    edges.push_back({"classes from values, partial", s});
  }
  const auto i = GENERATE_COPY(range(std::size_t{0}, edges.size()));
  CAPTURE(edges[i].what);
  save_state(edges[i].stats, file);
  CHECK(load_state(file) == edges[i].stats);
  CHECK(read_file(file) == encode(edges[i].stats));
}

TEST_CASE("save_state replaces an existing file and leaves no temporary file", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "state.bin";
  write_bytes(file, "old contents");
  const auto stats = sample_stats(4);
  save_state(stats, file);
  save_state(stats, file);
  CHECK(load_state(file) == stats);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"state.bin"});
}

TEST_CASE("save_state into a missing directory throws std::runtime_error naming the file", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "no" / "such" / "dir" / "state.bin";
  try {
    save_state(make_stats({"a"}, {}, false), file);
    FAIL("save_state did not throw");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains(file.string()));
  }
}

TEST_CASE("load_state throws std::runtime_error naming the file for a damaged state file", "[stats]") {
  temp_dir dir;
  const auto good = encode(sample_stats(5));
  const auto file = dir.path() / "damaged-state.bin";

  struct damage {
    std::string what;
    std::string bytes;
    std::string cause;  // a word the message should contain besides the file name ("" = any)
  };
  std::vector<damage> cases;
  cases.push_back({"empty file", "", ""});
  cases.push_back({"truncated to the magic", good.substr(0, 8), ""});
  cases.push_back({"truncated by one byte", good.substr(0, good.size() - 1), ""});
  cases.push_back({"truncated to half", good.substr(0, good.size() / 2), ""});
  {
    auto b = good;
    b[good.size() / 2] = static_cast<char>(b[good.size() / 2] ^ 0x10);
    cases.push_back({"one flipped byte in the middle", b, "CRC"});
  }
  {
    auto b = good;
    b[b.size() - 1] = static_cast<char>(b[b.size() - 1] ^ 0x01);
    cases.push_back({"one flipped bit in the CRC", b, "CRC"});
  }
  {
    auto b = good;
    b.replace(0, 8, "MSKSTATF");
    cases.push_back({"wrong magic", with_fixed_crc(b), ""});
  }
  cases.push_back({"PNG signature instead of the magic", with_fixed_crc("\x89PNG\r\n\x1a\n" + good.substr(8)), ""});
  cases.push_back({"former version 1", encode(sample_stats(5), 1), "version"});
  cases.push_back({"former version 2", encode(sample_stats(5), 2), "version"});
  cases.push_back({"future version 5", encode(sample_stats(5), 5), "version"});
  cases.push_back({"future version 0xffffffff", encode(sample_stats(5), 0xffffffffU), "version"});
  cases.push_back({"version 0", encode(sample_stats(5), 0), "version"});
  for (const auto& [what, shards] : std::vector<std::pair<const char*, shard_set>>{
           {"shard count 0", shard_set{0, {0}}},
           {"no shard held", shard_set{8, {}}},
           {"a shard beyond the count", shard_set{8, {8}}},
           {"shards out of order", shard_set{8, {3, 1}}},
           {"a shard held twice", shard_set{8, {1, 1}}},
           {"every shard held, not as a whole", shard_set{2, {0, 1}}},
           {"a whole source holding shard 1", shard_set{1, {1}}},
           {"a shard count over the limit", shard_set{max_shard_count + 1, {0}}}}) {
    auto stats = sample_stats(5);
    stats.shards = shards;
    cases.push_back({what, encode(stats), "an impossible set of shards"});
  }
  cases.push_back(
      {"body truncated, CRC valid", with_fixed_crc(good.substr(0, good.size() - 4 - 10) + std::string(4, '\0')), ""});
  cases.push_back({"trailing bytes, CRC valid",
                   with_fixed_crc(good.substr(0, good.size() - 4) + std::string("junk") + std::string(4, '\0')), ""});

  const auto i = GENERATE_COPY(range(std::size_t{0}, cases.size()));
  CAPTURE(cases[i].what);
  write_bytes(file, cases[i].bytes);
  const auto message = check_refused(file);
  if (!cases[i].cause.empty()) CHECK_THAT(message, Catch::Matchers::Contains(cases[i].cause));
}

TEST_CASE("load_state of a missing file throws std::runtime_error naming the file", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "missing-state.bin";
  check_refused(file);
}

TEST_CASE("load_state rejects every truncation and every single-byte change of a state file", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "every.bin";
  auto small = make_stats({"a", "b"}, {200}, true);
  small.frames.push_back({"f.png", 2, 1, {1, 0}, {{200, 1}}, {}});
  small.frames.push_back({"g.png", 1, 1, {0, 0}, {}, {{7, 1}}});
  small.errors.push_back({"h.png", errc::not_png, "x"});
  small.heatmaps[heatmap_key{"", 2, 1}] = heatmap_set{2, 1, 1, {1, 0, 0, 0}};
  small.heatmaps[heatmap_key{"", 1, 1}] = heatmap_set{1, 1, 1, {0, 0}};
  small.heatmap_grid = {2, 1};
  small.grid_heatmaps[""] = heatmap_set{2, 1, 2, {1, 0, 0, 0}};
  const auto good = encode(small);
  write_bytes(file, good);
  REQUIRE(load_state(file) == small);

  std::vector<std::string> failures;
  auto expect_rejected = [&](const std::string& what, const std::string& bytes) {
    write_bytes(file, bytes);
    const auto outcome = try_load(file);
    if (!outcome.runtime_error)
      failures.push_back(what + ": " + outcome.message);
    else if (outcome.message.find(file.string()) == std::string::npos)
      failures.push_back(what + ": message without the file name: " + outcome.message);
  };
  for (std::size_t n = 0; n < good.size(); ++n) expect_rejected("truncated to " + std::to_string(n), good.substr(0, n));
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto b = good;
    b[n] = static_cast<char>(b[n] ^ 0x5a);
    expect_rejected("byte " + std::to_string(n) + " changed", b);
  }
  // Truncations of the body with a valid CRC get past the CRC check: the parser must catch them.
  for (std::size_t n = 0; n + 4 < good.size(); ++n)
    expect_rejected("body truncated to " + std::to_string(n) + " with a valid CRC",
                    with_fixed_crc(good.substr(0, n) + std::string(4, '\0')));
  CAPTURE(good.size());
  CHECK(failures.empty());
  for (std::size_t k = 0; k < failures.size() && k < 10; ++k) FAIL_CHECK(failures[k]);
}

TEST_CASE("load_state bounds counts in a state file with a valid CRC by the file's size", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "counts.bin";
  auto s = make_stats({"a", "b"}, {}, true);
  s.heatmap_grid = {3, 2};
  s.frames.push_back({"f.png", 1, 1, {1, 0}, {}, {}});
  const auto good = encode(s);
  // Offsets from the layout: magic 8, version 4, classes_from_values 1, class count at 13.
  const std::size_t class_count = 13;
  const std::size_t first_name_length = 17;
  const std::size_t ignore_count = 17 + 5 + 5;              // after "a" and "b"
  const std::size_t grid_width = ignore_count + 4 + 4 + 1;  // after the ignore values, their names, has_heatmaps
  // The frame count ends the head of a value without frames and errors but for the errors' u64:
  // found from the encoder, so that a field added before it cannot make this patch miss it.
  auto no_frames = s;
  no_frames.frames.clear();
  const std::size_t frame_count = encode_head(no_frames).b.size() - 16;
  // Each offset holds what it is said to hold.
  const auto u64_at = [&](std::size_t at, std::size_t width) {
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < width; ++k) v |= std::uint64_t{static_cast<unsigned char>(good[at + k])} << (8 * k);
    return v;
  };
  REQUIRE(u64_at(class_count, 4) == 2);
  REQUIRE(u64_at(first_name_length, 4) == 1);
  REQUIRE(u64_at(ignore_count, 4) == 0);
  REQUIRE(u64_at(grid_width, 4) == 3);
  REQUIRE(u64_at(grid_width + 4, 4) == 2);
  REQUIRE(u64_at(frame_count, 8) == 1);
  struct patch {
    const char* what;
    std::size_t offset;
    std::size_t width;
  };
  const auto p = GENERATE_COPY(values<patch>({{"class count", class_count, 4},
                                              {"class name length", first_name_length, 4},
                                              {"ignore count", ignore_count, 4},
                                              {"frame count", frame_count, 8},
                                              {"heatmap grid width", grid_width, 4},
                                              {"heatmap grid height", grid_width + 4, 4}}));
  CAPTURE(p.what);
  auto bytes = good;
  for (std::size_t k = 0; k < p.width; ++k) bytes[p.offset + k] = '\xff';
  write_bytes(file, with_fixed_crc(bytes));
  check_refused(file);
}

TEST_CASE("load_state rejects a heatmap set whose cell count overflows 64 bits", "[stats]") {
  // Regression: `cells = width * height * classes` used to wrap around. With 4 classes and a
  // 2^31 x 2^31 set it is 2^64 == 0, so the set was read with no cells at all and the file loaded
  // with heat.counts.size() != classes * width * height.
  temp_dir dir;
  const auto file = dir.path() / "overflow.bin";
  const auto s = make_stats({"a", "b", "c", "d"}, {}, true);
  auto e = encode_head(s);
  encode_sets(e, {{"", heatmap_set{0x80000000U, 0x80000000U, 1, {}}}});
  encode_grid_sets(e, {});
  encode_components(e, s);
  write_bytes(file, e.finish());
  check_refused(file);
}

TEST_CASE("load_state rejects a state file with two heatmap sets of one resolution", "[stats]") {
  // Regression: the second set of a resolution already read used to be dropped silently
  // (emplace does not insert over an existing key), losing its counts instead of rejecting the file.
  temp_dir dir;
  const auto file = dir.path() / "duplicate.bin";
  const auto s = make_stats({"a"}, {}, true);
  auto e = encode_head(s);
  encode_sets(e, {{"", heatmap_set{1, 1, 1, {1}}}, {"", heatmap_set{1, 1, 2, {2}}}});
  encode_grid_sets(e, {});
  encode_components(e, s);
  write_bytes(file, e.finish());
  check_refused(file);
}

TEST_CASE("load_state rejects grid heatmaps without a heatmap grid and two grid sets of one group", "[stats]") {
  temp_dir dir;
  const auto file = dir.path() / "grid.bin";
  auto s = make_stats({"a"}, {}, false);
  s.heatmap_grid = GENERATE(maskscan::grid_size{}, maskscan::grid_size{1, 1});
  CAPTURE(s.heatmap_grid.width);
  auto e = encode_head(s);
  encode_sets(e, {});
  if (s.heatmap_grid.empty())
    encode_grid_sets(e, {{"", heatmap_set{0, 0, 1, {}}}});  // a set but no grid
  else
    encode_grid_sets(e, {{"g", heatmap_set{1, 1, 1, {1}}}, {"g", heatmap_set{1, 1, 1, {0}}}});
  encode_components(e, s);
  write_bytes(file, e.finish());
  CHECK_THAT(check_refused(file), Catch::Matchers::Contains("grid"));
}
