#include <cstdio>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <maskscan/scan.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  boost::asio::io_context io;
  int frames = -1;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        // Named arguments, not temporaries: GCC 12 can destroy a temporary of a co_await
        // full-expression twice (a GCC 12 coroutine bug), which crashed this program at -O0.
        auto source = maskscan::frame_source::from_directory(argv[1]);
        maskscan::scan_options options;
        // use_awaitable throws boost::system::system_error if the scan fails.
        auto result = co_await maskscan::async_scan(io.get_executor(), std::move(source), std::move(options),
                                                    boost::asio::use_awaitable);
        frames = static_cast<int>(result.stats.frames.size());
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  std::printf("%d\n", frames);
  return frames > 0 ? 0 : 1;
}
