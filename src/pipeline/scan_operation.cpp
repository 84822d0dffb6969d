// The scan pipeline:
//   lanes (queue_depth coroutines, each with one recycled read buffer) take the next key, read it
//   (at most io_depth reads in flight), hand the bytes to the least-busy worker strand, and send
//   the small per-frame outcome to the coordinator, which merges outcomes in arrival order.
// The lanes and the coordinator run on one strand over the caller's executor: a few microseconds
// per frame. Everything heavy runs on the compute pool: resolving the options, making the reader
// and the accumulators, decoding, and at the end adding up the workers' totals.
#include <maskscan/reader.hpp>
#include <maskscan/resolved.hpp>
#include <maskscan/scan.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <maskscan/grouping.hpp>
#include "core/elapsed.hpp"
#include "core/run_on.hpp"
#include "core/thread_pool.hpp"
#include "io/file_reader.hpp"

#include "pipeline/frame_processor.hpp"
#include "pipeline/memory_budget.hpp"

namespace maskscan {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace detail {
namespace {

/// A result describing the scan before any frame is done (the serial loop reads with threads' pread).
scan_result new_result(const frame_source& source, const scan_options& options) {
  scan_result result;
  result.options = options;
  result.io_used = source.of_files() ? io_backend::threads : io_backend::store;
  result.frames_total = source.size();
  result.input = source.location();
  return result;
}

/// The heatmap store the workers of a scan share, with what scan_options::max_memory leaves to it
/// (on the compute pool, before any frame; throws when the scan would not fit).
std::shared_ptr<heatmap_store> make_scan_heatmaps(const frame_source& source, const scan_options& options,
                                                  std::size_t groups) {
  const memory_plan plan = plan_scan_memory(source, options, groups);
  return make_heatmap_store(options, groups, plan.heatmap_allowance, plan.note);
}

/// The end of every scan: statistics with the workers' heatmaps, the partial flag, the time taken.
void complete(scan_result& result, result_builder& builder, std::vector<worker_totals> workers,
              std::chrono::steady_clock::time_point t0) {
  result.partial = builder.frames_done() < result.frames_total;
  result.stopped_at = builder.stopped_at();
  result.stats = builder.finish(std::move(workers));
  // A frame whose read the stop ended (frame_reader::stop) was not read: the scan is partial.
  result.partial = result.partial || std::ranges::any_of(result.stats.errors,
                                                         [](const file_error& e) { return e.code == errc::cancelled; });
  result.stats.partial = result.partial;
  result.stats.shards = shard_set_of(result.options.shard);
  result.wall_seconds = seconds_since(t0);
}

/// Delivers progress on the caller's side: at most once per interval while frames finish, and a
/// last time before the completion. Called from one thread at a time (the coordinator's strand or
/// the serial loop); the calls it posts go through one strand of the scan's executor, each
/// dispatched into the handler's associated executor.
class progress_reporter {
 public:
  progress_reporter(std::function<void(const scan_progress&)> callback, std::chrono::milliseconds interval,
                    asio::strand<asio::any_io_executor> where, asio::any_completion_executor handler_ex)
      : callback_(callback ? std::make_shared<std::function<void(const scan_progress&)>>(std::move(callback))
                           : nullptr),
        interval_(interval),
        where_(std::move(where)),
        handler_ex_(std::move(handler_ex)) {}

  /// After a frame: posts `p` if the interval has passed since the last post.
  void frame_done(const scan_progress& p) {
    if (!callback_) return;
    const auto now = std::chrono::steady_clock::now();
    if (posted_once_ && now - last_ < interval_) return;
    posted_once_ = true;
    last_ = now;
    post(p);
  }
  const asio::strand<asio::any_io_executor>& strand() const noexcept { return where_; }
  /// The final counts (posted before the completion handler, on the same strand).
  void last(const scan_progress& p) {
    if (callback_) post(p);
  }

 private:
  void post(const scan_progress& p) {
    asio::post(where_, asio::bind_executor(handler_ex_, [callback = callback_, p] { (*callback)(p); }));
  }
  std::shared_ptr<std::function<void(const scan_progress&)>> callback_;
  std::chrono::milliseconds interval_;
  asio::strand<asio::any_io_executor> where_;
  asio::any_completion_executor handler_ex_;
  std::chrono::steady_clock::time_point last_{};
  bool posted_once_ = false;
};

/// The serial baseline: the same decode and statistics in one plain loop on the calling thread.
/// `groups`: of the whole source, as set_up counts them.
scan_result run_serial(const frame_source& source, std::size_t groups, const std::shared_ptr<const resolved_scan>& scan,
                       const std::atomic<bool>& stop, progress_reporter* progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const scan_options& options = scan->options();
  scan_result result = new_result(source, options);
  frame_processor processor(scan, groups, make_scan_heatmaps(source, options, groups));
  result_builder builder(scan, source.size());
  std::vector<std::byte> buffer;
  for (std::size_t i = 0; i < source.size() && !stop.load(std::memory_order_relaxed) && builder.stopped_at().empty();
       ++i) {
    diagnostics diag;
    file_stamp stamp;
    if (const auto ec = source.store()->read_blocking(source.name(i), buffer, options.max_file_bytes, diag, stamp))
      builder.add(file_error{source.name(i), static_cast<errc>(ec.value()), std::move(diag.message)});
    else
      builder.add(processor.process(buffer, source.name(i), stamp));
    if (progress) progress->frame_done(builder.progress());
  }
  std::vector<worker_totals> workers;
  workers.push_back(processor.take());
  workers.push_back({processor.heatmaps()->take(), {}, {}});
  complete(result, builder, std::move(workers), t0);
  if (progress) progress->last(builder.progress());
  return result;
}

/// A counting semaphore for coroutines on one strand: a channel whose buffer holds the permits.
class async_semaphore {
 public:
  async_semaphore(const asio::any_io_executor& ex, unsigned permits) : slots_(ex, permits) {}
  awaitable<void> acquire() { co_await slots_.async_send(boost::system::error_code{}, use_awaitable); }
  void release() {
    slots_.try_receive([](boost::system::error_code) {});
  }

 private:
  asio::experimental::channel<void(boost::system::error_code)> slots_;
};

/// The compute threads of one scan: the caller's shared pool, or a pool of the scan's own.
struct compute_threads {
  std::optional<thread_pool> own;
  asio::any_io_executor executor;
};

class scan_operation : public std::enable_shared_from_this<scan_operation> {
 public:
  scan_operation(asio::any_io_executor ex, asio::any_completion_executor handler_ex, frame_source source,
                 scan_options options, scan_context context)
      : strand_(asio::make_strand(ex)),
        source_(std::move(source)),
        options_(std::move(options)),
        pool_(context.pool),
        progress_(std::move(context.on_progress), context.progress_interval, asio::make_strand(ex), handler_ex) {}

  std::atomic<bool> stop{false};
  const asio::strand<asio::any_io_executor>& strand() const noexcept { return strand_; }
  /// The scan stops: on the strand, the reader is told (its reads in flight may end early, frame_reader::stop).
  void stop_reads() {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->reading_) self->reading_->stop();
    });
  }
  /// Where the last progress and then the handler are posted, in that order.
  const asio::strand<asio::any_io_executor>& completion_strand() const noexcept { return progress_.strand(); }

  awaitable<scan_result> run() {
    const auto t0 = std::chrono::steady_clock::now();
    start_compute();
    if (options_.serial) {
      co_return co_await async_run_on(
          compute_.executor,
          [&] {
            resolved_ = resolve(std::move(options_));
            options_ = resolved_->options();
            const std::size_t groups = resolved_->grouper().count_groups(source_);  // of every shard
            source_ = source_.shard(options_.shard);
            return run_serial(source_, groups, resolved_, stop, &progress_);
          },
          use_awaitable);
    }

    scan_result result = co_await async_run_on(
        compute_.executor, [&] { return set_up(); }, use_awaitable);
    reading_ = reader_.get();
    result_builder builder(resolved_, source_.size());

    // Each lane ends by sending an empty message, so the coordinator knows when all are done
    // (closing the channel instead would drop outcomes still in its buffer).
    // A lane takes `batch` frames at a time and hands them to a worker in one hop, so the two
    // cross-thread wake-ups per hop are shared by the batch. lanes x batch <= queue_depth, and
    // lanes >= io_depth where queue_depth allows, so batching never starves the reads.
    const std::size_t batch = std::clamp<std::size_t>(options_.queue_depth / options_.io_depth, 1, 8);
    const std::size_t lanes = std::min<std::size_t>(options_.queue_depth / batch, (source_.size() + batch - 1) / batch);
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
      progress_.frame_done(builder.progress());
      if (!builder.stopped_at().empty()) stop = true;  // stop_on_error: no further reads
    }
    reading_ = nullptr;
    if (lane_failure_) std::rethrow_exception(lane_failure_);

    // Every frame is done, so the workers are idle: their totals are added up on the pool.
    co_await async_run_on(
        compute_.executor,
        [&] {
          std::vector<worker_totals> totals;
          for (auto& w : workers_) totals.push_back(w->processor.take());
          workers_.clear();  // their accumulators' memory is given back here, not on the caller's thread
          totals.push_back({std::exchange(heatmaps_, nullptr)->take(), {}, {}});  // the workers' shared heatmaps
          reader_.reset();
          complete(result, builder, std::move(totals), t0);
          return 0;
        },
        use_awaitable);
    progress_.last(builder.progress());
    co_return result;
  }

  /// Ends the scan's own compute threads (idle by now); called on the strand before completion.
  void end_compute() {
    if (compute_.own) compute_.own->join();
  }

 private:
  struct worker {
    worker(asio::strand<asio::any_io_executor> s, std::shared_ptr<const resolved_scan> scan, std::size_t groups,
           std::shared_ptr<heatmap_store> heatmaps)
        : strand(std::move(s)), processor(std::move(scan), groups, std::move(heatmaps)) {}
    asio::strand<asio::any_io_executor> strand;
    frame_processor processor;
    unsigned pending = 0;  // touched only on the scan strand
  };

  /// The caller's pool, or threads of the scan's own (the only work done on the caller's thread:
  /// the threads must exist before anything can run on them).
  void start_compute() {
    if (pool_) {
      if (options_.workers == 0) options_.workers = pool_->size();
      compute_.executor = pool_->get_executor();
      return;
    }
    // A count over the bound is refused by resolve_defaults before a thread is started.
    if (options_.workers > max_workers) options_ = resolve_defaults(std::move(options_));
    const unsigned threads = options_.serial         ? 1
                             : options_.workers != 0 ? options_.workers
                                                     : std::clamp(std::thread::hardware_concurrency(), 1u, max_workers);
    compute_.own.emplace(threads,
                         options_.serial ? "the serial loop's thread (--serial)" : "compute threads (--workers)");
    compute_.executor = compute_.own->get_executor();
  }

  /// On the pool: the options resolved, the reader and the workers made.
  scan_result set_up() {
    resolved_ = resolve(std::move(options_));
    options_ = resolved_->options();
    // The groups of the whole source (which throws for conflicting splits), before the shard is taken: a
    // frame's heatmap limits (groups x ...) and a split conflict are then the same in every shard as in
    // one scan of everything.
    const std::size_t groups = resolved_->grouper().count_groups(source_);
    source_ = source_.shard(options_.shard);
    options_.io_depth = std::min(options_.io_depth, open_file_headroom());  // each read holds a file open
    heatmaps_ = make_scan_heatmaps(source_, options_, groups);
    scan_result result = new_result(source_, options_);
    if (source_.size() != 0) {  // an empty source may have no store
      reader_ = source_.store()->make_reader(options_, strand_);
      result.io_used = reader_->backend();
    }
    for (unsigned i = 0; i < options_.workers; ++i)
      workers_.push_back(std::make_unique<worker>(asio::make_strand(compute_.executor), resolved_, groups, heatmaps_));
    io_slots_.emplace(strand_, options_.io_depth);
    // Unbuffered: a lane holds its outcome until the coordinator has taken it, so a frame counts
    // against queue_depth until it is merged.
    outcomes_.emplace(strand_, 0);
    return result;
  }

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
          const std::string name = source_.name(frames[k]);  // a local: it outlives the read's suspension
          co_await io_slots_->acquire();
          const auto ec = co_await reader_->read(name, buffers[k], options_.max_file_bytes, diag, stamps[k]);
          io_slots_->release();
          read_errors[k].reset();
          if (ec)
            read_errors[k] = file_error{name, static_cast<errc>(ec.value()), std::move(diag.message)};
          else
            ++readable;
        }
        if (readable) {
          worker& w = least_busy_worker();
          w.pending += readable;
          co_await async_run_on(
              w.strand,
              [&] {
                for (std::size_t k = 0; k < frames.size(); ++k)
                  if (!read_errors[k])
                    outcomes[k] = w.processor.process(buffers[k], source_.name(frames[k]), stamps[k]);
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
  compute_pool* pool_;
  progress_reporter progress_;
  std::shared_ptr<const resolved_scan> resolved_;  // one grouper and meaning for every worker
  compute_threads compute_;  // declared before workers_ and reader_: their strands and readers die first
  std::unique_ptr<frame_reader> reader_;
  frame_reader* reading_ = nullptr;          // reader_ while the lanes read: set and read on the strand only
  std::shared_ptr<heatmap_store> heatmaps_;  // the workers' heatmaps, one set per group and frame size
  std::vector<std::unique_ptr<worker>> workers_;
  std::optional<async_semaphore> io_slots_;
  /// A frame's outcome, or nullopt when a lane has finished.
  std::optional<asio::experimental::channel<void(boost::system::error_code, std::optional<frame_outcome>)>> outcomes_;
  std::exception_ptr lane_failure_;
  std::size_t next_ = 0;
};

/// A failure as the handler's error and scan_result::failure's words.
std::pair<boost::system::error_code, std::string> describe_failure(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::invalid_argument& x) {  // options no scan can use (resolve_defaults, splits)
    return {make_error_code(boost::system::errc::invalid_argument), x.what()};
  } catch (const std::system_error& x) {
    // what() is "<what_arg>: <the code's message>": keep the words, the code is the handler's.
    std::string what = x.what();
    if (const auto suffix = ": " + x.code().message(); what.ends_with(suffix)) what.resize(what.size() - suffix.size());
    return {x.code(), what};
  } catch (const std::bad_alloc&) {
    return {make_error_code(boost::system::errc::not_enough_memory),
            "not enough memory (an allocation of the scan failed)"};
  } catch (const std::exception& x) {
    return {make_error_code(boost::system::errc::state_not_recoverable), x.what()};
  } catch (...) {
    return {make_error_code(boost::system::errc::state_not_recoverable), "an unknown failure"};
  }
}

}  // namespace

void launch_scan(asio::any_io_executor ex, frame_source source, scan_options options, scan_context context,
                 scan_handler handler) {
  // The handler's executor has outstanding work until the handler has run.
  auto handler_ex = asio::prefer(asio::get_associated_executor(handler, ex), asio::execution::outstanding_work.tracked);
  std::shared_ptr<scan_operation> op;
  try {
    op = std::make_shared<scan_operation>(ex, handler_ex, std::move(source), std::move(options), std::move(context));
  } catch (...) {  // out of memory for the operation itself: still through the handler, posted
    auto described = describe_failure(std::current_exception());
    const boost::system::error_code ec = described.first;  // a variable, not a binding: clang 14 captures it
    scan_result result;
    result.failure = std::move(described.second);
    asio::post(
        ex, asio::bind_executor(handler_ex, [handler = std::move(handler), ec, result = std::move(result)]() mutable {
          std::move(handler)(ec, std::move(result));
        }));
    return;
  }
  auto slot = asio::get_associated_cancellation_slot(handler);
  if (slot.is_connected())
    slot.assign([weak = std::weak_ptr<scan_operation>(op)](asio::cancellation_type type) {
      // terminal and partial: the frames done so far stay counted, a side effect both permit;
      // total alone asks for no side effect, which a scan that has counted frames cannot give.
      if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) ==
          asio::cancellation_type::none)
        return;
      if (auto alive = weak.lock()) {
        alive->stop = true;
        alive->stop_reads();
      }
    });
  asio::co_spawn(op->strand(), op->run(),
                 [op, handler_ex, handler = std::move(handler)](std::exception_ptr e, scan_result result) mutable {
                   if (auto s = asio::get_associated_cancellation_slot(handler); s.is_connected()) s.clear();
                   op->end_compute();
                   boost::system::error_code ec;
                   if (e)
                     std::tie(ec, result.failure) = describe_failure(e);
                   else if (!result.stopped_at.empty())
                     ec = make_error_code(errc::stopped_on_error);
                   else if (op->stop && result.partial)
                     ec = make_error_code(errc::cancelled);
                   // Never call the handler from inside our own call stack: post it, after the last
                   // progress on the same strand, then into the handler's own executor.
                   asio::post(op->completion_strand(),
                              asio::bind_executor(
                                  handler_ex, [handler = std::move(handler), ec, result = std::move(result)]() mutable {
                                    std::move(handler)(ec, std::move(result));
                                  }));
                 });
}

}  // namespace detail

scan_result scan(frame_source source, scan_options options, scan_context context) {
  asio::io_context io;
  boost::system::error_code ec;
  scan_result result;
  async_scan(io.get_executor(), std::move(source), std::move(options), std::move(context),
             [&](boost::system::error_code e, scan_result r) {
               ec = e;
               result = std::move(r);
             });
  io.run();
  // Options no scan can use (resolved on the pool, before any read), or frames in two splits.
  if (ec == boost::system::errc::invalid_argument) throw std::invalid_argument(result.failure);
  if (ec && ec != errc::stopped_on_error) throw std::system_error(static_cast<std::error_code>(ec), result.failure);
  return result;
}

}  // namespace maskscan
