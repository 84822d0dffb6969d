#!/usr/bin/env bash
# Heatmap memory and time against the number of groups (issue 15): with G groups and --heatmaps,
# peak RSS must stay within (G + 1) heatmap sets + 64 MiB for any number of workers, and time and
# RSS must not grow with G beyond the writes. A heatmap set is classes x W x H x 4 bytes (WoodScape's
# 10 classes at 1280x966: 49.5 MB). Scans one synthetic dataset split into G groups (a directory of
# symlinks per group, --group-by '^(g[0-9]+)/'), for each G and worker count, without --out and, at
# the largest worker count that fits, with --out (every group's files written); interleaved runs,
# median wall time, largest peak RSS (GNU time's %M), warm page cache. Exit 1 if a row is over the bound.
#
#   bench/group_scaling.sh [--frames N] [--runs R] [--groups "1 4 16 64"] [--workers "1 2 4"]
#                          [--maskscan PATH] [--workdir DIR] [--max-predicted-gib N]
# Defaults: 824 frames (1280x966), 3 runs, build/src/maskscan, a temporary directory, 12 GiB.
# A row whose memory as the per-worker design needs it (up to 8 x G + 3 sets, measured before the
# shared heatmaps) would exceed --max-predicted-gib is skipped, with a note, not run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
maskscan=$here/build/src/maskscan
frames=824 runs=3 groups="1 4 16 64" workers="1 2 4" workdir="" max_predicted_gib=12
while (($#)); do
  case $1 in
    --frames) frames=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --groups) groups=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --maskscan) maskscan=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --max-predicted-gib) max_predicted_gib=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z $workdir ]]; then
  workdir=$(mktemp -d)
  trap 'rm -rf "$workdir"' EXIT
fi
read -ra group_list <<<"$groups"
read -ra worker_list <<<"$workers"

# One dataset; the group directories hold symlinks to its frames, frame i in group i mod G.
width=1280 height=966 classes=10
if [[ $(find "$workdir/frames" -name '*.png' 2>/dev/null | wc -l) -ne $frames ]]; then
  rm -rf "$workdir/frames"
  "$maskscan" synth "$workdir/frames" --frames "$frames" --width "$width" --height "$height" --seed 1 >/dev/null
fi
mapfile -t files < <(find "$workdir/frames" -name '*.png' | sort)
for g in "${group_list[@]}"; do
  rm -rf "$workdir/g$g"
  for ((j = 0; j < g; ++j)); do
    sub=$workdir/g$g/$(printf 'g%02d' "$j") members=()
    for ((i = j; i < ${#files[@]}; i += g)); do members+=("${files[$i]}"); done
    mkdir -p "$sub"
    ((${#members[@]})) && ln -s "${members[@]}" "$sub/"
  done
done

set_bytes=$((classes * width * height * 4))
set_mib=$(awk -v b="$set_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
# Configurations: "G W out" (out = 1: with --out); skipped ones go to notes.
configs=() notes=()
# predicted G W OUT: bytes the per-worker design needed (measured before the shared heatmaps: peak
# (2 min(W, 2) + 1) x G + 3 sets, and 3 x G more with --out), to skip what would not fit.
predicted() {
  local w=$(($2 < 2 ? $2 : 2))
  echo $((((2 * w + 1) * $1 + 3 + 3 * $1 * $3) * set_bytes + 64 * 1048576))
}
for g in "${group_list[@]}"; do
  last_w=""  # the --out row: at the largest worker count that fits
  for w in "${worker_list[@]}"; do
    p=$(predicted "$g" "$w" 0)
    if ((p > max_predicted_gib * 1073741824)); then
      notes+=("G=$g, $w workers: skipped, the per-worker design would need ~$((p / 1073741824)) GiB (> --max-predicted-gib $max_predicted_gib)")
      continue
    fi
    configs+=("$g $w 0")
    (($(predicted "$g" "$w" 1) > max_predicted_gib * 1073741824)) || last_w=$w
  done
  if [[ -n $last_w ]]; then
    configs+=("$g $last_w 1")
  else
    notes+=("G=$g with --out: skipped, the per-worker design would need over --max-predicted-gib $max_predicted_gib")
  fi
done

# Interleaved runs (every configuration once per round) so that machine noise hits them alike.
: >"$workdir/all"
cat "${files[@]}" >/dev/null  # warm the page cache
for ((r = 0; r < runs; ++r)); do
  for k in "${!configs[@]}"; do
    read -r g w out <<<"${configs[$k]}"
    flags=(--heatmaps --labels woodscape --group-by '^(g[0-9]+)/' --workers "$w" --no-progress
      --max-heatmap-bytes 100000000000)
    ((out)) && flags+=(--out "$workdir/out" --force)
    /usr/bin/time -f "%e %M" -o "$workdir/t" "$maskscan" scan "$workdir/g$g" "${flags[@]}" >/dev/null
    echo "$k $(cat "$workdir/t")" >>"$workdir/all"
    if ((out)); then  # the number of groups the scan saw (+ "all frames" at the top)
      seen=$(find "$workdir/out/groups" -mindepth 1 -maxdepth 1 -type d | wc -l)
      ((seen == g)) || { echo "expected $g groups, the scan wrote $seen" >&2; exit 1; }
      written="G=$g: $(du -sm "$workdir/out" | cut -f1) MiB"
      rm -rf "$workdir/out"
    fi
  done
done

echo "dataset: $frames frames ${width}x${height}, $classes classes (a heatmap set: $set_mib MiB), $(nproc) cores,"
echo "median of $runs interleaved runs, warm page cache; bound = (G + 1) x $set_mib + 64 MiB"
echo
echo "| groups | workers | --out | wall s (median) | min..max | peak RSS MiB | bound MiB | within bound |"
echo "|---|---|---|---|---|---|---|---|"
over=0
for k in "${!configs[@]}"; do
  read -r g w out <<<"${configs[$k]}"
  read -r med lo hi rss < <(awk -v k="$k" '$1 == k { print $2, $3 }' "$workdir/all" | sort -n |
    awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { print t[int((NR + 1) / 2)], t[1], t[NR], m }')
  bound_mib=$(((g + 1) * set_bytes / 1048576 + 64))
  ok=yes
  if ((rss / 1024 > bound_mib)); then ok="**no**" over=1; fi
  printf '| %d | %d | %s | %s | %s..%s | %d | %d | %s |\n' "$g" "$w" "$( ((out)) && echo yes || echo no)" \
    "$med" "$lo" "$hi" "$((rss / 1024))" "$bound_mib" "$ok"
done
for n in "${notes[@]}"; do echo "- $n"; done
if [[ -n ${written:-} ]]; then echo "- written by the last --out row, $written"; fi
if ((over)); then
  echo "FAIL: peak RSS over (G + 1) heatmap sets + 64 MiB"
  exit 1
fi
echo "OK: every row within the bound"
