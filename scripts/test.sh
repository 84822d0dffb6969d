#!/usr/bin/env bash
# The README's test command: install the Debian packages, build, run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --preset release --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
