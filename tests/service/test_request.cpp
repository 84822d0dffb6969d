// A scan request's body as the service reads it (src/service/request.cpp): the library's option
// names and checks, and every path confined to the root, symlinks resolved.
#include <filesystem>
#include <string>

#include <algorithm>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "service/request.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
using service::parse_scan_request;
using service::request_error;
namespace fs = std::filesystem;

/// The status and message a body is refused with (0 and "" when it is accepted).
std::pair<unsigned, std::string> refusal(const std::string& body, const fs::path& root,
                                         const service::request_limits& limits = {}) {
  try {
    parse_scan_request(body, root, limits);
    return {0, ""};
  } catch (const request_error& e) {
    return {e.status(), e.what()};
  }
}

struct root_fixture {
  test::temp_dir dir;
  fs::path root;
  root_fixture() {
    root = fs::canonical(dir.path()) / "root";
    fs::create_directories(root / "ds" / "sub");
    fs::create_directories(dir / "outside");
    test::write_file(dir / "outside" / "secret.json", "{}");
    fs::create_directory_symlink(dir / "outside", root / "escape");  // a symlink out of the root
    fs::create_directory_symlink(root / "ds", root / "alias");       // one that stays inside
  }
};

}  // namespace

TEST_CASE("service request: paths resolve inside the root, after symlinks, or are refused", "[service]") {
  root_fixture f;
  CHECK(service::confined(f.root, "ds", "path") == f.root / "ds");
  CHECK(service::confined(f.root, "ds/sub/..", "path") == f.root / "ds");
  CHECK(service::confined(f.root, "alias/sub", "path") == f.root / "ds" / "sub");
  CHECK(service::confined(f.root, ".", "path") == f.root);
  const auto status = [&](const std::string& p) {
    try {
      service::confined(f.root, p, "path");
      return 0u;
    } catch (const request_error& e) {
      return e.status();
    }
  };
  CHECK(status("..") == 403);
  CHECK(status("../outside") == 403);
  CHECK(status("ds/../../outside") == 403);
  CHECK(status("/etc") == 403);
  CHECK(status((f.root / "ds").string()) == 403);  // absolute, even inside the root
  CHECK(status("escape") == 403);                  // a symlink out of the root
  CHECK(status("escape/secret.json") == 403);
  CHECK(status("nope") == 404);
  CHECK(status(std::string("ds\0x", 4)) == 400);
  // A root that is a prefix of another folder's name does not contain it.
  fs::create_directories(f.root.string() + "2/ds");
  CHECK_FALSE(service::inside(f.root, fs::path(f.root.string() + "2/ds")));
  CHECK(service::inside(f.root, f.root / "ds"));
}

TEST_CASE("service request: options by the library's names, checked with the library's messages", "[service]") {
  root_fixture f;
  const auto r = parse_scan_request(
      R"({"path": "ds", "options": {"heatmaps": true, "labels": "woodscape", "io_depth": 4, "queue_depth": 32,
          "io": "threads", "components": 8, "ignore": [255], "repeat_threshold": 0.3, "report": true,
          "colormap": "magma", "effective_unit": "pixels", "heatmap_grid": "64x48"}})",
      f.root, {});
  CHECK(r.input == f.root / "ds");
  CHECK(r.options.heatmaps);
  CHECK(r.options.labels == "woodscape");
  CHECK(r.options.class_names.size() == 10);  // the map applied, as resolve_defaults does
  CHECK(r.options.io_depth == 4);
  CHECK(r.options.queue_depth == 32);
  CHECK(r.options.io == io_backend::threads);
  CHECK(r.options.components == 8);
  CHECK(std::ranges::find(r.options.ignore, 255u) != r.options.ignore.end());
  CHECK(r.options.heatmap_grid.width == 64);
  CHECK(r.balance.repeat_threshold == 0.3);
  CHECK(r.balance.unit == effective_unit::pixels);
  CHECK(r.report);
  CHECK(r.report_options.colormap == heatmap_colormap::magma);
  CHECK(r.posted.size() == 12);

  using Catch::Contains;
  const auto refused = [&](const std::string& options, unsigned status, const std::string& words) {
    const auto [s, message] =
        refusal(R"({"path": "ds", "options": )" + options + "}", f.root, {.max_workers = 2, .max_memory = 1 << 30});
    INFO(options << " -> " << s << " " << message);
    CHECK(s == status);
    CHECK_THAT(message, Contains(words));
  };
  refused(R"({"heatmap": true})", 400, "unknown option 'heatmap'");
  refused(R"({"heatmaps": "yes"})", 400, "heatmaps: expected true or false, got a string");
  refused(R"({"workers": -1})", 400, "workers: -1 is out of range");
  refused(R"({"workers": 1.5})", 400, "workers: expected an integer, got a number");
  refused(R"({"workers": 3})", 400, "workers: 3 is more than the service's 2 compute threads");
  refused(R"({"io_depth": 0})", 400, "io_depth: 0 is out of range (1 to");
  refused(R"({"io_depth": 5000})", 400, "io_depth");  // resolve_defaults' bound, its message
  refused(R"({"components": 5})", 400, "components");
  refused(R"({"io": "fast"})", 400, "io 'fast': expected one of 'auto', 'threads', 'uring'");
  refused(R"({"labels": "nope"})", 404, "labels 'nope'");
  refused(R"({"labels": "../outside/secret.json"})", 403, "outside the root");
  refused(R"({"group_by": "("})", 400, "group_by");
  refused(R"({"enet_c": 1})", 400, "enet_c");
  refused(R"({"repeat_threshold": -1})", 400, "repeat_threshold");
  refused(R"({"max_memory": 2147483648})", 400, "more than the service allows");
  refused(R"({"overlays": 65})", 400, "overlays: at most 64");
  refused(R"({"class_names": []})", 400, "class_names: an empty array");
  refused(R"({"num_classes": 3, "labels": "woodscape"})", 400, "num_classes");
  refused(R"({"splits": {"train": "../outside/secret.json"}})", 403, "splits.train");
  refused(R"([1])", 400, "options: expected an object, got an array");

  CHECK(refusal("{", f.root).first == 400);
  CHECK_THAT(refusal("{", f.root).second, Contains("the body is not JSON"));
  CHECK_THAT(refusal("[]", f.root).second, Contains("the body: expected an object, got an array"));
  CHECK_THAT(refusal(R"({"options": {}})", f.root).second, Contains("path: missing"));
  CHECK_THAT(refusal(R"({"path": "ds", "extra": 1})", f.root).second, Contains("unknown key 'extra'"));
  CHECK(refusal(R"({"path": "../outside"})", f.root).first == 403);
  CHECK(refusal(R"({"path": "escape"})", f.root).first == 403);
  CHECK(refusal(R"({"path": 7})", f.root).first == 400);
  // The service's budget is every scan's unless a request asks for less.
  CHECK(parse_scan_request(R"({"path": "ds"})", f.root, {.max_memory = 1 << 30}).options.max_memory == 1 << 30);
  CHECK(parse_scan_request(R"({"path": "ds", "options": {"max_memory": 1000000}})", f.root, {.max_memory = 1 << 30})
            .options.max_memory == 1000000);
}

TEST_CASE("service request: docs/service-request.schema.json lists exactly the options the service takes",
          "[service]") {
  const auto schema =
      boost::json::parse(test::read_file(fs::path(MASKSCAN_SOURCE_DIR) / "docs/service-request.schema.json"));
  std::vector<std::string> documented;
  for (const auto& [key, value] : schema.at("properties").at("options").at("properties").as_object())
    documented.emplace_back(key);
  std::ranges::sort(documented);
  CHECK(documented == service::option_keys());
  std::vector<std::string> top;
  for (const auto& [key, value] : schema.at("properties").as_object()) top.emplace_back(key);
  CHECK(top == std::vector<std::string>{"path", "options"});
}

TEST_CASE("service request: a group_by nested deep enough to overflow a regex compiler's stack is a 400", "[service]") {
  root_fixture f;
  std::string deep = "(";
  for (int i = 0; i < 20000; ++i) deep += "(?:";
  deep += "a";
  for (int i = 0; i < 20000; ++i) deep += ")";
  deep += ")";
  const auto [status, message] = refusal(R"({"path": "ds", "options": {"group_by": ")" + deep + R"("}})", f.root);
  CHECK(status == 400);
  CHECK_THAT(message, Catch::Contains("group_by"));
}
