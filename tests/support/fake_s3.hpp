#pragma once
// A small S3 look-alike in the test process (Beast on a thread of its own, loopback): ListObjectsV2 in
// pages of a few keys, GET of objects with If-Match, and faults injected per key. The real server
// (s3rver) and signature checks are tests/io/test_s3_scan.py's; this one lets the reader's HTTP
// machinery run inside the sanitized test binary.
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace maskscan::test {

class fake_s3 {
 public:
  enum class fault { status_503, status_500, status_404, drop, truncate, stall };

  /// Serves `objects` (key -> bytes) of bucket `bucket`, listing `page_size` keys a page.
  fake_s3(std::string bucket, std::map<std::string, std::string> objects, std::size_t page_size = 3)
      : bucket_(std::move(bucket)), objects_(std::move(objects)), page_size_(page_size) {
    acceptor_.open(boost::asio::ip::tcp::v4());
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    boost::asio::co_spawn(io_, listen(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~fake_s3() {
    io_.stop();
    thread_.join();
  }
  fake_s3(const fake_s3&) = delete;
  fake_s3& operator=(const fake_s3&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  /// The next `times` GETs of `key` ("" : the listing) meet `f`.
  void inject(const std::string& key, fault f, unsigned times) {
    std::lock_guard lock(mutex_);
    faults_[key] = {f, times};
  }
  /// Replaces an object's bytes (its ETag changes with them).
  void put(const std::string& key, std::string bytes) {
    std::lock_guard lock(mutex_);
    objects_[key] = std::move(bytes);
  }
  /// GETs of `key` so far ("": listing pages).
  unsigned requests(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = requests_.find(key);
    return it == requests_.end() ? 0 : it->second;
  }

  static std::string etag_of(const std::string& bytes) {
    return "\"" + std::to_string(std::hash<std::string>{}(bytes)) + "-" + std::to_string(bytes.size()) + "\"";
  }

 private:
  using tcp = boost::asio::ip::tcp;

  static std::string decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  static std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '&')
        out += "&amp;";
      else if (c == '<')
        out += "&lt;";
      else if (c == '>')
        out += "&gt;";
      else if (c == '"')
        out += "&quot;";
      else
        out += c;
    }
    return out;
  }
  static std::map<std::string, std::string> query_of(std::string_view q) {
    std::map<std::string, std::string> out;
    while (!q.empty()) {
      const auto amp = q.find('&');
      const auto part = q.substr(0, amp);
      const auto eq = part.find('=');
      out[decode(part.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(part.substr(eq + 1));
      q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    }
    return out;
  }

  boost::asio::awaitable<void> listen() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      boost::asio::co_spawn(io_, session(std::move(socket)), boost::asio::detached);
    }
  }

  /// What the request for `key` meets: a fault, or nothing.
  std::optional<fault> take_fault(const std::string& key) {
    std::lock_guard lock(mutex_);
    ++requests_[key];
    const auto it = faults_.find(key);
    if (it == faults_.end() || it->second.second == 0) return std::nullopt;
    --it->second.second;
    return it->second.first;
  }

  boost::asio::awaitable<void> session(tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::empty_body> request;
      auto [ec, n] =
          co_await http::async_read(socket, buffer, request, boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      const std::string_view target = request.target();
      const auto q = target.find('?');
      const std::string path = decode(target.substr(0, q));
      const auto query = query_of(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
      const std::string root = "/" + bucket_ + "/";
      http::response<http::string_body> response{http::status::ok, 11};
      response.set(http::field::content_type, "application/xml");
      std::string key;
      if (path == root || path == "/" + bucket_) {
        key = "";
      } else if (path.starts_with(root)) {
        key = path.substr(root.size());
      } else {
        response.result(http::status::not_found);
        response.body() =
            "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        response.prepare_payload();
        co_await http::async_write(socket, response, boost::asio::as_tuple(boost::asio::use_awaitable));
        continue;
      }
      const auto f = take_fault(key);
      if (f == fault::drop) co_return;  // closed with no response
      if (f == fault::stall) {          // no byte for a minute, then the response
        boost::asio::steady_timer wait(io_, std::chrono::seconds(60));
        co_await wait.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      if (f == fault::status_503 || f == fault::status_500 || f == fault::status_404) {
        response.result(f == fault::status_503 ? 503 : f == fault::status_500 ? 500 : 404);
        response.body() =
            f == fault::status_503 ? "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
            : f == fault::status_500
                ? "<Error><Code>InternalError</Code><Message>oops</Message></Error>"
                : "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
        response.prepare_payload();
        co_await http::async_write(socket, response, boost::asio::as_tuple(boost::asio::use_awaitable));
        continue;
      }
      std::string body;
      {
        std::lock_guard lock(mutex_);
        if (key.empty()) {
          body = listing(query);
        } else if (const auto it = objects_.find(key); it == objects_.end()) {
          response.result(http::status::not_found);
          body = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
        } else if (const auto match = request[http::field::if_match]; !match.empty() && match != etag_of(it->second)) {
          response.result(http::status::precondition_failed);
          body =
              "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not "
              "hold</Message></Error>";
        } else {
          body = it->second;
          response.set(http::field::etag, etag_of(it->second));
          response.set(http::field::content_type, "image/png");
        }
      }
      if (f == fault::truncate) {  // the whole length announced, half the body sent, the connection closed
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        co_await boost::asio::async_write(socket, boost::asio::buffer(head + body.substr(0, body.size() / 2)),
                                          boost::asio::as_tuple(boost::asio::use_awaitable));
        co_return;
      }
      response.body() = std::move(body);
      response.prepare_payload();
      co_await http::async_write(socket, response, boost::asio::as_tuple(boost::asio::use_awaitable));
    }
  }

  /// A ListObjectsV2 page: keys after the continuation token (a key, as this server makes them).
  std::string listing(const std::map<std::string, std::string>& query) const {
    const auto get = [&](const char* name) {
      const auto it = query.find(name);
      return it == query.end() ? std::string() : it->second;
    };
    const std::string prefix = get("prefix"), token = get("continuation-token");
    std::string contents, last;
    std::size_t count = 0;
    bool more = false;
    for (auto it = token.empty() ? objects_.begin() : objects_.upper_bound(token); it != objects_.end(); ++it) {
      if (!it->first.starts_with(prefix)) continue;
      if (count == page_size_) {
        more = true;
        break;
      }
      ++count;
      last = it->first;
      contents += "<Contents><Key>" + xml_escape(it->first) +
                  "</Key><LastModified>2026-01-02T03:04:05.678Z</LastModified><ETag>" +
                  xml_escape(etag_of(it->second)) + "</ETag><Size>" + std::to_string(it->second.size()) +
                  "</Size><StorageClass>STANDARD</StorageClass></Contents>";
    }
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
           "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<Name>" +
           bucket_ + "</Name><Prefix>" + xml_escape(prefix) + "</Prefix><KeyCount>" + std::to_string(count) +
           "</KeyCount><MaxKeys>" + std::to_string(page_size_) + "</MaxKeys><IsTruncated>" + (more ? "true" : "false") +
           "</IsTruncated>" + contents +
           (more ? "<NextContinuationToken>" + xml_escape(last) + "</NextContinuationToken>" : std::string()) +
           "</ListBucketResult>";
  }

  std::string bucket_;
  std::map<std::string, std::string> objects_;
  std::size_t page_size_;
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<fault, unsigned>> faults_;
  std::map<std::string, unsigned> requests_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

}  // namespace maskscan::test
