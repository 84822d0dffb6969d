#pragma once
// Test-only stores behind the library's frame_store interface: synthetic frames held in memory, and a
// store that adds a fixed latency to every read of another (a slow disk or a remote store), for
// tune's checks and bench/tune_grid.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <maskscan/reader.hpp>
#include <maskscan/source.hpp>
#include <maskscan/synth.hpp>

namespace maskscan::test {

/// `count` synthetic WoodScape-like frames of width x height as 8-bit PNG bytes, keyed 00000.png, ...
inline std::map<std::string, std::vector<std::byte>> synthetic_frames(std::size_t count, std::uint32_t width,
                                                                      std::uint32_t height, std::uint64_t seed = 7) {
  std::map<std::string, std::vector<std::byte>> frames;
  for (std::size_t i = 0; i < count; ++i) {
    const auto png = encode_gray8_png(synth_mask(seed, i, width, height), width, height, png_filter::adaptive, 6);
    const auto* data = reinterpret_cast<const std::byte*>(png.data());
    frames[fmt::format("{:05}.png", i)] = std::vector<std::byte>(data, data + png.size());
  }
  return frames;
}

/// Every read of `inner` waits `latency` first; reads in flight wait side by side, as on storage whose
/// requests take long but overlap (so io_depth decides the rate).
class slow_store final : public frame_store {
 public:
  slow_store(std::shared_ptr<const frame_store> inner, std::chrono::microseconds latency)
      : inner_(std::move(inner)), latency_(latency) {}

  std::unique_ptr<frame_reader> make_reader(const scan_options& options,
                                            const boost::asio::any_io_executor& ex) const override {
    return std::make_unique<reader>(inner_->make_reader(options, ex), ex, latency_);
  }
  std::error_code read_blocking(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                diagnostics& diag, frame_version& version) const override {
    std::this_thread::sleep_for(latency_);
    return inner_->read_blocking(key, buffer, max_bytes, diag, version);
  }
  std::optional<frame_version> version(const std::string& key) const override { return inner_->version(key); }

  /// The frames of `source` behind a latency of `latency` per read.
  static frame_source over(const frame_source& source, std::chrono::microseconds latency) {
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < source.size(); ++i) keys.push_back(source.name(i));
    return frame_source::from_store(std::make_shared<slow_store>(source.store(), latency), std::move(keys));
  }

 private:
  class reader final : public frame_reader {
   public:
    reader(std::unique_ptr<frame_reader> inner, boost::asio::any_io_executor ex, std::chrono::microseconds latency)
        : inner_(std::move(inner)), ex_(std::move(ex)), latency_(latency) {}
    boost::asio::awaitable<std::error_code> read(const std::string& key, std::vector<std::byte>& buffer,
                                                 std::uint64_t max_bytes, diagnostics& diag,
                                                 frame_version& version) override {
      boost::asio::steady_timer timer(ex_, latency_);
      co_await timer.async_wait(boost::asio::use_awaitable);
      co_return co_await inner_->read(key, buffer, max_bytes, diag, version);
    }
    io_backend backend() const noexcept override { return inner_->backend(); }

   private:
    std::unique_ptr<frame_reader> inner_;
    boost::asio::any_io_executor ex_;
    std::chrono::microseconds latency_;
  };

  std::shared_ptr<const frame_store> inner_;
  std::chrono::microseconds latency_;
};

}  // namespace maskscan::test
