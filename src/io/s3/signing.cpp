#include "io/s3/signing.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

namespace maskscan::detail::s3 {
namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  return out;
}

using digest = std::array<unsigned char, 32>;

digest hmac(std::string_view key, std::string_view text) {
  digest out{};
  unsigned size = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
            text.size(), out.data(), &size) ||
      size != out.size())
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  return out;
}

std::string_view view(const digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

/// "20130524T000000Z" and "20130524" of `time`, in UTC.
std::pair<std::string, std::string> amz_date(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return {stamp, std::string(stamp, 8)};
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
        u == '_' || u == '~' || (keep_slash && u == '/')) {
      out += c;
    } else {
      out += '%';
      out += digits[u >> 4];
      out += digits[u & 15];
    }
  }
  return out;
}

std::string canonical_query(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [name, value] : query) {
    name = uri_encode(name, false);
    value = uri_encode(value, false);
  }
  std::ranges::sort(query);  // by encoded name, then value, as SigV4 sorts them
  std::string out;
  for (const auto& [name, value] : query) out += fmt::format("{}{}={}", out.empty() ? "" : "&", name, value);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return hex(out, sizeof out);
}

signature_parts sign(const request_to_sign& request, const credentials& key) {
  const auto [stamp, date] = amz_date(request.time);
  // Header names sorted: host < x-amz-content-sha256 < x-amz-date < x-amz-security-token.
  std::string headers =
      fmt::format("host:{}\nx-amz-content-sha256:{}\nx-amz-date:{}\n", request.host, request.payload_sha256, stamp);
  std::string names = "host;x-amz-content-sha256;x-amz-date";
  if (!key.session_token.empty()) {
    headers += fmt::format("x-amz-security-token:{}\n", key.session_token);
    names += ";x-amz-security-token";
  }
  signature_parts parts;
  parts.canonical_request =
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, request.path.empty() ? "/" : request.path,
                  canonical_query(request.query), headers, names, request.payload_sha256);
  const std::string scope = fmt::format("{}/{}/s3/aws4_request", date, request.region);
  parts.string_to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", stamp, scope, sha256_hex(parts.canonical_request));
  const digest k_date = hmac("AWS4" + key.secret_access_key, date);
  const digest k_region = hmac(view(k_date), request.region);
  const digest k_service = hmac(view(k_region), "s3");
  const digest k_signing = hmac(view(k_service), "aws4_request");
  const digest signature = hmac(view(k_signing), parts.string_to_sign);
  parts.signature = hex(signature.data(), signature.size());
  return parts;
}

std::vector<std::string> signed_headers(const request_to_sign& request, const credentials& key) {
  const auto parts = sign(request, key);
  const auto [stamp, date] = amz_date(request.time);
  std::vector<std::string> out = {
      fmt::format("x-amz-date: {}", stamp),
      fmt::format("x-amz-content-sha256: {}", request.payload_sha256),
  };
  std::string names = "host;x-amz-content-sha256;x-amz-date";
  if (!key.session_token.empty()) {
    out.push_back(fmt::format("x-amz-security-token: {}", key.session_token));
    names += ";x-amz-security-token";
  }
  out.push_back(
      fmt::format("Authorization: AWS4-HMAC-SHA256 Credential={}/{}/{}/s3/aws4_request, SignedHeaders={}, "
                  "Signature={}",
                  key.access_key_id, date, request.region, names, parts.signature));
  return out;
}

}  // namespace maskscan::detail::s3
