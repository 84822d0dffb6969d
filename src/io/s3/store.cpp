// The S3 store: ListObjectsV2 below a prefix into a frame_source (frame_source_from_s3), and the
// reader that GETs the objects, --io-depth at a time, on the scan's strand (http_client), each
// retried with backoff when the failure is one that passes.
#include <maskscan/reader.hpp>
#include <maskscan/s3.hpp>

#include <algorithm>
#include <ctime>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <maskscan/text.hpp>

#include "io/file_reader.hpp"
#include "io/s3/config.hpp"
#include "io/s3/http.hpp"
#include "io/s3/signing.hpp"

namespace maskscan {
namespace detail::s3 {
namespace asio = boost::asio;
namespace pt = boost::property_tree;

namespace {

/// SHA-256 of no bytes: the payload of every request here.
const std::string empty_payload = sha256_hex("");

/// A listing page is at most 1,000 keys of at most 1,024 bytes; an XML page above this is refused.
constexpr std::uint64_t max_page_bytes = 16ull << 20;

bool png_key(std::string_view key) {
  if (key.size() < 4 || key.ends_with('/')) return false;
  const auto ext = key.substr(key.size() - 4);
  return ext[0] == '.' && std::tolower(static_cast<unsigned char>(ext[1])) == 'p' &&
         std::tolower(static_cast<unsigned char>(ext[2])) == 'n' &&
         std::tolower(static_cast<unsigned char>(ext[3])) == 'g';
}

/// "2026-12-07T23:00:00.000Z" in nanoseconds since the epoch (0 if it does not parse).
std::int64_t parse_time(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return 0;
  std::int64_t ns = static_cast<std::int64_t>(::timegm(&tm)) * 1'000'000'000;
  if (in.peek() == '.') {
    in.get();
    std::int64_t scale = 100'000'000;
    for (int c = in.get(); c >= '0' && c <= '9'; c = in.get(), scale /= 10) ns += (c - '0') * scale;
  }
  return ns;
}

/// The Code and Message of an S3 error's XML, as "Code: Message" (empty if there are none).
std::string s3_error_words(const std::string& body) {
  if (body.empty()) return {};
  try {
    pt::ptree tree;
    std::istringstream in(body);
    pt::read_xml(in, tree);
    const auto code = tree.get<std::string>("Error.Code", "");
    const auto message = tree.get<std::string>("Error.Message", "");
    if (code.empty()) return message;
    return message.empty() ? code : fmt::format("{}: {}", code, message);
  } catch (const pt::ptree_error&) {
    return {};
  }
}

/// "HTTP 403 (AccessDenied: Access Denied)", or curl's words for a transport failure.
std::string describe(const http_response& r) {
  const auto words = s3_error_words(r.error_body);
  return words.empty() || r.curl_code ? r.describe() : fmt::format("{} ({})", r.describe(), words);
}

}  // namespace

/// The listed objects, by key relative to the prefix: each key and its ETag in one string of
/// characters, so a million objects take about 100 bytes each.
class object_index {
 public:
  struct entry {
    std::uint64_t begin = 0;  // of the key in chars_, its ETag right after it
    std::uint32_t key_size = 0;
    std::uint32_t etag_size = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
  };
  void add(std::string_view key, std::string_view etag, std::uint64_t size, std::int64_t mtime_ns) {
    entries_.push_back({chars_.size(), static_cast<std::uint32_t>(key.size()), static_cast<std::uint32_t>(etag.size()),
                        size, mtime_ns});
    chars_.append(key);
    chars_.append(etag);
  }
  void sort() {
    std::ranges::sort(entries_, {}, [this](const entry& e) { return key(e); });
  }
  const entry* find(std::string_view name) const {
    const auto it = std::ranges::lower_bound(entries_, name, {}, [this](const entry& e) { return key(e); });
    return it != entries_.end() && key(*it) == name ? &*it : nullptr;
  }
  std::string_view key(const entry& e) const { return std::string_view(chars_).substr(e.begin, e.key_size); }
  std::string_view etag(const entry& e) const {
    return std::string_view(chars_).substr(e.begin + e.key_size, e.etag_size);
  }
  const std::vector<entry>& entries() const { return entries_; }
  /// The entries `keep` is true of.
  template <typename Keep>
  object_index filtered(Keep keep) const {
    object_index out;
    for (const auto& e : entries_)
      if (keep(key(e))) out.add(key(e), etag(e), e.size, e.mtime_ns);
    return out;
  }
  void shrink() {
    chars_.shrink_to_fit();
    entries_.shrink_to_fit();
  }

 private:
  std::string chars_;
  std::vector<entry> entries_;
};

/// A bucket and the prefix below which the frames' keys are named, and how to send it requests.
struct bucket_access {
  connection conn;
  std::string bucket;
  std::string prefix;  ///< "" or ending in '/': a frame's key is prefix + its name
  object_index index;

  std::string where(std::string_view name = {}) const { return fmt::format("s3://{}/{}{}", bucket, prefix, name); }

  /// A signed (or anonymous) GET of `key` (a whole key, not relative), with `query`.
  http_request request(std::string_view key, std::vector<std::pair<std::string, std::string>> query,
                       std::uint64_t max_body) const {
    request_to_sign r;
    const std::string encoded = uri_encode(key, true);
    r.host = conn.path_style ? conn.authority : fmt::format("{}.{}", bucket, conn.authority);
    r.path = conn.path_style ? fmt::format("/{}/{}", bucket, encoded) : "/" + encoded;
    r.query = std::move(query);
    r.region = conn.region;
    r.payload_sha256 = empty_payload;
    r.time = std::chrono::system_clock::now();
    http_request out;
    const std::string q = canonical_query(r.query);
    out.url = fmt::format("{}://{}{}{}{}", conn.scheme, r.host, r.path, q.empty() ? "" : "?", q);
    out.max_body = max_body;
    out.timeout_seconds = conn.timeout_seconds;
    if (conn.key) out.headers = signed_headers(r, *conn.key);
    return out;
  }

  /// The GET of frame `e`: if the server still has the listed version (If-Match), its bytes.
  http_request object_request(const object_index::entry& e) const {
    auto out = request(prefix + std::string(index.key(e)), {}, e.size);
    if (e.etag_size) out.headers.push_back(fmt::format("If-Match: {}", index.etag(e)));
    return out;
  }
};

namespace {

/// An ETag without W/ and quotes: servers differ in how they quote it in a listing and a header.
std::string_view bare_etag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

/// What one attempt at a frame's GET came to.
struct verdict {
  enum kind { done, again, failed } what = done;
  std::string words;  // why not done
};

verdict judge(const bucket_access& access, const object_index::entry& e, const http_response& r,
              const std::vector<std::byte>& body) {
  const auto changed = [&](std::string why) {
    return verdict{verdict::failed, fmt::format("the object changed since it was listed ({}): it is not the "
                                                "version the listing counted on, so it is not scanned",
                                                why)};
  };
  if (r.too_long) return changed(fmt::format("it is longer than the {} bytes listed", e.size));
  if (r.status == 412)
    return changed("412 Precondition Failed: its ETag is no longer " + std::string(access.index.etag(e)));
  if (r.ok()) {
    if (!r.etag.empty() && e.etag_size && bare_etag(r.etag) != bare_etag(access.index.etag(e)))
      return changed(fmt::format("ETag {} now, {} when listed", r.etag, access.index.etag(e)));
    if (body.size() != e.size)
      return {verdict::again, fmt::format("the body ended after {} of the {} bytes listed", body.size(), e.size)};
    return {};
  }
  if (retryable(r)) return {verdict::again, describe(r)};
  if (r.status == 404)
    return {verdict::failed, fmt::format("the object is gone: {}; it was deleted since it was listed", describe(r))};
  if (r.status == 403) return {verdict::failed, fmt::format("access denied: {}", describe(r))};
  return {verdict::failed, describe(r)};
}

/// The listing's entry of frame `key`, with `version` set and `buffer` sized for it; or none, and
/// the error that refuses the frame before any GET (not listed, over --max-file-bytes).
std::pair<const object_index::entry*, std::error_code> listed(const bucket_access& access, const std::string& key,
                                                              std::uint64_t max_bytes, std::vector<std::byte>& buffer,
                                                              diagnostics& diag, frame_version& version) {
  const auto* e = access.index.find(key);
  if (!e) {
    diag.message = "the object is not in the listing";
    return {nullptr, make_error_code(errc::io_error)};
  }
  version = {e->size, e->mtime_ns};
  if (e->size > max_bytes) {
    diag.message = fmt::format("the object has {} bytes (listed), more than the limit of {} (--max-file-bytes)",
                               e->size, max_bytes);
    return {nullptr, make_error_code(errc::file_too_large)};
  }
  buffer.reserve(e->size);
  return {e, {}};
}

std::error_code give_up(const verdict& v, unsigned attempts, diagnostics& diag) {
  diag.message = v.what == verdict::failed || attempts == 1
                     ? fmt::format("cannot read the object: {}", v.words)
                     : fmt::format("cannot read the object: {} (after {} attempts)", v.words, attempts);
  return make_error_code(errc::io_error);
}

std::minstd_rand seeded_random() {
  return std::minstd_rand(static_cast<std::minstd_rand::result_type>(std::random_device{}()));
}

/// A request on this thread, made (and signed) again for each attempt by `make`, retried as the GETs are.
template <typename Make>
http_response perform_retried(const bucket_access& access, Make make, std::vector<std::byte>& body) {
  auto random = seeded_random();
  for (unsigned attempt = 0;; ++attempt) {
    auto r = perform_blocking(make(), body);
    if (r.ok() || !retryable(r) || attempt == access.conn.retries) return r;
    std::this_thread::sleep_for(backoff(attempt, random));
  }
}

/// %XX decoded (a listing's keys with encoding-type=url).
std::string percent_decoded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && digit(s[i + 1]) >= 0 && digit(s[i + 2]) >= 0) {
      out += static_cast<char>(digit(s[i + 1]) * 16 + digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// The listing of the frames below `access.prefix`, every page, into access.index; retried as the
/// GETs are. Throws std::runtime_error naming the bucket and the cause.
/// With `summaries`, it receives the keys (relative) of the summary.json files below the prefix,
/// except at its top.
void list_objects(bucket_access& access, std::string_view exact_key, std::vector<std::string>* summaries = nullptr) {
  std::string token;
  std::vector<std::byte> page;
  const std::string list_prefix = exact_key.empty() ? access.prefix : std::string(exact_key);
  do {
    // encoding-type=url: keys come percent-encoded, so that one holding a character XML 1.0 cannot
    // carry does not break the page (as the AWS CLI asks).
    std::vector<std::pair<std::string, std::string>> query = {
        {"list-type", "2"}, {"prefix", list_prefix}, {"encoding-type", "url"}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    // A bucket is listed at its root: the path of a path-style request is /bucket/, of a virtual one /.
    const auto r = perform_retried(
        access, [&] { return access.request("", query, max_page_bytes); }, page);
    if (!r.ok()) {
      std::string hint;
      if (r.status == 403)
        hint = access.conn.key ? fmt::format("; the key is from {}", access.conn.key_source)
                               : "; the requests were anonymous (--no-sign-request)";
      else if (r.status == 301 || r.status == 307)
        hint = "; the bucket is in another region: give --region (or AWS_REGION)";
      throw std::runtime_error(
          fmt::format("{}: cannot list the objects: {}{}{}", access.where(), describe(r), hint,
                      retryable(r) ? fmt::format(" (after {} attempts)", access.conn.retries + 1) : std::string()));
    }
    pt::ptree tree;
    try {
      std::istringstream in(std::string(reinterpret_cast<const char*>(page.data()), page.size()));
      pt::read_xml(in, tree);
    } catch (const pt::ptree_error& e) {
      throw std::runtime_error(
          fmt::format("{}: the listing is not the XML of ListObjectsV2: {}", access.where(), e.what()));
    }
    const auto* result = tree.get_child_optional("ListBucketResult").get_ptr();
    if (!result)
      throw std::runtime_error(
          fmt::format("{}: the listing is not the XML of ListObjectsV2 (no ListBucketResult)", access.where()));
    const bool encoded = result->get<std::string>("EncodingType", "") == "url";
    for (const auto& [tag, item] : *result) {
      if (tag != "Contents") continue;
      const auto key = encoded ? percent_decoded(item.get<std::string>("Key", "")) : item.get<std::string>("Key", "");
      if (!key.starts_with(access.prefix)) continue;
      const std::string_view name = std::string_view(key).substr(access.prefix.size());
      if (summaries && name.ends_with("/summary.json")) summaries->emplace_back(name);
      if (!exact_key.empty() ? key != exact_key : !png_key(key)) continue;
      access.index.add(name, item.get<std::string>("ETag", ""), item.get<std::uint64_t>("Size", 0),
                       parse_time(item.get<std::string>("LastModified", "")));
    }
    const bool truncated = result->get<std::string>("IsTruncated", "false") == "true";
    token = truncated ? result->get<std::string>("NextContinuationToken", "") : std::string();
    if (truncated && token.empty())
      throw std::runtime_error(
          fmt::format("{}: the listing says it goes on but gives no NextContinuationToken", access.where()));
  } while (!token.empty());
  access.index.sort();
  access.index.shrink();
}

/// Reads frames of one scan: each GET on `ex` through one http_client, retried after a backoff.
class s3_reader final : public frame_reader {
 public:
  s3_reader(std::shared_ptr<const bucket_access> access, const asio::any_io_executor& ex)
      : access_(std::move(access)), client_(ex), executor_(ex), random_(seeded_random()) {}

  asio::awaitable<std::error_code> read(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                        diagnostics& diag, frame_version& version) override {
    const auto [e, refused] = listed(*access_, key, max_bytes, buffer, diag, version);
    if (!e) co_return refused;
    for (unsigned attempt = 0;; ++attempt) {
      if (stopping_) co_return interrupted(diag);
      const auto request = access_->object_request(*e);
      const auto response = co_await client_.perform(request, buffer);
      const auto v = judge(*access_, *e, response, buffer);
      if (v.what == verdict::done) co_return std::error_code{};
      if (stopping_) co_return interrupted(diag);
      if (v.what == verdict::failed || attempt == access_->conn.retries) co_return give_up(v, attempt + 1, diag);
      asio::steady_timer wait(executor_, backoff(attempt, random_));
      waits_.insert(&wait);
      co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
      waits_.erase(&wait);
    }
  }
  io_backend backend() const noexcept override { return io_backend::store; }
  /// The scan stops: the GETs in flight and the waits before retries end now, as not read.
  void stop() noexcept override {
    stopping_ = true;
    client_.abort_all();
    for (auto* wait : waits_) wait->cancel();
  }

 private:
  static std::error_code interrupted(diagnostics& diag) {
    diag.message = "the scan was interrupted before the object was read (--resume reads it)";
    return make_error_code(errc::cancelled);
  }

  std::shared_ptr<const bucket_access> access_;
  http_client client_;
  asio::any_io_executor executor_;
  std::minstd_rand random_;
  bool stopping_ = false;                          // on the strand only
  std::unordered_set<asio::steady_timer*> waits_;  // the backoffs under way
};

class s3_store final : public frame_store {
 public:
  explicit s3_store(std::shared_ptr<const bucket_access> access) : access_(std::move(access)) {}
  std::unique_ptr<frame_reader> make_reader(const scan_options&, const asio::any_io_executor& ex) const override {
    return std::make_unique<s3_reader>(access_, ex);
  }
  std::error_code read_blocking(const std::string& key, std::vector<std::byte>& buffer, std::uint64_t max_bytes,
                                diagnostics& diag, frame_version& version) const override {
    const auto [e, refused] = listed(*access_, key, max_bytes, buffer, diag, version);
    if (!e) return refused;
    auto random = seeded_random();
    for (unsigned attempt = 0;; ++attempt) {
      const auto v = judge(*access_, *e, perform_blocking(access_->object_request(*e), buffer), buffer);
      if (v.what == verdict::done) return {};
      if (v.what == verdict::failed || attempt == access_->conn.retries) return give_up(v, attempt + 1, diag);
      std::this_thread::sleep_for(backoff(attempt, random));
    }
  }
  /// The version listed: a frame saved by an earlier scan is kept on --resume only if the object
  /// has the same size and LastModified now.
  std::optional<frame_version> version(const std::string& key) const override {
    const auto* e = access_->index.find(key);
    if (!e) return std::nullopt;
    return frame_version{e->size, e->mtime_ns};
  }

 private:
  std::shared_ptr<const bucket_access> access_;
};

}  // namespace
}  // namespace detail::s3

bool is_s3_url(std::string_view input) noexcept { return input.starts_with("s3://"); }

frame_source frame_source_from_s3(std::string_view url, const s3_options& options, const listing_options& listing) {
  namespace s3 = detail::s3;
  const auto where = s3::parse_url(url);
  auto access = std::make_shared<s3::bucket_access>();
  access->conn = s3::resolve(options, [](const char* name) { return std::getenv(name); });
  access->bucket = where.bucket;
  // A bucket name that is not one DNS label of lower case (dots, '_', capitals) is not a host name
  // the server's certificate covers: path-style, as the AWS CLI does.
  const bool dns_label = std::ranges::all_of(
      where.bucket, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
  if (options.addressing == s3_addressing::automatic && !dns_label) access->conn.path_style = true;
  // A prefix is a folder: "a" lists a/..., not ab/...; a prefix naming a PNG object is that frame.
  std::string single;
  if (!where.prefix.empty() && !where.prefix.ends_with('/') && s3::png_key(where.prefix)) {
    access->prefix = where.prefix.substr(0, where.prefix.rfind('/') + 1);  // its folder ("" at the top)
    s3::list_objects(*access, where.prefix);
    if (!access->index.entries().empty()) single = where.prefix;
  }
  if (single.empty()) {
    access->prefix = where.prefix.empty() || where.prefix.ends_with('/') ? where.prefix : where.prefix + "/";
    access->index = {};
    std::vector<std::string> summaries;
    s3::list_objects(*access, {}, listing.include_results ? nullptr : &summaries);
    // Folders that hold a maskscan summary.json are results (a report's pictures), not masks: left
    // out, as from_directory leaves them out. The start of each summary.json says whose it is.
    std::vector<std::string> results;
    for (const auto& summary : summaries) {
      std::vector<std::byte> head;
      const auto r = s3::perform_retried(
          *access,
          [&] {
            auto request = access->request(access->prefix + summary, {}, detail::summary_start_bytes);
            request.headers.push_back(fmt::format("Range: bytes=0-{}", detail::summary_start_bytes - 1));
            return request;
          },
          head);
      if (r.curl_code == 0 && (r.status == 200 || r.status == 206) &&
          detail::is_maskscan_summary_start({reinterpret_cast<const char*>(head.data()), head.size()}))
        results.push_back(summary.substr(0, summary.size() - std::string_view("summary.json").size()));
    }
    if (!results.empty()) {
      std::ranges::sort(results);
      // A folder inside another left out is not named apart.
      std::vector<std::string> outer;
      for (const auto& r : results)
        if (outer.empty() || !r.starts_with(outer.back())) outer.push_back(r);
      access->index = access->index.filtered([&](std::string_view key) {
        const auto it =
            std::ranges::upper_bound(outer, key, {}, [](const std::string& d) { return std::string_view(d); });
        return it == outer.begin() || !key.starts_with(*std::prev(it));
      });
      if (listing.left_out)
        for (auto& r : outer) listing.left_out->push_back(r.substr(0, r.size() - 1));
    }
  }
  std::vector<std::string> keys;
  keys.reserve(access->index.entries().size());
  for (const auto& e : access->index.entries()) keys.emplace_back(access->index.key(e));
  auto location = access->where();
  return frame_source::from_store(std::make_shared<s3::s3_store>(std::move(access)), std::move(keys),
                                  std::move(location));
}

}  // namespace maskscan
