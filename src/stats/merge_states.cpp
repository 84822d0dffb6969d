#include <maskscan/merge.hpp>

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include <maskscan/option_error.hpp>
#include <maskscan/text.hpp>

namespace maskscan {

resumed_scan resume_source(const frame_source& source, dataset_stats saved, const scan_options& options) {
  auto probe = make_stats(options);
  merge(probe, saved);                       // throws if the classes, ignore values, heatmaps, ... differ
  auto remaining = source.remaining(saved);  // throws for frames not in the source or changed since
  return {std::move(saved), std::move(remaining), source.size()};
}

scan_result complete_resume(resumed_scan resumed, scan_result rest) {
  rest.stats = complete_resumed(std::move(resumed.saved), rest.stats);
  rest.frames_total = resumed.frames_total;
  rest.partial = rest.stats.partial;
  return rest;
}

namespace {
/// True if `stats` holds the frame `path` (as a row or a skipped file).
bool holds_frame(const dataset_stats& stats, const std::string& path) {
  return std::ranges::binary_search(stats.frames, path, {}, &frame_row::path) ||
         std::ranges::binary_search(stats.errors, path, {}, &file_error::path);
}
}  // namespace

void check_prefixes(std::size_t states, const std::vector<std::string>& prefixes) {
  if (!prefixes.empty() && prefixes.size() != states)
    throw option_error({option_error::name("prefix"),
                        option_error::text(fmt::format(" is given {} times for {} state files: give one per state "
                                                       "file, in the order of the state files",
                                                       prefixes.size(), states))});
  for (const auto& prefix : prefixes) {
    dataset_stats none;
    prefix_frames(none, prefix);
  }
}

dataset_stats merge_states(const std::vector<std::filesystem::path>& states, const std::vector<std::string>& prefixes) {
  check_prefixes(states.size(), prefixes);  // before anything is read
  if (states.empty()) throw std::invalid_argument("no state files to merge");
  const auto load = [&](std::size_t i) {
    auto stats = load_state(states[i]);
    if (!prefixes.empty()) prefix_frames(stats, prefixes[i]);
    return stats;
  };
  auto merged = load(0);
  for (std::size_t i = 1; i < states.size(); ++i) {
    auto next = load(i);
    try {
      merge(merged, next);
    } catch (const duplicate_frame& d) {
      // Which earlier state holds it: read them again (only on this error, one at a time).
      std::size_t earlier = 0;
      while (earlier + 1 < i && !holds_frame(load(earlier), d.path())) ++earlier;
      std::error_code same_ec;
      const bool same_file = std::filesystem::equivalent(states[earlier], states[i], same_ec);
      const auto both = fmt::format("{} and {} both hold frame '{}': merging them would count it twice",
                                    states[earlier].string(), states[i].string(), printable_name(d.path()));
      if (same_file) throw std::runtime_error(fmt::format("{} ({} is given twice)", both, states[i].string()));
      throw option_error({option_error::text(both + ". Shards of one scan hold different frames; if these are scans "
                                                    "of different folders whose frames share relative names, give "
                                                    "each state a "),
                          option_error::name("prefix")});
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("cannot merge {} with {}: {}", states[i].string(),
                                           i == 1 ? states[0].string() : std::string("the states before it"),
                                           e.what()));
    }
  }
  return merged;
}

scan_result merged_result(dataset_stats merged, const std::vector<std::filesystem::path>& states) {
  scan_result result;
  apply_meaning(result.options, merged);
  std::string names;
  for (const auto& s : states) names += (names.empty() ? "" : ", ") + s.string();
  result.input = "merged: " + names;
  result.frames_total = merged.frames.size() + merged.errors.size();
  result.partial = merged.partial;
  result.stats = std::move(merged);
  return result;
}

}  // namespace maskscan
