// Balancing statistics (balance.hpp, docs/statistics.md): every weight of a small hand-built dataset
// computed by hand; the weights of real CamVid and ADE20K counts against a separate plain
// implementation of the formulas and against numbers computed once with NumPy; repeat factors,
// co-occurrence, component summaries; refused options; the CSV writers and the summary.json pieces.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <maskscan/balance.hpp>
#include <maskscan/output.hpp>
#include <maskscan/stats.hpp>

#include "output/statistics_json.hpp"
#include "support/test_data.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace maskscan;

constexpr double tight = 1e-12;  // relative

/// A frame row with its fields set by name (the struct grows; positional braces would not keep up).
frame_row make_row(std::string path, std::uint32_t width, std::uint32_t height, std::vector<std::uint64_t> class_pixels,
                   std::vector<value_pixels> ignored = {}) {
  frame_row row;
  row.path = std::move(path);
  row.width = width;
  row.height = height;
  row.class_pixels = std::move(class_pixels);
  row.ignored = std::move(ignored);
  return row;
}

/// The hand example. Four classes: road, car, void (id 2, ignore-listed) and "bicycle, parked"
/// (id 3, never present; the comma checks CSV quoting). Five 4x4 frames (16 pixels each); as in a
/// scan, the ignore-listed value's pixels are in row.ignored, never in class_pixels.
///
///   frame   road car void bicycle   labelled
///   a.png    12   0   (4)   0        12
///   b.png    10   6    -    0        16
///   c.png    14   2    -    0        16
///   d.png    16   0    -    0        16
///   e.png     0   0  (16)   0         0      (nothing but void)
///
/// N = 5 frames, P = 12 + 16 + 16 + 16 + 0 = 60 labelled pixels.
/// road: n = 52, F = 4 (a, b, c, d), T = 12 + 16 + 16 + 16 = 60, p = 52/60, f = 4/5
/// car:  n =  8, F = 2 (b, c),       T = 16 + 16 = 32,           p =  8/60, f = 2/5
/// void, bicycle: n = 0, F = 0, T = 0: no weights. Weighted classes: road, car, so K = 2.
dataset_stats hand_example() {
  auto s = make_stats({"road", "car", "void", "bicycle, parked"}, {2}, false);
  s.frames.push_back(make_row("a.png", 4, 4, {12, 0, 0, 0}, {{2, 4}}));
  s.frames.push_back(make_row("b.png", 4, 4, {10, 6, 0, 0}));
  s.frames.push_back(make_row("c.png", 4, 4, {14, 2, 0, 0}));
  s.frames.push_back(make_row("d.png", 4, 4, {16, 0, 0, 0}));
  s.frames.push_back(make_row("e.png", 4, 4, {0, 0, 0, 0}, {{2, 16}}));
  return s;
}

// ---- an independent, plain implementation of docs/statistics.md, straight from value counts ----

using counts_per_file = std::map<std::string, maskscan::test::value_counts>;

struct reference_weights {
  std::vector<std::uint64_t> n, F, T;
  std::uint64_t P = 0, N = 0, K = 0;
  std::vector<std::optional<double>> inverse, inverse_sqrt, median_present, median_all, enet, effective;
  std::vector<std::optional<double>> repeat;  // per class: only weighted ones, only with a threshold
  std::vector<double> frame_repeat;           // per file, in the map's order
};

double plain_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size();
  return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

reference_weights reference(const counts_per_file& files, std::uint32_t classes, const std::set<std::uint32_t>& ignore,
                            const balance_options& o) {
  reference_weights r;
  r.n.assign(classes, 0);
  r.F.assign(classes, 0);
  r.T.assign(classes, 0);
  auto counts_as_class = [&](std::uint32_t v) { return v < classes && !ignore.count(v); };
  for (const auto& [file, counts] : files) {
    std::uint64_t labelled = 0;
    for (const auto& [v, pixels] : counts)
      if (counts_as_class(v)) labelled += pixels;
    for (const auto& [v, pixels] : counts) {
      if (!counts_as_class(v) || pixels == 0) continue;
      r.n[v] += pixels;
      r.F[v] += 1;
      r.T[v] += labelled;
    }
    r.P += labelled;
    r.N += 1;
  }
  std::vector<double> freq_present, freq_all;
  for (std::uint32_t c = 0; c < classes; ++c)
    if (r.n[c] > 0) {
      ++r.K;
      freq_present.push_back(double(r.n[c]) / double(r.T[c]));
      freq_all.push_back(double(r.n[c]) / double(r.P));
    }
  const double median_present = plain_median(freq_present), median_all = plain_median(freq_all);
  r.inverse.resize(classes);
  r.inverse_sqrt.resize(classes);
  r.median_present.resize(classes);
  r.median_all.resize(classes);
  r.enet.resize(classes);
  r.effective.resize(classes);
  r.repeat.assign(classes, std::nullopt);
  double effective_sum = 0;
  for (std::uint32_t c = 0; c < classes; ++c) {
    if (r.n[c] == 0) continue;
    const double p = double(r.n[c]) / double(r.P);
    const double f = double(r.F[c]) / double(r.N);
    r.inverse[c] = double(r.P) / (double(r.K) * double(r.n[c]));
    r.inverse_sqrt[c] = std::sqrt(*r.inverse[c]);
    r.median_present[c] = median_present / (double(r.n[c]) / double(r.T[c]));
    r.median_all[c] = median_all / p;
    r.enet[c] = 1.0 / std::log(o.enet_c + p);
    const double s = o.unit == effective_unit::frames ? double(r.F[c]) : double(r.n[c]);
    r.effective[c] = (1 - o.effective_beta) / (1 - std::pow(o.effective_beta, s));  // the naive form
    effective_sum += *r.effective[c];
    if (o.repeat_threshold) r.repeat[c] = std::max(1.0, std::sqrt(*o.repeat_threshold / f));
  }
  for (auto& e : r.effective)
    if (e) *e = *e * double(r.K) / effective_sum;
  for (const auto& [file, counts] : files) {
    if (!o.repeat_threshold) break;  // no repeat factors without a threshold
    double frame = 1;
    for (const auto& [v, pixels] : counts)
      if (counts_as_class(v) && pixels > 0 && r.repeat[v]) frame = std::max(frame, *r.repeat[v]);
    r.frame_repeat.push_back(frame);
  }
  return r;
}

/// A dataset_stats as a scan would build it: ignore-listed values in row.ignored, other values
/// beyond the class list in row.out_of_range. Checks that each file's pixels sum to its size.
dataset_stats stats_from_counts(const counts_per_file& files, std::uint32_t classes, std::vector<std::uint32_t> ignore,
                                const std::map<std::string, std::pair<std::uint32_t, std::uint32_t>>& sizes) {
  std::vector<std::string> names;
  for (std::uint32_t c = 0; c < classes; ++c) names.push_back("class " + std::to_string(c));
  auto s = make_stats(names, ignore, false);
  for (const auto& [file, counts] : files) {
    frame_row row;
    row.path = file;
    const auto& [w, h] = sizes.at(file);
    row.width = w;
    row.height = h;
    row.class_pixels.assign(classes, 0);
    std::uint64_t sum = 0;
    for (const auto& [v, pixels] : counts) {
      sum += pixels;
      if (std::binary_search(ignore.begin(), ignore.end(), v))
        row.ignored.push_back({v, pixels});
      else if (v < classes)
        row.class_pixels[v] = pixels;
      else
        row.out_of_range.push_back({v, pixels});
    }
    INFO(file);
    REQUIRE(sum == std::uint64_t{w} * h);
    s.frames.push_back(std::move(row));
  }
  return s;
}

void require_same(const std::optional<double>& got, const std::optional<double>& expected, double eps = tight) {
  REQUIRE(got.has_value() == expected.has_value());
  if (expected) REQUIRE(*got == Approx(*expected).epsilon(eps));
}

void compare_with_reference(const dataset_stats& stats, const counts_per_file& files, std::uint32_t classes,
                            const std::set<std::uint32_t>& ignore, const balance_options& o) {
  const auto ref = reference(files, classes, ignore, o);
  const auto got = maskscan::class_weights(stats, o);
  REQUIRE(got.size() == classes);
  for (std::uint32_t c = 0; c < classes; ++c) {
    INFO("class " << c);
    const auto& g = got[c];
    REQUIRE(g.id == c);
    REQUIRE(g.ignored == (ignore.count(c) > 0));
    REQUIRE(g.pixels == ref.n[c]);
    REQUIRE(g.frames_present == ref.F[c]);
    REQUIRE(g.pixels_of_frames_present == ref.T[c]);
    REQUIRE(g.frequency == Approx(double(ref.n[c]) / double(ref.P)).epsilon(tight));
    REQUIRE(g.frame_frequency == Approx(double(ref.F[c]) / double(ref.N)).epsilon(tight));
    require_same(g.inverse_frequency, ref.inverse[c]);
    require_same(g.inverse_sqrt_frequency, ref.inverse_sqrt[c]);
    require_same(g.median_frequency_present, ref.median_present[c]);
    require_same(g.median_frequency_all, ref.median_all[c]);
    require_same(g.enet, ref.enet[c]);
    // The reference uses 1 - pow(beta, s); the library -expm1(s ln beta): they differ by rounding
    // of 1 - beta^s, about 1e-16 / (1 - beta^s) relative.
    require_same(g.effective_number, ref.effective[c], 1e-9);
    require_same(g.repeat_factor, ref.repeat[c]);
  }
  const auto frames = maskscan::repeat_factors(stats, o);
  REQUIRE(frames.size() == ref.frame_repeat.size());
  for (std::size_t i = 0; i < frames.size(); ++i) REQUIRE(frames[i] == Approx(ref.frame_repeat[i]).epsilon(tight));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Splits one CSV line without quoted fields.
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (char ch : line) {
    if (ch == ',') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += ch;
    }
  }
  cells.push_back(cell);
  return cells;
}

/// The component sizes of the hand example (class id -> size -> count); id 3 has no entry.
std::vector<size_histogram> hand_sizes() {
  return {
      {{1, 2}, {3, 1}, {8, 1}},    // road: sizes 1 1 3 8 (even count)
      {{5, 3}, {7, 0}, {100, 2}},  // car: sizes 5 5 5 100 100 (odd count); a zero count is no instance
      {},                          // void: none
  };
}

}  // namespace

TEST_CASE("class weights of a hand-built dataset, every number computed by hand", "[balance]") {
  const auto stats = hand_example();
  const auto w = maskscan::class_weights(stats);  // defaults: enet_c 1.02, beta 0.9999 on frames, t 0.001
  REQUIRE(w.size() == 4);
  const auto& road = w[0];
  const auto& car = w[1];

  CHECK(road.id == 0);
  CHECK(road.name == "road");
  CHECK_FALSE(road.ignored);
  CHECK(road.pixels == 52);
  CHECK(road.frames_present == 4);
  CHECK(road.pixels_of_frames_present == 60);
  CHECK(road.frequency == Approx(52.0 / 60).epsilon(tight));  // 0.8666...
  CHECK(road.frame_frequency == Approx(0.8).epsilon(tight));  // 4 / 5
  CHECK(car.pixels == 8);
  CHECK(car.frames_present == 2);
  CHECK(car.pixels_of_frames_present == 32);
  CHECK(car.frequency == Approx(8.0 / 60).epsilon(tight));   // 0.1333...
  CHECK(car.frame_frequency == Approx(0.4).epsilon(tight));  // 2 / 5

  // inverse frequency P / (K n): road 60 / (2 * 52) = 15/26, car 60 / (2 * 8) = 15/4.
  CHECK(*road.inverse_frequency == Approx(0.5769230769230769).epsilon(tight));
  CHECK(*car.inverse_frequency == Approx(3.75).epsilon(tight));
  // its square root: sqrt(15/26), sqrt(15/4).
  CHECK(*road.inverse_sqrt_frequency == Approx(0.7595545253127499).epsilon(tight));
  CHECK(*car.inverse_sqrt_frequency == Approx(1.9364916731037085).epsilon(tight));
  // median frequency, present frames: freq = n / T: road 52/60 = 13/15, car 8/32 = 1/4;
  // median (two values: their mean) = (13/15 + 1/4) / 2 = 67/120.
  // road (67/120) / (13/15) = 67/104, car (67/120) / (1/4) = 67/30.
  CHECK(*road.median_frequency_present == Approx(0.6442307692307693).epsilon(tight));
  CHECK(*car.median_frequency_present == Approx(2.2333333333333334).epsilon(tight));
  // median frequency, all pixels: freq = n / P: 13/15 and 2/15; median 1/2.
  // road (1/2) / (13/15) = 15/26, car (1/2) / (2/15) = 15/4 (with K = 2 always equal to the
  // inverse frequency; the odd-K test below tells them apart).
  CHECK(*road.median_frequency_all == Approx(15.0 / 26).epsilon(tight));
  CHECK(*car.median_frequency_all == Approx(3.75).epsilon(tight));
  // ENet 1 / ln(1.02 + p): road 1 / ln(1.8866...) = 1 / 0.6348116035469819,
  // car 1 / ln(1.1533...) = 1 / 0.1426563004015232.
  CHECK(*road.enet == Approx(1.5752705124048523).epsilon(tight));
  CHECK(*car.enet == Approx(7.009855135632851).epsilon(tight));
  // effective number on frames, beta = 0.9999: raw (1 - b) / (1 - b^F) = 1 / (1 + b + ... + b^(F-1)):
  // road (F = 4) 1 / (1 + 0.9999 + 0.99980001 + 0.999700029999) = 1 / 3.999400039999 = 0.25003750312...,
  // car  (F = 2) 1 / 1.9999 = 0.50002500125...; normalized to sum K = 2:
  // road 2 * 0.2500375 / 0.7500625 = 0.66671111..., car 1.33328888... (exact rational arithmetic on
  // the double 0.9999 gives 0.666711111851753 and 1.333288888148247; 1 - pow(b, F) in doubles is off
  // by 4e-14 here, which the library's expm1 form avoids).
  CHECK(*road.effective_number == Approx(0.666711111851753).epsilon(1e-15));
  CHECK(*car.effective_number == Approx(1.333288888148247).epsilon(1e-15));
  // No threshold given: no repeat factors.
  CHECK_FALSE(road.repeat_factor);
  CHECK_FALSE(car.repeat_factor);
  CHECK(maskscan::repeat_factors(stats).empty());
  // LVIS's t = 0.001: sqrt(0.001 / 0.8) and sqrt(0.001 / 0.4) are below 1.
  balance_options lvis;
  lvis.repeat_threshold = 0.001;
  const auto wl = maskscan::class_weights(stats, lvis);
  CHECK(wl[0].repeat_factor == 1.0);
  CHECK(wl[1].repeat_factor == 1.0);

  // void (ignore-listed, and its 20 pixels are in row.ignored) and the absent bicycle: no weights.
  for (const auto* c : {&w[2], &w[3]}) {
    INFO(c->name);
    CHECK(c->pixels == 0);
    CHECK(c->frames_present == 0);
    CHECK(c->pixels_of_frames_present == 0);
    CHECK(c->frequency == 0);
    CHECK(c->frame_frequency == 0);
    CHECK_FALSE(c->inverse_frequency);
    CHECK_FALSE(c->inverse_sqrt_frequency);
    CHECK_FALSE(c->median_frequency_present);
    CHECK_FALSE(c->median_frequency_all);
    CHECK_FALSE(c->enet);
    CHECK_FALSE(c->effective_number);
    CHECK_FALSE(c->repeat_factor);
    CHECK_FALSE(wl[c->id].repeat_factor);  // not weighted: no repeat factor, whatever the threshold
  }
  CHECK(w[2].ignored);
  CHECK_FALSE(w[3].ignored);
  CHECK(w[3].name == "bicycle, parked");
}

TEST_CASE("effective-number weights of the hand example for other beta and units", "[balance]") {
  const auto stats = hand_example();
  balance_options o;
  o.effective_beta = 0.5;
  // frames, beta 1/2: raw road 1 / (1 + 1/2 + 1/4 + 1/8) = 8/15, car 1 / (1 + 1/2) = 2/3; sum 6/5;
  // normalized to sum 2: road (8/15) (5/3) = 8/9, car (2/3) (5/3) = 10/9.
  auto w = maskscan::class_weights(stats, o);
  CHECK(*w[0].effective_number == Approx(8.0 / 9).epsilon(tight));
  CHECK(*w[1].effective_number == Approx(10.0 / 9).epsilon(tight));

  // pixels, beta 0.9: raw road 0.1 / (1 - 0.9^52) = 0.1 / 0.9958254420820707 = 0.10041920579064549,
  // car 0.1 / (1 - 0.9^8) = 0.1 / 0.56953279 = 0.17558251562653657; normalized to sum 2.
  o.effective_beta = 0.9;
  o.unit = effective_unit::pixels;
  w = maskscan::class_weights(stats, o);
  CHECK(*w[0].effective_number == Approx(0.7276708657831875).epsilon(tight));
  CHECK(*w[1].effective_number == Approx(1.2723291342168126).epsilon(tight));

  // beta 0: every class counts once, all weights 1.
  o.effective_beta = 0;
  for (const auto unit : {effective_unit::frames, effective_unit::pixels}) {
    o.unit = unit;
    w = maskscan::class_weights(stats, o);
    CHECK(*w[0].effective_number == 1);
    CHECK(*w[1].effective_number == 1);
  }

  // beta very near 1 on pixels: 1 - beta^n must not cancel to 0 (weights stay finite, sum K).
  o.effective_beta = std::nextafter(1.0, 0.0);
  w = maskscan::class_weights(stats, o);
  CHECK(std::isfinite(*w[0].effective_number));
  CHECK(*w[0].effective_number + *w[1].effective_number == Approx(2).epsilon(tight));
  // then (1 - beta^n) ~ n (1 - beta): raw weights ~ 1 / n, i.e. 2 * (1/52) / (1/52 + 1/8) = 16/60.
  CHECK(*w[0].effective_number == Approx(16.0 / 60).epsilon(1e-9));
}

TEST_CASE("median-frequency weights with an odd number of weighted classes", "[balance]") {
  // Three classes, none ignored; frames (a: 6 2 0, labelled 8), (b: 4 0 2, 6), (c: 8 0 0, 8).
  // n = 18, 2, 2; P = 22; T = 22, 8, 6; K = 3.
  auto s = make_stats({"a", "b", "c"}, {}, false);
  s.frames.push_back(make_row("a.png", 8, 1, {6, 2, 0}));
  s.frames.push_back(make_row("b.png", 6, 1, {4, 0, 2}));
  s.frames.push_back(make_row("c.png", 8, 1, {8, 0, 0}));
  const auto w = maskscan::class_weights(s);
  // present: freq 18/22 = 9/11, 2/8 = 1/4, 2/6 = 1/3; median 1/3 -> 11/27, 4/3, 1.
  CHECK(*w[0].median_frequency_present == Approx(11.0 / 27).epsilon(tight));
  CHECK(*w[1].median_frequency_present == Approx(4.0 / 3).epsilon(tight));
  CHECK(*w[2].median_frequency_present == Approx(1.0).epsilon(tight));
  // all: freq 9/11, 1/11, 1/11; median 1/11 -> 1/9, 1, 1.
  CHECK(*w[0].median_frequency_all == Approx(1.0 / 9).epsilon(tight));
  CHECK(*w[1].median_frequency_all == Approx(1.0).epsilon(tight));
  CHECK(*w[2].median_frequency_all == Approx(1.0).epsilon(tight));
  // inverse frequency 22 / (3 n): 11/27, 11/3, 11/3.
  CHECK(*w[0].inverse_frequency == Approx(11.0 / 27).epsilon(tight));
  CHECK(*w[1].inverse_frequency == Approx(11.0 / 3).epsilon(tight));
}

TEST_CASE("pixels of an ignore-listed class id count nowhere", "[balance]") {
  // A scan never puts ignore-listed values into class_pixels; a hand-built value might. They are
  // neither in P nor in any frame's labelled pixels T.
  auto s = make_stats({"a", "b", "void"}, {2}, false);
  s.frames.push_back(make_row("a.png", 10, 1, {3, 1, 6}));
  s.frames.push_back(make_row("b.png", 4, 1, {4, 0, 0}));
  const auto w = maskscan::class_weights(s);
  CHECK(w[0].pixels_of_frames_present == 8);  // 4 + 4, not 10 + 4
  CHECK(w[1].pixels_of_frames_present == 4);
  CHECK(w[0].frequency == Approx(7.0 / 8).epsilon(tight));  // P = 8
  CHECK(*w[0].inverse_frequency == Approx(8.0 / (2 * 7)).epsilon(tight));
  CHECK(w[2].ignored);
  CHECK(w[2].pixels == 6);  // reported as found
  CHECK_FALSE(w[2].inverse_frequency);
  CHECK_FALSE(w[2].effective_number);
  CHECK_FALSE(w[2].repeat_factor);
  // b.png holds only class a, a.png holds a and b: the ignored id adds nothing to repeat factors.
  balance_options o;
  o.repeat_threshold = 4;  // r_a = sqrt(4 / 1) = 2, r_b = sqrt(4 / 0.5) = sqrt(8)
  const auto r = maskscan::repeat_factors(s, o);
  CHECK(r[0] == Approx(std::sqrt(8.0)).epsilon(tight));
  CHECK(r[1] == Approx(2.0).epsilon(tight));
}

TEST_CASE("repeat factors of the hand example", "[balance]") {
  const auto stats = hand_example();
  balance_options o;
  o.repeat_threshold = 0.8;
  // r = max(1, sqrt(0.8 / f)): road f = 4/5 -> 1, car f = 2/5 -> sqrt(2).
  const auto w = maskscan::class_weights(stats, o);
  CHECK(*w[0].repeat_factor == Approx(1.0).epsilon(tight));
  CHECK(*w[1].repeat_factor == Approx(1.4142135623730951).epsilon(tight));
  CHECK_FALSE(w[2].repeat_factor);  // ignored
  CHECK_FALSE(w[3].repeat_factor);  // absent
  // Per frame: a road -> 1, b and c road + car -> sqrt(2), d road -> 1, e nothing weighted -> 1.
  const auto r = maskscan::repeat_factors(stats, o);
  REQUIRE(r.size() == 5);
  CHECK(r[0] == 1);
  CHECK(r[1] == Approx(1.4142135623730951).epsilon(tight));
  CHECK(r[2] == Approx(1.4142135623730951).epsilon(tight));
  CHECK(r[3] == 1);
  CHECK(r[4] == 1);
  // t = 1.6: road sqrt(2), car sqrt(4) = 2.
  o.repeat_threshold = 1.6;
  CHECK(maskscan::repeat_factors(stats, o) == std::vector<double>{std::sqrt(2.0), 2.0, 2.0, std::sqrt(2.0), 1.0});
}

TEST_CASE("a frame's repeat factor is the largest r of the classes in it, whatever their order", "[balance]") {
  // rare (id 0) in 1 of 4 frames, common (id 1) in all: t = 1 gives r = 2 and 1.
  auto s = make_stats({"rare", "common"}, {}, false);
  s.frames.push_back(make_row("a.png", 2, 1, {1, 1}));
  for (const char* path : {"b.png", "c.png", "d.png"}) s.frames.push_back(make_row(path, 2, 1, {0, 2}));
  balance_options o;
  o.repeat_threshold = 1;
  CHECK(maskscan::repeat_factors(s, o) == std::vector<double>{2, 1, 1, 1});
}

TEST_CASE("no weighted class at all: no weights, repeat factors 1", "[balance]") {
  auto s = make_stats({"a", "void"}, {1}, false);
  CHECK(maskscan::class_weights(s).size() == 2);
  CHECK(maskscan::repeat_factors(s).empty());
  balance_options with_threshold;
  with_threshold.repeat_threshold = 0.5;
  s.frames.push_back(make_row("a.png", 2, 1, {0, 0}, {{1, 2}}));
  const auto w = maskscan::class_weights(s);
  CHECK_FALSE(w[0].inverse_frequency);
  CHECK_FALSE(w[0].effective_number);
  CHECK(w[0].frequency == 0);
  CHECK(maskscan::repeat_factors(s).empty());  // no threshold
  CHECK(maskscan::repeat_factors(s, with_threshold) == std::vector<double>{1.0});
  const auto j = maskscan::detail::balance_json(s, {});
  CHECK(j.at("median_frequency_present_median").is_null());
  CHECK(j.at("median_frequency_all_median").is_null());
  CHECK(j.at("weighted_classes").to_number<int>() == 0);
}

TEST_CASE("co-occurrence of the hand example", "[balance]") {
  // road in a b c d, car in b c; void only in row.ignored; bicycle nowhere.
  const std::vector<std::vector<std::uint64_t>> expected{{4, 2, 0, 0}, {2, 2, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
  CHECK(maskscan::cooccurrence(hand_example()) == expected);
  const auto j = maskscan::detail::cooccurrence_json(hand_example());
  REQUIRE(j.size() == 4);
  CHECK(j[0] == json::array{4, 2, 0, 0});
  CHECK(j[1] == json::array{2, 2, 0, 0});
  CHECK(maskscan::cooccurrence(make_stats({"a", "b"}, {}, false)) ==
        std::vector<std::vector<std::uint64_t>>{{0, 0}, {0, 0}});
}

TEST_CASE("component summaries of a hand-made size histogram", "[balance]") {
  const auto s = maskscan::summarize_components(hand_sizes(), {"road", "car", "void", "bicycle, parked"});
  REQUIRE(s.size() == 4);
  // road: 1 1 3 8 -> 4 instances, 13 pixels, mean 3.25, median (1 + 3) / 2 = 2,
  // log2 bins: [1] = 2, [2, 3] = 1, [4, 7] = 0, [8, 15] = 1.
  CHECK(s[0].id == 0);
  CHECK(s[0].name == "road");
  CHECK(s[0].instances == 4);
  CHECK(s[0].pixels == 13);
  CHECK(s[0].mean_pixels == 3.25);
  CHECK(s[0].median_pixels == 2);
  CHECK(s[0].min_pixels == 1);
  CHECK(s[0].max_pixels == 8);
  CHECK(s[0].log2_histogram == std::vector<std::uint64_t>{2, 1, 0, 1});
  // car: 5 5 5 100 100 -> 5 instances, 215 pixels, mean 43, median 5; 5 in [4, 7] (k = 2),
  // 100 in [64, 127] (k = 6). The zero count of size 7 is no instance.
  CHECK(s[1].instances == 5);
  CHECK(s[1].pixels == 215);
  CHECK(s[1].mean_pixels == 43);
  CHECK(s[1].median_pixels == 5);
  CHECK(s[1].min_pixels == 5);
  CHECK(s[1].max_pixels == 100);
  CHECK(s[1].log2_histogram == std::vector<std::uint64_t>{0, 0, 3, 0, 0, 0, 2});
  // void (empty histogram) and bicycle (no entry at all): zeros.
  for (const auto i : {2, 3}) {
    CHECK(s[i].instances == 0);
    CHECK(s[i].pixels == 0);
    CHECK(s[i].mean_pixels == 0);
    CHECK(s[i].median_pixels == 0);
    CHECK(s[i].min_pixels == 0);
    CHECK(s[i].max_pixels == 0);
    CHECK(s[i].log2_histogram.empty());
  }
  // Even count whose middle values fall in different histogram entries far apart, and a bin edge.
  const auto t = maskscan::summarize_components({{{2, 1}, {4, 1}, {7, 1}, {1000, 1}}}, {"x"});
  CHECK(t[0].median_pixels == 5.5);
  CHECK(t[0].log2_histogram == std::vector<std::uint64_t>{0, 1, 2, 0, 0, 0, 0, 0, 0, 1});
  // A single huge component: the top bin.
  const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max();
  const auto u = maskscan::summarize_components({{{huge, 1}}}, {"x"});
  CHECK(u[0].log2_histogram.size() == 64);
  CHECK(u[0].median_pixels == static_cast<double>(huge));

  CHECK_THROWS_AS(maskscan::summarize_components({{{0, 1}}}, {"x"}), std::invalid_argument);
  CHECK_THROWS_AS(maskscan::summarize_components({{}, {}}, {"x"}), std::invalid_argument);
}

TEST_CASE("components in summary.json: summed over groups, empty when not counted", "[balance]") {
  auto s = hand_example();
  CHECK(maskscan::detail::components_json(s).empty());  // components == 0
  s.components = 8;
  s.component_sizes[""] = hand_sizes();
  auto j = maskscan::detail::components_json(s);
  REQUIRE(j.size() == 4);
  CHECK(j[0].at("median_pixels").to_number<double>() == 2);
  CHECK(j[1].at("log2_histogram") == json::array{0, 0, 3, 0, 0, 0, 2});
  CHECK(j[3].at("instances").to_number<int>() == 0);
  // Two groups: sizes are added per class (road 1 1 3 8 + 3 3 -> median 3, car unchanged).
  s.component_sizes.clear();
  s.component_sizes["day"] = hand_sizes();
  s.component_sizes["night"] = {{{3, 2}}};
  j = maskscan::detail::components_json(s);
  CHECK(j[0].at("instances").to_number<int>() == 6);
  CHECK(j[0].at("median_pixels").to_number<double>() == 3);
  CHECK(j[0].at("log2_histogram") == json::array{2, 3, 0, 1});
  CHECK(j[1].at("instances").to_number<int>() == 5);
}

TEST_CASE("invalid balance options are refused", "[balance]") {
  const auto stats = hand_example();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<balance_options> bad;
  for (double c : {1.0, 0.5, -2.0, nan}) {
    balance_options o;
    o.enet_c = c;
    bad.push_back(o);
  }
  for (double beta : {1.0, -0.1, 1.5, nan}) {
    balance_options o;
    o.effective_beta = beta;
    bad.push_back(o);
  }
  for (double t : {0.0, -0.001, nan}) {
    balance_options o;
    o.repeat_threshold = t;
    bad.push_back(o);
  }
  maskscan::test::temp_dir dir;
  for (const auto& o : bad) {
    INFO("enet_c " << o.enet_c << " beta " << o.effective_beta << " t " << o.repeat_threshold.value_or(-1));
    CHECK_THROWS_AS(maskscan::class_weights(stats, o), std::invalid_argument);
    CHECK_THROWS_AS(maskscan::repeat_factors(stats, o), std::invalid_argument);
    CHECK_THROWS_AS(maskscan::detail::balance_json(stats, o), std::invalid_argument);
    CHECK_THROWS_AS(maskscan::write_weights_csv(stats, o, dir / "weights.csv"), std::invalid_argument);
    CHECK_FALSE(fs::exists(dir / "weights.csv"));
    // Even without any frame.
    CHECK_THROWS_AS(maskscan::class_weights(make_stats({"a"}, {}, false), o), std::invalid_argument);
  }
  balance_options edge;  // the edges that are allowed
  edge.enet_c = std::nextafter(1.0, 2.0);
  edge.effective_beta = 0;
  edge.repeat_threshold = 1e-300;
  CHECK_NOTHROW(maskscan::class_weights(stats, edge));
}

TEST_CASE("weights of real CamVid counts match a plain implementation and NumPy", "[balance]") {
  const auto file = maskscan::test::data_root() / "real/gray8_ids/expected_counts.json";
  counts_per_file camvid;
  for (auto& [name, counts] : maskscan::test::load_expected_counts(file))
    if (name.starts_with("camvid_segnet/")) camvid.emplace(name, counts);
  REQUIRE(camvid.size() == 101);
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> sizes;
  for (const auto& [name, counts] : camvid) sizes[name] = {480, 360};
  // 11 classes (0..10); 11 = Unlabelled is ignore-listed (SegNet's ignore_label: 11).
  const auto stats = stats_from_counts(camvid, 11, {11}, sizes);

  balance_options pixels_unit;
  pixels_unit.enet_c = 1.1;
  pixels_unit.effective_beta = 1 - 1e-6;
  pixels_unit.unit = effective_unit::pixels;
  pixels_unit.repeat_threshold = 2;
  for (const auto& o : {balance_options{}, pixels_unit}) {
    INFO("enet_c " << o.enet_c << " beta " << o.effective_beta);
    compare_with_reference(stats, camvid, 11, {}, o);
  }

  // NumPy, once (python3 with numpy 1.x; d = json.load(open(".../gray8_ids/expected_counts.json"))):
  //   M=np.array([[d[f].get(str(v),0) for v in range(12)] for f in sorted(k for k in d if
  //   k.startswith('camvid_segnet/'))]); C=M[:,:11]; n=C.sum(0); F=(C>0).sum(0); T=((C>0)*C.sum(1)[:,None]).sum(0);
  //   P=C.sum(); N=len(C); K=(n>0).sum() s=[2,3,9] (P/(K*n))[s]; np.sqrt(P/(K*n))[s]; (np.median(n/T)/(n/T))[s];
  //   (np.median(n/P)/(n/P))[s]; (1/np.log(1.02+n/P))[s] b=1-1e-6; w=(1-b)/(1-b**n); (w/w.sum()*K)[s]
  // Every class is in every CamVid frame (F = N, T = P), so both median-frequency weights agree.
  const auto w = maskscan::class_weights(stats);
  const std::vector<std::uint32_t> ids{2, 3, 9};  // Pole, Road, Pedestrian
  const double inverse[] = {15.833597756876166, 0.30863630030985373, 13.737160295025548};
  const double inverse_sqrt[] = {3.9791453550826925, 0.555550448033168, 3.7063675337216018};
  const double median[] = {5.453832018599173, 0.10630878481176988, 4.731720851573579};
  const double enet[] = {39.34561038846383, 3.65637311954839, 38.06672653391181};
  const double effective_pixels[] = {2.8019026234707285, 0.26451812553721027, 2.4489329288224737};
  const auto wp = maskscan::class_weights(stats, pixels_unit);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& c = w[ids[i]];
    INFO("class " << ids[i]);
    CHECK(c.pixels == std::vector<std::uint64_t>{98499, 5053176, 113531}[i]);
    CHECK(*c.inverse_frequency == Approx(inverse[i]).epsilon(tight));
    CHECK(*c.inverse_sqrt_frequency == Approx(inverse_sqrt[i]).epsilon(tight));
    CHECK(*c.median_frequency_present == Approx(median[i]).epsilon(tight));
    CHECK(*c.median_frequency_all == Approx(median[i]).epsilon(tight));
    CHECK(*c.enet == Approx(enet[i]).epsilon(tight));
    CHECK(*c.effective_number == Approx(1.0).epsilon(tight));  // frames: every F_c = 101
    CHECK(*wp[ids[i]].effective_number == Approx(effective_pixels[i]).epsilon(1e-9));
  }
}

TEST_CASE("weights of real ADE20K counts (0 ignore-listed, classes absent) match a plain implementation and NumPy",
          "[balance]") {
  const auto file = maskscan::test::data_root() / "real/gray8_ids/expected_counts.json";
  counts_per_file ade;
  for (auto& [name, counts] : maskscan::test::load_expected_counts(file))
    if (name.starts_with("ade20k_sceneparsing/")) ade.emplace(name, counts);
  REQUIRE(ade.size() == 4);
  // Sizes from gray8_ids/README.md (checked against the counts by stats_from_counts).
  const std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> sizes{
      {"ade20k_sceneparsing/ADE_train_00000970.png", {683, 512}},
      {"ade20k_sceneparsing/ADE_val_00000001.png", {683, 512}},
      {"ade20k_sceneparsing/ADE_val_00000002.png", {500, 364}},
      {"ade20k_sceneparsing/ADE_val_00000003.png", {400, 300}}};
  // 151 class ids; 0 ("other objects") is ignore-listed and inside the class list.
  const auto stats = stats_from_counts(ade, 151, {0}, sizes);
  balance_options other;
  other.enet_c = 1.5;
  other.effective_beta = 0.9;
  other.repeat_threshold = 1;  // r = 1, 1.15, 1.41 or 2 (f = 1, 3/4, 1/2, 1/4): frame maxima differ
  balance_options pixels_unit;
  pixels_unit.effective_beta = 1 - 1e-5;
  pixels_unit.unit = effective_unit::pixels;
  for (const auto& o : {balance_options{}, other, pixels_unit}) {
    INFO("enet_c " << o.enet_c << " beta " << o.effective_beta);
    compare_with_reference(stats, ade, 151, {0}, o);
  }

  // NumPy, once (K = 16 weighted classes: an even median):
  //   A=sorted(k for k in d if k.startswith('ade20k_sceneparsing/')); M=np.array([[d[f].get(str(v),0) for v in
  //   range(151)] for f in A]); C=M.copy(); C[:,0]=0 n=C.sum(0); F=(C>0).sum(0); T=((C>0)*C.sum(1)[:,None]).sum(0);
  //   P=C.sum(); N=len(C); w8=n>0; K=w8.sum() s=[2,12,61] (np.median((n/T)[w8])/(n/T))[s];
  //   (np.median((n/P)[w8])/(n/P))[s] b=0.9999; w=np.where(w8,(1-b)/(1-b**np.maximum(F,1)),0); (w/w.sum()*K)[s]
  //   np.maximum(1,np.sqrt(0.5/(F/N)))[s]
  const auto w = maskscan::class_weights(stats);
  const std::vector<std::uint32_t> ids{2, 12, 61};
  const std::uint64_t frames[] = {4, 1, 1};
  const std::uint64_t T[] = {974180, 117969, 345408};
  const double median_present[] = {0.20266670158805136, 0.28698128410012214, 0.4468757340040861};
  const double median_all[] = {0.09165138067622944, 1.0717204014566124, 0.569967643655086};
  const double effective_frames[] = {0.3636826475708512, 1.4545123952415575, 1.4545123952415575};
  const double repeat_half[] = {1.0, 1.4142135623730951, 1.4142135623730951};
  balance_options half;
  half.repeat_threshold = 0.5;
  const auto wh = maskscan::class_weights(stats, half);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& c = w[ids[i]];
    INFO("class " << ids[i]);
    CHECK(c.frames_present == frames[i]);
    CHECK(c.pixels_of_frames_present == T[i]);
    CHECK(*c.median_frequency_present == Approx(median_present[i]).epsilon(tight));
    CHECK(*c.median_frequency_all == Approx(median_all[i]).epsilon(tight));
    CHECK(*c.effective_number == Approx(effective_frames[i]).epsilon(1e-9));
    CHECK(wh[ids[i]].repeat_factor == Approx(repeat_half[i]).epsilon(tight));
  }
  CHECK(w[0].ignored);
  CHECK(w[0].pixels == 0);
  CHECK_FALSE(w[0].inverse_frequency);
  CHECK_FALSE(w[4].inverse_frequency);  // 4 (floor) is in none of the four frames
}

TEST_CASE("weights.csv of the hand example", "[balance]") {
  maskscan::test::temp_dir dir;
  const auto stats = hand_example();
  maskscan::write_weights_csv(stats, {}, dir / "weights.csv");
  const auto lines = lines_of(maskscan::test::read_file(dir / "weights.csv"));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] ==
        "id,name,ignored,pixels,frames_present,pixels_of_frames_present,frequency,frame_frequency,"
        "inverse_frequency,inverse_sqrt_frequency,median_frequency_present,median_frequency_all,enet,"
        "effective_number");  // no repeat_factor column without a threshold
  const auto w = maskscan::class_weights(stats);
  // Numbers read back to the very same doubles.
  const auto road = cells_of(lines[1]);
  REQUIRE(road.size() == 14);
  CHECK(road[0] == "0");
  CHECK(road[1] == "road");
  CHECK(road[2] == "false");
  CHECK(road[3] == "52");
  CHECK(road[4] == "4");
  CHECK(road[5] == "60");
  CHECK(std::stod(road[6]) == w[0].frequency);
  CHECK(std::stod(road[8]) == *w[0].inverse_frequency);
  CHECK(std::stod(road[10]) == *w[0].median_frequency_present);
  CHECK(std::stod(road[12]) == *w[0].enet);
  CHECK(std::stod(road[13]) == *w[0].effective_number);
  const auto car = cells_of(lines[2]);
  CHECK(car[7] == "0.4");
  CHECK(car[8] == "3.75");
  CHECK(std::stod(car[9]) == *w[1].inverse_sqrt_frequency);
  CHECK(std::stod(car[11]) == *w[1].median_frequency_all);
  // The ignore-listed and the absent class: raw counts, then empty weight cells.
  CHECK(lines[3] == "2,void,true,0,0,0,0,0,,,,,,");
  CHECK(lines[4] == "3,\"bicycle, parked\",false,0,0,0,0,0,,,,,,");

  // With a threshold, repeat_factor is the last column: road f = 4/5 -> 1, car f = 2/5 -> sqrt(2) at t = 0.8;
  // none for the ignored and the absent class.
  balance_options t;
  t.repeat_threshold = 0.8;
  maskscan::write_weights_csv(stats, t, dir / "weights.csv");
  const auto with_repeat = lines_of(maskscan::test::read_file(dir / "weights.csv"));
  REQUIRE(with_repeat.size() == 5);
  CHECK(with_repeat[0].ends_with(",effective_number,repeat_factor"));
  CHECK(cells_of(with_repeat[1]).back() == "1");
  CHECK(std::stod(cells_of(with_repeat[2]).back()) == std::sqrt(2.0));
  CHECK(with_repeat[3] == "2,void,true,0,0,0,0,0,,,,,,,");
}

TEST_CASE("cooccurrence.csv and components.csv of the hand example", "[balance]") {
  maskscan::test::temp_dir dir;
  auto stats = hand_example();
  maskscan::write_cooccurrence_csv(stats, dir / "cooccurrence.csv");
  CHECK(maskscan::test::read_file(dir / "cooccurrence.csv") ==
        "class,with_road,with_car,with_void,\"with_bicycle, parked\"\n"
        "road,4,2,0,0\n"
        "car,2,2,0,0\n"
        "void,0,0,0,0\n"
        "\"bicycle, parked\",0,0,0,0\n");

  stats.components = 4;
  stats.component_sizes[""] = hand_sizes();
  maskscan::write_components_csv(stats, dir / "components.csv");
  const auto lines = lines_of(maskscan::test::read_file(dir / "components.csv"));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] ==
        "id,name,instances,pixels,mean_pixels,median_pixels,min_pixels,max_pixels,specks,speck_pixels,"
        "size_1,size_2_3,size_4_7,size_8_15,size_16_31,size_32_63,size_64_127");
  CHECK(lines[1] == "0,road,4,13,3.25,2,1,8,0,0,2,1,0,1,0,0,0");
  CHECK(lines[2] == "1,car,5,215,43,5,5,100,0,0,0,0,3,0,0,0,2");
  CHECK(lines[3] == "2,void,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0");
  CHECK(lines[4] == "3,\"bicycle, parked\",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0");

  // Components of fewer than 4 pixels are specks: road's 1, 1 and 3 (5 pixels) leave its 8 as the only
  // instance; car's are all of 5 pixels or more. The bins count instances only.
  stats.min_component_pixels = 4;
  maskscan::write_components_csv(stats, dir / "components.csv");
  const auto thresholded = lines_of(maskscan::test::read_file(dir / "components.csv"));
  REQUIRE(thresholded.size() == 5);
  CHECK(thresholded[0] ==
        "id,name,instances,pixels,mean_pixels,median_pixels,min_pixels,max_pixels,specks,speck_pixels,"
        "size_1,size_2_3,size_4_7,size_8_15,size_16_31,size_32_63,size_64_127");
  CHECK(thresholded[1] == "0,road,1,8,8,8,8,8,3,5,0,0,0,1,0,0,0");
  CHECK(thresholded[2] == "1,car,5,215,43,5,5,100,0,0,0,0,3,0,0,0,2");
  stats.min_component_pixels = 0;

  // Without any component: no bin columns.
  stats.component_sizes.clear();
  maskscan::write_components_csv(stats, dir / "components.csv");
  CHECK(lines_of(maskscan::test::read_file(dir / "components.csv"))[0] ==
        "id,name,instances,pixels,mean_pixels,median_pixels,min_pixels,max_pixels,specks,speck_pixels");
  // No temporary left beside the outputs.
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename().string());
  CHECK(names == std::set<std::string>{"components.csv", "cooccurrence.csv"});
}

TEST_CASE("balance in summary.json: options, every field, null for no weight, the medians", "[balance]") {
  balance_options o;
  o.unit = effective_unit::pixels;
  o.effective_beta = 0.9;
  const auto j = maskscan::detail::balance_json(hand_example(), o);
  const auto& opts = j.at("options").as_object();
  CHECK(opts.at("enet_c").to_number<double>() == 1.02);
  CHECK(opts.at("effective_beta").to_number<double>() == 0.9);
  CHECK(opts.at("effective_unit") == "pixels");
  CHECK(opts.at("repeat_threshold").is_null());  // none given
  CHECK(j.at("weighted_classes").to_number<int>() == 2);
  CHECK(j.at("median_frequency_present_median").to_number<double>() == Approx(67.0 / 120).epsilon(tight));
  CHECK(j.at("median_frequency_all_median").to_number<double>() == Approx(0.5).epsilon(tight));
  const auto& classes = j.at("classes").as_array();
  REQUIRE(classes.size() == 4);
  const auto& car = classes[1].as_object();
  CHECK(car.size() == 15);  // every field of class_balance
  CHECK(car.at("name") == "car");
  CHECK(car.at("ignored") == false);
  CHECK(car.at("pixels").to_number<int>() == 8);
  CHECK(car.at("pixels_of_frames_present").to_number<int>() == 32);
  CHECK(car.at("inverse_frequency").to_number<double>() == 3.75);
  CHECK(car.at("effective_number").to_number<double>() == Approx(1.2723291342168126).epsilon(tight));
  const auto& bicycle = classes[3].as_object();
  for (const char* key : {"inverse_frequency", "inverse_sqrt_frequency", "median_frequency_present",
                          "median_frequency_all", "enet", "effective_number"})
    CHECK(bicycle.at(key).is_null());
  CHECK(bicycle.at("repeat_factor").is_null());
  CHECK(car.at("repeat_factor").is_null());  // no threshold, no repeat factors
  o.repeat_threshold = 0.8;
  const auto with_repeat = maskscan::detail::balance_json(hand_example(), o);
  CHECK(with_repeat.at("options").at("repeat_threshold").to_number<double>() == 0.8);
  CHECK(with_repeat.at("classes").at(1).at("repeat_factor").to_number<double>() ==
        Approx(std::sqrt(2.0)).epsilon(tight));
  CHECK(with_repeat.at("classes").at(3).at("repeat_factor").is_null());
  CHECK(classes[2].at("ignored") == true);
}
