#!/usr/bin/env bash
# Configures and builds maskscan (Release) into ./build. Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release "$@" >/dev/null
cmake --build --preset release -j "$jobs"
