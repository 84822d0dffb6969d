#!/usr/bin/env bash
# maskscan's own modes side by side in one run on one dataset: --serial, default, and --workers 1/2,
# counts only and counts + heatmaps. Median wall time of N runs (warm page cache), frames/s, the
# speed-up over --serial, and peak RSS.
#
#   bench/scan_modes.sh DATASET_DIR [RUNS]      (make one with: maskscan synth DIR --frames 824)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_setup "$@"
cat "$dir"/*.png >/dev/null 2>&1 || true  # warm the page cache

measure() {  # prints "median_seconds max_rss_kb" over $runs runs of: maskscan scan $dir "$@"
  for ((i = 0; i < runs; ++i)); do
    /usr/bin/time -f "%e %M" -o "$tmp/t" "$maskscan" scan "$dir" --no-progress "$@" >/dev/null || [[ $? == 3 ]]
    cat "$tmp/t"
  done | sort -n | awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { print t[int((NR + 1) / 2)], m }'
}

echo "dataset: $dir ($frames frames), $(nproc) cores, median of $runs runs"
echo
echo "| statistics | mode | wall s | frames/s | vs --serial | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for stats in "counts" "counts+heatmaps"; do
  extra=()
  [[ $stats == counts+heatmaps ]] && extra=(--heatmaps)
  base=""
  for mode in "--serial" "--workers 1" "--workers 2" "default"; do
    args=()
    [[ $mode != default ]] && read -r -a args <<<"$mode"
    read -r secs rss < <(measure "${extra[@]}" "${args[@]}")
    [[ -z $base ]] && base=$secs
    awk -v s="$stats" -v m="$mode" -v t="$secs" -v f="$frames" -v b="$base" -v r="$rss" \
      'BEGIN { printf "| %s | %s | %.2f | %.0f | %.2fx | %.0f |\n", s, m, t, f / t, b / t, r / 1024 }'
  done
done
