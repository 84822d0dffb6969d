#!/usr/bin/env bash
# What the balancing statistics cost: counts + heatmaps alone (as the speed benchmark runs them: no
# --out) against the same with every output written (weights, repeat factors and co-occurrence are
# derived from the counts when the outputs are written), then per-camera groups (heatmaps and all
# outputs per group), then connected components (4 and 8) on top, reported separately. Runs are interleaved
# (A B C D, A B C D, ...) so that machine noise hits every configuration alike; median wall time of
# N runs, warm page cache, and the ratio to the first row.
#
#   bench/statistics_cost.sh DATASET_DIR [RUNS]    (make one with: maskscan synth DIR --frames 8234)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_setup "$@"

names=("counts + heatmaps, no --out (the speed benchmark's configuration)"
       "counts + heatmaps, with --out (weights, repeat factors, co-occurrence are always written)"
       "every statistic: + 4 camera groups (per-group heatmaps and outputs)"
       "every statistic + components (4-connectivity)" "every statistic + components (8-connectivity)")
flags_of() {  # the flags of configuration $1 into the array `flags`
  flags=(--heatmaps)
  (($1 >= 1)) && flags+=(--out "$tmp/out$1" --force)
  (($1 >= 2)) && flags+=(--group-by '_(FV|RV|MVL|MVR)\.png$')
  (($1 == 3)) && flags+=(--components 4)
  (($1 == 4)) && flags+=(--components 8)
  return 0
}

bench_report
