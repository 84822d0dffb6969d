#!/usr/bin/env bash
# What --report costs on top of the scan it reports: per-camera groups with heatmaps and every
# output written, without and with report.html (heatmap images per class, group and size, charts,
# sample overlays when RGB frames are beside the masks). Interleaved runs, median wall time, warm
# page cache (bench/lib.sh).
#
#   bench/report_cost.sh MASK_DIR [RUNS]   (e.g. demo/woodscape_like_824/semantic_annotations/gtLabels)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_setup "$@"

names=("heatmaps, 4 camera groups, every output (--out)" "the same + --report")
flags_of() {
  flags=(--heatmaps --group-by '_(FV|RV|MVL|MVR)\.png$' --out "$tmp/out$1" --force)
  (($1 == 1)) && flags+=(--report)
  return 0
}
bench_report
echo
echo "report.html: $(du -k "$tmp/out1/report.html" | cut -f1) KiB; images/: $(du -sk "$tmp/out1/images" | cut -f1) KiB in $(find "$tmp/out1/images" -type f | wc -l) files"
