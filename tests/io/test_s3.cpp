// Object storage (src/io/s3): the SigV4 signer against AWS's published examples, credentials and
// endpoints read as the AWS CLI reads them, and scans of a bucket (an S3 look-alike in this process,
// tests/support/fake_s3.hpp) against the same bytes held in memory, through faults. The scans of a
// real server, with every signature checked by botocore, are tests/io/test_s3_scan.py's.
#include <catch2/catch.hpp>

#include <maskscan/reader.hpp>
#include <maskscan/s3.hpp>
#include <maskscan/scan.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "io/s3/config.hpp"
#include "io/s3/http.hpp"
#include "io/s3/signing.hpp"
#include "support/fake_s3.hpp"
#include "support/mixed_dataset.hpp"

using namespace maskscan;
namespace s3 = maskscan::detail::s3;

namespace {

/// AWS's example key (docs: "Signature Calculations for the Authorization Header").
const s3::credentials example_key{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", {}};

s3::request_to_sign example_request(std::vector<std::pair<std::string, std::string>> query) {
  s3::request_to_sign r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/";
  r.query = std::move(query);
  r.region = "us-east-1";
  r.payload_sha256 = s3::sha256_hex("");
  r.time = std::chrono::system_clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z
  return r;
}

/// An environment of the test's own (the AWS_* of the machine running the tests play no part).
s3::environment env_of(std::map<std::string, std::string> vars) {
  auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [held](const char* name) -> const char* {
    const auto it = held->find(name);
    return it == held->end() ? nullptr : it->second.c_str();
  };
}

/// Sets environment variables for one test case; restores them after.
class scoped_env {
 public:
  explicit scoped_env(std::map<std::string, std::optional<std::string>> vars) {
    for (auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }
  ~scoped_env() {
    for (auto& [name, value] : saved_)
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

scoped_env test_keys() {
  return scoped_env({{"AWS_ACCESS_KEY_ID", "test-key"},
                     {"AWS_SECRET_ACCESS_KEY", "test-secret"},
                     {"AWS_SESSION_TOKEN", std::nullopt},
                     {"AWS_PROFILE", std::nullopt},
                     {"AWS_ENDPOINT_URL", std::nullopt},
                     {"AWS_ENDPOINT_URL_S3", std::nullopt}});
}

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::byte> bytes(const std::string& s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

/// The first `n` real CamVid masks, as objects m/<file name>.
std::map<std::string, std::string> camvid_objects(std::size_t n) {
  const auto camvid = test::data_root() / "real/gray8_ids/camvid_segnet";
  std::vector<std::filesystem::path> files(std::filesystem::directory_iterator(camvid), {});
  std::ranges::sort(files);
  files.resize(n);
  std::map<std::string, std::string> objects;
  for (const auto& f : files) objects["m/" + f.filename().string()] = read_all(f);
  return objects;
}

}  // namespace

TEST_CASE("SigV4 signs as AWS's published examples", "[s3]") {
  // GET Bucket (list objects), max-keys=2&prefix=J: the example's signature, with the query given unsorted.
  const auto list = s3::sign(example_request({{"prefix", "J"}, {"max-keys", "2"}}), example_key);
  CHECK(list.canonical_request ==
        "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(list.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  // GET Bucket Lifecycle: a parameter without a value.
  CHECK(s3::sign(example_request({{"lifecycle", ""}}), example_key).signature ==
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  const auto headers = s3::signed_headers(example_request({{"lifecycle", ""}}), example_key);
  CHECK(headers.back() ==
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  // A session token is sent and signed.
  auto temporary = example_key;
  temporary.session_token = "token/+=";
  const auto with_token = s3::signed_headers(example_request({}), temporary);
  CHECK(std::ranges::count(with_token, std::string("x-amz-security-token: token/+=")) == 1);
  CHECK_THAT(with_token.back(),
             Catch::Contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"));
  CHECK(s3::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
}

TEST_CASE("keys and queries are encoded as SigV4 wants", "[s3]") {
  CHECK(s3::uri_encode("a b/c+d=é~_-.", true) == "a%20b/c%2Bd%3D%C3%A9~_-.");
  CHECK(s3::uri_encode("a/b", false) == "a%2Fb");
  CHECK(s3::canonical_query({{"prefix", "x y/z"}, {"list-type", "2"}, {"continuation-token", "1/2+3="}}) ==
        "continuation-token=1%2F2%2B3%3D&list-type=2&prefix=x%20y%2Fz");
  CHECK(s3::canonical_query({}).empty());
}

TEST_CASE("URLs name a bucket and a prefix", "[s3]") {
  CHECK(s3::parse_url("s3://masks/a/b/").bucket == "masks");
  CHECK(s3::parse_url("s3://masks/a/b/").prefix == "a/b/");
  CHECK(s3::parse_url("s3://masks").prefix.empty());
  CHECK(s3::parse_url("s3://masks/").prefix.empty());
  CHECK_THROWS_WITH(s3::parse_url("s3://"), Catch::Contains("is not a bucket name"));
  CHECK_THROWS_WITH(s3::parse_url("s3://a b/x"), Catch::Contains("is not a bucket name"));
  CHECK_THROWS_WITH(s3::parse_url("s3://masks//x"), Catch::Contains("starts with '/'"));
  CHECK_THROWS_WITH(s3::parse_url("gs://masks/x"), Catch::Contains("not an S3 URL"));
  CHECK(is_s3_url("s3://b/x"));
  CHECK_FALSE(is_s3_url("data/s3://b"));
}

TEST_CASE("credentials region and endpoint are read as the AWS CLI reads them", "[s3]") {
  const test::temp_dir home;
  std::filesystem::create_directories(home / ".aws");
  test::write_file(home / ".aws/credentials",
                   "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = defaultsecret\n"
                   "# a comment\n[ci]\n aws_access_key_id=CIKEY \naws_secret_access_key= cisecret\n"
                   "aws_session_token = citoken\n[half]\naws_access_key_id = HALF\n");
  test::write_file(home / ".aws/config",
                   "[default]\nregion = eu-central-1\n[profile ci]\nregion = ap-south-1\n"
                   "[profile cfgkeys]\naws_access_key_id = CFGKEY\naws_secret_access_key = x\n");
  const std::string h = home.path().string();
  s3_options o;

  SECTION("the environment's keys, else the default profile") {
    auto c = s3::resolve(o, env_of({{"HOME", h}, {"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "s"}}));
    CHECK(c.key->access_key_id == "ENVKEY");
    CHECK(c.region == "eu-central-1");  // the default profile's region in ~/.aws/config
    CHECK(c.scheme == "https");
    CHECK(c.authority == "s3.eu-central-1.amazonaws.com");
    CHECK_FALSE(c.path_style);  // virtual-hosted on AWS
    c = s3::resolve(o, env_of({{"HOME", h}}));
    CHECK(c.key->access_key_id == "DEFAULTKEY");
    CHECK_THAT(c.key_source, Catch::Contains("profile 'default'"));
  }
  SECTION("a profile: --profile wins over the environment's keys, AWS_PROFILE does not") {
    o.profile = "ci";
    auto c = s3::resolve(o, env_of({{"HOME", h}, {"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "s"}}));
    CHECK(c.key->access_key_id == "CIKEY");
    CHECK(c.key->secret_access_key == "cisecret");
    CHECK(c.key->session_token == "citoken");
    CHECK(c.region == "ap-south-1");
    o.profile.clear();
    c = s3::resolve(o, env_of({{"HOME", h}, {"AWS_PROFILE", "cfgkeys"}}));
    CHECK(c.key->access_key_id == "CFGKEY");  // keys in ~/.aws/config count too
    CHECK_THROWS_WITH(s3::resolve(o, env_of({{"HOME", h}, {"AWS_PROFILE", "half"}})),
                      Catch::Contains("profile 'half' has no aws_access_key_id"));
    CHECK_THROWS_WITH(s3::resolve(o, env_of({{"HOME", h}, {"AWS_PROFILE", "nope"}})),
                      Catch::Contains("profile 'nope'"));
    // As botocore: AWS_PROFILE gives way to keys in the environment (only --profile beats them).
    c = s3::resolve(
        o, env_of({{"HOME", h}, {"AWS_PROFILE", "ci"}, {"AWS_ACCESS_KEY_ID", "E"}, {"AWS_SECRET_ACCESS_KEY", "s"}}));
    CHECK(c.key->access_key_id == "E");
  }
  SECTION("the region: the option, AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1") {
    CHECK(s3::resolve(o, env_of({{"HOME", h}, {"AWS_REGION", "r1"}, {"AWS_DEFAULT_REGION", "r2"}})).region == "r1");
    CHECK(s3::resolve(o, env_of({{"HOME", h}, {"AWS_DEFAULT_REGION", "r2"}})).region == "r2");
    o.region = "r0";
    CHECK(s3::resolve(o, env_of({{"HOME", h}, {"AWS_REGION", "r1"}})).region == "r0");
    o.sign = false;
    CHECK(s3::resolve({.sign = false}, env_of({})).region == "us-east-1");
  }
  SECTION("an endpoint: path-style unless asked otherwise; from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL") {
    o.endpoint_url = "HTTP://127.0.0.1:9000/";
    auto c = s3::resolve(o, env_of({{"HOME", h}}));
    CHECK(c.scheme == "http");
    CHECK(c.authority == "127.0.0.1:9000");
    CHECK(c.path_style);
    o.addressing = s3_addressing::virtual_host;
    CHECK_FALSE(s3::resolve(o, env_of({{"HOME", h}})).path_style);
    // A default port is left out, as curl leaves it out of the Host header it sends (and signs).
    o.endpoint_url = "https://minio.example:443";
    CHECK(s3::resolve(o, env_of({{"HOME", h}})).authority == "minio.example");
    o.endpoint_url = "http://minio.example:80";
    CHECK(s3::resolve(o, env_of({{"HOME", h}})).authority == "minio.example");
    o.endpoint_url = "http://minio.example:443";
    CHECK(s3::resolve(o, env_of({{"HOME", h}})).authority == "minio.example:443");
    o = {};
    c = s3::resolve(o,
                    env_of({{"HOME", h}, {"AWS_ENDPOINT_URL", "http://a:1"}, {"AWS_ENDPOINT_URL_S3", "http://b:2"}}));
    CHECK(c.authority == "b:2");
    for (const auto* bad : {"ftp://x", "127.0.0.1:9000", "http://x/path", "http://user@x", "http://"}) {
      o.endpoint_url = bad;
      CAPTURE(bad);
      CHECK_THROWS_AS(s3::resolve(o, env_of({{"HOME", h}})), std::invalid_argument);
    }
  }
  SECTION("no key, or half of one, is said; anonymous requests need none") {
    CHECK_THROWS_WITH(s3::resolve(o, env_of({{"HOME", "/nonexistent"}})),
                      Catch::Contains("S3 credentials: none found"));
    CHECK_THROWS_WITH(s3::resolve(o, env_of({{"HOME", h}, {"AWS_ACCESS_KEY_ID", "K"}})),
                      Catch::Contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
    o.sign = false;
    CHECK_FALSE(s3::resolve(o, env_of({{"HOME", "/nonexistent"}})).key);
  }
  SECTION("retries and timeouts are bounded") {
    o.retries = max_s3_retries + 1;
    CHECK_THROWS_AS(s3::resolve(o, env_of({{"HOME", h}})), std::invalid_argument);
    o.retries = 0;
    o.timeout_seconds = 0;
    CHECK_THROWS_AS(s3::resolve(o, env_of({{"HOME", h}})), std::invalid_argument);
  }
}

TEST_CASE("what is retried and how long it waits", "[s3]") {
  s3::http_response r;
  for (long status : {500L, 502L, 503L, 504L, 429L, 408L}) {
    r.status = status;
    CAPTURE(status);
    CHECK(s3::retryable(r));
  }
  for (long status : {400L, 403L, 404L, 412L, 301L}) {
    r.status = status;
    CAPTURE(status);
    CHECK_FALSE(s3::retryable(r));
  }
  r.status = 200;
  r.too_long = true;
  CHECK_FALSE(s3::retryable(r));
  std::minstd_rand random(1);
  for (unsigned attempt = 0; attempt < 40; ++attempt) {
    const auto wait = s3::backoff(attempt, random);
    CHECK(wait.count() >= 0);
    CHECK(wait.count() <= std::min<long long>(10'000, 100LL << std::min(attempt, 20u)));
  }
}

TEST_CASE("a bucket scans exactly as the same bytes in memory at every concurrency", "[s3][pipeline]") {
  static const test::mixed_dataset data;
  const auto disk = data.source();
  std::map<std::string, std::string> objects;
  std::map<std::string, std::vector<std::byte>> memory;
  for (std::size_t i = 0; i < disk.size(); ++i) {
    const auto content = read_all(disk.root() / disk.name(i));
    objects["ds/" + disk.name(i)] = content;
    memory[disk.name(i)] = bytes(content);
  }
  const auto one = objects.at("ds/synth_64x48/00000_FV.png");
  objects["ds/a&b <c>.png"] = one;  // XML-escaped in the listing
  memory["a&b <c>.png"] = bytes(one);
  objects["ds2/not-below.png"] = one;  // "ds" is a folder: ds2/ is not in it
  objects["ds/notes.txt"] = "not a frame";
  const test::fake_s3 server("masks", objects, 7);
  const auto env = test_keys();
  s3_options o;
  o.endpoint_url = server.endpoint();

  const auto source = frame_source_from_s3("s3://masks/ds", o);
  REQUIRE(source.size() == memory.size());
  CHECK(source.location() == "s3://masks/ds/");
  CHECK(server.requests("") == (objects.size() - 1 + 6) / 7);  // pages of 7 keys (the listing's prefix is ds/)

  scan_options options;
  options.heatmaps = true;
  options.components = 8;
  options.group_by = "^([^/]+)/";
  options.io_depth = GENERATE(1u, 3u, 64u);
  options.workers = GENERATE(1u, 2u);
  options.serial = options.io_depth == 3 && options.workers == 1;
  CAPTURE(options.io_depth, options.workers, options.serial);
  auto from_bucket = scan(source, options);
  const auto from_memory = scan(frame_source::from_memory(memory), options);
  CHECK(from_bucket.input == "s3://masks/ds/");
  // Objects have a LastModified; memory has no times: the one field of a row that may differ.
  std::size_t dated = 0;
  from_bucket.stats.frames.update([&](frame_row& row) {
    dated += row.file_mtime_ns == 1767323045678000000;  // 2026-01-02T03:04:05.678Z, as listed
    row.file_mtime_ns = 0;
  });
  CHECK(dated == from_bucket.stats.frames.size());
  CHECK(from_bucket.stats == from_memory.stats);
  CHECK(from_bucket.stats.errors.size() == data.bad_files);
  CHECK(server.requests("ds2/not-below.png") == 0);
}

TEST_CASE("faults on the way are retried and lasting ones named per object", "[s3][pipeline]") {
  auto objects = camvid_objects(12);
  std::vector<std::string> keys;
  for (const auto& [k, v] : objects) keys.push_back(k);
  test::fake_s3 server("masks", objects, 5);
  using fault = test::fake_s3::fault;
  server.inject("", fault::status_503, 1);         // the first listing page: SlowDown once
  server.inject(keys[0], fault::status_503, 2);    // passes on the third attempt
  server.inject(keys[1], fault::drop, 1);          // no response
  server.inject(keys[2], fault::truncate, 1);      // half the body
  server.inject(keys[3], fault::status_500, 100);  // lasts: given up
  server.inject(keys[4], fault::status_404, 100);  // deleted since the listing
  const auto env = test_keys();
  s3_options o;
  o.endpoint_url = server.endpoint();
  o.retries = 2;
  const auto source = frame_source_from_s3("s3://masks/m/", o);
  REQUIRE(source.size() == 12);
  server.put(keys[5], "changed since the listing");

  scan_options options;
  options.io_depth = GENERATE(1u, 8u);
  options.serial = GENERATE(false, true);
  CAPTURE(options.io_depth, options.serial);
  const auto result = scan(source, options);
  std::map<std::string, std::string> errors;
  for (const auto& e : result.stats.errors) errors[e.path] = e.message;
  const auto name = [&](int i) { return keys[i].substr(2); };
  REQUIRE(errors.size() == 3);
  CHECK_THAT(errors[name(3)], Catch::Contains("HTTP 500 (InternalError: oops)") && Catch::Contains("after 3 attempts"));
  CHECK_THAT(errors[name(4)], Catch::Contains("the object is gone") && Catch::Contains("NoSuchKey"));
  CHECK_THAT(errors[name(5)], Catch::Contains("changed since it was listed") && Catch::Contains("412"));
  CHECK(server.requests(keys[4]) == 1);  // a 404 is not retried

  // What was read is counted exactly as the same bytes in memory.
  std::map<std::string, std::vector<std::byte>> kept;
  for (int i = 0; i < 12; ++i)
    if (!errors.contains(name(i))) kept[name(i)] = bytes(objects[keys[i]]);
  auto expected = scan(frame_source::from_memory(kept), options);
  auto got = result.stats;
  got.frames.update([](frame_row& row) { row.file_mtime_ns = 0; });
  got.errors.clear();
  CHECK(got == expected.stats);
}

TEST_CASE("a listing that cannot be had names the bucket and the cause", "[s3]") {
  test::fake_s3 server("masks", {{"a/x.png", "x"}});
  const auto env = test_keys();
  s3_options o;
  o.endpoint_url = server.endpoint();
  o.retries = 1;
  CHECK_THROWS_WITH(frame_source_from_s3("s3://other/a/", o),
                    Catch::Contains("s3://other/a/: cannot list the objects: HTTP 404 (NoSuchBucket"));
  server.inject("", test::fake_s3::fault::status_500, 100);
  CHECK_THROWS_WITH(frame_source_from_s3("s3://masks/a/", o),
                    Catch::Contains("HTTP 500") && Catch::Contains("after 2 attempts"));
  CHECK(server.requests("") == 2);
  server.inject("", test::fake_s3::fault::status_500, 0);
  CHECK(frame_source_from_s3("s3://masks/b/", o).size() == 0);  // an empty prefix is no error here
  const auto single = frame_source_from_s3("s3://masks/a/x.png", o);
  REQUIRE(single.size() == 1);
  CHECK(single.name(0) == "x.png");
}

TEST_CASE("a scan of a bucket that stops ends its GETs in flight at once", "[s3][pipeline]") {
  auto objects = camvid_objects(20);
  test::fake_s3 server("masks", objects);
  const auto env = test_keys();
  s3_options o;
  o.endpoint_url = server.endpoint();
  const auto source = frame_source_from_s3("s3://masks/m/", o);
  for (std::size_t i = 4; i < 20; ++i) server.inject("m/" + source.name(i), test::fake_s3::fault::stall, 1);

  scan_options options;
  options.io_depth = 4;
  options.queue_depth = 4;
  boost::asio::io_context io;
  boost::asio::cancellation_signal cancel;
  std::optional<std::pair<boost::system::error_code, scan_result>> done;
  async_scan(io.get_executor(), source, options,
             boost::asio::bind_cancellation_slot(
                 cancel.slot(), [&](boost::system::error_code ec, scan_result r) { done.emplace(ec, std::move(r)); }));
  boost::asio::steady_timer later(io, std::chrono::milliseconds(500));  // the stalled GETs are in flight by then
  later.async_wait([&](auto) { cancel.emit(boost::asio::cancellation_type::terminal); });
  const auto t0 = std::chrono::steady_clock::now();
  io.run();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));  // not the stall's minute
  REQUIRE(done);
  CHECK(done->first == errc::cancelled);
  CHECK(done->second.partial);
  const auto& stats = done->second.stats;
  CHECK(stats.frames.size() == 4);  // the frames read before the stall
  CHECK_FALSE(stats.errors.empty());
  for (const auto& e : stats.errors) {
    CHECK(e.code == errc::cancelled);
    CHECK_THAT(e.message, Catch::Contains("--resume reads it"));
  }
  // What stopped is read again by --resume: every frame not counted.
  CHECK(source.remaining(stats).size() == 16);
}
