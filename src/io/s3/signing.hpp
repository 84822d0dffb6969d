#pragma once
// AWS Signature Version 4 for S3 requests (header-based, unsigned or empty payload). Written here
// rather than taken from libcurl's CURLOPT_AWS_SIGV4: curl 7.88 (Debian 12) signs the query string
// in the order given, where SigV4 sorts it (curl issue 9717), and sends no x-amz-content-sha256,
// which S3 and S3-compatible servers require (curl issue 8810). OpenSSL, which libcurl already
// links, gives SHA-256 and HMAC.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace maskscan::detail::s3 {

/// An access key: the key id, its secret and, for temporary credentials, the session token.
struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

/// One request to sign. `path` is the URI path as sent (already uri_encode'd, '/' kept);
/// `query` holds the parameters unencoded, in any order.
struct request_to_sign {
  std::string method = "GET";
  std::string host;  ///< the Host header as sent: with ":port" when the URL names a port
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::string region;
  std::string payload_sha256;  ///< hex SHA-256 of the body (the empty string's for a GET)
  std::chrono::system_clock::time_point time;
};

/// RFC 3986 percent-encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - . _ ~ (and '/' when
/// `keep_slash`) becomes %XX with upper-case hex.
std::string uri_encode(std::string_view text, bool keep_slash);

/// The query string of `query`, sorted by name then value and encoded: what is both sent and signed.
std::string canonical_query(std::vector<std::pair<std::string, std::string>> query);

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

/// The headers that sign `request` with `key`: x-amz-date, x-amz-content-sha256,
/// x-amz-security-token (with a session token) and Authorization, as "Name: value" lines.
std::vector<std::string> signed_headers(const request_to_sign& request, const credentials& key);

/// The canonical request and the signature, for tests against AWS's published examples.
struct signature_parts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};
signature_parts sign(const request_to_sign& request, const credentials& key);

}  // namespace maskscan::detail::s3
