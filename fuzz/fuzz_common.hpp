#pragma once
// What the libFuzzer harnesses share: the limits they decode under, and a check that stops the
// fuzzer (abort() is a crash to libFuzzer, with the input saved as an artifact).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "decode/png_decoder.hpp"

namespace maskscan::fuzz {

/// The default limits but 2^24 pixels instead of 2^28. The cap is still checked (a header over it
/// gives image_too_large), but no single input makes ASan hold a 256 MiB plane plus its scratch,
/// which a legit 1 MiB input can ask for (deflate expands up to 1032:1): such inputs would only
/// hit -rss_limit_mb or -timeout and report a "crash" that production, without ASan, has not.
inline detail::decode_limits fuzz_limits() {
  detail::decode_limits limits;
  limits.max_pixels = std::uint64_t{1} << 24;
  return limits;
}

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

}  // namespace maskscan::fuzz
