#!/usr/bin/env bash
# Millions of frames in bounded memory (issue 19): scans trees of many small frames and merges the
# states of their shard scans, and checks the issue's targets:
#   - peak RSS of the scan (no heatmaps) and of the merge of the shard states <= 200 MB;
#   - time linear in frames: the time per frame of the largest tree within 10% of the smallest's.
# The trees are hard links (no copies) to a few synthesized masks, 1,000 to a directory; the merged
# frames.csv must equal the one-pass scan's, byte for byte. Exit 1 when a target is not met.
#
#   bench/million_frames.sh [--maskscan PATH] [--workdir DIR] [--sizes "250000 1000000"]
#                           [--shards 64] [--width 64] [--height 48] [-- scan flags]
# Default scan flags: --labels woodscape (the synthesized masks' classes).
# The work directory needs room for the trees' directory entries and the states (about 1 GB at 1M).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
maskscan=$here/build/src/maskscan
workdir="" sizes="250000 1000000" shards=64 width=64 height=48
while (($#)); do
  case $1 in
    --maskscan) maskscan=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --height) height=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
flags=("$@")
((${#flags[@]})) || flags=(--labels woodscape)
if [[ -z $workdir ]]; then
  workdir=$(mktemp -d)
  trap 'rm -rf "$workdir"' EXIT
fi
per_dir=1000
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time, Debian's package time)" >&2; exit 2; }
for n in $sizes; do
  ((n >= per_dir && n % per_dir == 0)) || { echo "--sizes: $n is not a multiple of $per_dir" >&2; exit 2; }
done

[[ -d $workdir/masks ]] || "$maskscan" synth "$workdir/masks" --frames 16 --width "$width" --height "$height" --seed 5 >/dev/null
mapfile -t masks < <(find "$workdir/masks" -name '*.png' | sort)
# One directory of $per_dir copies, linked (cp -al) as the others: a file has one link per directory
# (a filesystem allows some 65,000 links to a file: ext4's limit).
if [[ ! -d $workdir/dir0 ]]; then
  rm -rf "$workdir/dir0.part" && mkdir -p "$workdir/dir0.part"
  for ((i = 0; i < per_dir; ++i)); do
    cp "${masks[i % ${#masks[@]}]}" "$workdir/dir0.part/$(printf 'f%04d.png' "$i")"
  done
  mv "$workdir/dir0.part" "$workdir/dir0"
fi
make_tree() {  # $1 = frames: the tree $workdir/tree$1 of $1 / $per_dir directories, made once
  local n=$1 root=$workdir/tree$1 d
  [[ -d $root ]] && return
  rm -rf "$root.part" && mkdir -p "$root.part"  # what an interrupted run left
  for ((d = 0; d < n / per_dir; ++d)); do cp -al "$workdir/dir0" "$root.part/$(printf 'd%05d' "$d")"; done
  mv "$root.part" "$root"
}

# Runs a command; sets `seconds` (wall) and `kib` (peak RSS). A failing command ends the script.
measure() {
  /usr/bin/time -f "%e %M" -o "$workdir/time.out" "$@" >/dev/null || {
    echo "FAIL: $* ($(head -n1 "$workdir/time.out"))" >&2
    exit 1
  }
  read -r seconds kib < <(tail -n1 "$workdir/time.out")
}

echo "| frames | scan s | scan µs/frame | scan peak RSS MiB | merge of $shards shard states s | merge µs/frame | merge peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
failed=0 first_scan="" first_merge="" last_scan="" last_merge=""
for n in $sizes; do
  make_tree "$n"
  root=$workdir/tree$n
  cat "$workdir"/dir0/*.png >/dev/null && find "$root" >/dev/null  # the page cache and the directories warm
  measure "$maskscan" scan "$root" --no-progress --force --out "$workdir/one" "${flags[@]}"
  scan_s=$seconds scan_kb=$kib
  rm -rf "$workdir/states" && mkdir -p "$workdir/states"
  for ((i = 0; i < shards; ++i)); do
    "$maskscan" scan "$root" --no-progress --shard "$i/$shards" --save-state "$workdir/states/s$i.state" \
      "${flags[@]}" >/dev/null 2>"$workdir/shard.log" || { cat "$workdir/shard.log"; exit 1; }
  done
  measure "$maskscan" merge "$workdir"/states/*.state --force --out "$workdir/merged"
  merge_s=$seconds merge_kb=$kib
  cmp -s "$workdir/one/frames.csv" "$workdir/merged/frames.csv" || {
    echo "FAIL: the merged frames.csv differs from the one-pass scan's ($n frames)"
    failed=1
  }
  rows=$(($(wc -l <"$workdir/one/frames.csv") - 1))
  [[ $rows == "$n" ]] || { echo "FAIL: frames.csv has $rows rows for $n frames"; failed=1; }
  scan_us=$(awk -v s="$scan_s" -v n="$n" 'BEGIN { printf "%.1f", s * 1e6 / n }')
  merge_us=$(awk -v s="$merge_s" -v n="$n" 'BEGIN { printf "%.1f", s * 1e6 / n }')
  printf '| %d | %s | %s | %d | %s | %s | %d |\n' "$n" "$scan_s" "$scan_us" "$((scan_kb / 1024))" "$merge_s" \
    "$merge_us" "$((merge_kb / 1024))"
  for kb in "$scan_kb" "$merge_kb"; do
    ((kb * 1024 <= 200000000)) || { echo "FAIL: peak RSS $((kb * 1024 / 1000000)) MB > 200 MB ($n frames)"; failed=1; }
  done
  [[ -n $first_scan ]] || first_scan=$scan_us first_merge=$merge_us
  last_scan=$scan_us last_merge=$merge_us
done
for pair in "scan $first_scan $last_scan" "merge $first_merge $last_merge"; do
  read -r what a b <<<"$pair"
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
  echo "$what: time per frame of the largest tree / the smallest's = $ratio"
  awk -v r="$ratio" 'BEGIN { exit !(r <= 1.10) }' || { echo "FAIL: $what time is not linear within 10%"; failed=1; }
done
((failed == 0)) && echo "OK: every target met"
exit "$failed"
