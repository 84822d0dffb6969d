// Issue 4's promise: each bad file gets a clear per-file error (path + cause), the scan goes on,
// and the totals stay exactly those of the good files. One folder holds good masks of known
// content and every kind of bad input we could think of; it is scanned with several concurrency
// settings, which must all agree.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>
#include <boost/json.hpp>

#include <maskscan/scan.hpp>
#include <maskscan/synth.hpp>

#include "io/file_reader.hpp"
#include "support/child_process.hpp"
#include "support/corruption.hpp"
#include "support/reference_png.hpp"
#include "support/test_data.hpp"

namespace {
using namespace maskscan;
namespace fs = std::filesystem;

constexpr std::uint32_t class_count = 16;  // the good masks hold ids 0..12

void write_bytes(const fs::path& file, std::span<const std::byte> bytes) {
  test::write_file(file, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// ---------------------------------------------------------------------------------------------
// Good masks: the ids are drawn here, and the reference decoder (zlib + the spec, no libspng)
// must read exactly them back from the encoded bytes.

struct good_mask {
  std::vector<std::byte> png;
  std::uint32_t width = 0, height = 0;
  test::value_counts counts;  ///< the truth: value -> pixels
};

good_mask make_good(std::vector<std::byte> png, const std::vector<std::uint8_t>& ids, std::uint32_t width,
                    std::uint32_t height) {
  good_mask m{std::move(png), width, height, {}};
  for (std::uint8_t id : ids) ++m.counts[id];
  const auto decoded = test::reference_decode(m.png);
  REQUIRE(decoded.values == std::vector<std::uint32_t>(ids.begin(), ids.end()));
  return m;
}

/// A WoodScape-like frame encoded by the library's PNG writer, its image data split into IDATs of
/// `idat_bytes` (0: one IDAT).
good_mask gray_mask(std::uint64_t index, std::uint32_t width, std::uint32_t height, std::size_t idat_bytes = 0) {
  const auto ids = synth_mask(11, index, width, height);
  const auto encoded = encode_gray8_png(ids, width, height, png_filter::adaptive, 9);
  std::vector<std::byte> png(encoded.size());
  std::memcpy(png.data(), encoded.data(), encoded.size());
  if (idat_bytes) png = test::with_idat_chunks(png, idat_bytes);
  return make_good(std::move(png), ids, width, height);
}

/// An 8-bit palette PNG written here chunk by chunk (rows unfiltered), ids 0..12 in diagonal bands.
good_mask palette_mask(std::uint32_t width, std::uint32_t height) {
  std::vector<std::uint8_t> ids, raw;
  for (std::uint32_t y = 0; y < height; ++y) {
    raw.push_back(0);  // filter type None
    for (std::uint32_t x = 0; x < width; ++x) {
      ids.push_back(static_cast<std::uint8_t>((x + 2 * y) / 7 % 13));
      raw.push_back(ids.back());
    }
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> zlib(size);
  REQUIRE(compress2(zlib.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) == Z_OK);
  zlib.resize(size);
  std::vector<std::uint8_t> ihdr, plte;
  for (std::uint32_t v : {width, height})
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<std::uint8_t>(v >> s));
  ihdr.insert(ihdr.end(), {8, 3, 0, 0, 0});
  for (unsigned i = 0; i < 16 * 3; ++i) plte.push_back(static_cast<std::uint8_t>(i * 5));
  std::vector<std::byte> png = test::png_signature_bytes();
  for (const auto& chunk : {test::make_chunk("IHDR", ihdr), test::make_chunk("PLTE", plte),
                            test::make_chunk("IDAT", zlib), test::make_chunk("IEND", {})}) {
    png.insert(png.end(), chunk.begin(), chunk.end());
  }
  return make_good(std::move(png), ids, width, height);
}

// ---------------------------------------------------------------------------------------------
// The folder

struct expected_error {
  errc code = errc::corrupt_png;
  std::string message_part = {};  ///< a phrase naming the cause ("" : any message)
  std::string known_issue = {};   ///< non-empty: the scanner is known to get this wrong; WARN only
};

/// Known PngSuite x*.png and png-crashers outcomes: the cause each message must name.
const std::map<std::string, expected_error>& shared_corpus_expectations() {
  const errc corrupt = errc::corrupt_png, not_png = errc::not_png, colour = errc::unsupported_color_type;
  const std::string no_signature = "not a PNG file (no PNG signature)";
  const auto cut_inside = [](const std::string& chunk) {
    return "truncated: the file ends inside the " + chunk + " chunk at offset 33";
  };
  static const std::map<std::string, expected_error> expected{
      {"pngsuite/xc1n0g08.png", {corrupt, "invalid color type"}},
      {"pngsuite/xc9n2c08.png", {corrupt, "invalid color type"}},
      {"pngsuite/xcrn0g04.png", {not_png, no_signature}},
      {"pngsuite/xcsn0g01.png", {corrupt, "the IDAT chunk at offset 49 fails its CRC checksum"}},
      {"pngsuite/xd0n2c08.png", {corrupt, "invalid bit depth"}},
      {"pngsuite/xd3n2c08.png", {corrupt, "invalid bit depth"}},
      {"pngsuite/xd9n2c08.png", {corrupt, "invalid bit depth"}},
      {"pngsuite/xdtn0g01.png", {corrupt, "no image data: the file has no IDAT chunk"}},
      {"pngsuite/xhdn0g08.png", {corrupt, "the IHDR chunk at offset 8 fails its CRC checksum"}},
      {"pngsuite/xlfn0g04.png", {not_png, no_signature}},
      {"pngsuite/xs1n0g01.png", {not_png, no_signature}},
      {"pngsuite/xs2n0g01.png", {not_png, no_signature}},
      {"pngsuite/xs4n0g01.png", {not_png, no_signature}},
      {"pngsuite/xs7n0g01.png", {not_png, no_signature}},
      {"png-crashers/bad_iCCP.png", {corrupt, "the IHDR chunk at offset 8 fails its CRC checksum"}},
      {"png-crashers/badadler.png", {corrupt, "the image data fails its Adler-32 checksum"}},
      {"png-crashers/badcrc.png", {corrupt, "the IDAT chunk at offset 33 fails its CRC checksum"}},
      // KNOWN ISSUE: every ancillary chunk of this file is empty, which is invalid for most of them
      // (the first, bKGD, needs 1, 2 or 6 bytes); libspng's words do not say so.
      {"png-crashers/empty_ancillary_chunks.png",
       {corrupt, "bKGD", "reported as 'reached chunk/cache limits', not as the empty (invalid) chunks it has"}},
      {"png-crashers/huge_IDAT.png", {colour, "an RGB PNG (colour-coded mask) needs a colour table: use --labels"}},
      {"png-crashers/huge_bKGD_chunk.png", {corrupt, cut_inside("bKGD")}},
      {"png-crashers/huge_cHRM_chunk.png", {corrupt, cut_inside("cHRM")}},
      {"png-crashers/huge_eXIf_chunk.png", {corrupt, cut_inside("eXIf")}},
      {"png-crashers/huge_gAMA_chunk.png", {corrupt, cut_inside("gAMA")}},
      {"png-crashers/huge_hIST_chunk.png", {corrupt, cut_inside("hIST")}},
      {"png-crashers/huge_iCCP_chunk.png", {corrupt, cut_inside("iCCP")}},
      {"png-crashers/huge_iTXt_chunk.png", {corrupt, cut_inside("iTXt")}},
      {"png-crashers/huge_juNK_unsafe_to_copy.png", {corrupt, cut_inside("juNK")}},
      {"png-crashers/huge_juNk_safe_to_copy.png", {corrupt, cut_inside("juNk")}},
      {"png-crashers/huge_pCAL_chunk.png", {corrupt, cut_inside("pCAL")}},
      {"png-crashers/huge_pHYs_chunk.png", {corrupt, cut_inside("pHYs")}},
      {"png-crashers/huge_sCAL_chunk.png", {corrupt, cut_inside("sCAL")}},
      {"png-crashers/huge_sPLT_chunk.png", {corrupt, cut_inside("sPLT")}},
      {"png-crashers/huge_sRGB_chunk.png", {corrupt, cut_inside("sRGB")}},
      {"png-crashers/huge_sTER_chunk.png", {corrupt, cut_inside("sTER")}},
      {"png-crashers/huge_tEXt_chunk.png", {corrupt, cut_inside("tEXt")}},
      {"png-crashers/huge_tIME_chunk.png", {corrupt, cut_inside("tIME")}},
      {"png-crashers/huge_zTXt_chunk.png", {corrupt, cut_inside("zTXt")}},
      {"png-crashers/invalid_gray_alpha_sbit.png", {colour, "a gray+alpha PNG cannot be a mask"}},
      {"png-crashers/missing_plte.png", {corrupt, "missing PLTE"}},
      // gAMA 0, then an IDAT running past the end of a 57-byte file that claims 8224x1312 pixels.
      {"png-crashers/zero_gama.png", {corrupt, "the header claims 8224x1312 but a 57-byte file cannot hold"}},
      // Width 0, and an IDAT of 538976288 bytes in a 41-byte file: the cut is found first.
      {"png-crashers/zero_width.png", {corrupt, cut_inside("IDAT")}},
  };
  return expected;
}

/// Good masks, every corruption of two of them, the shared corrupt corpora, and file-system
/// oddities; `good` and `bad` say what a scan of it must find.
struct bad_input_folder {
  test::temp_dir dir;
  std::map<std::string, test::value_counts> good;  ///< relative path -> the truth
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> good_size;
  std::map<std::string, expected_error> bad;  ///< relative path -> the error it must get
  frame_source source;                        ///< listed while vanishing.png still existed; it is deleted since

  bad_input_folder() {
    const auto add_good = [&](const std::string& path, const good_mask& m) {
      fs::create_directories((dir / path).parent_path());
      write_bytes(dir / path, m.png);
      good[path] = m.counts;
      good_size[path] = {m.width, m.height};
    };
    const auto add_bad = [&](const std::string& path, std::span<const std::byte> bytes, expected_error e) {
      fs::create_directories((dir / path).parent_path());
      write_bytes(dir / path, bytes);
      bad[path] = std::move(e);
    };

    const good_mask gray = gray_mask(0, 64, 48, 64);
    const good_mask palette = palette_mask(40, 30);
    REQUIRE(test::png_chunks(gray.png).size() >= 5);  // IHDR, 3+ IDATs, IEND: first and last IDAT differ
    add_good("good/gray_64x48_multi_idat.png", gray);
    add_good("good/gray_33x17.png", gray_mask(1, 33, 17));
    add_good("good/palette_40x30.png", palette);
    add_good("good/DUPLICATE_OF_GRAY.PNG", gray);  // same bytes, upper-case extension: counted again
    add_good("x.png/inside_a_directory_named_x.png", gray_mask(2, 64, 48));  // x.png is no frame

    for (const auto& [family, mask] : {std::pair{"gray", &gray}, std::pair{"palette", &palette}}) {
      for (const auto& v : test::corruption_corpus(mask->png)) {
        const std::string path = std::string("bad/") + family + "/" + v.name + ".png";
        if (v.expected == errc::ok) {
          add_good(path, good_mask{v.bytes, mask->width, mask->height, mask->counts});
        } else {
          add_bad(path, v.bytes, {v.expected, v.message_part, v.known_issue});
        }
      }
    }
    static const test::corrupt_variant bomb = test::inflation_bomb();
    add_bad("bad/" + bomb.name + ".png", bomb.bytes, {bomb.expected, bomb.message_part, bomb.known_issue});
    add_bad("empty.png", {}, {errc::not_png, "the file is empty"});

    for (const auto& [name, e] : shared_corpus_expectations()) {
      fs::create_directories((dir / name).parent_path());
      fs::copy_file(test::data_root() / name, dir / name);
      bad[name] = e;
    }

    fs::create_directories(dir / "links");
    fs::create_symlink("b.png", dir / "links/a.png");
    fs::create_symlink("a.png", dir / "links/b.png");
    fs::create_symlink("nowhere.png", dir / "links/dangling.png");
    bad["links/a.png"] = {errc::io_error, "Too many levels of symbolic links"};
    bad["links/b.png"] = {errc::io_error, "Too many levels of symbolic links"};
    bad["links/dangling.png"] = {errc::io_error, "No such file or directory"};

    // Listed, then gone before it is read.
    write_bytes(dir / "vanishing.png", gray.png);
    bad["vanishing.png"] = {errc::io_error, "No such file or directory"};
    source = frame_source::from_directory(dir.path());
    REQUIRE(fs::remove(dir / "vanishing.png"));
  }
};

/// `ok`, required strictly, or only WARNed about for an input the scanner is known to get wrong.
bool check_or_known(bool ok, const std::string& path, const expected_error& e, const std::string& what) {
  if (ok) return true;
  if (e.known_issue.empty()) {
    FAIL_CHECK(path << ": " << what);
  } else {
    WARN("KNOWN ISSUE " << path << ": " << e.known_issue << " (" << what << ")");
  }
  return false;
}

test::value_counts counts_of(const frame_row& row) {
  test::value_counts counts;
  for (std::size_t v = 0; v < row.class_pixels.size(); ++v)
    if (row.class_pixels[v]) counts[static_cast<std::uint32_t>(v)] = row.class_pixels[v];
  for (const auto& v : row.out_of_range) counts[v.value] = v.pixels;
  return counts;
}

/// Everything issue 4 promises, for one scan of the folder.
void check_scan(const bad_input_folder& folder, const scan_result& result) {
  CHECK_FALSE(result.partial);
  CHECK(result.frames_total == folder.good.size() + folder.bad.size());

  // Every bad file has its error, with its path, code and cause.
  std::map<std::string, const file_error*> errors;
  for (const auto& e : result.stats.errors) errors[e.path] = &e;
  std::set<std::string> counted_known_issues;
  for (const auto& [path, expected] : folder.bad) {
    CAPTURE(path);
    const auto it = errors.find(path);
    if (!check_or_known(it != errors.end(), path, expected, "not in the errors: it was counted")) {
      counted_known_issues.insert(path);
      continue;
    }
    const file_error& e = *it->second;
    CAPTURE(e.message);
    check_or_known(e.code == expected.code, path, expected,
                   std::string("error ") + to_string(e.code) + ", expected " + to_string(expected.code));
    CHECK_FALSE(e.message.empty());
    check_or_known(e.message.find(expected.message_part) != std::string::npos, path, expected,
                   "message '" + e.message + "' does not contain '" + expected.message_part + "'");
  }
  // Nothing else is skipped, and nothing else is counted.
  for (const auto& e : result.stats.errors) {
    CAPTURE(e.path, e.message);
    CHECK(folder.bad.count(e.path) == 1);
  }
  dataset_stats good_only = result.stats;
  std::erase_if(good_only.frames.in_memory(),
                [&](const frame_row& row) { return counted_known_issues.count(row.path) > 0; });
  REQUIRE(good_only.frames.size() == folder.good.size());

  // The good files' counts are exactly the truth, and the totals are their sums.
  std::vector<std::uint64_t> class_pixels(class_count);
  std::uint64_t pixels = 0;
  std::map<heatmap_key, std::uint64_t> frames_per_size;
  for (const auto& row : good_only.frames) {
    CAPTURE(row.path);
    REQUIRE(folder.good.count(row.path) == 1);
    CHECK(counts_of(row) == folder.good.at(row.path));
    CHECK(std::pair{row.width, row.height} == folder.good_size.at(row.path));
    for (const auto& [value, n] : folder.good.at(row.path)) class_pixels.at(value) += n;
    pixels += std::uint64_t{row.width} * row.height;
    ++frames_per_size[heatmap_key{"", row.width, row.height}];
  }
  const auto totals = compute_totals(good_only);
  CHECK(totals.frames == folder.good.size());
  CHECK(totals.pixels == pixels);
  CHECK(totals.out_of_range_pixels == 0);
  for (std::uint32_t c = 0; c < class_count; ++c) CHECK(totals.classes[c].pixels == class_pixels[c]);
  // A bad file never reaches the heatmaps: one set per good resolution, with only good frames.
  if (counted_known_issues.empty()) {
    REQUIRE(good_only.heatmaps.size() == frames_per_size.size());
    for (const auto& [size, set] : good_only.heatmaps) CHECK(set.frames == frames_per_size.at(size));
  }
}

/// The folder and its scan by the reference configuration (plain loop, libspng), made once.
const bad_input_folder& folder() {
  static const bad_input_folder f;
  return f;
}
scan_options base_options() {
  scan_options o;
  o.class_names = numbered_class_names(class_count);
  o.heatmaps = true;
  return o;
}
const scan_result& reference_scan() {
  static const scan_result r = [] {
    auto o = base_options();
    o.serial = true;
    o.decoder = decoder_kind::spng;
    return scan(folder().source, o);
  }();
  return r;
}

}  // namespace

TEST_CASE("Every bad file gets its own error naming the cause, the scan goes on, the totals stay exact",
          "[pipeline][bad-inputs]") {
  check_scan(folder(), reference_scan());
}

TEST_CASE("A folder of bad inputs gives the same result with every concurrency setting and decoder",
          "[pipeline][bad-inputs]") {
  struct setting {
    const char* name;
    bool serial;
    unsigned workers, io_depth, queue_depth;
    io_backend io;
    decoder_kind decoder;
  };
  const setting s = GENERATE(values<setting>({
      {"serial, auto decoder", true, 1, 1, 1, io_backend::threads, decoder_kind::automatic},
      {"1 worker, threads", false, 1, 1, 1, io_backend::threads, decoder_kind::automatic},
      {"2 workers, threads, spng", false, 2, 4, 16, io_backend::threads, decoder_kind::spng},
      {"2 workers, io_uring", false, 2, 16, 128, io_backend::uring, decoder_kind::automatic},
      {"2 workers, io_uring, spng", false, 2, 2, 2, io_backend::uring, decoder_kind::spng},
  }));
  CAPTURE(s.name);
  if (s.io == io_backend::uring && !detail::io_uring_available()) {
    WARN("io_uring is not available here: " << s.name << " is not compared");
    return;
  }
  auto o = base_options();
  o.serial = s.serial;
  o.workers = s.workers;
  o.io_depth = s.io_depth;
  o.queue_depth = s.queue_depth;
  o.io = s.io;
  o.decoder = s.decoder;
  const auto result = scan(folder().source, o);
  CHECK(result.io_used == (s.serial ? io_backend::threads : s.io));
  REQUIRE(result.stats == reference_scan().stats);
}

namespace {

struct child_result {
  int status = -1;        ///< as child_process::wait(): the exit status, 128 + a signal, -1 on timeout
  long peak_rss_kib = 0;  ///< the child's maximum resident set size
  double seconds = 0;
  std::string output;  ///< stdout and stderr
};

/// Runs argv[0] (no shell) and waits for it; wait4 gives the child's own peak memory.
child_result run_child(const std::vector<std::string>& argv) {
  const auto start = std::chrono::steady_clock::now();
  test::child_process child(argv, test::child_process::captured::stdout_and_stderr);
  const int status = child.wait();
  return {status, child.peak_rss_kib(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          child.output()};
}

constexpr int exit_some_skipped = 3;

}  // namespace

TEST_CASE("A lying header and an inflation bomb are refused quickly and without a large allocation",
          "[pipeline][bad-inputs]") {
  // Each is scanned alone by the CLI in a child process, so that its peak memory is its own, and
  // compared with the same CLI scanning one good 64x48 mask: the bad file may cost at most 32 MiB
  // more. The lying header would cost 256 MiB if its plane were allocated, the bomb 1 GiB if it
  // were inflated. A baseline, not an absolute bound: under the sanitizers the CLI's own peak is
  // several times the plain build's (~14 MiB). So is what the bomb's 1 MB file costs: reading and
  // refusing it takes a few MB, which ThreadSanitizer's shadow makes ~34 MiB (CI), so the allowance
  // is 96 MiB there, still far below the plane or the GiB.
  // posix_spawn's child shares this process's memory until it execs, and its ru_maxrss starts from
  // there: the comparison means something only while the baseline plus the allowance is below the
  // 256 MiB plane (under ASan the CLI alone peaks at ~170 MiB: memory is not checked there).
#ifdef MASKSCAN_SANITIZED
  constexpr long allowance_kib = 96 * 1024;
#else
  constexpr long allowance_kib = 32 * 1024;
#endif
  constexpr long plane_kib = 256 * 1024;
  test::temp_dir good_dir;
  write_bytes(good_dir / "good.png", gray_mask(0, 64, 48).png);
  const auto baseline = run_child({MASKSCAN_CLI, "scan", good_dir.path().string(), "--workers", "1", "--no-progress"});
  REQUIRE(baseline.status == 0);
  const bool memory_checked = baseline.peak_rss_kib + allowance_kib < plane_kib;

  const bool bomb = GENERATE(true, false);
  const test::corrupt_variant input =
      bomb ? test::inflation_bomb() : test::absurd_headers(gray_mask(0, 64, 48).png).at(1);
  CAPTURE(input.name);
  REQUIRE(input.name == (bomb ? "bomb_64x64_inflates_to_1024MiB" : "header_16384x16384_tiny_IDAT"));
  test::temp_dir dir;
  write_bytes(dir / (input.name + ".png"), input.bytes);

  const auto r = run_child({MASKSCAN_CLI, "scan", dir.path().string(), "--workers", "1", "--no-progress"});
  CAPTURE(r.output, r.peak_rss_kib, baseline.peak_rss_kib, r.seconds);
  CHECK(r.status == 1);  // the only file could not be scanned: nothing was
  CHECK(r.output.find(input.name) != std::string::npos);
  if (memory_checked)
    CHECK(r.peak_rss_kib < baseline.peak_rss_kib + allowance_kib);
  else
    WARN("the CLI already peaks at " << baseline.peak_rss_kib / 1024
                                     << " MiB on a good mask (or this process did): its memory is not checked");
  CHECK(r.seconds < 10);  // ~0.05 s here; the bound only catches inflating the whole GiB or hanging
}

TEST_CASE("A file the scanning user may not read is an io_error saying 'Permission denied'", "[pipeline][bad-inputs]") {
  // As root, chmod 000 denies nothing: the CLI runs as nobody (setpriv) instead, and its
  // summary.json is read back. As another user, the library is called directly.
  const good_mask gray = gray_mask(0, 64, 48);
  test::temp_dir dir;
  const fs::path masks = dir / "masks";
  fs::create_directories(masks);
  write_bytes(masks / "readable.png", gray.png);
  write_bytes(masks / "locked.png", gray.png);
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(masks, fs::status(dir.path()).permissions());
  fs::permissions(masks / "locked.png", fs::perms::none);

  if (::geteuid() != 0) {
    scan_options o;
    o.class_names = numbered_class_names(class_count);
    const auto result = scan(frame_source::from_directory(masks), o);
    REQUIRE(result.stats.frames.size() == 1);
    CHECK(counts_of(result.stats.frames[0]) == gray.counts);
    REQUIRE(result.stats.errors.size() == 1);
    CHECK(result.stats.errors[0].path == "locked.png");
    CHECK(result.stats.errors[0].code == errc::io_error);
    CHECK_THAT(result.stats.errors[0].message, Catch::Contains("Permission denied"));
    return;
  }
  const fs::path setpriv = "/usr/bin/setpriv";
  if (!fs::exists(setpriv)) {
    WARN("running as root without " << setpriv << ": permission denied cannot be tested here");
    return;
  }
  // A copy of the CLI beside the masks: the build tree may lie where nobody may not enter (/root).
  const fs::path cli = dir / "maskscan";
  fs::copy_file(MASKSCAN_CLI, cli);
  fs::permissions(cli, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                           fs::perms::others_exec);
  const std::vector<std::string> as_nobody{setpriv.string(), "--reuid=65534", "--regid=65534", "--clear-groups",
                                           cli.string()};
  auto help = as_nobody;
  help.push_back("--help");
  if (const auto probe = run_child(help); probe.status != 0) {
    WARN("uid 65534 cannot run " << cli << ": " << probe.output);
    return;
  }
  constexpr uid_t nobody = 65534;
  const fs::path out_parent = dir / "out";
  fs::create_directories(out_parent);
  REQUIRE(::chown(out_parent.c_str(), nobody, nobody) == 0);
  const fs::path out = out_parent / "run";  // must not exist yet: the CLI refuses a used --out

  auto argv = as_nobody;
  argv.insert(argv.end(), {"scan", masks.string(), "--num-classes", std::to_string(class_count), "--no-progress",
                           "--out", out.string()});
  const auto r = run_child(argv);
  CAPTURE(r.output);
  REQUIRE(r.status == exit_some_skipped);
  const auto summary = boost::json::parse(test::read_file(out / "summary.json")).as_object();
  CHECK(summary.at("frames_scanned").to_number<std::uint64_t>() == 1);
  CHECK(summary.at("frames_skipped").to_number<std::uint64_t>() == 1);
  CHECK(summary.at("pixels").to_number<std::uint64_t>() == 64 * 48);
  const auto& errors = summary.at("errors").as_array();
  REQUIRE(errors.size() == 1);
  const auto& e = errors[0].as_object();
  CHECK(e.at("path").as_string() == "locked.png");
  CHECK(e.at("error").as_string() == "io_error");
  CHECK_THAT(std::string(e.at("message").as_string()), Catch::Contains("Permission denied"));
}

TEST_CASE("A folder without PNGs is an empty source, and a path that does not exist is an error naming it",
          "[pipeline][bad-inputs]") {
  test::temp_dir dir;
  CHECK(frame_source::from_directory(dir.path()).size() == 0);

  fs::create_directories(dir / "sub/deeper");
  test::write_file(dir / "notes.txt", "no masks here\n");
  test::write_file(dir / "sub/photo.jpg", "\xFF\xD8\xFF");
  test::write_file(dir / "sub/deeper/mask.png.bak", "");
  const auto empty = frame_source::from_directory(dir.path());
  CHECK(empty.size() == 0);
  scan_options o;
  o.class_names = numbered_class_names(class_count);
  const auto result = scan(empty, o);
  CHECK(result.frames_total == 0);
  CHECK(result.stats.frames.empty());
  CHECK(result.stats.errors.empty());
  CHECK_FALSE(result.partial);

  const fs::path missing = dir / "no/such/folder";
  CHECK_THROWS_WITH(frame_source::from_directory(missing),
                    Catch::Contains(missing.string()) && Catch::Contains("no such file or directory"));
}

TEST_CASE("The .png extension matches in any letter case, and byte-identical files are each counted",
          "[pipeline][bad-inputs]") {
  const good_mask gray = gray_mask(0, 64, 48);
  test::temp_dir dir;
  for (const char* name : {"a.png", "b.PNG", "c.Png", "d_copy_of_a.png"}) write_bytes(dir / name, gray.png);
  test::write_file(dir / "e.png.txt", "not listed");
  scan_options o;
  o.class_names = numbered_class_names(class_count);
  const auto result = scan(frame_source::from_directory(dir.path()), o);
  CHECK(result.stats.errors.empty());
  REQUIRE(result.stats.frames.size() == 4);
  for (const auto& row : result.stats.frames) {
    CAPTURE(row.path);
    CHECK(counts_of(row) == gray.counts);
  }
  CHECK(compute_totals(result.stats).pixels == 4u * 64u * 48u);
}

TEST_CASE("Write the bad-inputs folder to $MASKSCAN_BAD_INPUTS_OUT, for docs/robustness.md", "[.][write-bad-inputs]") {
  const char* out = std::getenv("MASKSCAN_BAD_INPUTS_OUT");
  if (out == nullptr) {
    WARN("set MASKSCAN_BAD_INPUTS_OUT to a path that does not exist yet");
    return;
  }
  REQUIRE_FALSE(fs::exists(out));
  // vanishing.png is gone already: it exists only between listing and reading.
  fs::copy(folder().dir.path(), out, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  CHECK(frame_source::from_directory(out).size() == folder().good.size() + folder().bad.size() - 1);
}
