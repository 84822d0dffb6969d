#!/usr/bin/env bash
# Issue 15's CPU target: CPU time per frame (user + sys of the whole process, over every frame) of
# counts and of counts + heatmaps, serial and at the default workers, against the single-core
# decode-only floor (bench/floor.cpp: the fast path's decode of the same files, no statistics; the
# first 824 files, median of 5 passes). Targets: counts within 1.15x of the floor, counts + heatmaps
# within 1.3x. Warm page cache, runs interleaved (bench/lib.sh); the median CPU time of each row.
# With BASELINE=/path/to/another/maskscan every scan row is also run with that binary, interleaved
# with this build's, so that a change is measured side by side in one run.
#
#   bench/cpu_per_frame.sh DATASET_DIR [RUNS]      (FLOOR=build/bench/maskscan_floor by default)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
bench_setup "$@"
floor_bin=${FLOOR:-$here/build/bench/maskscan_floor}
baseline=${BASELINE:-}

configs=("counts, --serial" "counts, default workers" "counts + heatmaps, --serial"
         "counts + heatmaps, default workers")
targets=("" "1.15x" "" "1.3x")
flags_of() {
  flags=(--labels woodscape)
  (($1 >= 2)) && flags+=(--heatmaps)
  (($1 % 2 == 0)) && flags+=(--serial)
  return 0
}
binaries=("$maskscan")
[[ -n $baseline ]] && binaries+=("$baseline")

cat "$dir"/*.png >/dev/null 2>&1 || true  # warm the page cache
floor_json=$("$floor_bin" "$dir" --limit 824 --repeat 5 --fast-only)
floor_of() {  # the floor's ms/frame of pass $1
  /usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["ms_per_frame"][sys.argv[2]])' "$floor_json" "$1"
}
floor=$(floor_of "decode fast")

for ((i = 0; i < runs; ++i)); do
  for k in "${!configs[@]}"; do
    flags_of "$k"
    for b in "${!binaries[@]}"; do
      /usr/bin/time -f "%e %U %S" -o "$tmp/t" "${binaries[$b]}" scan "$dir" --no-progress "${flags[@]}" >/dev/null
      echo "$k $b $(cat "$tmp/t")" >>"$tmp/all"
    done
  done
done

echo "dataset: $dir ($frames frames), $(nproc) cores, median of $runs interleaved runs; decode floor" \
  "$floor ms/frame (maskscan_floor, fast path, one core, 824 frames)"
[[ -n $baseline ]] && echo "build: $maskscan; baseline: $baseline (interleaved with it)"
echo
echo "| run | binary | wall s | CPU s | ms/frame CPU | vs decode floor | target |"
echo "|---|---|---|---|---|---|---|"
for pass in "decode+count fast" "decode+count+heatmaps fast"; do
  ms=$(floor_of "$pass")
  printf '| floor: %s, one core, no pipeline | this build | | | %.3f | %.2fx | |\n' "${pass% fast}" "$ms" \
    "$(awk -v a="$ms" -v b="$floor" 'BEGIN { print a / b }')"
done
for k in "${!configs[@]}"; do
  for b in "${!binaries[@]}"; do
    label=$([[ $b == 0 ]] && echo "this build" || echo "baseline")
    read -r wall cpu < <(awk -v k="$k" -v b="$b" '$1 == k && $2 == b { print $3, $4 + $5 }' "$tmp/all" |
      sort -k2 -n | awk '{ w[NR] = $1; c[NR] = $2 } END { m = int((NR + 1) / 2); print w[m], c[m] }')
    awk -v name="${configs[$k]}" -v label="$label" -v wall="$wall" -v cpu="$cpu" -v n="$frames" -v f="$floor" \
      -v target="${targets[$k]}" 'BEGIN {
        ms = cpu * 1000 / n
        printf "| %s | %s | %.2f | %.2f | %.3f | %.2fx | %s |\n", name, label, wall, cpu, ms, ms / f, target }'
  done
done
