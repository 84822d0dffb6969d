// `maskscan serve` in-process (src/service/server.cpp): a real server on an ephemeral loopback port,
// driven by a Beast client. Its files must be those the library writes for the same scan; it
// survives a restart on its state directory, and stops (cancelling a scan) when asked.
#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <maskscan/output.hpp>
#include <maskscan/report.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/synth.hpp>

#include "service/server.hpp"
#include "support/browser.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
namespace fs = std::filesystem;
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::ip::tcp;

struct reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  json::value json() const { return json::parse(body); }
};

/// One HTTP/1.1 connection to the service (keep-alive: several requests on it).
class client {
 public:
  explicit client(unsigned short port) : socket_(io_) {
    socket_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }
  reply request(http::verb method, const std::string& target, const std::string& body = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(socket_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 30);
    http::read(socket_, buffer_, parser);
    reply r;
    r.status = parser.get().result_int();
    for (const auto& field : parser.get()) r.headers[std::string(field.name_string())] = std::string(field.value());
    r.body = parser.get().body();
    return r;
  }

 private:
  boost::asio::io_context io_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

/// The service on its own thread, stopped and joined at scope exit.
class running_server {
 public:
  explicit running_server(service::server_config config) : server_(std::move(config)) {
    thread_ = std::thread([this] { server_.run(); });
  }
  ~running_server() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }
  unsigned short port() const { return server_.port(); }

 private:
  service::server server_;
  std::thread thread_;
};

struct dataset {
  test::temp_dir dir;
  fs::path root, state;
  dataset(std::uint64_t frames = 24, std::uint32_t width = 320, std::uint32_t height = 240) {
    root = fs::canonical(dir.path()) / "root";
    state = fs::canonical(dir.path()) / "state";
    synthesize_dataset(
        root / "ws" / "semantic_annotations" / "gtLabels",
        {.frames = frames, .width = width, .height = height, .seed = 7, .rgb_dir = root / "ws" / "rgb_images"});
  }
  service::server_config config() const {
    service::server_config c;
    c.root = root;
    c.state_dir = state;
    c.listen = "127.0.0.1:0";
    c.compute_threads = 2;
    return c;
  }
};

/// Polls GET /scans/{id} until the scan has ended; its record.
json::object wait_ended(client& c, const std::string& location) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    const auto r = c.request(http::verb::get, location);
    REQUIRE(r.status == 200);
    auto record = r.json().as_object();
    const std::string state(record.at("state").as_string());
    if (state != "queued" && state != "running") return record;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

template <class Write>
std::string bytes_of(Write&& write) {
  std::ostringstream out;
  write(out);
  return std::move(out).str();
}

}  // namespace

TEST_CASE("service: a scan's files are the library's for the same frames and options", "[service]") {
  dataset d;
  running_server s(d.config());
  client c(s.port());
  const auto posted = c.request(http::verb::post, "/scans",
                                R"({"path": "ws/semantic_annotations/gtLabels",
                                    "options": {"heatmaps": true, "labels": "woodscape", "repeat_threshold": 0.5}})");
  INFO(posted.body);
  REQUIRE(posted.status == 202);
  REQUIRE(posted.headers.at("Location") == "/scans/1");
  const auto record = wait_ended(c, "/scans/1");
  REQUIRE(record.at("state").as_string() == "done");

  // The same scan through the library's blocking API, and its writers.
  scan_options options;
  options.heatmaps = true;
  use_class_map(options, class_map_named("woodscape"));
  balance_options balance;
  balance.repeat_threshold = 0.5;
  const auto input = d.root / "ws/semantic_annotations/gtLabels";
  const auto expected = scan(frame_source::from_directory(input), options);
  REQUIRE(expected.stats.frames.size() == 24);

  const auto file = [&](const std::string& name) {
    const auto r = c.request(http::verb::get, "/scans/1/files/" + name);
    INFO(name << ": " << r.status);
    REQUIRE(r.status == 200);
    CHECK(r.headers.at("Content-Length") == std::to_string(r.body.size()));
    return r;
  };
  const auto frames = file("frames.csv");
  CHECK(frames.headers.at("Content-Type") == "text/csv; charset=utf-8");
  CHECK(frames.body == bytes_of([&](std::ostream& o) { write_frames_csv(expected.stats, o, balance); }));
  CHECK(file("weights.csv").body == bytes_of([&](std::ostream& o) { write_weights_csv(expected.stats, balance, o); }));
  CHECK(file("cooccurrence.csv").body == bytes_of([&](std::ostream& o) { write_cooccurrence_csv(expected.stats, o); }));
  const auto summary = file("summary.json");
  CHECK(summary.headers.at("Content-Type") == "application/json");
  CHECK(test::summary_data(summary.body) ==
        test::summary_data(bytes_of([&](std::ostream& o) { write_summary_json(expected, o, balance); })));
  CHECK(record.at("summary").as_object() == json::parse(summary.body).as_object());
  CHECK(json::parse(summary.body).at("input").as_string() == input.string());

  REQUIRE(expected.stats.heatmaps.size() == 1);
  const auto& heat = expected.stats.heatmaps.begin()->second;
  test::temp_dir npy;
  write_heatmap_npy(heat, expected.stats.class_names.size(), npy / "h.npy");
  const auto served = file("heatmaps_320x240.npy");
  CHECK(served.headers.at("Content-Type") == "application/octet-stream");
  CHECK(served.body == test::read_file(npy / "h.npy"));
  // An independent truth beside the writers: every pixel of every frame is in one class.
  std::uint64_t pixels = 0;
  const auto doc = json::parse(summary.body);
  for (const auto& cls : doc.at("classes").as_array()) pixels += cls.at("pixels").to_number<std::uint64_t>();
  CHECK(pixels == 24u * 320u * 240u);
}

TEST_CASE("service: keep-alive, listing, unknown ids and methods, health", "[service]") {
  dataset d(4, 64, 48);
  running_server s(d.config());
  client c(s.port());  // every request below on one connection
  CHECK(c.request(http::verb::get, "/health").json().at("status").as_string() == "ok");
  CHECK(c.request(http::verb::get, "/scans").json().at("scans").as_array().empty());
  CHECK(c.request(http::verb::get, "/scans/1").status == 404);
  CHECK(c.request(http::verb::get, "/scans/x1").status == 404);
  CHECK(c.request(http::verb::delete_, "/scans/1").status == 404);
  const auto put = c.request(http::verb::put, "/scans");
  CHECK(put.status == 405);
  CHECK(put.headers.at("Allow") == "GET, POST");
  CHECK(c.request(http::verb::post, "/health").status == 405);
  CHECK(c.request(http::verb::get, "/nothing").status == 404);
  const auto bad = c.request(http::verb::post, "/scans", R"({"path": "ws", "options": {"workers": "two"}})");
  CHECK(bad.status == 400);
  CHECK(bad.json().at("error").as_string() == "workers: expected an integer, got a string");
  CHECK(c.request(http::verb::post, "/scans", R"({"path": "../x"})").status == 403);
  REQUIRE(c.request(http::verb::post, "/scans", R"({"path": "ws"})").status == 202);
  CHECK(wait_ended(c, "/scans/1").at("state").as_string() == "done");
  CHECK(c.request(http::verb::delete_, "/scans/1").status == 409);
  CHECK(c.request(http::verb::get, "/scans").json().at("scans").as_array().size() == 1);
  CHECK(c.request(http::verb::get, "/scans/1/files/..%2fscan.json").status == 403);
  CHECK(c.request(http::verb::get, "/scans/1/files/scan.json").status == 404);  // not a result
  CHECK(c.request(http::verb::get, "/scans/1/files/nope.csv").status == 404);
  // The event stream of an ended scan: its events, then the end, then the connection closes.
  client stream(s.port());
  const auto events = stream.request(http::verb::get, "/scans/1/events");
  CHECK(events.status == 200);
  CHECK(events.headers.at("Content-Type") == "text/event-stream");
  CHECK(events.body.starts_with("id: 1\nevent: state\ndata: {\"state\":\"queued\"}\n\n"));
  CHECK(events.body.find("event: end\ndata: {\"state\":\"done\"") != std::string::npos);
  CHECK(events.body.ends_with("}\n\n"));
}

TEST_CASE("service: a restarted service lists the scans of its state directory", "[service]") {
  dataset d(6, 64, 48);
  std::string summary;
  {
    running_server s(d.config());
    client c(s.port());
    REQUIRE(c.request(http::verb::post, "/scans", R"({"path": "ws", "options": {"components": 4}})").status == 202);
    REQUIRE(wait_ended(c, "/scans/1").at("state").as_string() == "done");
    summary = c.request(http::verb::get, "/scans/1/files/summary.json").body;
  }
  // A record left by a service killed while its scan ran, and one that cannot be read.
  fs::create_directories(d.state / "scans/2");
  test::write_file(d.state / "scans/2/scan.json",
                   R"({"id":2,"path":"ws","options":{},"state":"running","created":"2026-01-01T00:00:00Z",)"
                   R"("progress":{"frames_done":3,"frames_skipped":0,"frames_total":6,"elapsed_seconds":0.1}})");
  fs::create_directories(d.state / "scans/7");
  test::write_file(d.state / "scans/7/scan.json", "{not json");
  running_server s(d.config());
  client c(s.port());
  const auto first = c.request(http::verb::get, "/scans/1").json().as_object();
  CHECK(first.at("state").as_string() == "done");
  CHECK(c.request(http::verb::get, "/scans/1/files/summary.json").body == summary);
  const auto second = c.request(http::verb::get, "/scans/2").json().as_object();
  CHECK(second.at("state").as_string() == "failed");
  CHECK(std::string(second.at("error").as_string()).starts_with("interrupted"));
  CHECK(c.request(http::verb::get, "/scans/7").status == 404);  // left alone
  const auto next = c.request(http::verb::post, "/scans", R"({"path": "ws"})");
  CHECK(next.headers.at("Location") == "/scans/8");  // no id is reused
  CHECK(wait_ended(c, "/scans/8").at("state").as_string() == "done");
}

TEST_CASE("service: stop() cancels a running scan, which writes its partial results", "[service]") {
  // 3,000 frames of 1280x966 (hard links of a few synthetic ones: quick to make): a scan that
  // runs for a second or more, so that stop() comes while it runs.
  dataset d(4, 1280, 966);
  const auto ws = d.root / "ws/semantic_annotations/gtLabels";
  std::vector<fs::path> originals;
  for (const auto& f : fs::directory_iterator(ws)) originals.push_back(f.path());
  fs::create_directories(d.root / "many");
  for (int i = 0; i < 3000; ++i)
    fs::create_hard_link(originals[static_cast<std::size_t>(i) % originals.size()],
                         d.root / "many" / fmt::format("{:05}.png", i));
  running_server s(d.config());
  client c(s.port());
  REQUIRE(c.request(http::verb::post, "/scans", R"({"path": "many", "options": {"heatmaps": true}})").status == 202);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (c.request(http::verb::get, "/scans/1").json().at("progress").at("frames_done").to_number<std::uint64_t>() ==
         0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto start = std::chrono::steady_clock::now();
  s.stop();
  const auto took = std::chrono::steady_clock::now() - start;
#ifdef MASKSCAN_SANITIZED
  CHECK(took < std::chrono::seconds(60));  // the frames in flight are decoded, and the results written, 5-20x slower
#else
  CHECK(took < std::chrono::seconds(5));
#endif
  const auto record = json::parse(test::read_file(d.state / "scans/1/scan.json")).as_object();
  CHECK(record.at("state").as_string() == "cancelled");
  const auto summary = json::parse(test::read_file(d.state / "scans/1/results/summary.json")).as_object();
  CHECK(summary.at("partial").as_bool());
  const auto scanned = summary.at("frames_scanned").to_number<std::uint64_t>();
  CHECK(scanned < 3000);
  // Exact for the frames it did: every pixel of each counted frame is in one class.
  std::uint64_t pixels = 0;
  for (const auto& cls : summary.at("classes").as_array()) pixels += cls.at("pixels").to_number<std::uint64_t>();
  CHECK(pixels == scanned * 1280 * 966);
}

TEST_CASE("service: report.html served by the service renders in Chromium", "[service][browser]") {
  dataset d(12, 320, 240);
  running_server s(d.config());
  client c(s.port());
  REQUIRE(c.request(http::verb::post, "/scans",
                    R"({"path": "ws/semantic_annotations/gtLabels",
                        "options": {"heatmaps": true, "labels": "woodscape", "report": true}})")
              .status == 202);
  REQUIRE(wait_ended(c, "/scans/1").at("state").as_string() == "done");
  const auto page = c.request(http::verb::get, "/scans/1/files/report.html");
  REQUIRE(page.status == 200);
  CHECK(page.headers.at("Content-Type") == "text/html; charset=utf-8");
  test::temp_dir work;
  test::write_file(work / "report.html", page.body);  // as a browser saving what the service sent
  const auto r = test::load_in_chromium(work / "report.html", work / "chromium");
  INFO(r.chromium_log);
  CHECK(r.distinct_colours() >= 64);
  CHECK(r.console_errors().empty());
  CHECK(r.external_requests().empty());
  const auto h2 = r.texts_of("h2");
  for (const char* section : {"Summary", "Heatmaps", "Class weights", "Sample overlays"})
    CHECK(std::ranges::find(h2, std::string(section)) != h2.end());
}
