#pragma once
// Shards: one scan split over the tasks of a job array or the ranks of an MPI job (`--shard i/N`).
// A frame belongs to shard shard_of(its key, N), so it stays in its shard when the dataset grows;
// each task scans its shard and saves its state, and `maskscan merge` of the N states gives what
// one scan of everything gives (merge_states checks that every shard is there, once).
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace maskscan {

/// The largest shard count `--shard i/N` takes.
inline constexpr std::uint32_t max_shard_count = 1u << 20;

/// One shard of a scan: frames whose key hashes to `index` of `count` shards. The default, 0 of 1,
/// is the whole source.
struct shard_spec {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
  bool whole() const noexcept { return count == 1; }
  friend bool operator==(const shard_spec&, const shard_spec&) = default;
};

/// "index/count", e.g. "3/8".
std::string to_string(const shard_spec& shard);

/// The shard of the frame named `key` (its path relative to the root, '/' separators, as frames.csv
/// names it) among `count` (>= 1): FNV-1a 64 of the key's bytes, modulo `count`. The hash of a key
/// never changes, so a frame keeps its shard when frames are added or removed; any program can
/// compute it (docs/scale-out.md).
std::uint32_t shard_of(std::string_view key, std::uint32_t count);

/// Parses "i/N" (0 <= i < N <= max_shard_count). Throws option_error naming option "shard".
shard_spec parse_shard(std::string_view text);

/// A shard read from a job scheduler's environment (`--shard auto`), and from where.
struct environment_shard {
  shard_spec shard;
  std::string source;  ///< the scheduler and the variables used, e.g. "Slurm array (SLURM_ARRAY_TASK_ID=3, ...)"
};

/// The shard of this task of a job array: Slurm (SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN of
/// SLURM_ARRAY_TASK_COUNT; the array must be a contiguous range without a step), a Kubernetes
/// Indexed Job (JOB_COMPLETION_INDEX) or AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX). The count is
/// `count` (`--shard-count`; 0: not given), required for Kubernetes and AWS Batch, which do not
/// put it in the environment, and checked against Slurm's. `getenv` reads a variable (null: unset).
/// Throws option_error (option "shard") saying what is missing, inconsistent or ambiguous (none
/// or two schedulers' variables set).
environment_shard shard_from_environment(const std::function<const char*(const char*)>& getenv,
                                         std::uint32_t count = 0);

/// Which shards statistics hold (dataset_stats::shards): `held` indices, sorted, of `count`.
/// The default, count 1 and held {0}, is statistics of a whole source (not sharded); a merge
/// that completes a set of shards gives that again.
struct shard_set {
  std::uint32_t count = 1;
  std::vector<std::uint32_t> held{0};
  bool whole() const noexcept { return count == 1; }
  friend bool operator==(const shard_set&, const shard_set&) = default;
};

/// The statistics of a scan of `shard` hold that one shard.
shard_set shard_set_of(const shard_spec& shard);

/// "shard 3 of 8", "shards 3 and 5 of 8", "shards 0, 1 and 2 of 8"; "the whole source" when whole.
std::string describe(const shard_set& shards);

/// The shards `shards` lacks (ascending), none when whole.
std::vector<std::uint32_t> missing_shards(const shard_set& shards);

/// A shard that two statistics both hold: merging them would count its frames twice.
class duplicate_shard : public std::invalid_argument {
 public:
  duplicate_shard(std::uint32_t index, std::uint32_t count);
  std::uint32_t index() const noexcept { return index_; }
  std::uint32_t count() const noexcept { return count_; }

 private:
  std::uint32_t index_, count_;
};

/// The shards two statistics hold together. Throws duplicate_shard for a shard both hold and
/// std::invalid_argument for shards of different counts, or a shard and a whole source. A set
/// that is then complete is whole.
shard_set merge_shards(const shard_set& a, const shard_set& b);

}  // namespace maskscan
