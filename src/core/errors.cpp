#include <maskscan/errors.hpp>

namespace maskscan {
namespace {
class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "maskscan"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::io_error: return "the file could not be read";
      case errc::file_too_large: return "the file is larger than the limit";
      case errc::not_png: return "not a PNG file";
      case errc::corrupt_png: return "corrupt PNG";
      case errc::image_too_large: return "the image has more pixels than the limit";
      case errc::unsupported_color_type: return "a colour PNG that cannot be read as a mask";
      case errc::cancelled: return "the scan was cancelled";
      case errc::not_fast_decodable: return "the fast decoder does not handle this PNG";
      case errc::stopped_on_error: return "the scan stopped at the first file that could not be scanned";
    }
    return "unknown maskscan error";
  }
  /// A cancelled scan compares equal to std::errc::operation_canceled, as Asio's cancelled operations do.
  bool equivalent(int code, const std::error_condition& condition) const noexcept override {
    if (static_cast<errc>(code) == errc::cancelled && condition == std::errc::operation_canceled) return true;
    return std::error_category::equivalent(code, condition);
  }
};
}  // namespace

const std::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::io_error: return "io_error";
    case errc::file_too_large: return "file_too_large";
    case errc::not_png: return "not_png";
    case errc::corrupt_png: return "corrupt_png";
    case errc::image_too_large: return "image_too_large";
    case errc::unsupported_color_type: return "unsupported_color_type";
    case errc::cancelled: return "cancelled";
    case errc::not_fast_decodable: return "not_fast_decodable";
    case errc::stopped_on_error: return "stopped_on_error";
  }
  return "unknown";
}

}  // namespace maskscan
