#include <maskscan/shard.hpp>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <maskscan/option_error.hpp>

namespace maskscan {
namespace {

[[noreturn]] void refuse(std::string words) {
  throw option_error({option_error::name("shard"), option_error::text(std::move(words))});
}

/// A whole decimal number (no sign, no spaces), or nothing.
std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

/// "3 and 5", "0, 1 and 2".
std::string listed(const std::vector<std::uint32_t>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i)
    text += fmt::format("{}{}", i == 0 ? "" : i + 1 == items.size() ? " and " : ", ", items[i]);
  return text;
}

}  // namespace

std::string to_string(const shard_spec& shard) { return fmt::format("{}/{}", shard.index, shard.count); }

std::uint32_t shard_of(std::string_view key, std::uint32_t count) {
  std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a 64: offset basis
  for (const unsigned char c : key) {
    hash ^= c;
    hash *= 0x100000001b3ull;  // FNV prime
  }
  return static_cast<std::uint32_t>(hash % std::max<std::uint32_t>(count, 1));
}

shard_spec parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  const auto index = slash == std::string_view::npos ? std::nullopt : number(text.substr(0, slash));
  const auto count = slash == std::string_view::npos ? std::nullopt : number(text.substr(slash + 1));
  if (!index || !count)
    refuse(fmt::format(" takes INDEX/COUNT, e.g. 3/8 (shard 3 of 8, counting from 0), or auto; not '{}'", text));
  if (*count < 1 || *count > max_shard_count)
    refuse(fmt::format(" {}: the count must be 1..{}", text, max_shard_count));
  if (*index >= *count)
    refuse(fmt::format(" {}: the index counts from 0, so it must be below the count ({})", text, *count));
  return {static_cast<std::uint32_t>(*index), static_cast<std::uint32_t>(*count)};
}

environment_shard shard_from_environment(const std::function<const char*(const char*)>& getenv, std::uint32_t count) {
  const auto var = [&](const char* name) -> std::optional<std::string> {
    const char* value = getenv(name);
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
  const auto whole = [&](const char* name) {
    const auto value = var(name);
    const auto n = value ? number(*value) : std::nullopt;
    if (value && (!n || *n > UINT32_MAX)) refuse(fmt::format(" auto: {}='{}' is not a whole number", name, *value));
    return n;
  };
  struct scheduler {
    const char* name;
    const char* index_variable;
  };
  static constexpr scheduler schedulers[] = {{"Slurm array", "SLURM_ARRAY_TASK_ID"},
                                             {"Kubernetes Indexed Job", "JOB_COMPLETION_INDEX"},
                                             {"AWS Batch array job", "AWS_BATCH_JOB_ARRAY_INDEX"}};
  std::vector<const scheduler*> found;
  for (const auto& s : schedulers)
    if (var(s.index_variable)) found.push_back(&s);
  if (found.empty())
    refuse(
        " auto: no job array index in the environment (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or "
        "AWS_BATCH_JOB_ARRAY_INDEX); give the shard as INDEX/COUNT");
  if (found.size() > 1)
    refuse(
        fmt::format(" auto: both {} and {} are set, so which scheduler runs this task is unclear; give the "
                    "shard as INDEX/COUNT",
                    found[0]->index_variable, found[1]->index_variable));
  const scheduler& s = *found.front();
  std::uint64_t index = *whole(s.index_variable);
  std::string source = fmt::format("{} ({}={}", s.name, s.index_variable, index);
  if (std::string_view(s.index_variable) == "SLURM_ARRAY_TASK_ID") {
    // --array=1-64 numbers the tasks from 1; --array=0-63:2 or 0,5,9 leave gaps the shards cannot have.
    const auto min = whole("SLURM_ARRAY_TASK_MIN"), max = whole("SLURM_ARRAY_TASK_MAX"),
               tasks = whole("SLURM_ARRAY_TASK_COUNT"), step = whole("SLURM_ARRAY_TASK_STEP");
    if (!tasks || !min)
      refuse(" auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN is not");
    if ((step && *step != 1) || (max && *max - *min + 1 != *tasks))
      refuse(
          fmt::format(" auto: the Slurm array is not a contiguous range of task ids ({} tasks from {} to {}{}); "
                      "use --array=FIRST-LAST without a step or a list",
                      *tasks, *min, max ? fmt::format("{}", *max) : "?", step ? fmt::format(" step {}", *step) : ""));
    if (index < *min)
      refuse(fmt::format(" auto: SLURM_ARRAY_TASK_ID {} is below SLURM_ARRAY_TASK_MIN {}", index, *min));
    source += fmt::format(", SLURM_ARRAY_TASK_MIN={}, SLURM_ARRAY_TASK_COUNT={}", *min, *tasks);
    index -= *min;
    if (count && count != *tasks)
      refuse(fmt::format(" auto: --shard-count {} differs from the Slurm array's {} tasks", count, *tasks));
    count = static_cast<std::uint32_t>(std::min<std::uint64_t>(*tasks, UINT32_MAX));
  } else if (!count) {
    refuse(
        fmt::format(" auto: {} gives this task's index but not how many there are: give --shard-count "
                    "(the Job's {})",
                    s.name, s.index_variable[0] == 'J' ? "completions" : "array size"));
  }
  source += ")";
  if (count < 1 || count > max_shard_count)
    refuse(fmt::format(" auto: {} shards; the count must be 1..{}", count, max_shard_count));
  if (index >= count) refuse(fmt::format(" auto: index {} from {} is not below the count {}", index, source, count));
  return {{static_cast<std::uint32_t>(index), count}, std::move(source)};
}

shard_set shard_set_of(const shard_spec& shard) {
  if (shard.whole()) return {};
  return {shard.count, {shard.index}};
}

std::string describe(const shard_set& shards) {
  if (shards.whole()) return "the whole source";
  constexpr std::size_t named = 10;  // a set of a million shards is not a message
  if (shards.held.size() > named)
    return fmt::format("shards {}, ... ({} in all) of {}",
                       fmt::join(shards.held.begin(), shards.held.begin() + named, ", "), shards.held.size(),
                       shards.count);
  return fmt::format("shard{} {} of {}", shards.held.size() == 1 ? "" : "s", listed(shards.held), shards.count);
}

std::vector<std::uint32_t> missing_shards(const shard_set& shards) {
  std::vector<std::uint32_t> missing;
  if (shards.whole()) return missing;
  std::size_t next = 0;
  for (std::uint32_t i = 0; i < shards.count; ++i) {
    if (next < shards.held.size() && shards.held[next] == i)
      ++next;
    else
      missing.push_back(i);
  }
  return missing;
}

duplicate_shard::duplicate_shard(std::uint32_t index, std::uint32_t count)
    : std::invalid_argument(
          fmt::format("both hold shard {} of {}: merging them would count its frames twice", index, count)),
      index_(index),
      count_(count) {}

shard_set merge_shards(const shard_set& a, const shard_set& b) {
  if (a.whole() && b.whole()) return {};
  if (a.count != b.count)
    throw std::invalid_argument(fmt::format(
        "{} and {} do not fit together{}", describe(a), describe(b),
        a.whole() || b.whole() ? ": statistics of a shard merge only with other shards of the same count"
                               : ": a frame's shard depends on the count, so shards of different counts overlap"));
  shard_set both{a.count, {}};
  std::ranges::set_union(a.held, b.held, std::back_inserter(both.held));
  std::vector<std::uint32_t> twice;
  std::ranges::set_intersection(a.held, b.held, std::back_inserter(twice));
  if (!twice.empty()) throw duplicate_shard(twice.front(), a.count);
  if (both.held.size() == both.count) return {};
  return both;
}

}  // namespace maskscan
