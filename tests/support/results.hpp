#pragma once
// Reading what a run wrote, and synthetic datasets (some made once per test process): the helpers
// the CLI and pipeline tests share.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

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

/// A CSV file as rows of cells (no quoted fields are expected in these files; a line ending in ','
/// ends in an empty cell).
inline std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& file) {
  std::istringstream in(read_file(file));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(std::move(cells));
  }
  return rows;
}

/// What to synthesize: `frames` WoodScape-like frames of width x height from `seed`, on `threads`
/// threads (0: one per hardware thread); the other options as synth_options has them.
inline synth_options synth_frames(std::uint64_t frames, std::uint32_t width, std::uint32_t height,
                                  std::uint64_t seed = synth_options{}.seed, unsigned threads = 0) {
  synth_options o;
  o.frames = frames;
  o.width = width;
  o.height = height;
  o.seed = seed;
  o.threads = threads;
  return o;
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
