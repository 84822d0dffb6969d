#!/usr/bin/env bash
# Builds the libFuzzer harnesses in fuzz/ (CMake preset fuzz: clang-14, ASan+UBSan) and runs them,
# one after the other:
#   1. every file in tests/fuzz-regressions/ once through each harness: any crash fails;
#   2. each harness fuzzing for SECONDS, starting from every PNG of the test data (read-only seeds)
#      and its own corpus in build-fuzz/corpus/<harness>/, which grows from run to run. As many
#      harnesses fuzz at once as there are cores (each is one process on one core).
#   scripts/fuzz.sh [SECONDS]      (default 60; the data root is ../shared/data beside the checkout,
#                                   or $MASKSCAN_TEST_DATA)
# A crash, leak, timeout or out-of-memory input fails the script (after the other harnesses ran),
# printing where the input was saved and how to keep it as a regression file.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2; }
data=${MASKSCAN_TEST_DATA:-$repo/../shared/data}
build=$repo/build-fuzz
regressions=$repo/tests/fuzz-regressions
harnesses=(fuzz_decode_png fuzz_fast_png fuzz_differential fuzz_frame_processor)

echo "== fuzz: build (preset fuzz, $build)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j 2 --target "${harnesses[@]}"  # only the harnesses: 2 shared cores

# Readable stack traces need llvm-symbolizer (package llvm-14).
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} && -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# The seed corpus: every *.png under the data root, flattened (a/b.png -> a__b.png).
seeds=$build/seeds
rm -rf "$seeds"
mkdir -p "$seeds" "$build/logs"
if [[ -d $data ]]; then
  while IFS= read -r -d '' f; do
    rel=${f#"$data"/}
    cp "$f" "$seeds/${rel//\//__}"
  done < <(find "$data" -type f -name '*.png' -print0)
else
  echo "fuzz: no test data at $data (set MASKSCAN_TEST_DATA): fuzzing without seeds" >&2
fi
echo "== fuzz: $(find "$seeds" -type f | wc -l) seed PNGs from $data"

regression_files=()
if [[ -d $regressions ]]; then
  while IFS= read -r -d '' f; do regression_files+=("$f"); done \
    < <(find "$regressions" -type f ! -name '*.md' -print0 | sort -z)
fi

# Flags for every run. No -jobs/-workers: without them libFuzzer fuzzes in this one process, one
# input at a time (with -jobs=1 it would spawn a child process logging to ./fuzz-0.log instead).
common=(-timeout=10 -rss_limit_mb=2048 -max_len=1048576)
failed=()

# Prints where libFuzzer saved the failing input, and what to do with it.
report_failure() {  # harness log
  local harness=$1 log=$2 artifact
  artifact=$(grep -o 'Test unit written to .*' "$log" | tail -n 1 | sed 's/^Test unit written to //' || true)
  # Replaying files, libFuzzer saves nothing: the input is the file it was running.
  [[ -n $artifact ]] || artifact=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
  echo "---- last lines of $log:"
  tail -n 60 "$log"
  echo "----"
  echo "FAIL: $harness crashed (or leaked, timed out, ran out of memory)."
  if [[ -n $artifact ]]; then
    echo "  the input:  $artifact"
    echo "  reproduce:  $build/fuzz/$harness $artifact"
    echo "  minimize:   $build/fuzz/$harness -minimize_crash=1 -max_total_time=60 \\"
    echo "                -exact_artifact_path=/tmp/minimized.png $artifact"
    echo "  keep it:    fix the decoder, then cp the (minimized) input to"
    echo "              tests/fuzz-regressions/<what-was-wrong>.png and describe it in the README.md"
    echo "              there: this script and the test suite ([fuzz-regressions]) replay it from then on."
  fi
}

echo "== fuzz: replaying ${#regression_files[@]} files of tests/fuzz-regressions/"
if ((${#regression_files[@]})); then
  for harness in "${harnesses[@]}"; do
    log=$build/logs/$harness-regressions.log
    if "$build/fuzz/$harness" "${common[@]}" "${regression_files[@]}" >"$log" 2>&1; then
      echo "   $harness: ok"
    else
      report_failure "$harness" "$log"
      failed+=("$harness (regressions)")
    fi
  done
fi

# One harness fuzzing; its exit status is the fuzzer's.
fuzz_one() {  # harness
  local harness=$1 corpus=$build/corpus/$1 artifacts=$build/artifacts/$1
  mkdir -p "$corpus" "$artifacts"
  # The first corpus directory is the writable one; the seeds and the regressions are read only.
  local dirs=("$corpus" "$seeds")
  [[ -d $regressions ]] && dirs+=("$regressions")
  "$build/fuzz/$harness" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -dict="$repo/fuzz/png.dict" -artifact_prefix="$artifacts/" "${dirs[@]}" >"$build/logs/$harness.log" 2>&1
}

jobs=$(nproc 2>/dev/null || echo 2)
declare -A pid_of=()
for ((first = 0; first < ${#harnesses[@]}; first += jobs)); do
  batch=("${harnesses[@]:first:jobs}")
  for harness in "${batch[@]}"; do
    echo "== fuzz: $harness for ${seconds}s (log: $build/logs/$harness.log)"
    fuzz_one "$harness" &
    pid_of[$harness]=$!
  done
  for harness in "${batch[@]}"; do
    log=$build/logs/$harness.log
    status=0
    wait "${pid_of[$harness]}" || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
    if ((status == 0)); then
      echo "   $harness ok: ${execs:-?} inputs, ${rate:-?}/s, ${cov:-cov: ?} edges, peak RSS ${rss:-?} MB," \
        "corpus $(find "$build/corpus/$harness" -type f | wc -l) files"
    else
      report_failure "$harness" "$log"
      failed+=("$harness")
    fi
  done
done

if ((${#failed[@]})); then
  echo "== fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "== fuzz: no crash in ${#harnesses[@]} harnesses x ${seconds}s"
