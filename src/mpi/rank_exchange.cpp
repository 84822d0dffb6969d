#include "mpi/rank_exchange.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>
#include <mpi.h>

#include "stats/frame_stats.hpp"

namespace maskscan::mpi {
namespace {

constexpr int tag_progress = 1;
constexpr int tag_state = 2;
/// The most elements one MPI call moves: MPI counts are int (OpenMPI 4.1), so a heatmap set or a
/// state of more than 2^31 - 1 elements goes in chunks of this.
constexpr std::uint64_t max_chunk = std::uint64_t{1} << 30;

void check(int status, const char* call) {
  if (status != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    throw std::runtime_error(fmt::format("{} failed: {}", call, std::string(text, static_cast<std::size_t>(length))));
  }
}

/// A progress message: frames done, skipped, the rank's total, finished (0/1), elapsed in ms.
using progress_message = std::array<std::uint64_t, 5>;

progress_message message_of(const scan_progress& p, bool finished) {
  return {p.frames_done, p.frames_skipped, p.frames_total, finished ? 1u : 0u,
          static_cast<std::uint64_t>(std::max(0.0, p.elapsed_seconds) * 1000)};
}

/// A heatmap set's key across ranks: per-size sets (kind 0) by group and size, grid sets (kind 1) by group.
using set_key = std::tuple<int, std::string, std::uint32_t, std::uint32_t>;

std::vector<char> encode_keys(const dataset_stats& stats) {
  std::vector<char> bytes;
  const auto put = [&](const void* p, std::size_t n) {
    bytes.insert(bytes.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n);
  };
  const auto key = [&](std::uint8_t kind, const std::string& group, std::uint32_t w, std::uint32_t h) {
    const auto length = static_cast<std::uint32_t>(group.size());
    put(&kind, 1);
    put(&length, 4);
    put(group.data(), group.size());
    put(&w, 4);
    put(&h, 4);
  };
  for (const auto& [k, heat] : stats.heatmaps) key(0, k.group, k.width, k.height);
  for (const auto& [group, heat] : stats.grid_heatmaps) key(1, group, heat.width, heat.height);
  return bytes;
}

void decode_keys(const char* p, const char* end, std::set<set_key>& keys) {
  const auto get = [&](void* out, std::size_t n) {
    if (static_cast<std::size_t>(end - p) < n) throw std::logic_error("a truncated heatmap key from a rank");
    std::memcpy(out, p, n);
    p += n;
  };
  while (p < end) {
    std::uint8_t kind = 0;
    std::uint32_t length = 0, w = 0, h = 0;
    get(&kind, 1);
    get(&length, 4);
    std::string group(length, '\0');
    get(group.data(), length);
    get(&w, 4);
    get(&h, 4);
    keys.emplace(kind, std::move(group), w, h);
  }
}

/// Gathers every rank's `mine` at every rank (MPI_Allgather of the sizes, MPI_Allgatherv of the bytes).
std::vector<char> all_gather(const std::vector<char>& mine, int size, std::vector<int>& counts) {
  if (mine.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::runtime_error("too many heatmap sets to exchange");
  const int count = static_cast<int>(mine.size());
  counts.assign(static_cast<std::size_t>(size), 0);
  check(MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  std::vector<int> offsets(counts.size(), 0);
  std::int64_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = static_cast<int>(total);
    total += counts[r];
    if (total > std::numeric_limits<int>::max()) throw std::runtime_error("too many heatmap sets to exchange");
  }
  std::vector<char> all(static_cast<std::size_t>(total));
  check(
      MPI_Allgatherv(mine.data(), count, MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD),
      "MPI_Allgatherv");
  return all;
}

/// Sums `counts` of every rank into rank 0's (in place there), in chunks.
void reduce_counts(std::vector<std::uint32_t>& counts, bool root) {
  for (std::uint64_t at = 0; at < counts.size(); at += max_chunk) {
    const auto n = static_cast<int>(std::min<std::uint64_t>(max_chunk, counts.size() - at));
    auto* data = counts.data() + at;
    check(MPI_Reduce(root ? MPI_IN_PLACE : data, root ? data : nullptr, n, MPI_UINT32_T, MPI_SUM, 0, MPI_COMM_WORLD),
          "MPI_Reduce");
  }
}

void reduce_frames(std::uint64_t& frames, bool root) {
  check(
      MPI_Reduce(root ? MPI_IN_PLACE : &frames, root ? &frames : nullptr, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD),
      "MPI_Reduce");
}

}  // namespace

struct job::pending {
  progress_message message;
  MPI_Request request = MPI_REQUEST_NULL;
};

job::job() {
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw std::runtime_error("this MPI library does not allow a multi-threaded process (MPI_THREAD_FUNNELED)");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

job::~job() {
  wait_for_sends();
  MPI_Finalize();
}

void job::wait_for_sends() {
  for (auto& p : sends_) MPI_Wait(&p->request, MPI_STATUS_IGNORE);
  sends_.clear();
}

void job::receive_progress(int source) {
  progress_message m{};
  MPI_Status status;
  check(MPI_Recv(m.data(), 5, MPI_UINT64_T, source, tag_progress, MPI_COMM_WORLD, &status), "MPI_Recv");
  const auto from = static_cast<std::size_t>(status.MPI_SOURCE);
  progress_[from] = {m[0], m[1], m[2], static_cast<double>(m[4]) / 1000};
  if (m[3]) finished_[from] = true;
}

bool job::all_ok(const std::string& mine, std::vector<std::string>* failures) {
  std::vector<int> counts;
  const std::vector<char> bytes(mine.begin(), mine.end());
  const auto all = all_gather(bytes, size_, counts);
  bool ok = true;
  std::size_t at = 0;
  for (int r = 0; r < size_; ++r) {
    const auto n = static_cast<std::size_t>(counts[static_cast<std::size_t>(r)]);
    if (n) {
      ok = false;
      if (failures && root()) failures->push_back(fmt::format("rank {}: {}", r, std::string(all.data() + at, n)));
    }
    at += n;
  }
  return ok;
}

void job::set_progress_display(std::function<void(const scan_progress&)> show, std::uint64_t frames_listed) {
  show_ = std::move(show);
  frames_listed_ = frames_listed;
  progress_.assign(static_cast<std::size_t>(size_), scan_progress{});
  finished_.assign(static_cast<std::size_t>(size_), false);
}

void job::show_all() {
  if (!show_) return;
  scan_progress all;
  all.frames_total = frames_listed_;
  for (const auto& p : progress_) {
    all.frames_done += p.frames_done;
    all.frames_skipped += p.frames_skipped;
    all.elapsed_seconds = std::max(all.elapsed_seconds, p.elapsed_seconds);
  }
  show_(all);
}

void job::report_progress(const scan_progress& mine) {
  if (!root()) {
    // Completed sends are freed; a new one is sent without waiting for rank 0.
    std::erase_if(sends_, [](const std::unique_ptr<pending>& p) {
      int done = 0;
      MPI_Test(&p->request, &done, MPI_STATUS_IGNORE);
      return done != 0;
    });
    auto& p = *sends_.emplace_back(std::make_unique<pending>(pending{message_of(mine, false)}));
    check(MPI_Isend(p.message.data(), 5, MPI_UINT64_T, 0, tag_progress, MPI_COMM_WORLD, &p.request), "MPI_Isend");
    return;
  }
  progress_[0] = mine;
  // What the other ranks sent meanwhile.
  for (;;) {
    int waiting = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, tag_progress, MPI_COMM_WORLD, &waiting, &status), "MPI_Iprobe");
    if (!waiting) break;
    receive_progress(status.MPI_SOURCE);
  }
  show_all();
}

void job::finish_progress(const scan_progress& mine) {
  if (!root()) {
    const auto last = message_of(mine, true);
    wait_for_sends();
    check(MPI_Send(last.data(), 5, MPI_UINT64_T, 0, tag_progress, MPI_COMM_WORLD), "MPI_Send");
    return;
  }
  if (progress_.empty()) set_progress_display({}, 0);
  progress_[0] = mine;
  finished_[0] = true;
  while (std::ranges::count(finished_, false) > 0) {
    receive_progress(MPI_ANY_SOURCE);
    show_all();
  }
}

void job::abort(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);  // MPI_Abort does not return; should it, the process ends all the same
}

std::uint64_t job::sum(std::uint64_t value) {
  reduce_frames(value, root());
  return value;
}

dataset_stats job::gather(dataset_stats mine) {
  // Classes from values: every rank's lists as long as the longest, so that the sets line up.
  if (mine.classes_from_values) {
    std::uint64_t classes = mine.class_names.size(), widest = 0;
    check(MPI_Allreduce(&classes, &widest, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    if (widest > classes) detail::widen_classes(mine, widest);
  }
  // The heatmap sets any rank has, in one order everywhere; each summed at rank 0, a rank without
  // a set adding zeros.
  std::vector<int> counts;
  const auto keys_bytes = all_gather(encode_keys(mine), size_, counts);
  std::set<set_key> keys;
  decode_keys(keys_bytes.data(), keys_bytes.data() + keys_bytes.size(), keys);
  auto heatmaps = std::move(mine.heatmaps);
  auto grids = std::move(mine.grid_heatmaps);
  mine.heatmaps.clear();
  mine.grid_heatmaps.clear();
  const std::size_t classes = mine.class_names.size();
  for (const auto& [kind, group, w, h] : keys) {
    heatmap_set& set = kind == 0 ? heatmaps[heatmap_key{group, w, h}] : grids[group];
    if (set.counts.empty()) set = heatmap_set{w, h, 0, std::vector<std::uint32_t>(classes * w * h, 0)};
    reduce_counts(set.counts, root());
    reduce_frames(set.frames, root());
  }
  // Rows, errors and component sizes: each rank's state bytes to rank 0, one rank at a time.
  if (!root()) {
    const auto bytes = state_bytes(mine);
    const std::uint64_t n = bytes.size();
    check(MPI_Send(&n, 1, MPI_UINT64_T, 0, tag_state, MPI_COMM_WORLD), "MPI_Send");
    for (std::uint64_t at = 0; at < n; at += max_chunk)
      check(MPI_Send(bytes.data() + at, static_cast<int>(std::min(max_chunk, n - at)), MPI_CHAR, 0, tag_state,
                     MPI_COMM_WORLD),
            "MPI_Send");
    return {};
  }
  for (int r = 1; r < size_; ++r) {
    std::uint64_t n = 0;
    check(MPI_Recv(&n, 1, MPI_UINT64_T, r, tag_state, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
    std::vector<char> bytes(n);
    for (std::uint64_t at = 0; at < n; at += max_chunk)
      check(MPI_Recv(bytes.data() + at, static_cast<int>(std::min(max_chunk, n - at)), MPI_CHAR, r, tag_state,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE),
            "MPI_Recv");
    merge(mine, stats_from_state_bytes(bytes, fmt::format("the statistics of rank {}", r)));
  }
  check_frames_unique(mine);  // rows on disk (--row-memory) are checked once they are all there
  mine.heatmaps = std::move(heatmaps);
  mine.grid_heatmaps = std::move(grids);
  return mine;
}

}  // namespace maskscan::mpi
