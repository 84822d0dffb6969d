#pragma once
// Frames in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, GCS's S3 interface):
// frame_source_from_s3("s3://bucket/prefix/", options) lists the PNG objects below the prefix and
// scans them like files, read concurrently over HTTP(S) on the scan's own io_context.
#include <cstdint>
#include <string>
#include <string_view>

#include <maskscan/source.hpp>

namespace maskscan {

/// How a bucket is named in a request's URL.
enum class s3_addressing {
  automatic,     ///< virtual-hosted on AWS, path-style with an endpoint_url (what MinIO and Ceph expect)
  path,          ///< http://endpoint/bucket/key
  virtual_host,  ///< http://bucket.endpoint/key
};

/// Where the objects are and how to reach them. Empty strings take the AWS CLI's defaults.
struct s3_options {
  /// The server, e.g. http://127.0.0.1:9000 for MinIO. Empty: $AWS_ENDPOINT_URL_S3, else
  /// $AWS_ENDPOINT_URL, else AWS (https://s3.<region>.amazonaws.com). With automatic addressing,
  /// a bucket name that is not a DNS label (dots, '_', capitals) is addressed path-style.
  std::string endpoint_url;
  /// Empty: $AWS_REGION, else $AWS_DEFAULT_REGION, else the profile's region in ~/.aws/config,
  /// else us-east-1.
  std::string region;
  /// The profile of ~/.aws/credentials (and ~/.aws/config) to take keys from, even when keys are in
  /// the environment. Empty: the keys in $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY
  /// ($AWS_SESSION_TOKEN), else the profile $AWS_PROFILE, else "default" (as botocore reads them).
  /// Instance roles, SSO and credential_process are not read.
  std::string profile;
  s3_addressing addressing = s3_addressing::automatic;
  /// False: anonymous requests, for public buckets (the AWS CLI's --no-sign-request).
  bool sign = true;
  /// Attempts after the first for a request that failed on the way (5xx, 429, 503 SlowDown, a
  /// timeout, a connection reset, a body cut short): each after an exponential backoff with full
  /// jitter (0.1 s doubling, at most 10 s). 403, 404 and other client errors are never retried.
  unsigned retries = 5;
  /// Seconds a request may go without receiving a byte (and the most a connection may take to be
  /// made) before it is abandoned, and retried. 1 to 3600.
  unsigned timeout_seconds = 30;
};

inline constexpr unsigned max_s3_retries = 100;

/// Whether `input` names objects in S3 (starts with "s3://").
bool is_s3_url(std::string_view input) noexcept;

/// The PNG objects (*.png, any letter case) below the prefix of `url` ("s3://bucket/prefix/"; a
/// prefix is a folder, so "s3://bucket/a" lists a/..., not ab/...; "s3://bucket/a/f.png" is one
/// frame), each named by its key relative to the prefix, so frames.csv, errors and groups read as
/// for a local copy of the prefix. As from_directory, folders holding a maskscan summary.json are
/// left out unless `listing.include_results` (`listing.left_out` receives them, relative to the
/// prefix); `listing.exclude` (local paths) does not apply. The listing (ListObjectsV2, every page)
/// happens here; each frame is later read with the size, ETag and time it was listed with: an
/// object over --max-file-bytes is refused before its GET, and one whose ETag changed since is a
/// per-frame error. Throws std::invalid_argument for a malformed URL or options, and
/// std::runtime_error naming the bucket and the cause when it cannot be listed (no credentials,
/// 403, no such bucket, the server unreachable after the retries).
frame_source frame_source_from_s3(std::string_view url, const s3_options& options = {},
                                  const listing_options& listing = {});

}  // namespace maskscan
