// The store of frames held in memory (frame_source::from_memory): PNG bytes by key, read with no I/O.
#include <maskscan/reader.hpp>
#include <maskscan/source.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include <maskscan/text.hpp>

namespace maskscan {
namespace {

using frame_map = std::map<std::string, std::vector<std::byte>>;

std::error_code copy_frame(const frame_map& frames, const std::string& key, std::vector<std::byte>& buffer,
                           std::uint64_t max_bytes, diagnostics& diag, frame_version& version) {
  const auto it = frames.find(key);
  if (it == frames.end()) {
    diag.message = "cannot open the frame: no such key in memory";
    return make_error_code(errc::io_error);
  }
  version = {it->second.size(), 0};
  if (it->second.size() > max_bytes) {
    diag.message = fmt::format("the file has {} bytes, more than the limit of {} (--max-file-bytes)", it->second.size(),
                               max_bytes);
    return make_error_code(errc::file_too_large);
  }
  buffer.assign(it->second.begin(), it->second.end());
  return {};
}

class memory_reader final : public frame_reader {
 public:
  explicit memory_reader(std::shared_ptr<const frame_map> frames) : frames_(std::move(frames)) {}
  boost::asio::awaitable<std::error_code> read(const std::string& key, std::vector<std::byte>& buffer,
                                               std::uint64_t max_bytes, diagnostics& diag,
                                               frame_version& version) override {
    co_return copy_frame(*frames_, key, buffer, max_bytes, diag, version);
  }
  io_backend backend() const noexcept override { return io_backend::store; }

 private:
  std::shared_ptr<const frame_map> frames_;
};

class memory_store final : public frame_store {
 public:
  explicit memory_store(frame_map frames) : frames_(std::make_shared<const frame_map>(std::move(frames))) {}
  std::unique_ptr<frame_reader> make_reader(const scan_options&, const boost::asio::any_io_executor&) const override {
    return std::make_unique<memory_reader>(frames_);
  }
  std::error_code read_blocking(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                diagnostics& diag, frame_version& version) const override {
    return copy_frame(*frames_, key, buffer, max_bytes, diag, version);
  }
  std::optional<frame_version> version(const std::string& key) const override {
    const auto it = frames_->find(key);
    if (it == frames_->end()) return std::nullopt;
    return frame_version{it->second.size(), 0};
  }

 private:
  std::shared_ptr<const frame_map> frames_;
};

}  // namespace

frame_source frame_source::from_memory(std::map<std::string, std::vector<std::byte>> frames, std::string location) {
  std::vector<std::string> keys;
  keys.reserve(frames.size());
  for (const auto& [key, bytes] : frames) {
    if (key.empty()) throw std::invalid_argument("frame_source::from_memory: a frame has an empty key");
    keys.push_back(key);
  }
  return from_store(std::make_shared<memory_store>(std::move(frames)), std::move(keys), std::move(location));
}

}  // namespace maskscan
