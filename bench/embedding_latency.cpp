// How late a caller's timer fires while a scan runs on the caller's io_context: the embedding
// target of issue 14 (a 1 ms timer on a 1-thread io_context: lateness max < 5 ms, p99 < 2 ms
// during a full-size heatmap scan with workers = cores - 1). Only the public API is used, as an
// embedding service would. Prints JSON: per run, the lateness of every tick while the scan ran
// (from async_scan to its handler), beside a baseline of the same length with no scan.
//   maskscan_embedding_latency DATASET_DIR [--runs R] [--workers N] [--labels NAME] [--no-heatmaps]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <maskscan/scan.hpp>

namespace {
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

/// A timer re-armed every millisecond; each tick's lateness (now - deadline) in ms is kept.
class ticker {
 public:
  explicit ticker(asio::io_context& io) : timer_(io) {}
  void start() {
    running_ = true;
    arm();
  }
  void stop() {
    running_ = false;
    timer_.cancel();
  }
  std::vector<double> take() { return std::exchange(lateness_, {}); }
  /// When the latest tick came, as a fraction of [t0, t1]: where in a scan the worst stall is.
  double worst_at(clock_type::time_point t0, clock_type::time_point t1) const {
    if (lateness_.empty()) return 0;
    const auto i = static_cast<std::size_t>(std::ranges::max_element(lateness_) - lateness_.begin());
    return std::chrono::duration<double>(when_[i] - t0).count() / std::chrono::duration<double>(t1 - t0).count();
  }

 private:
  void arm() {
    deadline_ = clock_type::now() + std::chrono::milliseconds(1);
    timer_.expires_at(deadline_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || !running_) return;
      const auto now = clock_type::now();
      lateness_.push_back(std::chrono::duration<double, std::milli>(now - deadline_).count());
      when_.push_back(now);
      arm();
    });
  }
  asio::steady_timer timer_;
  clock_type::time_point deadline_;
  std::vector<double> lateness_;
  std::vector<clock_type::time_point> when_;
  bool running_ = false;
};

struct figures {
  double max = 0, p99 = 0, p50 = 0;
  std::size_t ticks = 0;
};
figures summarize(std::vector<double> v) {
  if (v.empty()) return {};
  std::ranges::sort(v);
  const auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
  return {v.back(), at(0.99), at(0.5), v.size()};
}
std::string json(const figures& f) {
  char text[160];
  std::snprintf(text, sizeof text, "{\"max_ms\": %.3f, \"p99_ms\": %.3f, \"p50_ms\": %.3f, \"ticks\": %zu}", f.max,
                f.p99, f.p50, f.ticks);
  return text;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: maskscan_embedding_latency DATASET_DIR [--runs R] [--workers N] [--labels NAME] [--no-heatmaps]\n");
    return 2;
  }
  int runs = 3;
  maskscan::scan_options options;
  options.heatmaps = true;
  options.workers = std::max(1u, std::thread::hardware_concurrency() - 1);  // cores - 1: one core for the io thread
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::stoi(argv[++i]);
    else if (arg == "--workers" && i + 1 < argc)
      options.workers = static_cast<unsigned>(std::stoul(argv[++i]));
    else if (arg == "--labels" && i + 1 < argc)
      options.labels = argv[++i];
    else if (arg == "--no-heatmaps")
      options.heatmaps = false;
    else {
      std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  const auto source = maskscan::frame_source::from_directory(argv[1]);
  std::printf("{\"frames\": %zu, \"workers\": %u, \"heatmaps\": %s, \"runs\": [\n", source.size(), options.workers,
              options.heatmaps ? "true" : "false");
  for (int run = 0; run < runs; ++run) {
    asio::io_context io(1);
    ticker tick(io);
    double wall = 0;
    std::size_t frames = 0;
    clock_type::time_point t1;
    tick.start();
    const auto t0 = clock_type::now();
    maskscan::async_scan(io.get_executor(), source, options,
                         [&](boost::system::error_code ec, maskscan::scan_result r) {
                           t1 = clock_type::now();
                           wall = std::chrono::duration<double>(t1 - t0).count();
                           frames = r.stats.frames.size();
                           if (ec)
                             std::fprintf(stderr, "scan failed: %s %s\n", ec.message().c_str(), r.failure.c_str());
                           tick.stop();
                         });
    io.run();
    const double worst_at = tick.worst_at(t0, t1);
    const auto during = summarize(tick.take());

    // The same length of time with no scan: what this machine's scheduler alone costs.
    asio::io_context idle(1);
    ticker baseline(idle);
    asio::steady_timer end(idle, std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(wall)));
    baseline.start();
    end.async_wait([&](boost::system::error_code) { baseline.stop(); });
    idle.run();
    const auto quiet = summarize(baseline.take());
    std::printf(
        "  {\"scan_seconds\": %.3f, \"frames\": %zu, \"during_scan\": %s, \"worst_at\": %.3f, \"no_scan\": %s}%s\n",
        wall, frames, json(during).c_str(), worst_at, json(quiet).c_str(), run + 1 < runs ? "," : "");
  }
  std::printf("]}\n");
  return 0;
}
