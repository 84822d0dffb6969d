#pragma once
// What an S3 scan connects to and signs with: s3_options completed from the environment and the
// AWS CLI's files (~/.aws/credentials, ~/.aws/config), as the AWS CLI and SDKs read them.
#include <functional>
#include <optional>
#include <string>

#include <maskscan/s3.hpp>

#include "io/s3/signing.hpp"

namespace maskscan::detail::s3 {

/// An environment variable's value, or null (std::getenv; tests pass their own).
using environment = std::function<const char*(const char*)>;

struct connection {
  std::string scheme;     ///< "http" or "https"
  std::string authority;  ///< host[:port] of the endpoint (without the bucket)
  std::string region;
  bool path_style = true;
  std::optional<credentials> key;  ///< none: anonymous requests
  std::string key_source;          ///< where the key came from, for error messages
  unsigned retries = 5;
  unsigned timeout_seconds = 30;
};

/// `options` completed: endpoint, region, addressing and credentials. Throws std::invalid_argument
/// for a malformed endpoint or options, and std::runtime_error naming what was looked at when
/// signed requests are asked for and no key is found, or a named profile does not exist.
connection resolve(const s3_options& options, const environment& env);

/// "s3://bucket/prefix" split; the bucket is checked (letters, digits, '.', '-' and '_'; the length is
/// the server's to judge). Throws std::invalid_argument naming the URL.
struct location {
  std::string bucket;
  std::string prefix;
};
location parse_url(std::string_view url);

}  // namespace maskscan::detail::s3
