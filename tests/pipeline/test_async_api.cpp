// async_scan embedded in a caller's own io_context: co_await, callback, future, cancellation.
#include <catch2/catch.hpp>

#include <maskscan/scan.hpp>

#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "support/mixed_dataset.hpp"

namespace asio = boost::asio;
using namespace maskscan;

namespace {
const test::mixed_dataset& dataset() {
  static const test::mixed_dataset data;
  return data;
}
const scan_result& serial_reference() {
  static const scan_result r = [] {
    scan_options o;
    o.serial = true;
    o.heatmaps = true;
    return scan(dataset().source(), o);
  }();
  return r;
}
scan_options heatmap_options() {
  scan_options o;
  o.heatmaps = true;
  return o;
}
}  // namespace

TEST_CASE("async_scan can be co_awaited from the caller's coroutine", "[pipeline][api]") {
  asio::io_context io;
  std::optional<scan_result> outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // Named arguments: GCC 12 may destroy temporaries of a co_await full-expression twice.
        auto source = dataset().source();
        auto options = heatmap_options();
        outcome = co_await async_scan(co_await asio::this_coro::executor, std::move(source), std::move(options),
                                      asio::use_awaitable);
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  REQUIRE(outcome);
  CHECK_FALSE(outcome->partial);
  CHECK(outcome->stats == serial_reference().stats);
}

TEST_CASE("bad options complete the operation through its handler, posted, under every token", "[pipeline][api]") {
  scan_options bad = heatmap_options();
  bad.components = 5;  // resolve_defaults refuses it

  SECTION("a callback gets invalid_argument and the message, never inline") {
    asio::io_context io;
    std::optional<std::pair<boost::system::error_code, scan_result>> outcome;
    async_scan(io.get_executor(), dataset().source(), bad,
               [&](boost::system::error_code ec, scan_result r) { outcome.emplace(ec, std::move(r)); });
    CHECK_FALSE(outcome);  // not called from inside async_scan
    io.run();
    REQUIRE(outcome);
    CHECK(outcome->first == boost::system::errc::invalid_argument);
    CHECK_THAT(outcome->second.failure, Catch::Contains("components"));
    CHECK(outcome->second.stats.frames.empty());
  }
  SECTION("use_awaitable throws system_error inside the coroutine; redirect_error stores the code") {
    asio::io_context io;
    boost::system::error_code thrown, redirected;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto source = dataset().source();
          auto options = bad;
          try {
            (void)co_await async_scan(co_await asio::this_coro::executor, source, options, asio::use_awaitable);
          } catch (const boost::system::system_error& e) {
            thrown = e.code();
          }
          (void)co_await async_scan(co_await asio::this_coro::executor, std::move(source), std::move(options),
                                    asio::redirect_error(asio::use_awaitable, redirected));
        },
        asio::detached);
    CHECK_NOTHROW(io.run());  // nothing escapes run()
    CHECK(thrown == boost::system::errc::invalid_argument);
    CHECK(redirected == boost::system::errc::invalid_argument);
  }
  SECTION("detached: the process goes on") {
    asio::io_context io;
    async_scan(io.get_executor(), dataset().source(), bad, asio::detached);
    CHECK_NOTHROW(io.run());
  }
  SECTION("the blocking form throws std::invalid_argument before any work") {
    CHECK_THROWS_AS(scan(dataset().source(), bad), std::invalid_argument);
  }
}

TEST_CASE("async_scan calls a plain callback once on the caller's io_context thread", "[pipeline][api]") {
  asio::io_context io;
  int calls = 0;
  std::thread::id called_on;
  async_scan(io.get_executor(), dataset().source(), heatmap_options(), [&](std::error_code ec, scan_result r) {
    ++calls;
    called_on = std::this_thread::get_id();
    CHECK_FALSE(ec);
    CHECK(r.stats == serial_reference().stats);
  });
  io.run();
  CHECK(calls == 1);
  CHECK(called_on == std::this_thread::get_id());
}

TEST_CASE("async_scan returns a future with use_future", "[pipeline][api]") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  auto future = async_scan(io.get_executor(), dataset().source(), heatmap_options(), asio::use_future);
  const auto result = future.get();  // an error would be thrown here, as boost::system::system_error
  guard.reset();
  runner.join();
  CHECK(result.stats == serial_reference().stats);
}

TEST_CASE("cancelling half-way stops issuing reads and completes with an exact, flagged partial result",
          "[pipeline][api][cancel]") {
  const auto source = dataset().source();
  const auto total = source.size();
  const unsigned queue_depth = GENERATE(1u, 4u);
  CAPTURE(queue_depth);

  asio::io_context io;
  asio::cancellation_signal cancel;
  auto options = heatmap_options();
  options.workers = 2;
  options.queue_depth = queue_depth;
  std::uint64_t emitted_at = 0;
  scan_context context;
  context.progress_interval = std::chrono::milliseconds(0);  // every frame, to cancel at an exact count
  context.on_progress = [&](const scan_progress& p) {
    if (p.frames_done >= total / 2 && !emitted_at) {
      emitted_at = p.frames_done;
      cancel.emit(asio::cancellation_type::terminal);
    }
  };
  std::optional<std::pair<std::error_code, scan_result>> outcome;
  async_scan(io.get_executor(), source, options, std::move(context),
             asio::bind_cancellation_slot(
                 cancel.slot(), [&](std::error_code ec, scan_result r) { outcome.emplace(ec, std::move(r)); }));
  io.run();  // returns only when nothing of the scan is left: no stray work, no hang

  REQUIRE(outcome);
  const auto& [ec, result] = *outcome;
  CHECK(ec == errc::cancelled);
  CHECK(result.partial);
  const auto done = result.stats.frames.size() + result.stats.errors.size();
  CHECK(ec == std::errc::operation_canceled);  // as Asio's own cancelled operations compare
  CHECK(done >= total / 2);
  CHECK(done < total);
  // What the partial result does count, it counts exactly.
  const auto& full = serial_reference().stats.frames;
  std::uint64_t heat_frames = 0;
  for (const auto& row : result.stats.frames) {
    const auto it = std::ranges::find(full, row.path, &frame_row::path);
    REQUIRE(it != full.end());
    CHECK(*it == row);
  }
  for (const auto& [key, heat] : result.stats.heatmaps) heat_frames += heat.frames;
  CHECK(heat_frames == result.stats.frames.size());
}

TEST_CASE("a cancellation after the scan finished changes nothing", "[pipeline][api][cancel]") {
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::optional<std::pair<std::error_code, scan_result>> outcome;
  async_scan(io.get_executor(), dataset().source(), heatmap_options(),
             asio::bind_cancellation_slot(
                 cancel.slot(), [&](std::error_code ec, scan_result r) { outcome.emplace(ec, std::move(r)); }));
  io.run();
  cancel.emit(asio::cancellation_type::terminal);  // the slot was cleared: must be a no-op
  REQUIRE(outcome);
  CHECK_FALSE(outcome->first);
  CHECK_FALSE(outcome->second.partial);
  CHECK(outcome->second.stats == serial_reference().stats);
}

TEST_CASE("scanning an empty source completes at once with an empty result", "[pipeline][api]") {
  test::temp_dir empty;
  const auto result = scan(frame_source::from_directory(empty.path()), scan_options{});
  CHECK(result.stats.frames.empty());
  CHECK(result.stats.errors.empty());
  CHECK_FALSE(result.partial);
}

TEST_CASE("stop_on_error stops at the first bad file, names it, and what it counts is exact",
          "[pipeline][api][strict]") {
  const auto source = dataset().source();
  const bool serial = GENERATE(false, true);
  const unsigned workers = GENERATE(1u, 2u);
  const unsigned queue_depth = GENERATE(1u, 16u);
  CAPTURE(serial, workers, queue_depth);
  auto options = heatmap_options();
  options.stop_on_error = true;
  options.serial = serial;
  options.workers = workers;
  options.queue_depth = queue_depth;

  asio::io_context io;
  std::optional<std::pair<std::error_code, scan_result>> outcome;
  async_scan(io.get_executor(), source, options,
             [&](std::error_code ec, scan_result r) { outcome.emplace(ec, std::move(r)); });
  io.run();
  REQUIRE(outcome);
  const auto& [ec, result] = *outcome;
  CHECK(ec == errc::stopped_on_error);
  REQUIRE(!result.stopped_at.empty());
  const auto& errors = result.stats.errors;
  const auto bad = std::ranges::find(errors, result.stopped_at, &file_error::path);
  REQUIRE(bad != errors.end());
  CHECK(bad->path.starts_with("bad/"));
  CHECK(result.partial);
  const auto& full = serial_reference().stats;
  for (const auto& row : result.stats.frames) CHECK(std::ranges::find(full.frames, row) != full.frames.end());
  for (const auto& error : errors) CHECK(std::ranges::find(full.errors, error) != full.errors.end());
  if (serial || queue_depth == 1) {
    // One frame at a time, in name order: bad/ sorts first, so the scan stopped at its first file.
    CHECK(result.stopped_at == "bad/empty.png");
    CHECK(result.stats.frames.empty());
    CHECK(errors.size() == 1);
  }

  // The blocking form reports the stop in the result rather than throwing.
  const auto blocking = scan(source, options);
  CHECK(!blocking.stopped_at.empty());
}

TEST_CASE("an interrupted scan resumed with frame_source::remaining gives exactly the full result",
          "[pipeline][api][resume]") {
  const auto source = dataset().source();
  const auto total = source.size();
  const std::uint64_t stop_after = GENERATE(1u, 10u, 40u);
  CAPTURE(stop_after);

  asio::io_context io;
  asio::cancellation_signal cancel;
  auto options = heatmap_options();
  options.workers = 2;
  options.queue_depth = 4;
  scan_context context;
  context.progress_interval = std::chrono::milliseconds(0);
  context.on_progress = [&](const scan_progress& p) {
    if (p.frames_done == stop_after) cancel.emit(asio::cancellation_type::terminal);
  };
  std::optional<scan_result> first;
  async_scan(io.get_executor(), source, options, std::move(context),
             asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec, scan_result r) {
               CHECK(ec == errc::cancelled);
               first = std::move(r);
             }));
  io.run();
  REQUIRE(first);
  REQUIRE(first->partial);

  // What an interrupted run saves, a resumed one loads: through the state file.
  test::temp_dir dir;
  save_state(first->stats, dir / "s.state");
  const auto saved = load_state(dir / "s.state");
  CHECK(saved.partial);
  const auto rest = source.remaining(saved);
  CHECK(rest.size() == total - saved.frames.size());
  const auto rest_stats = scan(rest, options).stats;
  const auto done = complete_resumed(saved, rest_stats);
  CHECK_FALSE(done.partial);
  CHECK(done == serial_reference().stats);
  // A plain merge cannot know the rest completes the scan: it stays partial, as any merge of a part.
  auto merged = saved;
  merged.errors.clear();
  merge(merged, rest_stats);
  CHECK(merged.partial);
}

TEST_CASE("4 scans at once on one io_context each give the exact result", "[pipeline][api][env-faults][load]") {
  asio::io_context io;
  std::vector<std::optional<std::pair<std::error_code, scan_result>>> outcomes(4);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    auto o = heatmap_options();
    o.workers = 1 + static_cast<unsigned>(i % 2);
    o.io = i < 2 ? io_backend::automatic : io_backend::threads;
    async_scan(io.get_executor(), dataset().source(), o,
               [&, i](std::error_code ec, scan_result r) { outcomes[i].emplace(ec, std::move(r)); });
  }
  io.run();
  for (const auto& outcome : outcomes) {
    REQUIRE(outcome);
    CHECK_FALSE(outcome->first);
    CHECK(outcome->second.stats == serial_reference().stats);
  }
}

TEST_CASE("terminal and partial cancellation are honoured, total alone is not", "[pipeline][api][cancel]") {
  const auto type =
      GENERATE(asio::cancellation_type::terminal, asio::cancellation_type::partial, asio::cancellation_type::total);
  CAPTURE(static_cast<int>(type));
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::optional<std::pair<boost::system::error_code, scan_result>> outcome;
  async_scan(io.get_executor(), dataset().source(), heatmap_options(),
             asio::bind_cancellation_slot(cancel.slot(), [&](boost::system::error_code ec, scan_result r) {
               outcome.emplace(ec, std::move(r));
             }));
  cancel.emit(type);  // before any read was issued
  io.run();
  REQUIRE(outcome);
  const auto& [ec, result] = *outcome;
  if (type == asio::cancellation_type::total) {
    CHECK_FALSE(ec);
    CHECK_FALSE(result.partial);
    CHECK(result.stats == serial_reference().stats);
  } else {
    CHECK(ec == errc::cancelled);
    CHECK(result.partial);
    CHECK(result.stats.frames.empty());  // stopped before the first read
    CHECK(result.frames_total == dataset().source().size());
  }
}

TEST_CASE("as_tuple gives the partial result of a cancelled scan to a coroutine", "[pipeline][api][cancel]") {
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::optional<std::tuple<boost::system::error_code, scan_result>> outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto source = dataset().source();
        auto options = heatmap_options();
        options.queue_depth = 1;  // one frame at a time: progress (posted) keeps pace with the frames
        options.workers = 1;
        scan_context context;
        context.progress_interval = std::chrono::milliseconds(0);
        context.on_progress = [&](const scan_progress& p) {
          if (p.frames_done == 3) cancel.emit(asio::cancellation_type::terminal);
        };
        outcome = co_await async_scan(co_await asio::this_coro::executor, std::move(source), std::move(options),
                                      std::move(context),
                                      asio::as_tuple(asio::bind_cancellation_slot(cancel.slot(), asio::use_awaitable)));
      },
      asio::detached);
  io.run();
  REQUIRE(outcome);
  const auto& [ec, result] = *outcome;
  CHECK(ec == errc::cancelled);
  CHECK(result.partial);
  CHECK(result.stats.frames.size() + result.stats.errors.size() >= 3);
  for (const auto& row : result.stats.frames)
    CHECK(std::ranges::find(serial_reference().stats.frames, row) != serial_reference().stats.frames.end());
}

TEST_CASE("the handler's executor keeps outstanding work until the handler has run", "[pipeline][api]") {
  asio::io_context scan_io, handler_io;  // handler_io has nothing else to do
  std::optional<std::thread::id> called_on;
  std::thread handler_thread;
  async_scan(scan_io.get_executor(), dataset().source(), heatmap_options(),
             asio::bind_executor(handler_io, [&](boost::system::error_code ec, scan_result r) {
               CHECK_FALSE(ec);
               CHECK(r.stats == serial_reference().stats);
               called_on = std::this_thread::get_id();
             }));
  // Without the tracked work, this run() would return at once and the handler would never run.
  handler_thread = std::thread([&] { handler_io.run(); });
  const auto handler_thread_id = handler_thread.get_id();
  scan_io.run();
  handler_thread.join();
  REQUIRE(called_on);
  CHECK(*called_on == handler_thread_id);
}

TEST_CASE("progress is throttled, called on the caller's thread, and ends with the final counts", "[pipeline][api]") {
  asio::io_context io;
  const auto source = dataset().source();
  std::vector<scan_progress> calls;
  bool handler_ran = false, progress_after_handler = false;
  const auto caller = std::this_thread::get_id();
  scan_context context;
  context.progress_interval = std::chrono::milliseconds(100);
  context.on_progress = [&](const scan_progress& p) {
    CHECK(std::this_thread::get_id() == caller);
    progress_after_handler = progress_after_handler || handler_ran;
    calls.push_back(p);
  };
  scan_result result;
  auto options = heatmap_options();
  options.workers = 1;
  async_scan(io.get_executor(), source, options, std::move(context), [&](boost::system::error_code ec, scan_result r) {
    CHECK_FALSE(ec);
    handler_ran = true;
    result = std::move(r);
  });
  io.run();
  REQUIRE(handler_ran);
  CHECK_FALSE(progress_after_handler);
  REQUIRE(!calls.empty());
  CHECK(calls.back().frames_done == source.size());
  CHECK(calls.back().frames_skipped == result.stats.errors.size());
  CHECK(calls.back().frames_total == source.size());
  // At most one per 100 ms while frames finish (the first at once), plus the last call.
  CHECK(calls.size() <= 2 + static_cast<std::size_t>(result.wall_seconds / 0.1));
  CHECK(calls.size() < source.size());
  for (std::size_t i = 1; i < calls.size(); ++i) CHECK(calls[i].frames_done >= calls[i - 1].frames_done);
}

TEST_CASE("two concurrent scans on one compute_pool equal two separate blocking scans", "[pipeline][api][pool]") {
  compute_pool pool(2);
  CHECK(pool.size() == 2);
  asio::io_context io;
  auto grouped = heatmap_options();
  grouped.group_by = "^([^/]+)/";
  grouped.components = 8;
  const scan_options options[2] = {heatmap_options(), grouped};
  std::optional<scan_result> results[2];
  std::uint64_t frames_done[2] = {0, 0};
  std::optional<std::uint64_t> other_done_at_first_end;  // the other scan's progress when the first completed
  for (int i = 0; i < 2; ++i) {
    scan_context context;
    context.pool = &pool;
    context.progress_interval = std::chrono::milliseconds(0);
    context.on_progress = [&, i](const scan_progress& p) { frames_done[i] = p.frames_done; };
    async_scan(io.get_executor(), dataset().source(), options[i], std::move(context),
               [&, i](boost::system::error_code ec, scan_result r) {
                 CHECK_FALSE(ec);
                 if (!other_done_at_first_end) other_done_at_first_end = frames_done[1 - i];
                 results[i] = std::move(r);
               });
  }
  io.run();
  for (int i = 0; i < 2; ++i) {
    REQUIRE(results[i]);
    CHECK(results[i]->options.workers == 2);  // workers default to the pool's threads
    auto alone = options[i];
    CHECK(results[i]->stats == scan(dataset().source(), alone).stats);
  }
  // Shared first come, first served: neither scan waited for the other to finish.
  REQUIRE(other_done_at_first_end);
  CHECK(*other_done_at_first_end > 0);
}
