#!/usr/bin/env bash
# Peak resident memory must not grow with the number of frames: scans 800 and 8,000 WoodScape-like
# frames with the same flags and compares peak RSS (GNU time's %M). Exit 1 if they differ by > 10%.
#
#   bench/memory_scaling.sh [--maskscan PATH] [--width W] [--height H] [--workdir DIR] [-- scan flags]
# Defaults: build/src/maskscan, 1280x966, a temporary directory, flags "--heatmaps".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
maskscan=$here/build/src/maskscan
width=1280 height=966 workdir="" small=800 large=8000
while (($#)); do
  case $1 in
    --maskscan) maskscan=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --height) height=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --small) small=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
flags=("$@")
((${#flags[@]})) || flags=(--heatmaps)
if [[ -z $workdir ]]; then
  workdir=$(mktemp -d)
  trap 'rm -rf "$workdir"' EXIT
fi

# The small set is the first $small frames of the large one: the same content, 10x fewer frames.
# Sub-filtered encoding is 3x faster to write than adaptive; the masks are the same.
"$maskscan" synth "$workdir/large" --frames "$large" --width "$width" --height "$height" --seed 3 --filter sub >/dev/null
mkdir -p "$workdir/small"
mapfile -t frames < <(find "$workdir/large" -name '*.png' | sort)
ln -s "${frames[@]:0:$small}" "$workdir/small/"

peak_kb() {  # $1 = dataset dir
  /usr/bin/time -f %M -o "$workdir/time.out" "$maskscan" scan "$1" --no-progress "${flags[@]}" >/dev/null
  cat "$workdir/time.out"
}
small_kb=$(peak_kb "$workdir/small")
large_kb=$(peak_kb "$workdir/large")
ratio=$(awk -v a="$large_kb" -v b="$small_kb" 'BEGIN { printf "%.3f", a / b }')
echo "frames ${width}x${height}, flags: ${flags[*]}"
echo "peak RSS  $small frames: $((small_kb / 1024)) MiB"
echo "peak RSS $large frames: $((large_kb / 1024)) MiB   (ratio $ratio)"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.10 && r >= 0.90) }' || { echo "FAIL: peak RSS differs by more than 10%"; exit 1; }
echo "OK: within 10%"
