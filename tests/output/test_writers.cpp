// The result writers: .npy parsed by hand (and by NumPy when it is installed), frames.csv compared
// with hand-written text and re-parsed as CSV, summary.json parsed with Boost.JSON, write_outputs'
// files and the absence of temporaries.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <maskscan/output.hpp>
#include <maskscan/scan.hpp>
#include <maskscan/stats.hpp>

#include "support/test_data.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace maskscan;

using maskscan::test::temp_dir;

using maskscan::test::read_file;

std::set<std::string> file_names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    names.insert(fs::relative(e.path(), dir).generic_string());
  return names;
}

heatmap_set make_heat(std::uint32_t classes, std::uint32_t h, std::uint32_t w, std::uint32_t salt) {
  heatmap_set heat;
  heat.width = w;
  heat.height = h;
  heat.frames = 1 + salt;
  heat.counts.resize(std::size_t{classes} * h * w);
  // Values with all four bytes in use, so that a byte-order mistake shows.
  for (std::size_t i = 0; i < heat.counts.size(); ++i)
    heat.counts[i] = static_cast<std::uint32_t>((i + salt) * 2654435761U + 0x01020304U);
  return heat;
}

struct npy_file {
  std::string header;
  std::size_t header_length = 0;
  std::size_t classes = 0, height = 0, width = 0;
  std::vector<std::uint32_t> values;
};

/// Parses a NumPy 1.0 file from the format description, requiring a C-order '<u4' 3-D array.
npy_file parse_npy(const std::string& bytes) {
  npy_file f;
  REQUIRE(bytes.size() >= 10);
  REQUIRE(bytes.substr(0, 6) == std::string("\x93NUMPY", 6));
  REQUIRE(static_cast<unsigned char>(bytes[6]) == 1);  // major
  REQUIRE(static_cast<unsigned char>(bytes[7]) == 0);  // minor
  f.header_length = static_cast<unsigned char>(bytes[8]) | (std::size_t{static_cast<unsigned char>(bytes[9])} << 8);
  REQUIRE(bytes.size() >= 10 + f.header_length);
  CHECK((10 + f.header_length) % 64 == 0);  // the data starts at a multiple of 64
  f.header = bytes.substr(10, f.header_length);
  REQUIRE(!f.header.empty());
  CHECK(f.header.back() == '\n');
  static const std::regex dict(
      R"(^\{\s*'descr':\s*'<u4',\s*'fortran_order':\s*False,\s*'shape':\s*\((\d+),\s*(\d+),\s*(\d+)\),?\s*\}\s*$)");
  std::smatch m;
  INFO("header: " << f.header);
  REQUIRE(std::regex_match(f.header, m, dict));
  f.classes = std::stoull(m[1].str());
  f.height = std::stoull(m[2].str());
  f.width = std::stoull(m[3].str());
  const std::string payload = bytes.substr(10 + f.header_length);
  REQUIRE(payload.size() == f.classes * f.height * f.width * 4);
  for (std::size_t i = 0; i < payload.size(); i += 4) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v |= std::uint32_t{static_cast<unsigned char>(payload[i + k])} << (8 * k);
    f.values.push_back(v);
  }
  return f;
}

std::string quoted(const fs::path& p) {
  std::string q = "'";
  q += p.string();
  q += '\'';
  return q;
}

/// A python3 that can import numpy ("" if none): the one on PATH first, then the system one
/// (PATH may lead to a python without numpy, e.g. a pyenv shim).
std::string python_with_numpy() {
  for (const std::string python : {"python3", "/usr/bin/python3"}) {
    const std::string probe = python + " -c 'import numpy' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return {};
}

}  // namespace

TEST_CASE("write_heatmap_npy writes a C x H x W little-endian uint32 NumPy 1.0 file", "[output]") {
  struct shape {
    std::uint32_t c, h, w;
  };
  const auto s = GENERATE(values<shape>({{1, 1, 1}, {3, 2, 5}, {2, 100, 37}, {12, 3, 1000}, {255, 2, 3}}));
  CAPTURE(s.c, s.h, s.w);
  temp_dir dir;
  const auto file = dir.path() / "heat.npy";
  const auto heat = make_heat(s.c, s.h, s.w, s.c + s.h);
  maskscan::write_heatmap_npy(heat, s.c, file);

  const auto npy = parse_npy(read_file(file));
  CHECK(npy.classes == s.c);
  CHECK(npy.height == s.h);
  CHECK(npy.width == s.w);
  // Element [c][y][x] of the C-order array is counts[(c * H + y) * W + x].
  CHECK(npy.values == heat.counts);

  const std::string python = python_with_numpy();
  if (python.empty()) {
    WARN("python3 with numpy is not available: the NumPy cross-check is skipped");
    return;
  }
  const auto script = dir.path() / "load.py";
  const auto out = dir.path() / "numpy-out.txt";
  {
    std::ofstream py(script);
    py << "import sys\n"
          "import numpy as np\n"
          "a = np.load(sys.argv[1])\n"
          "print(a.dtype.str)\n"
          "print(' '.join(str(d) for d in a.shape))\n"
          "print(int(a.sum(dtype=np.uint64)))\n"
          "print(' '.join(str(int(v)) for v in a.ravel(order='C')))\n";
  }
  const std::string command = python + " " + quoted(script) + " " + quoted(file) + " > " + quoted(out) + " 2>&1";
  const int status = std::system(command.c_str());
  INFO("python output: " << read_file(out));
  REQUIRE(status == 0);
  std::istringstream lines(read_file(out));
  std::string dtype;
  std::size_t c = 0, h = 0, w = 0;
  std::uint64_t sum = 0;
  lines >> dtype >> c >> h >> w >> sum;
  std::vector<std::uint32_t> values;
  for (std::uint64_t v; lines >> v;) values.push_back(static_cast<std::uint32_t>(v));
  CHECK(dtype == "<u4");
  CHECK(c == s.c);
  CHECK(h == s.h);
  CHECK(w == s.w);
  std::uint64_t want_sum = 0;
  for (auto v : heat.counts) want_sum += v;
  CHECK(sum == want_sum);
  CHECK(values == heat.counts);
}

namespace {

/// Rows whose CSV lines are written out by hand in the tests below.
dataset_stats csv_stats() {
  auto s = make_stats({"road", "car,truck", "sky"}, {255}, false);
  s.frames.push_back({"dir/c.png", 3, 1, {0, 0, 3}, {}, {}});
  s.frames.push_back({"b.png", 4, 3, {5, 3, 0}, {{255, 2}}, {{7, 1}, {9, 1}}});
  s.frames.push_back({"quote\"d.png", 1, 1, {0, 0, 0}, {}, {{300, 1}}});
  s.frames.push_back({"a,comma.png", 2, 2, {1, 2, 0}, {{255, 1}}, {}});
  s.errors.push_back({"bad.png", errc::not_png, "no signature"});
  normalize(s);  // as every dataset_stats a scan or a merge hands out
  return s;
}

/// A small RFC 4180 reader: records of fields.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false, field_started = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_quotes) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"')
        in_quotes = false;
      else
        field += ch;
    } else if (ch == '"' && field.empty()) {
      in_quotes = true;
      field_started = true;
    } else if (ch == ',') {
      record.push_back(field);
      field.clear();
      field_started = true;
    } else if (ch == '\n') {
      record.push_back(field);
      records.push_back(record);
      record.clear();
      field.clear();
      field_started = false;
    } else {
      field += ch;
      field_started = true;
    }
  }
  REQUIRE_FALSE(in_quotes);
  if (field_started || !field.empty()) {
    record.push_back(field);
    records.push_back(record);
  }
  return records;
}

}  // namespace

TEST_CASE("write_frames_csv writes a header and one row per frame in path order, quoting where needed", "[output]") {
  temp_dir dir;
  const auto file = dir.path() / "frames.csv";
  maskscan::write_frames_csv(csv_stats(), file);
  const std::string want =
      "path,group,width,height,pixels_road,\"pixels_car,truck\",pixels_sky,ignored,out_of_range\n"
      "\"a,comma.png\",,2,2,1,2,0,1,0\n"
      "b.png,,4,3,5,3,0,2,2\n"
      "dir/c.png,,3,1,0,0,3,0,0\n"
      "\"quote\"\"d.png\",,1,1,0,0,0,0,1\n";
  CHECK(read_file(file) == want);

  // Read back as CSV: every record has the header's field count and the paths come back intact.
  const auto records = parse_csv(read_file(file));
  REQUIRE(records.size() == 5);
  for (const auto& r : records) CHECK(r.size() == 9);
  CHECK(records[0][5] == "pixels_car,truck");
  CHECK(records[1][0] == "a,comma.png");
  CHECK(records[4][0] == "quote\"d.png");
}

TEST_CASE("write_frames_csv header lists the class names, prefixed, between height and ignored", "[output]") {
  struct header_case {
    std::vector<std::string> names;
    std::string header;
  };
  const auto c = GENERATE(values<header_case>({
      {{}, "path,group,width,height,ignored,out_of_range"},
      {{"a"}, "path,group,width,height,pixels_a,ignored,out_of_range"},
      {{"void", "road", "lane marking"},
       "path,group,width,height,pixels_void,pixels_road,pixels_lane marking,ignored,out_of_range"},
      {{"say \"hi\"", "x\ny"},
       "path,group,width,height,\"pixels_say \"\"hi\"\"\",\"pixels_x\ny\",ignored,out_of_range"},
      // Classes named like the fixed columns (ADE20K has a "path"): the header stays unique.
      {{"path", "group", "width", "ignored", "repeat_factor"},
       "path,group,width,height,pixels_path,pixels_group,pixels_width,pixels_ignored,pixels_repeat_factor,ignored,"
       "out_of_range"},
  }));
  CAPTURE(c.header);
  temp_dir dir;
  const auto file = dir.path() / "frames.csv";
  maskscan::write_frames_csv(make_stats(c.names, {}, false), file);
  CHECK(read_file(file) == c.header + "\n");
  const auto records = parse_csv(read_file(file));
  REQUIRE(records.size() == 1);
  CHECK(records[0].size() == c.names.size() + 6);
  CHECK(std::set<std::string>(records[0].begin(), records[0].end()).size() == records[0].size());
}

TEST_CASE("write_frames_csv quotes a path with a newline so that the row stays one record", "[output]") {
  temp_dir dir;
  const auto file = dir.path() / "frames.csv";
  auto s = make_stats({"a"}, {}, false);
  s.frames.push_back({"line\nbreak.png", 1, 1, {1}, {}, {}});
  maskscan::write_frames_csv(s, file);
  CHECK(read_file(file) == "path,group,width,height,pixels_a,ignored,out_of_range\n\"line\nbreak.png\",,1,1,1,0,0\n");
  // With a repeat threshold, repeat_factor is the last column (the only class is in every frame: 1).
  maskscan::balance_options t;
  t.repeat_threshold = 0.5;
  maskscan::write_frames_csv(s, file, t);
  CHECK(read_file(file) ==
        "path,group,width,height,pixels_a,ignored,out_of_range,repeat_factor\n\"line\nbreak.png\",,1,1,1,0,0,1\n");
}

namespace {

/// The statistics of the compute_totals test plus heatmaps; every number checked below is from
/// these rows by hand.
scan_result summary_result() {
  scan_result r;
  r.stats = make_stats({"road", "car", "sky"}, {255}, true);
  r.stats.frames.push_back({"a.png", 4, 3, {5, 3, 0}, {{255, 2}}, {{7, 2}}});
  r.stats.frames.push_back({"b.png", 2, 2, {0, 1, 2}, {}, {{9, 1}}});
  r.stats.frames.push_back({"c.png", 3, 1, {1, 0, 0}, {{255, 1}}, {{7, 1}}});
  r.stats.errors.push_back({"d.png", errc::corrupt_png, "bad CRC in IDAT"});
  r.stats.errors.push_back({"e.png", errc::not_png, "no PNG signature"});
  r.stats.heatmaps[heatmap_key{"", 4, 3}] = make_heat(3, 3, 4, 0);
  r.stats.heatmaps[heatmap_key{"", 2, 2}] = make_heat(3, 2, 2, 1);
  r.stats.heatmaps[heatmap_key{"", 3, 1}] = make_heat(3, 1, 3, 2);
  normalize(r.stats);
  r.options.class_names = r.stats.class_names;
  r.options.ignore = {255};
  r.options.heatmaps = true;
  r.options.workers = 2;
  r.frames_total = 5;
  r.wall_seconds = 2.0;
  return r;
}

std::uint64_t as_u64(const json::value& v) {
  REQUIRE((v.is_int64() || v.is_uint64()));
  return v.to_number<std::uint64_t>();
}

double as_double(const json::value& v) {
  REQUIRE(v.is_number());
  return v.to_number<double>();
}

std::string as_string(const json::value& v) {
  REQUIRE(v.is_string());
  return std::string(v.as_string());
}

}  // namespace

TEST_CASE("write_summary_json writes the documented schema with the totals of the scan", "[output]") {
  temp_dir dir;
  const auto file = dir.path() / "summary.json";
  maskscan::write_summary_json(summary_result(), file);

  json::error_code ec;
  const json::value doc = json::parse(read_file(file), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(doc.is_object());
  const auto& o = doc.as_object();

  CHECK(as_u64(o.at("schema_version")) == 2);
  CHECK(as_string(o.at("tool")) == "maskscan");
  CHECK(o.at("partial") == json::value(false));
  CHECK(as_u64(o.at("frames_total")) == 5);
  CHECK(as_u64(o.at("frames_scanned")) == 3);
  CHECK(as_u64(o.at("frames_skipped")) == 2);
  CHECK(as_u64(o.at("pixels")) == 19);
  CHECK(as_u64(o.at("labelled_pixels")) == 12);
  CHECK(as_u64(o.at("ignored_pixels")) == 3);
  CHECK(as_u64(o.at("out_of_range_pixels")) == 4);
  CHECK(as_double(o.at("timing").at("wall_seconds")) == 2.0);
  CHECK(as_double(o.at("timing").at("frames_per_second")) == Approx(2.5));  // (3 + 2) / 2 s

  struct want_class {
    const char* name;
    std::uint64_t pixels, frames_present;
    double fraction;
  };
  const std::vector<want_class> want_classes{{"road", 6, 2, 0.5}, {"car", 4, 2, 1.0 / 3.0}, {"sky", 2, 1, 1.0 / 6.0}};
  const auto& classes = o.at("classes").as_array();
  REQUIRE(classes.size() == want_classes.size());
  for (std::size_t c = 0; c < classes.size(); ++c) {
    CAPTURE(c);
    CHECK(as_u64(classes[c].at("id")) == c);
    CHECK(as_string(classes[c].at("name")) == want_classes[c].name);
    CHECK(as_u64(classes[c].at("pixels")) == want_classes[c].pixels);
    CHECK(as_u64(classes[c].at("frames_present")) == want_classes[c].frames_present);
    CHECK(as_double(classes[c].at("fraction")) == Approx(want_classes[c].fraction).epsilon(1e-12));
  }

  const auto& ignored = o.at("ignored").as_array();
  REQUIRE(ignored.size() == 1);
  CHECK(as_u64(ignored[0].at("value")) == 255);
  CHECK(as_u64(ignored[0].at("pixels")) == 3);
  CHECK(as_u64(ignored[0].at("frames")) == 2);

  const auto& oor = o.at("out_of_range").as_array();
  REQUIRE(oor.size() == 2);
  CHECK(as_u64(oor[0].at("value")) == 7);
  CHECK(as_u64(oor[0].at("pixels")) == 3);
  CHECK(as_u64(oor[0].at("frames")) == 2);
  CHECK(as_u64(oor[1].at("value")) == 9);
  CHECK(as_u64(oor[1].at("pixels")) == 1);
  CHECK(as_u64(oor[1].at("frames")) == 1);

  const auto& files_oor = o.at("files_with_out_of_range").as_array();
  REQUIRE(files_oor.size() == 3);
  CHECK(as_string(files_oor[0].at("path")) == "a.png");
  CHECK(files_oor[0].at("values").as_object().size() == 1);
  CHECK(as_u64(files_oor[0].at("values").at("7")) == 2);
  CHECK(as_string(files_oor[1].at("path")) == "b.png");
  CHECK(as_u64(files_oor[1].at("values").at("9")) == 1);
  CHECK(as_string(files_oor[2].at("path")) == "c.png");
  CHECK(as_u64(files_oor[2].at("values").at("7")) == 1);

  const auto& errors = o.at("errors").as_array();
  REQUIRE(errors.size() == 2);
  CHECK(as_string(errors[0].at("path")) == "d.png");
  CHECK(as_string(errors[0].at("error")) == "corrupt_png");
  CHECK(as_string(errors[0].at("message")) == "bad CRC in IDAT");
  CHECK(as_string(errors[1].at("path")) == "e.png");
  CHECK(as_string(errors[1].at("error")) == "not_png");
  CHECK(as_string(errors[1].at("message")) == "no PNG signature");

  const auto& heat = o.at("heatmaps").as_array();
  REQUIRE(heat.size() == 3);
  struct want_heat {
    const char* file;
    std::uint64_t w, h, frames;
  };
  const std::vector<want_heat> want_heats{
      {"heatmaps_2x2.npy", 2, 2, 2}, {"heatmaps_3x1.npy", 3, 1, 3}, {"heatmaps_4x3.npy", 4, 3, 1}};
  for (std::size_t i = 0; i < heat.size(); ++i) {
    CAPTURE(i);
    CHECK(as_string(heat[i].at("file")) == want_heats[i].file);
    CHECK(as_u64(heat[i].at("width")) == want_heats[i].w);
    CHECK(as_u64(heat[i].at("height")) == want_heats[i].h);
    CHECK(as_u64(heat[i].at("frames")) == want_heats[i].frames);
    const auto& shape = heat[i].at("shape").as_array();
    REQUIRE(shape.size() == 3);
    CHECK(as_u64(shape[0]) == 3);
    CHECK(as_u64(shape[1]) == want_heats[i].h);
    CHECK(as_u64(shape[2]) == want_heats[i].w);
  }

  const auto& options = o.at("options").as_object();
  CHECK(as_u64(options.at("workers")) == 2);
  CHECK(options.at("heatmaps") == json::value(true));
  REQUIRE(options.at("ignore").as_array().size() == 1);
  CHECK(as_u64(options.at("ignore").as_array()[0]) == 255);
}

TEST_CASE("write_summary_json escapes paths and messages so that the file stays valid JSON", "[output]") {
  temp_dir dir;
  const auto file = dir.path() / "summary.json";
  scan_result r;
  r.stats = make_stats({"a \"quoted\" class"}, {}, false);
  const std::string path = "dir/with \"quotes\", \\backslash\\ and\nnewline.png";
  const std::string message = "tab\there, control \x01 and UTF-8 \xc3\xa9";
  r.stats.errors.push_back({path, errc::io_error, message});
  r.stats.frames.push_back({path, 1, 1, {0}, {}, {{70000, 1}}});
  r.options.class_names = r.stats.class_names;
  maskscan::write_summary_json(r, file);

  json::error_code ec;
  const json::value doc = json::parse(read_file(file), ec);
  REQUIRE_FALSE(ec);
  CHECK(as_string(doc.at("classes").as_array()[0].at("name")) == "a \"quoted\" class");
  CHECK(as_string(doc.at("errors").as_array()[0].at("path")) == path);
  CHECK(as_string(doc.at("errors").as_array()[0].at("error")) == "io_error");
  CHECK(as_string(doc.at("errors").as_array()[0].at("message")) == message);
  CHECK(as_string(doc.at("files_with_out_of_range").as_array()[0].at("path")) == path);
  CHECK(as_u64(doc.at("files_with_out_of_range").as_array()[0].at("values").at("70000")) == 1);
  CHECK(as_u64(doc.at("frames_scanned")) == 1);
  CHECK(as_u64(doc.at("frames_skipped")) == 1);
  CHECK(doc.at("heatmaps").as_array().empty());
}

TEST_CASE("write_outputs writes summary.json, frames.csv and one .npy per resolution, and no temporary file",
          "[output]") {
  temp_dir dir;
  const auto out = dir.path() / "not" / "yet" / "there";
  const auto result = summary_result();
  const std::set<std::string> want{"frames.csv",   "heatmaps_2x2.npy", "heatmaps_3x1.npy", "heatmaps_4x3.npy",
                                   "summary.json", "weights.csv",      "cooccurrence.csv"};

  const int runs = GENERATE(1, 2);  // the second run replaces every file
  CAPTURE(runs);
  for (int i = 0; i < runs; ++i) maskscan::write_outputs(result, out);

  const auto names = file_names(out);
  CHECK(names == want);
  for (const auto& n : names) {
    CAPTURE(n);
    CHECK(n.find(".tmp.") == std::string::npos);
  }
  for (const auto& e : fs::directory_iterator(out)) CHECK(e.is_regular_file());

  // Each file has the content of its own writer's format.
  const auto csv = read_file(out / "frames.csv");
  CHECK(csv.substr(0, csv.find('\n')) ==
        "path,group,width,height,pixels_road,pixels_car,pixels_sky,ignored,out_of_range");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);  // header + 3 rows
  for (const auto& [res, heat] : result.stats.heatmaps) {
    const auto name = "heatmaps_" + std::to_string(res.width) + "x" + std::to_string(res.height) + ".npy";
    CAPTURE(name);
    const auto npy = parse_npy(read_file(out / name));
    CHECK(npy.classes == 3);
    CHECK(npy.width == res.width);
    CHECK(npy.height == res.height);
    CHECK(npy.values == heat.counts);
  }
  json::error_code ec;
  const auto doc = json::parse(read_file(out / "summary.json"), ec);
  REQUIRE_FALSE(ec);
  CHECK(as_u64(doc.at("frames_scanned")) == 3);
  for (const auto& h : doc.at("heatmaps").as_array()) CHECK(fs::exists(out / as_string(h.at("file"))));
}

TEST_CASE("write_outputs without heatmaps writes no .npy file", "[output]") {
  temp_dir dir;
  scan_result r;
  r.stats = csv_stats();
  r.options.class_names = r.stats.class_names;
  maskscan::write_outputs(r, dir.path());
  CHECK(file_names(dir.path()) ==
        std::set<std::string>{"frames.csv", "summary.json", "weights.csv", "cooccurrence.csv"});
}

TEST_CASE("the writers throw std::runtime_error naming the file when it cannot be written", "[output]") {
  temp_dir dir;
  const auto missing = dir.path() / "missing";
  const int which = GENERATE(0, 1, 2);
  CAPTURE(which);
  fs::path file;
  try {
    switch (which) {
      case 0:
        file = missing / "frames.csv";
        maskscan::write_frames_csv(csv_stats(), file);
        break;
      case 1:
        file = missing / "summary.json";
        maskscan::write_summary_json(summary_result(), file);
        break;
      default:
        file = missing / "heat.npy";
        maskscan::write_heatmap_npy(make_heat(2, 2, 2, 0), 2, file);
        break;
    }
    FAIL("the writer did not throw");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains(file.string()));
  }
  CHECK_FALSE(fs::exists(missing));
}

TEST_CASE("write_outputs throws std::runtime_error naming the directory when it cannot be created", "[output]") {
  temp_dir dir;
  const auto blocker = dir.path() / "a-file";
  { std::ofstream(blocker) << "x"; }
  const auto out = blocker / "sub";
  try {
    maskscan::write_outputs(summary_result(), out);
    FAIL("write_outputs did not throw");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains(out.string()));
  }
}

TEST_CASE("write_outputs gives groups whose names make one directory name directories of their own", "[output]") {
  temp_dir dir;
  scan_result r;
  r.stats = make_stats({"a", "b"}, {}, false);
  r.stats.grouping = "group-by:^(.*)/[^/]+$";
  r.stats.frames.push_back({"a/b/1.png", 1, 1, {1, 0}, {}, {}, {}, {}, "a/b"});
  r.stats.frames.push_back({"a_b/2.png", 1, 1, {0, 1}, {}, {}, {}, {}, "a_b"});
  normalize(r.stats);
  r.options.class_names = r.stats.class_names;
  maskscan::write_outputs(r, dir.path());
  // "a/b" sorts before "a_b": it gets groups/a_b, the other groups/a_b-2; nothing is overwritten.
  CHECK(read_file(dir.path() / "groups/a_b/frames.csv").find("a/b/1.png") != std::string::npos);
  CHECK(read_file(dir.path() / "groups/a_b-2/frames.csv").find("a_b/2.png") != std::string::npos);
  json::error_code ec;
  const auto doc = json::parse(read_file(dir.path() / "summary.json"), ec);
  REQUIRE_FALSE(ec);
  const auto& groups = doc.at("groups").as_array();
  REQUIRE(groups.size() == 2);
  CHECK(as_string(groups[0].at("directory")) == "groups/a_b");
  CHECK(as_string(groups[1].at("directory")) == "groups/a_b-2");
  CHECK(as_string(doc.at("grouping")) == "group-by:^(.*)/[^/]+$");
}

TEST_CASE("write_outputs leaves out the co-occurrence matrix above 1024 classes", "[output]") {
  temp_dir dir;
  scan_result r;
  r.stats = make_stats(maskscan::numbered_class_names(1025), {}, false);
  r.options.class_names = r.stats.class_names;
  maskscan::write_outputs(r, dir.path());
  CHECK_FALSE(fs::exists(dir.path() / "cooccurrence.csv"));
  json::error_code ec;
  const auto doc = json::parse(read_file(dir.path() / "summary.json"), ec);
  REQUIRE_FALSE(ec);
  CHECK(doc.at("cooccurrence").is_null());
}

TEST_CASE("write_outputs writes the grid heatmaps at the top and per group, listed in summary.json",
          "[output][heatmap-grid]") {
  temp_dir dir;
  scan_result r;
  r.stats = make_stats({"a", "b", "c"}, {}, false);
  r.stats.heatmap_grid = {2, 1};
  r.stats.grouping = "group-by:^([^/]+)/";
  r.stats.frames.push_back({"x/1.png", 5, 3, {14, 1, 0}, {}, {}, {}, {}, "x"});
  r.stats.frames.push_back({"x/2.png", 2, 2, {0, 2, 2}, {}, {}, {}, {}, "x"});
  r.stats.frames.push_back({"y/3.png", 9, 1, {9, 0, 0}, {}, {}, {}, {}, "y"});
  r.stats.errors.push_back({"z/4.png", errc::not_png, "no signature", "z"});  // a group without frames: no grid set
  r.stats.grid_heatmaps["x"] = heatmap_set{2, 1, 2, {1, 0, 0, 2, 1, 0}};
  r.stats.grid_heatmaps["y"] = heatmap_set{2, 1, 1, {1, 1, 0, 0, 0, 0}};
  normalize(r.stats);
  r.options.class_names = r.stats.class_names;
  r.options.heatmap_grid = {2, 1};
  maskscan::write_outputs(r, dir.path());

  const auto names = file_names(dir.path());
  CHECK(names.count("heatmaps_grid_2x1.npy") == 1);
  CHECK(names.count("groups/x/heatmaps_grid_2x1.npy") == 1);
  CHECK(names.count("groups/y/heatmaps_grid_2x1.npy") == 1);
  CHECK(names.count("groups/z/heatmaps_grid_2x1.npy") == 0);
  const auto top = parse_npy(read_file(dir.path() / "heatmaps_grid_2x1.npy"));
  CHECK(top.classes == 3);
  CHECK(top.height == 1);
  CHECK(top.width == 2);
  CHECK(top.values == std::vector<std::uint32_t>{2, 1, 0, 2, 1, 0});  // x + y, cell by cell
  CHECK(parse_npy(read_file(dir.path() / "groups/x/heatmaps_grid_2x1.npy")).values ==
        r.stats.grid_heatmaps.at("x").counts);

  const auto summary = [&](const fs::path& file) {
    json::error_code ec;
    auto doc = json::parse(read_file(file), ec);
    REQUIRE_FALSE(ec);
    return doc;
  };
  const auto doc = summary(dir.path() / "summary.json");
  const auto& grid = doc.at("heatmap_grid");
  CHECK(as_string(grid.at("file")) == "heatmaps_grid_2x1.npy");
  CHECK(as_u64(grid.at("width")) == 2);
  CHECK(as_u64(grid.at("height")) == 1);
  CHECK(as_u64(grid.at("frames")) == 3);
  CHECK(grid.at("shape") == json::value{3, 1, 2});
  CHECK(as_string(doc.at("options").at("heatmap_grid")) == "2x1");
  CHECK(doc.at("heatmaps").as_array().empty());  // per frame size: none asked for
  CHECK(as_u64(summary(dir.path() / "groups/x/summary.json").at("heatmap_grid").at("frames")) == 2);
  const auto empty_group = summary(dir.path() / "groups/z/summary.json");
  CHECK(empty_group.at("heatmap_grid").at("file").is_null());
  CHECK(as_u64(empty_group.at("heatmap_grid").at("frames")) == 0);

  // Without a grid: null, and no file.
  temp_dir plain;
  scan_result none;
  none.stats = csv_stats();
  none.options.class_names = none.stats.class_names;
  maskscan::write_outputs(none, plain.path());
  const auto plain_doc = summary(plain.path() / "summary.json");
  CHECK(plain_doc.at("heatmap_grid").is_null());
  CHECK(plain_doc.at("options").at("heatmap_grid").is_null());
}

TEST_CASE("a rewrite that fails half-way leaves no summary.json beside files of another run", "[output][env-faults]") {
  // The promise (docs/outputs.md): if summary.json exists, every file it names is complete and of
  // its run. frames.csv is replaced first, so the earlier summary.json must be gone by then.
  temp_dir dir;
  const auto result = summary_result();  // 3 frames
  maskscan::write_outputs(result, dir.path());
  REQUIRE(fs::exists(dir / "summary.json"));

  scan_result fewer = result;
  fewer.stats.frames.pop_back();
  // weights.csv, written after frames.csv, cannot be replaced: a directory holds its name.
  fs::remove(dir / "weights.csv");
  fs::create_directories(dir / "weights.csv" / "in-the-way");
  CHECK_THROWS_WITH(maskscan::write_outputs(fewer, dir.path()), Catch::Contains("weights.csv"));
  const auto csv = read_file(dir / "frames.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);  // the new frames.csv: header + 2 rows
  CHECK_FALSE(fs::exists(dir / "summary.json"));         // not the old one, which says 3 frames

  fs::remove_all(dir / "weights.csv");
  maskscan::write_outputs(fewer, dir.path());
  CHECK(as_u64(json::parse(read_file(dir / "summary.json")).at("frames_scanned")) == 2);
}

TEST_CASE("remove_stale_temporaries removes a killed writer's temporaries of maskscan outputs, nothing else",
          "[output][env-faults]") {
  temp_dir dir;
  const auto out = dir.path();
  const pid_t child = ::fork();  // a process id that is not running any more
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const auto dead = std::to_string(child), live = std::to_string(::getppid());
  const std::vector<fs::path> stale{out / ("summary.json.tmp." + dead + ".0"),
                                    out / ("heatmaps_grid_64x48.npy.tmp." + dead + ".12"),
                                    out / "groups" / "FV" / ("frames.csv.tmp." + dead + ".1"),
                                    out / "images" / "heatmaps" / "64x48" / ("3_car.png.tmp." + dead + ".2"),
                                    // this process's own number: an earlier process of that number left it
                                    out / ("weights.csv.tmp." + std::to_string(::getpid()) + ".5")};
  const std::vector<fs::path> kept{out / "notes.tmp.txt", out / ("frames.csv.tmp." + live + ".0"),
                                   out / ("mine.csv.tmp." + dead + ".0"), out / "frames.csv",
                                   out / "other" / ("summary.json.tmp." + dead + ".0")};
  for (const auto& f : stale) {
    fs::create_directories(f.parent_path());
    maskscan::test::write_file(f, "half");
  }
  for (const auto& f : kept) {
    fs::create_directories(f.parent_path());
    maskscan::test::write_file(f, "keep");
  }
  auto removed = maskscan::remove_stale_temporaries(out);
  std::ranges::sort(removed);
  auto want = stale;
  std::ranges::sort(want);
  CHECK(removed == want);
  for (const auto& f : stale) CHECK_FALSE(fs::exists(f));
  for (const auto& f : kept) CHECK(read_file(f) == "keep");

  maskscan::test::write_file(out / ("s.state.tmp." + dead + ".0"), "half");
  CHECK(maskscan::remove_stale_temporaries_of(out / "s.state") ==
        std::vector<fs::path>{out / ("s.state.tmp." + dead + ".0")});
  CHECK(maskscan::remove_stale_temporaries(out / "missing").empty());
}
