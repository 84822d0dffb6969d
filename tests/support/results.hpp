#pragma once
// Reading what a run wrote, and datasets synthesized once per test process: the helpers the CLI
// tests share.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <tuple>

#include <boost/json.hpp>

#include <maskscan/synth.hpp>

#include "support/test_data.hpp"

namespace maskscan::test {

/// summary.json of the results in `dir`.
inline boost::json::object summary_of(const std::filesystem::path& dir) {
  return boost::json::parse(read_file(dir / "summary.json")).as_object();
}

/// The data rows of a CSV file (its lines minus the header).
inline std::size_t csv_rows(const std::filesystem::path& file) {
  const auto text = read_file(file);
  return static_cast<std::size_t>(std::ranges::count(text, '\n')) - 1;
}

/// A dataset written by synthesize_dataset(options) once per test process and kept until it ends
/// (same frames, size, seed, filter and photo folder: the same folder).
inline const temp_dir& synthesized(const synth_options& options) {
  using key = std::tuple<std::uint64_t, std::uint32_t, std::uint32_t, std::uint64_t, int, std::filesystem::path>;
  static std::map<key, std::unique_ptr<temp_dir>> made;
  auto& dir = made[key{options.frames, options.width, options.height, options.seed, static_cast<int>(options.filter),
                       options.rgb_dir}];
  if (!dir) {
    dir = std::make_unique<temp_dir>();
    synthesize_dataset(dir->path(), options);
  }
  return *dir;
}

}  // namespace maskscan::test
