#pragma once
// Runs a function on another executor (a compute strand, a blocking-I/O pool) and completes on
// the caller's executor: the one hop between the I/O side and the compute side of the pipeline.
#include <exception>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

namespace maskscan::detail {

/// Completion signature `void(std::exception_ptr, R)` where R is fn's result: an exception thrown
/// by fn is delivered to the caller (with use_awaitable it is rethrown at the co_await).
template <class Executor, class F, class CompletionToken>
auto async_run_on(Executor where, F fn, CompletionToken&& token) {
  using result_type = std::invoke_result_t<F&>;
  return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, result_type)>(
      [](auto handler, Executor target, F work) {
        // Keep the caller's executor busy while the work is away, so its run() does not return.
        auto home = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                        boost::asio::execution::outstanding_work.tracked);
        boost::asio::post(target, [handler = std::move(handler), work = std::move(work), home]() mutable {
          std::exception_ptr error;
          result_type result{};
          try {
            result = work();
          } catch (...) {
            error = std::current_exception();
          }
          boost::asio::post(home, [handler = std::move(handler), error, result = std::move(result)]() mutable {
            std::move(handler)(error, std::move(result));
          });
        });
      },
      token, std::move(where), std::move(fn));
}

}  // namespace maskscan::detail
