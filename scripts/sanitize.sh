#!/usr/bin/env bash
# Builds and runs the test suite under AddressSanitizer+UndefinedBehaviorSanitizer (with leak
# checks) and under ThreadSanitizer (CMake presets asan and tsan). Benchmarks and the installed-
# package test are left out there: they measure or link an uninstrumented world. So is the docs
# test (label docs): it runs the CLI commands of every recipe, which the release stage checks, and
# under the sanitizers it only repeats scans the other tests make, slowly (CI stays under an hour).
# So is tune's search on storage of known behaviour (label tune): it checks speed ratios, which the
# instrumentation distorts; tune's other cases ([tune]: options, trials, memory refusals, the CLI) run.
# Under tsan the HTTP suite of the service binary (label service, ~110 s there) is left to the release
# and asan stages: the server's threads run in-process in the [service] cases, which tsan runs (CI stays
# under an hour).
# The report's cases in Chromium (label browser) run in the release stage only: the browser is not
# instrumented and the [report] cases, which every stage runs, write the same HTML. Under tsan the
# decoders' own one-thread cases (label decoder) are left to the release and asan stages.
# The scans of a real S3 server (label s3, tests/io/test_s3_scan.py: s3rver, a proxy, botocore) run in
# the release stage only: the [s3] cases run the same reader, HTTP client and retries in-process
# against tests/support/fake_s3.hpp in every stage, and the sanitized CLI under that Python suite
# would add minutes for no code they do not reach.
# Under asan the library is built with address,undefined, and the front-ends (CLI, service) and the
# test code with address only (MASKSCAN_SANITIZE_FRONT_ENDS): UBSan doubled the build of their Catch2,
# Beast and CLI11 templates (the service's server.cpp alone took 8 minutes), and what it checks is the
# library's arithmetic. Sanitized, the test cases' code is built at -O1 (tests/CMakeLists.txt).
#   scripts/sanitize.sh [asan] [tsan]      (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
presets=("$@")
((${#presets[@]})) || presets=(asan tsan)
for preset in "${presets[@]}"; do
  echo "== $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
