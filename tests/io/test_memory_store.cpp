// Sources behind an interface: frames held in memory scan exactly as the same files on disk.
#include <catch2/catch.hpp>

#include <maskscan/reader.hpp>
#include <maskscan/scan.hpp>

#include <fstream>
#include <iterator>

#include "support/mixed_dataset.hpp"

using namespace maskscan;

namespace {
std::vector<std::byte> bytes_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}
}  // namespace

TEST_CASE("a source of PNG bytes in memory scans exactly as the same files from disk", "[io][source]") {
  static const test::mixed_dataset data;
  const auto disk = data.source();
  std::map<std::string, std::vector<std::byte>> frames;
  for (std::size_t i = 0; i < disk.size(); ++i) frames[disk.name(i)] = bytes_of(disk.root() / disk.name(i));
  const auto memory = frame_source::from_memory(std::move(frames), "in memory");
  REQUIRE(memory.size() == disk.size());
  CHECK_FALSE(memory.of_files());

  scan_options options;
  options.heatmaps = true;
  options.components = 8;
  options.group_by = "^([^/]+)/";
  options.serial = GENERATE(false, true);
  CAPTURE(options.serial);
  auto from_disk = scan(disk, options);
  const auto from_memory = scan(memory, options);
  CHECK(from_memory.input == "in memory");
  CHECK(from_memory.io_used == io_backend::store);
  // Memory has no modification times: the one field of a row that may differ, set aside here.
  from_disk.stats.frames.update([](frame_row& row) { row.file_mtime_ns = 0; });
  CHECK(from_memory.stats == from_disk.stats);
  CHECK(from_memory.stats.errors.size() == data.bad_files);  // the broken files are per-frame errors there too
}

TEST_CASE("a memory source refuses a frame over max_file_bytes and resumes by its sizes", "[io][source]") {
  std::map<std::string, std::vector<std::byte>> frames;
  frames["a.png"] = std::vector<std::byte>(100, std::byte{0});
  const auto source = frame_source::from_memory(frames);
  scan_options options;
  options.max_file_bytes = 10;
  const auto result = scan(source, options);
  REQUIRE(result.stats.errors.size() == 1);
  CHECK(result.stats.errors[0].code == errc::file_too_large);

  dataset_stats done;
  frame_row row;
  row.path = "a.png";
  row.file_size = 99;  // not the size it has now
  done.frames.push_back(row);
  CHECK_THROWS_WITH(source.remaining(done), Catch::Contains("changed since they were scanned"));
  done.frames[0].file_size = 100;
  CHECK(source.remaining(done).size() == 0);
  CHECK_THROWS_AS(frame_source::from_memory({{"", {}}}), std::invalid_argument);
}
