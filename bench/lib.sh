# Shared by the bench/*.sh scripts: their arguments, interleaved timed runs and their median table.
# The caller sets `here` (the repository), calls bench_setup "$@", and for bench_run sets names (one
# per configuration) and defines flags_of K (fills the array `flags` with configuration K's scan flags).

# The arguments DATASET_DIR [RUNS]: sets maskscan ($MASKSCAN or the build's), dir, runs, frames (the
# dataset's PNG files) and tmp (a directory removed at exit).
bench_setup() {
  maskscan=${MASKSCAN:-$here/build/src/maskscan}
  dir=$1 runs=${2:-5}
  frames=$(find -H "$dir" -name '*.png' | wc -l)  # -H: DATASET_DIR may be a symlink
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
}

# Runs every configuration `runs` times, interleaved (A B C, A B C, ...) so that machine noise hits
# them alike; records "K wall_seconds peak_rss_kib" lines in $tmp/all.
bench_run() {
  cat "$dir"/*.png >/dev/null 2>&1 || true  # warm the page cache
  for ((i = 0; i < runs; ++i)); do
    for k in "${!names[@]}"; do
      flags_of "$k"
      /usr/bin/time -f "%e %M" -o "$tmp/t" "$maskscan" scan "$dir" --no-progress "${flags[@]}" >/dev/null
      echo "$k $(cat "$tmp/t")" >>"$tmp/all"
    done
  done
}

# The Markdown table: per configuration the median wall time, its range, the ratio to the first
# row and the largest peak RSS.
bench_table() {
  echo "| configuration | wall s (median) | min..max | vs first row | peak RSS MiB |"
  echo "|---|---|---|---|---|"
  local base="" k med lo hi rss ratio
  for k in "${!names[@]}"; do
    read -r med lo hi rss < <(awk -v k="$k" '$1 == k { print $2, $3 }' "$tmp/all" | sort -n |
      awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { print t[int((NR + 1) / 2)], t[1], t[NR], m }')
    [[ -z $base ]] && base=$med
    ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')
    printf '| %s | %s | %s..%s | %s | %d |\n' "${names[$k]}" "$med" "$lo" "$hi" "$ratio" "$((rss / 1024))"
  done
}

# bench_run, then the dataset line and bench_table.
bench_report() {
  bench_run
  echo "dataset: $dir ($frames frames), $(nproc) cores, median of $runs interleaved runs"
  echo
  bench_table
}
