// dataset_stats: compute_totals against hand-computed numbers, merge's algebra (commutative,
// associative) on random values, and merge's refusals.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <maskscan/stats.hpp>

namespace {

using maskscan::complete_resumed;
using maskscan::dataset_stats;
using maskscan::duplicate_frame;
using maskscan::errc;
using maskscan::file_error;
using maskscan::frame_row;
using maskscan::heatmap_key;
using maskscan::heatmap_set;
using maskscan::make_stats;
using maskscan::prefix_frames;
using maskscan::value_pixels;

/// Three frames and two errors; every total below was computed by hand from these rows.
dataset_stats hand_stats() {
  auto s = make_stats({"road", "car", "sky"}, {255}, false);
  //              path     w  h  road car sky  ignored      out of range
  s.frames.push_back({"a.png", 4, 3, {5, 3, 0}, {{255, 2}}, {{7, 2}}});  // 12 pixels
  s.frames.push_back({"b.png", 2, 2, {0, 1, 2}, {}, {{9, 1}}});          // 4 pixels
  s.frames.push_back({"c.png", 3, 1, {1, 0, 0}, {{255, 1}}, {{7, 1}}});  // 3 pixels
  s.errors.push_back({"d.png", errc::corrupt_png, "bad CRC in IDAT"});
  s.errors.push_back({"e.png", errc::not_png, "no PNG signature"});
  return s;
}

}  // namespace

TEST_CASE("compute_totals sums pixels, frames present, fractions and per-value ignored and out-of-range totals",
          "[stats]") {
  const auto t = compute_totals(hand_stats());

  CHECK(t.frames == 3);
  CHECK(t.skipped == 2);
  CHECK(t.pixels == 19);
  CHECK(t.labelled_pixels == 12);
  CHECK(t.ignored_pixels == 3);
  CHECK(t.out_of_range_pixels == 4);

  REQUIRE(t.classes.size() == 3);
  CHECK(t.classes[0].id == 0);
  CHECK(t.classes[0].name == "road");
  CHECK(t.classes[0].pixels == 6);
  CHECK(t.classes[0].frames_present == 2);
  CHECK(t.classes[0].fraction == Approx(0.5).epsilon(1e-12));
  CHECK(t.classes[1].id == 1);
  CHECK(t.classes[1].name == "car");
  CHECK(t.classes[1].pixels == 4);
  CHECK(t.classes[1].frames_present == 2);
  CHECK(t.classes[1].fraction == Approx(1.0 / 3.0).epsilon(1e-12));
  CHECK(t.classes[2].id == 2);
  CHECK(t.classes[2].name == "sky");
  CHECK(t.classes[2].pixels == 2);
  CHECK(t.classes[2].frames_present == 1);
  CHECK(t.classes[2].fraction == Approx(1.0 / 6.0).epsilon(1e-12));

  REQUIRE(t.ignored.size() == 1);
  CHECK(t.ignored[0].value == 255);
  CHECK(t.ignored[0].pixels == 3);
  CHECK(t.ignored[0].frames == 2);

  REQUIRE(t.out_of_range.size() == 2);
  CHECK(t.out_of_range[0].value == 7);
  CHECK(t.out_of_range[0].pixels == 3);
  CHECK(t.out_of_range[0].frames == 2);
  CHECK(t.out_of_range[1].value == 9);
  CHECK(t.out_of_range[1].pixels == 1);
  CHECK(t.out_of_range[1].frames == 1);
}

TEST_CASE("compute_totals of statistics without labelled pixels has zero fractions", "[stats]") {
  auto s = make_stats({"a", "b"}, {0}, false);
  SECTION("no frames at all") {}
  SECTION("only ignored and out-of-range pixels") { s.frames.push_back({"x.png", 2, 1, {0, 0}, {{0, 1}}, {{5, 1}}}); }
  const auto t = compute_totals(s);
  CHECK(t.labelled_pixels == 0);
  REQUIRE(t.classes.size() == 2);
  for (const auto& c : t.classes) {
    CHECK(c.pixels == 0);
    CHECK(c.frames_present == 0);
    CHECK(c.fraction == 0.0);
  }
}

TEST_CASE("compute_totals agrees with a naive recount on random rows", "[stats]") {
  const std::uint32_t seed = GENERATE(11u, 12u, 13u);
  CAPTURE(seed);
  std::mt19937 rng(seed);
  const std::size_t classes = 1 + rng() % 6;
  std::vector<std::string> names;
  for (std::size_t c = 0; c < classes; ++c) names.push_back(std::string("c").append(std::to_string(c)));
  auto s = make_stats(names, {100, 101}, false);

  std::uint64_t want_pixels = 0, want_labelled = 0, want_ignored = 0, want_oor = 0;
  std::vector<std::uint64_t> want_class(classes, 0), want_present(classes, 0);
  std::map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> want_oor_values;  // pixels, frames
  const int rows = 1 + static_cast<int>(rng() % 30);
  for (int r = 0; r < rows; ++r) {
    frame_row row;
    row.path = std::string("f").append(std::to_string(r));
    row.class_pixels.resize(classes);
    std::uint64_t total = 0;
    for (std::size_t c = 0; c < classes; ++c) {
      row.class_pixels[c] = rng() % 3 == 0 ? 0 : rng() % 1000;
      total += row.class_pixels[c];
      want_class[c] += row.class_pixels[c];
      if (row.class_pixels[c]) ++want_present[c];
      want_labelled += row.class_pixels[c];
    }
    if (rng() % 2) {
      row.ignored.push_back({100, 1 + rng() % 50});
      total += row.ignored.back().pixels;
      want_ignored += row.ignored.back().pixels;
    }
    for (std::uint32_t v = 200; v < 203; ++v) {
      if (rng() % 2) continue;
      row.out_of_range.push_back({v, 1 + rng() % 50});
      total += row.out_of_range.back().pixels;
      want_oor += row.out_of_range.back().pixels;
      want_oor_values[v].first += row.out_of_range.back().pixels;
      want_oor_values[v].second += 1;
    }
    // One more class-0 pixel, so that no row is empty; width * height is the row's pixel total.
    row.width = static_cast<std::uint32_t>(total + 1);
    row.height = 1;
    row.class_pixels[0] += 1;
    want_class[0] += 1;
    if (row.class_pixels[0] == 1) ++want_present[0];
    want_labelled += 1;
    want_pixels += total + 1;
    s.frames.push_back(std::move(row));
  }

  const auto t = compute_totals(s);
  CHECK(t.frames == static_cast<std::uint64_t>(rows));
  CHECK(t.pixels == want_pixels);
  CHECK(t.labelled_pixels == want_labelled);
  CHECK(t.ignored_pixels == want_ignored);
  CHECK(t.out_of_range_pixels == want_oor);
  CHECK(t.labelled_pixels + t.ignored_pixels + t.out_of_range_pixels == t.pixels);
  double fraction_sum = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    CAPTURE(c);
    CHECK(t.classes[c].pixels == want_class[c]);
    CHECK(t.classes[c].frames_present == want_present[c]);
    CHECK(t.classes[c].fraction ==
          Approx(static_cast<double>(want_class[c]) / static_cast<double>(want_labelled)).epsilon(1e-12));
    fraction_sum += t.classes[c].fraction;
  }
  CHECK(fraction_sum == Approx(1.0).epsilon(1e-9));
  REQUIRE(t.out_of_range.size() == want_oor_values.size());
  std::size_t i = 0;
  for (const auto& [v, pf] : want_oor_values) {
    CAPTURE(v);
    CHECK(t.out_of_range[i].value == v);
    CHECK(t.out_of_range[i].pixels == pf.first);
    CHECK(t.out_of_range[i].frames == pf.second);
    ++i;
  }
}

namespace {

const std::vector<std::string> merge_names{"bg", "lane", "car", "person"};
const std::vector<std::uint32_t> merge_ignore{0xff};

/// Random rows, errors and heatmaps (from `resolutions`), all from `rng`.
dataset_stats random_stats(std::mt19937& rng, const std::string& prefix,
                           const std::vector<std::pair<std::uint32_t, std::uint32_t>>& resolutions) {
  auto s = make_stats(merge_names, merge_ignore, true);
  const int rows = 3 + static_cast<int>(rng() % 8);
  for (int r = 0; r < rows; ++r) {
    frame_row row;
    // Paths of different shards interleave when sorted.
    row.path = "seq" + std::to_string(rng() % 4) + "/" + prefix + std::to_string(r) + ".png";
    row.width = 1 + rng() % 64;
    row.height = 1 + rng() % 64;
    for (std::size_t c = 0; c < merge_names.size(); ++c) row.class_pixels.push_back(rng() % 500);
    if (rng() % 2) row.ignored.push_back({0xff, 1 + rng() % 9});
    if (rng() % 2) row.out_of_range.push_back({static_cast<std::uint32_t>(4 + rng() % 3), 1 + rng() % 9});
    s.frames.push_back(std::move(row));
  }
  // Deliberately unsorted: merge must sort them.
  const int errors = static_cast<int>(rng() % 4);
  for (int e = 0; e < errors; ++e)
    s.errors.push_back({"seq" + std::to_string(rng() % 4) + "/" + prefix + "bad" + std::to_string(e) + ".png",
                        static_cast<errc>(1 + rng() % 6), "message " + std::to_string(rng() % 100)});
  for (const auto& res : resolutions) {
    heatmap_set h;
    h.width = res.first;
    h.height = res.second;
    h.frames = 1 + rng() % 20;
    for (std::size_t i = 0; i < merge_names.size() * res.first * res.second; ++i)
      h.counts.push_back(static_cast<std::uint32_t>(rng() % (h.frames + 1)));
    s.heatmaps[heatmap_key{"", res.first, res.second}] = std::move(h);
  }
  return s;
}

dataset_stats merged(dataset_stats a, const dataset_stats& b) {
  merge(a, b);
  return a;
}

}  // namespace

TEST_CASE("merge is commutative and associative and sums rows, errors and heatmaps", "[stats]") {
  const std::uint32_t seed = GENERATE(1u, 7u, 42u);
  CAPTURE(seed);
  std::mt19937 rng(seed);
  const std::array<dataset_stats, 3> s{random_stats(rng, "a", {{4, 3}, {5, 2}}), random_stats(rng, "b", {{4, 3}}),
                                       random_stats(rng, "c", {{5, 2}, {2, 2}})};

  // Independent truth: every row and error of the three, sorted; heatmaps summed cell by cell.
  std::vector<frame_row> want_rows;
  std::vector<file_error> want_errors;
  std::map<heatmap_key, heatmap_set> want_heat;
  for (const auto& x : s) {
    want_rows.insert(want_rows.end(), x.frames.begin(), x.frames.end());
    want_errors.insert(want_errors.end(), x.errors.begin(), x.errors.end());
    for (const auto& [res, h] : x.heatmaps) {
      auto& w = want_heat[res];
      w.width = h.width;
      w.height = h.height;
      w.frames += h.frames;
      w.counts.resize(h.counts.size(), 0);
      for (std::size_t i = 0; i < h.counts.size(); ++i) w.counts[i] += h.counts[i];
    }
  }
  auto by_path = [](const auto& x, const auto& y) { return x.path < y.path; };
  std::stable_sort(want_rows.begin(), want_rows.end(), by_path);
  std::stable_sort(want_errors.begin(), want_errors.end(), by_path);

  const auto reference = merged(merged(s[0], s[1]), s[2]);
  CHECK(reference.class_names == merge_names);
  CHECK(reference.ignore == merge_ignore);
  CHECK(reference.has_heatmaps);
  REQUIRE(reference.frames.size() == want_rows.size());
  for (std::size_t i = 0; i < want_rows.size(); ++i) {
    CAPTURE(i);
    CHECK(reference.frames[i].path == want_rows[i].path);
  }
  CHECK(std::is_permutation(reference.frames.begin(), reference.frames.end(), want_rows.begin(), want_rows.end()));
  REQUIRE(reference.errors.size() == want_errors.size());
  for (std::size_t i = 0; i < want_errors.size(); ++i) CHECK(reference.errors[i].path == want_errors[i].path);
  CHECK(std::is_permutation(reference.errors.begin(), reference.errors.end(), want_errors.begin(), want_errors.end()));
  CHECK(reference.heatmaps == want_heat);
  REQUIRE(reference.heatmaps.size() == 3);

  // Every order and both groupings.
  std::array<int, 3> order{0, 1, 2};
  do {
    const auto& x = s[order[0]];
    const auto& y = s[order[1]];
    const auto& z = s[order[2]];
    CAPTURE(order[0], order[1], order[2]);
    REQUIRE(merged(merged(x, y), z) == reference);
    REQUIRE(merged(x, merged(y, z)) == reference);
  } while (std::next_permutation(order.begin(), order.end()));

  // Merging into an empty value of the same settings is the identity (after normalize).
  auto empty = make_stats(merge_names, merge_ignore, true);
  auto normalized = s[0];
  normalize(normalized);
  CHECK(merged(empty, s[0]) == normalized);
  CHECK(merged(s[0], empty) == normalized);
}

TEST_CASE("merge refuses statistics with different class names, ignore values or heatmap setting", "[stats]") {
  struct variant {
    const char* what;
    dataset_stats other;
  };
  const auto base = make_stats({"a", "b"}, {7}, true);
  const std::vector<variant> variants{
      {"another class name", make_stats({"a", "c"}, {7}, true)},
      {"classes in another order", make_stats({"b", "a"}, {7}, true)},
      {"one class more", make_stats({"a", "b", "c"}, {7}, true)},
      {"one class less", make_stats({"a"}, {7}, true)},
      {"another ignore value", make_stats({"a", "b"}, {8}, true)},
      {"no ignore values", make_stats({"a", "b"}, {}, true)},
      {"an extra ignore value", make_stats({"a", "b"}, {7, 9}, true)},
      {"no heatmaps", make_stats({"a", "b"}, {7}, false)},
  };
  const auto i = GENERATE_COPY(range(std::size_t{0}, variants.size()));
  CAPTURE(variants[i].what);

  auto into = base;
  into.frames.push_back({"x.png", 1, 1, {1, 0}, {}, {}});
  auto other = variants[i].other;
  other.frames.push_back({"y.png", 1, 1, std::vector<std::uint64_t>(other.class_names.size(), 0), {}, {}});
  const auto before = into;
  CHECK_THROWS_AS(merge(into, other), std::invalid_argument);
  CHECK(into == before);  // refused before anything was added
  // And the other way round.
  auto other_into = other;
  CHECK_THROWS_AS(merge(other_into, base), std::invalid_argument);
}

TEST_CASE("make_stats sorts the ignore values and drops duplicates, so equal sets merge", "[stats]") {
  auto a = make_stats({"a"}, {9, 3, 9, 1}, false);
  CHECK(a.ignore == std::vector<std::uint32_t>{1, 3, 9});
  const auto b = make_stats({"a"}, {3, 1, 9}, false);
  CHECK_NOTHROW(merge(a, b));
}

TEST_CASE("merged errors are kept and sorted by path", "[stats]") {
  auto a = make_stats({"x"}, {}, false);
  a.errors = {{"z.png", errc::io_error, "z"}, {"b.png", errc::not_png, "b"}};
  auto b = make_stats({"x"}, {}, false);
  b.errors = {{"a.png", errc::corrupt_png, "a"}, {"m/n.png", errc::cancelled, "n"}};
  normalize(a);
  normalize(b);

  merge(a, b);
  const std::vector<file_error> want{
      {"a.png", errc::corrupt_png, "a"},
      {"b.png", errc::not_png, "b"},
      {"m/n.png", errc::cancelled, "n"},
      {"z.png", errc::io_error, "z"},
  };
  CHECK(a.errors == want);
  CHECK(compute_totals(a).skipped == 4);
}

TEST_CASE("merge refuses statistics that share a frame, naming it, and changes nothing", "[stats][merge]") {
  const auto row = [](std::string path, std::uint64_t pixels) {
    return frame_row{std::move(path), 1, 1, {pixels, 0}, {}, {}};
  };
  auto base = make_stats({"a", "b"}, {}, false);
  base.frames = {row("cam1/x.png", 1), row("y.png", 1)};
  base.errors = {{"bad.png", errc::not_png, "no"}};
  struct shared_case {
    const char* what;
    std::vector<frame_row> frames;
    std::vector<file_error> errors;
    const char* path;
  };
  const auto c = GENERATE_COPY(values<shared_case>({
      {"a row in both", {row("a.png", 1), row("y.png", 1)}, {}, "y.png"},
      {"a row in one, a skipped file in the other", {}, {{"cam1/x.png", errc::io_error, "gone"}}, "cam1/x.png"},
      {"a skipped file in both", {}, {{"bad.png", errc::not_png, "no"}}, "bad.png"},
  }));
  CAPTURE(c.what);
  auto other = make_stats({"a", "b"}, {}, false);
  other.frames = maskscan::frame_rows(c.frames);
  other.errors = c.errors;
  auto into = base;
  try {
    merge(into, other);
    FAIL("merged statistics that share a frame");
  } catch (const duplicate_frame& e) {
    CHECK(e.path() == c.path);
    CHECK_THAT(e.what(), Catch::Contains(c.path) && Catch::Contains("twice"));
  }
  CHECK(into == base);
  auto reverse = other;
  CHECK_THROWS_AS(merge(reverse, base), duplicate_frame);
  CHECK(reverse == other);
}

TEST_CASE("merge of statistics with itself is refused: every frame would count twice", "[stats][merge]") {
  auto s = make_stats({"a"}, {}, false);
  CHECK_NOTHROW(merge(s, s));  // nothing in it
  s.frames = {{"x.png", 1, 1, {1}, {}, {}}};
  const auto before = s;
  CHECK_THROWS_WITH(merge(s, s), Catch::Contains("'x.png'"));
  CHECK(s == before);
}

TEST_CASE("a merge of partial statistics is partial", "[stats][merge]") {
  auto a = make_stats({"a"}, {}, false);
  a.frames = {{"x.png", 1, 1, {1}, {}, {}}};
  auto b = make_stats({"a"}, {}, false);
  b.frames = {{"y.png", 1, 1, {1}, {}, {}}};
  for (const bool a_partial : {false, true})
    for (const bool b_partial : {false, true}) {
      CAPTURE(a_partial, b_partial);
      auto into = a;
      into.partial = a_partial;
      auto other = b;
      other.partial = b_partial;
      merge(into, other);
      CHECK(into.partial == (a_partial || b_partial));
    }
  // Resuming completes a partial scan: the result is partial only if the rest is.
  auto saved = a;
  saved.partial = true;
  saved.errors = {{"y.png", errc::io_error, "busy"}};  // retried by the rest
  CHECK_FALSE(complete_resumed(saved, b).partial);
  auto rest = b;
  rest.partial = true;
  CHECK(complete_resumed(saved, rest).partial);
  CHECK(complete_resumed(saved, b).frames.size() == 2);
  CHECK(complete_resumed(saved, b).errors.empty());
}

TEST_CASE("prefix_frames keeps scans of different folders apart, so they merge", "[stats][merge]") {
  auto a = make_stats({"a"}, {}, false);
  a.frames = {{"x.png", 1, 1, {1}, {}, {}}};
  a.errors = {{"z.png", errc::not_png, "no"}};
  auto b = make_stats({"a"}, {}, false);
  b.frames = {{"x.png", 2, 1, {2}, {}, {}}};
  auto merged = a;
  CHECK_THROWS_AS(merge(merged, b), duplicate_frame);
  prefix_frames(a, "cityA");
  prefix_frames(b, "city B/");  // a trailing '/' is the same prefix
  CHECK(a.frames[0].path == "cityA/x.png");
  CHECK(a.errors[0].path == "cityA/z.png");
  CHECK(b.frames[0].path == "city B/x.png");
  merge(a, b);
  CHECK(compute_totals(a).classes[0].pixels == 3);
  for (const char* bad : {"", "/abs", "a/../b", "./a", "a//b", "/"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(prefix_frames(b, bad), std::invalid_argument);
  }
}

TEST_CASE("statistics whose classes are the values merge by widening the shorter class list", "[stats][merge]") {
  // Scans without a class map: one found values 0..1, the other 0..3.
  auto a = make_stats({"class_0", "class_1"}, {}, true);
  a.classes_from_values = true;
  a.frames = {{"a.png", 2, 1, {1, 1}, {}, {}}};
  a.heatmaps[heatmap_key{"", 2, 1}] = heatmap_set{2, 1, 1, {1, 0, 0, 1}};
  auto b = make_stats({"class_0", "class_1", "class_2", "class_3"}, {}, true);
  b.classes_from_values = true;
  b.frames = {{"b.png", 2, 1, {0, 0, 1, 1}, {}, {}}};
  b.heatmaps[heatmap_key{"", 2, 1}] = heatmap_set{2, 1, 1, {0, 0, 0, 0, 1, 0, 0, 1}};
  // Expected by hand: four classes, a's row padded with zeros, heatmaps summed per class.
  auto want = make_stats({"class_0", "class_1", "class_2", "class_3"}, {}, true);
  want.classes_from_values = true;
  want.frames = {{"a.png", 2, 1, {1, 1, 0, 0}, {}, {}}, {"b.png", 2, 1, {0, 0, 1, 1}, {}, {}}};
  want.heatmaps[heatmap_key{"", 2, 1}] = heatmap_set{2, 1, 2, {1, 0, 0, 1, 1, 0, 0, 1}};
  auto ab = a;
  merge(ab, b);
  CHECK(ab == want);
  auto ba = b;
  merge(ba, a);
  CHECK(ba == want);
  // A class map and the values found do not mix.
  auto named = make_stats({"class_0", "class_1"}, {}, true);
  CHECK_THROWS_AS(merge(named, a), std::invalid_argument);
}

TEST_CASE("normalize sorts rows by path", "[stats]") {
  auto s = make_stats({"x"}, {}, false);
  s.frames = {{"b/2.png", 1, 1, {1}, {}, {}}, {"a.png", 1, 1, {1}, {}, {}}, {"b/10.png", 1, 1, {1}, {}, {}}};
  normalize(s);
  REQUIRE(s.frames.size() == 3);
  CHECK(s.frames[0].path == "a.png");
  CHECK(s.frames[1].path == "b/10.png");  // byte order, not natural order
  CHECK(s.frames[2].path == "b/2.png");
}
