// The scan pipeline:
//   lanes (queue_depth coroutines, each with one recycled read buffer) take the next path, read it
//   (at most io_depth reads in flight), hand the bytes to the least-busy worker strand, and send
//   the small per-frame outcome to the coordinator, which merges outcomes in arrival order.
// All coroutines run on one strand over the caller's executor; decoding runs on the worker pool.
#include <maskscan/scan.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <new>
#include <optional>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/run_on.hpp"
#include "core/thread_pool.hpp"
#include "io/file_reader.hpp"
#include <maskscan/grouping.hpp>

#include "pipeline/frame_processor.hpp"

namespace maskscan {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace detail {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// A result describing the scan before any frame is done (the serial loop reads with threads' pread).
scan_result new_result(const frame_source& source, const scan_options& options) {
  scan_result result;
  result.options = options;
  result.io_used = io_backend::threads;
  result.frames_total = source.size();
  result.input = source.root().string();
  return result;
}

/// The end of every scan: statistics with the workers' heatmaps, the partial flag, the time taken.
void complete(scan_result& result, result_builder& builder, std::vector<worker_totals> workers,
              std::chrono::steady_clock::time_point t0) {
  result.partial = builder.frames_done() < result.frames_total;
  result.stopped_at = builder.stopped_at();
  result.stats = builder.finish(std::move(workers));
  result.stats.partial = result.partial;
  result.wall_seconds = seconds_since(t0);
}

/// The serial baseline: the same decode and statistics in one plain loop on the calling thread.
scan_result run_serial(const frame_source& source, const scan_options& options, const std::atomic<bool>& stop) {
  const auto t0 = std::chrono::steady_clock::now();
  scan_result result = new_result(source, options);
  frame_processor processor(options, frame_grouper(options).count_groups(source));
  result_builder builder(result.options, source.size());
  std::vector<std::byte> buffer;
  for (std::size_t i = 0; i < source.size() && !stop.load(std::memory_order_relaxed) && builder.stopped_at().empty();
       ++i) {
    diagnostics diag;
    file_stamp stamp;
    if (const auto ec = read_file_blocking(source.file(i), buffer, options.max_file_bytes, diag, &stamp))
      builder.add(file_error{source.name(i), static_cast<errc>(ec.value()), std::move(diag.message)});
    else
      builder.add(processor.process(buffer, source.name(i), stamp));
  }
  std::vector<worker_totals> workers;
  workers.push_back(processor.take());
  complete(result, builder, std::move(workers), t0);
  return result;
}

/// A counting semaphore for coroutines on one strand: a channel whose buffer holds the permits.
class async_semaphore {
 public:
  async_semaphore(const asio::any_io_executor& ex, unsigned permits) : slots_(ex, permits) {}
  awaitable<void> acquire() { co_await slots_.async_send(boost::system::error_code{}, use_awaitable); }
  void release() { slots_.try_receive([](boost::system::error_code) {}); }

 private:
  asio::experimental::channel<void(boost::system::error_code)> slots_;
};

class scan_operation : public std::enable_shared_from_this<scan_operation> {
 public:
  scan_operation(asio::any_io_executor ex, frame_source source, scan_options options)
      : strand_(asio::make_strand(ex)),
        source_(std::move(source)),
        options_(std::move(options)),
        resolved_(detail_share_resolved(options_)),  // one grouper and meaning for every worker
        groups_(resolved_->grouper().count_groups(source_)) {}  // throws for conflicting splits

  std::atomic<bool> stop{false};
  const asio::strand<asio::any_io_executor>& strand() const noexcept { return strand_; }

  awaitable<scan_result> run() {
    if (options_.serial) {
      thread_pool loop_thread(1, "the serial loop's thread (--serial)");
      co_return co_await async_run_on(
          loop_thread.get_executor(), [&] { return run_serial(source_, options_, stop); }, use_awaitable);
    }

    const auto t0 = std::chrono::steady_clock::now();
    options_.io_depth = std::min(options_.io_depth, open_file_headroom());  // each read holds a file open
    scan_result result = new_result(source_, options_);
    reader_ = make_file_reader(options_.io, options_.io_depth, strand_);
    result.io_used = reader_->backend();
    pool_.emplace(options_.workers, "compute threads (--workers)");
    for (unsigned i = 0; i < options_.workers; ++i)
      workers_.push_back(std::make_unique<worker>(asio::make_strand(pool_->get_executor()), resolved_, groups_));
    io_slots_.emplace(strand_, options_.io_depth);
    // Unbuffered: a lane holds its outcome until the coordinator has taken it, so a frame counts
    // against queue_depth until it is merged.
    outcomes_.emplace(strand_, 0);
    result_builder builder(result.options, source_.size());

    // Each lane ends by sending an empty message, so the coordinator knows when all are done
    // (closing the channel instead would drop outcomes still in its buffer).
    // A lane takes `batch` frames at a time and hands them to a worker in one hop, so the two
    // cross-thread wake-ups per hop are shared by the batch. lanes x batch <= queue_depth, and
    // lanes >= io_depth where queue_depth allows, so batching never starves the reads.
    const std::size_t batch = std::clamp<std::size_t>(options_.queue_depth / options_.io_depth, 1, 8);
    const std::size_t lanes =
        std::min<std::size_t>(options_.queue_depth / batch, (source_.size() + batch - 1) / batch);
    for (std::size_t i = 0; i < lanes; ++i)
      asio::co_spawn(strand_, lane(batch), [self = shared_from_this()](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);  // lane() catches its own failures; this is a bug guard
      });

    // The coordinator: outcomes in arrival order, until every lane has finished.
    for (std::size_t finished = 0; finished < lanes;) {
      auto message = co_await outcomes_->async_receive(use_awaitable);
      if (!message) {
        ++finished;
        continue;
      }
      builder.add(std::move(*message));
      if (!builder.stopped_at().empty()) stop = true;  // stop_on_error: no further reads
    }
    if (lane_failure_) std::rethrow_exception(lane_failure_);

    pool_->join();  // every frame is done, so the workers are idle: this only ends the threads
    std::vector<worker_totals> totals;
    for (auto& w : workers_) totals.push_back(w->processor.take());
    workers_.clear();
    complete(result, builder, std::move(totals), t0);
    co_return result;
  }

 private:
  struct worker {
    worker(asio::strand<thread_pool::executor_type> s, std::shared_ptr<const resolved_scan> scan, std::size_t groups)
        : strand(std::move(s)), processor(std::move(scan), groups) {}
    asio::strand<thread_pool::executor_type> strand;
    frame_processor processor;
    unsigned pending = 0;  // touched only on the scan strand
  };

  worker& least_busy_worker() {
    return **std::ranges::min_element(workers_, {}, [](const auto& w) { return w->pending; });
  }

  awaitable<void> lane(std::size_t batch) {
    std::vector<std::vector<std::byte>> buffers(batch);  // this lane's recycled read buffers
    std::vector<std::size_t> frames;
    std::vector<std::optional<file_error>> read_errors(batch);
    std::vector<file_stamp> stamps(batch);
    std::vector<frame_outcome> outcomes(batch);
    try {
      while (!stop.load(std::memory_order_relaxed) && next_ < source_.size()) {
        frames.clear();
        while (frames.size() < batch && next_ < source_.size()) frames.push_back(next_++);

        std::size_t readable = 0;
        for (std::size_t k = 0; k < frames.size(); ++k) {
          diagnostics diag;
          co_await io_slots_->acquire();
          const auto ec = co_await reader_->read(source_.file(frames[k]), buffers[k], options_.max_file_bytes, diag, stamps[k]);
          io_slots_->release();
          read_errors[k].reset();
          if (ec) read_errors[k] = file_error{source_.name(frames[k]), static_cast<errc>(ec.value()), std::move(diag.message)};
          else ++readable;
        }
        if (readable) {
          worker& w = least_busy_worker();
          w.pending += readable;
          co_await async_run_on(
              w.strand,
              [&] {
                for (std::size_t k = 0; k < frames.size(); ++k)
                  if (!read_errors[k]) outcomes[k] = w.processor.process(buffers[k], source_.name(frames[k]), stamps[k]);
                return readable;
              },
              use_awaitable);
          w.pending -= readable;
        }
        for (std::size_t k = 0; k < frames.size(); ++k) {
          frame_outcome outcome = read_errors[k] ? frame_outcome{std::move(*read_errors[k])} : std::move(outcomes[k]);
          co_await outcomes_->async_send(boost::system::error_code{}, std::move(outcome), use_awaitable);
        }
      }
    } catch (...) {
      // An environment failure (out of memory, ...): stop the scan and report it from run().
      if (!lane_failure_) lane_failure_ = std::current_exception();
      stop = true;
    }
    co_await outcomes_->async_send(boost::system::error_code{}, std::nullopt, use_awaitable);
  }

  asio::strand<asio::any_io_executor> strand_;
  frame_source source_;
  scan_options options_;
  std::shared_ptr<const resolved_scan> resolved_;
  std::size_t groups_;  // groups the frames fall into: each has its own heatmaps
  std::unique_ptr<file_reader> reader_;
  std::optional<thread_pool> pool_;  // declared before workers_: their strands die first
  std::vector<std::unique_ptr<worker>> workers_;
  std::optional<async_semaphore> io_slots_;
  /// A frame's outcome, or nullopt when a lane has finished.
  std::optional<asio::experimental::channel<void(boost::system::error_code, std::optional<frame_outcome>)>> outcomes_;
  std::exception_ptr lane_failure_;
  std::size_t next_ = 0;
};

/// An environment failure as the handler's error and scan_result::failure's words.
std::pair<std::error_code, std::string> describe_failure(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& x) {
    // what() is "<what_arg>: <the code's message>": keep the words, the code is the handler's.
    std::string what = x.what();
    if (const auto suffix = ": " + x.code().message(); what.ends_with(suffix)) what.resize(what.size() - suffix.size());
    return {x.code(), what};
  } catch (const std::bad_alloc&) {
    return {std::make_error_code(std::errc::not_enough_memory), "not enough memory (an allocation of the scan failed)"};
  } catch (const std::exception& x) {
    return {std::make_error_code(std::errc::state_not_recoverable), x.what()};
  } catch (...) {
    return {std::make_error_code(std::errc::state_not_recoverable), "an unknown failure"};
  }
}

}  // namespace

void launch_scan(asio::any_io_executor ex, frame_source source, scan_options options, scan_handler handler) {
  auto op = std::make_shared<scan_operation>(ex, std::move(source), resolve_defaults(std::move(options)));
  auto slot = asio::get_associated_cancellation_slot(handler);
  if (slot.is_connected())
    slot.assign([weak = std::weak_ptr<scan_operation>(op)](asio::cancellation_type) {
      if (auto alive = weak.lock()) alive->stop = true;
    });
  asio::co_spawn(op->strand(), op->run(),
                 [op, ex, handler = std::move(handler)](std::exception_ptr e, scan_result result) mutable {
                   if (auto s = asio::get_associated_cancellation_slot(handler); s.is_connected()) s.clear();
                   std::error_code ec;
                   if (e) {
                     std::tie(ec, result.failure) = describe_failure(e);
                   }
                   else if (!result.stopped_at.empty()) ec = make_error_code(errc::stopped_on_error);
                   else if (op->stop && result.partial) ec = make_error_code(errc::cancelled);
                   // Never call the handler from inside our own call stack: post it, on its own executor.
                   auto handler_ex = asio::get_associated_executor(handler, ex);
                   asio::post(ex, asio::bind_executor(handler_ex, [handler = std::move(handler), ec,
                                                                   result = std::move(result)]() mutable {
                     std::move(handler)(ec, std::move(result));
                   }));
                 });
}

}  // namespace detail

scan_result scan(frame_source source, scan_options options) {
  options = resolve_defaults(std::move(options));
  if (options.serial) {
    const std::atomic<bool> never{false};
    return detail::run_serial(source, options, never);
  }
  asio::io_context io;
  std::error_code ec;
  scan_result result;
  async_scan(io.get_executor(), std::move(source), std::move(options), [&](std::error_code e, scan_result r) {
    ec = e;
    result = std::move(r);
  });
  io.run();
  if (ec && ec != make_error_code(errc::stopped_on_error)) throw std::system_error(ec, result.failure);
  return result;
}

}  // namespace maskscan
