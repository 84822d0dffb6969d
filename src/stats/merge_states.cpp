#include <maskscan/merge.hpp>

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <maskscan/option_error.hpp>
#include <maskscan/text.hpp>

namespace maskscan {

resumed_scan resume_source(const frame_source& source, dataset_stats saved, const scan_options& options) {
  auto probe = make_stats(options);
  merge(probe, saved);  // throws if the classes, ignore values, heatmaps, ... differ
  if (saved.shards != shard_set_of(options.shard))
    throw option_error({option_error::text(fmt::format("the saved statistics hold {}, but this scan is of {}",
                                                       describe(saved.shards), describe(shard_set_of(options.shard)))),
                        option_error::mention("shard")});
  const auto shard = source.shard(options.shard);
  auto remaining = shard.remaining(saved);  // throws for frames not in the shard or changed since
  return {std::move(saved), std::move(remaining), shard.size()};
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
  return std::ranges::binary_search(stats.frames.in_memory(), path, {}, &frame_row::path) ||
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

void require_every_shard(const dataset_stats& merged, std::string_view parts) {
  const auto missing = missing_shards(merged.shards);
  if (missing.empty()) return;
  const auto what = describe(shard_set{merged.shards.count, missing});
  throw std::runtime_error(
      fmt::format("{} missing: {} hold {}; merge every shard's statistics, or the result would "
                  "look like the whole dataset's and be a part of it",
                  what, parts, describe(merged.shards)));
}

dataset_stats merge_states(const std::vector<std::filesystem::path>& states, const std::vector<std::string>& prefixes,
                           const row_spill& spill) {
  check_prefixes(states.size(), prefixes);  // before anything is read
  if (states.empty()) throw std::invalid_argument("no state files to merge");
  const auto load = [&](std::size_t i) {
    auto stats = load_state(states[i]);
    if (!prefixes.empty()) prefix_frames(stats, prefixes[i]);
    return stats;
  };
  // Which state holds each shard: a shard given twice is named with both files (merge() alone would
  // see a set completed by the first and then a shard of a whole source).
  std::vector<std::size_t> holder;
  const auto note_shards = [&](std::size_t i, const shard_set& shards) {
    if (shards.whole()) return;
    if (!prefixes.empty())
      throw std::runtime_error(fmt::format(
          "{} holds {}: with --prefix (states of different folders), merge each folder's shards first "
          "(maskscan merge ITS-SHARDS... --save-state FOLDER.state), then the folders' states with --prefix",
          states[i].string(), describe(shards)));
    if (holder.empty()) holder.assign(shards.count, states.size());
    if (holder.size() != shards.count) return;  // merge() says that the counts differ
    for (const auto index : shards.held) {
      if (holder[index] != states.size())
        throw std::runtime_error(fmt::format("shard {} of {} is given twice: {} and {} both hold it", index,
                                             shards.count, states[holder[index]].string(), states[i].string()));
      holder[index] = i;
    }
  };
  // A frame two states hold, named with both. It is found on a merge, or with rows on disk when
  // they are read (on a later merge, or after the last), so the states are read again to find the
  // first two that hold it: only on this error, one at a time.
  const auto refuse = [&](const duplicate_frame& d) {
    std::vector<std::size_t> holders;
    for (std::size_t k = 0; k < states.size() && holders.size() < 2; ++k)
      if (holds_frame(load(k), d.path())) holders.push_back(k);
    if (holders.size() < 2)  // one state holds it twice (a row and a skipped file): not one of a scan
      throw std::runtime_error(
          fmt::format("frame '{}' is held twice by {}: merging it would count it twice", printable_name(d.path()),
                      holders.empty() ? std::string("the states given") : states[holders[0]].string()));
    const auto [earlier, i] = std::pair{holders[0], holders[1]};
    std::error_code same_ec;
    const bool same_file = std::filesystem::equivalent(states[earlier], states[i], same_ec);
    const auto both = fmt::format("{} and {} both hold frame '{}': merging them would count it twice",
                                  states[earlier].string(), states[i].string(), printable_name(d.path()));
    if (same_file) throw std::runtime_error(fmt::format("{} ({} is given twice)", both, states[i].string()));
    throw option_error({option_error::text(both + ". Shards of one scan hold different frames; if these are scans "
                                                  "of different folders whose frames share relative names, give "
                                                  "each state a "),
                        option_error::name("prefix")});
  };
  check_spill_directory(spill);
  auto merged = load(0);
  merged.frames.spill_beyond(spill);
  note_shards(0, merged.shards);
  for (std::size_t i = 1; i < states.size(); ++i) {
    auto next = load(i);
    try {
      note_shards(i, next.shards);
      merge(merged, next);
    } catch (const duplicate_frame& d) {
      refuse(d);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("cannot merge {} with {}: {}", states[i].string(),
                                           i == 1 ? states[0].string() : std::string("the states before it"),
                                           e.what()));
    }
  }
  if (merged.frames.spilled()) {
    try {
      check_frames_unique(merged);
    } catch (const duplicate_frame& d) {
      refuse(d);
    }
  }
  require_every_shard(merged, fmt::format("the {} state{} given", states.size(), states.size() == 1 ? "" : "s"));
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
