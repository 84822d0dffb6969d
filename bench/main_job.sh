#!/usr/bin/env bash
# The README's table of the main job (issue 15's table): counts, counts + heatmaps, + every output
# and the report, + 4 camera groups (at the default workers and at --workers 4), with wall time
# and peak RSS; interleaved runs, median wall time, largest peak RSS, warm page cache (bench/lib.sh).
#
#   bench/main_job.sh MASK_DIR [RUNS]   (e.g. the 8,234 frames of FRAMES=8234 bash scripts/demo.sh:
#                                        demo/woodscape_like_8234/semantic_annotations/gtLabels)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_setup "$@"

names=("counts" "counts + heatmaps" "+ --out --report" "+ 4 camera groups (--group-by) + --report"
       "the same with --workers 4")
flags_of() {
  flags=(--labels woodscape)
  (($1 >= 1)) && flags+=(--heatmaps)
  (($1 >= 2)) && flags+=(--out "$tmp/out$1" --force --report)
  (($1 >= 3)) && flags+=(--group-by '_(FV|RV|MVL|MVR)\.png$')
  (($1 >= 4)) && flags+=(--workers 4)
  return 0
}
bench_report
