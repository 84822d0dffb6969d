#pragma once
// Test fixtures: where the shared data lives, temporary directories, the expected-counts oracle.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>
#include <boost/json.hpp>

#include <maskscan/stats.hpp>

namespace maskscan::test {

inline std::filesystem::path data_root() { return MASKSCAN_TEST_DATA; }

/// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<unsigned> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("maskscan-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// The whole file; throws (failing the test) if it cannot be opened.
inline std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

/// summary.json without the keys that describe the run rather than the data (timing, options,
/// backend, input path): what must be identical between runs over the same frames.
inline boost::json::object summary_data(const std::string& summary_json) {
  auto doc = boost::json::parse(summary_json).as_object();
  for (const char* key : {"timing", "options", "io_backend", "input"}) doc.erase(key);
  return doc;
}

/// expected_counts.json of a ../shared/data/real family: relative path -> value -> pixels.
/// Values are gray levels / palette indices (colour-keyed families are not handled here).
using value_counts = std::map<std::uint32_t, std::uint64_t>;
inline std::map<std::string, value_counts> load_expected_counts(const std::filesystem::path& json_file) {
  const auto doc = boost::json::parse(read_file(json_file)).as_object();
  std::map<std::string, value_counts> out;
  for (const auto& [file, counts] : doc) {
    auto& per_value = out[std::string(file)];
    for (const auto& [value, n] : counts.as_object())
      per_value[static_cast<std::uint32_t>(std::stoul(std::string(value)))] = n.to_number<std::uint64_t>();
  }
  return out;
}

/// A row without the stamp of the file it was read from (size, modification time): for comparing
/// the statistics of two different files.
inline frame_row without_stamp(frame_row row) {
  row.file_size = 0;
  row.file_mtime_ns = 0;
  return row;
}

/// `stats` with every row's file stamp cleared (see without_stamp).
inline dataset_stats without_stamps(dataset_stats stats) {
  stats.frames.update([](frame_row& row) { row = without_stamp(std::move(row)); });
  return stats;
}

}  // namespace maskscan::test
