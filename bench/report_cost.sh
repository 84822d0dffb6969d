#!/usr/bin/env bash
# What --report costs on top of the scan it reports, ungrouped and with per-camera groups: heatmaps
# and every output written (--out), without and with report.html (heatmap images per class, group
# and size, charts, sample overlays when RGB frames are beside the masks). Four configurations, two
# pairs; interleaved runs, median wall time, warm page cache (bench/lib.sh). The target (issue 15):
# --report adds at most 25% to the scan it reports, grouped or not.
#
#   bench/report_cost.sh MASK_DIR [RUNS]   (e.g. demo/woodscape_like_824/semantic_annotations/gtLabels)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_setup "$@"

names=("heatmaps, every output (--out)" "the same + --report"
       "heatmaps, 4 camera groups, every output (--out)" "the same + --report")
flags_of() {
  flags=(--heatmaps --out "$tmp/out$1" --force)
  (($1 >= 2)) && flags+=(--group-by '_(FV|RV|MVL|MVR)\.png$')
  (($1 % 2 == 1)) && flags+=(--report)
  return 0
}
bench_report

# The median of configuration $1.
median_of() {
  awk -v k="$1" '$1 == k { print $2 }' "$tmp/all" | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}
echo
for pair in "0 ungrouped" "2 4 camera groups"; do
  read -r base what <<<"$pair"
  awk -v a="$(median_of "$base")" -v b="$(median_of $((base + 1)))" -v w="$what" \
    'BEGIN { printf "--report adds %+.0f%% (%.2f s) to the scan, %s\n", 100 * (b / a - 1), b - a, w }'
done
for k in 1 3; do
  echo "report.html ($k): $(du -k "$tmp/out$k/report.html" | cut -f1) KiB; images/: $(du -sk "$tmp/out$k/images" | cut -f1) KiB in $(find "$tmp/out$k/images" -type f | wc -l) files"
done
