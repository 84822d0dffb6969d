#!/usr/bin/env bash
# Cold page cache (issue 15): the scan's wall time against `cat` of the same files and a fio-style
# read floor (bench/read_floor.cpp: whole files, 16 reads in flight; and fio itself if installed),
# each run after evicting the dataset from the page cache; the same rows warm, for reference. The
# target: a scan within 1.2x of the read floor where reading dominates.
#
#   bench/cold_cache.sh DATASET_DIR [--runs R] [--evict auto|drop|fadvise] [--maskscan PATH]
#                       [--read-floor PATH]
# Defaults: 3 runs; build/src/maskscan and build/bench/maskscan_read_floor.
# Eviction: drop = `sync; echo 3 > /proc/sys/vm/drop_caches` (root only; the whole machine's page,
# dentry and inode caches), fadvise = POSIX_FADV_DONTNEED on each of the dataset's files (its pages
# only: directory entries and inodes stay cached, and other work on the machine is not disturbed);
# auto = drop where /proc/sys/vm/drop_caches is writable, else fadvise. In a VM the host may still
# cache the disk image, so "cold" here means cold in this guest, not read from the physical device.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
maskscan=$here/build/src/maskscan
read_floor=$here/build/bench/maskscan_read_floor
runs=3 evict_mode=auto dir=""
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --evict) evict_mode=$2; shift 2 ;;
    --maskscan) maskscan=$2; shift 2 ;;
    --read-floor) read_floor=$2; shift 2 ;;
    -*) echo "unknown argument $1" >&2; exit 2 ;;
    *) dir=$1; shift ;;
  esac
done
[[ -n $dir ]] || { echo "usage: bench/cold_cache.sh DATASET_DIR [--runs R] [--evict auto|drop|fadvise]" >&2; exit 2; }
if [[ $evict_mode == auto ]]; then
  evict_mode=fadvise
  if [[ -w /proc/sys/vm/drop_caches ]] && (echo 1 >/proc/sys/vm/drop_caches) 2>/dev/null; then evict_mode=drop; fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mapfile -t files < <(find "$dir" -name '*.png' -type f | sort)
printf '%s\n' "${files[@]}" >"$tmp/list"
bytes=$(cat "${files[@]}" | wc -c)

evict() {
  if [[ $evict_mode == drop ]]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches
  else
    "$read_floor" "$dir" --evict >/dev/null
  fi
}
resident() {  # bytes of the dataset in the page cache (fincore, util-linux), or "?"
  if command -v fincore >/dev/null; then
    printf '%s\0' "${files[@]}" | xargs -0 fincore -b -n -o RES | awk '{ s += $1 } END { print s + 0 }'
  else
    echo "?"
  fi
}

# Configurations: a name and a command line each.
names=("cat (one process, sequential)" "read floor: maskscan_read_floor, 16 in flight")
cmds=("mapfile -t f <${tmp@Q}/list; cat \"\${f[@]}\"" "${read_floor@Q} ${dir@Q} --depth 16")
if command -v fio >/dev/null; then
  names+=("read floor: fio, io_uring, 16 in flight, 4 KiB blocks (skips each file's last partial block)")
  cmds+=("fio --name=floor --opendir=${dir@Q} --rw=read --bs=4k --ioengine=io_uring --iodepth=16 --openfiles=16 --file_service_type=roundrobin --output=/dev/null")
fi
scan=("${maskscan@Q} scan ${dir@Q} --labels woodscape --no-progress")
names+=("maskscan scan (counts)" "maskscan scan --heatmaps" "maskscan scan --io threads (counts)"
  "maskscan scan --io threads --heatmaps")
cmds+=("${scan[0]}" "${scan[0]} --heatmaps" "${scan[0]} --io threads" "${scan[0]} --io threads --heatmaps")
floor_k=1  # the row the ratios are taken to

: >"$tmp/all"
evict
after_evict=$(resident)
cat "${files[@]}" >/dev/null
warm=$(resident)
for ((r = 0; r < runs; ++r)); do
  for temp in cold warm; do
    for k in "${!cmds[@]}"; do
      if [[ $temp == cold ]]; then evict; else cat "${files[@]}" >/dev/null; fi
      /usr/bin/time -f "%e" -o "$tmp/t" bash -c "${cmds[$k]} >/dev/null"
      echo "$temp $k $(cat "$tmp/t")" >>"$tmp/all"
    done
  done
done

median() {  # $1 = cold|warm, $2 = row: "median min max"
  awk -v t="$1" -v k="$2" '$1 == t && $2 == k { print $3 }' "$tmp/all" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}
echo "dataset: $dir (${#files[@]} files, $((bytes / 1000000)) MB), $(nproc) cores, median of $runs interleaved runs"
echo "eviction: $evict_mode; dataset bytes resident after eviction: $after_evict, after cat: $warm (whole pages) of $bytes"
echo "(a KVM guest: the host may cache the disk image, so cold is cold in this guest only)"
echo
echo "| configuration | cold wall s | cold min..max | cold vs read floor | warm wall s | warm vs read floor |"
echo "|---|---|---|---|---|---|"
read -r cold_floor _ < <(median cold "$floor_k")
read -r warm_floor _ < <(median warm "$floor_k")
for k in "${!cmds[@]}"; do
  read -r c clo chi < <(median cold "$k")
  read -r w _ < <(median warm "$k")
  awk -v n="${names[$k]}" -v c="$c" -v lo="$clo" -v hi="$chi" -v w="$w" -v cf="$cold_floor" -v wf="$warm_floor" \
    'BEGIN { printf "| %s | %s | %s..%s | %.2fx | %s | %.2fx |\n", n, c, lo, hi, c / cf, w, w / wf }'
done
