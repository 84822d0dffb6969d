#!/usr/bin/env bash
# Object storage (issue 20): the same frames scanned from a local S3-compatible server (s3rver on
# loopback, tests/io/s3_server.py) and from local disk, and downloaded from that server by
# `aws s3 cp --recursive` (Debian's awscli) and by curl (16 transfers in parallel, SigV4-signed).
# All four run side by side in each round; the medians of the rounds are printed, with the ratios.
# Every S3 scan's frames.csv must equal the local scan's, byte for byte (exit 1 otherwise).
#
#   bench/s3_throughput.sh [--maskscan PATH] [--frames 824] [--width 1280] [--height 966]
#                          [--rounds 3] [--io-depth 16] [-- scan flags]
# Default scan flags: --labels woodscape. The server, not the client, is the ceiling here: s3rver is
# one Node.js process that reads each object and its metadata from files.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
maskscan=$here/build/src/maskscan
frames=824 width=1280 height=966 rounds=3 io_depth=16
while (($#)); do
  case $1 in
    --maskscan) maskscan=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --height) height=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --io-depth) io_depth=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
flags=("$@")
((${#flags[@]})) || flags=(--labels woodscape)
aws=/usr/bin/aws
[[ -x $aws ]] || aws=$(command -v aws) || { echo "needs the AWS CLI (Debian's awscli)" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$maskscan" synth "$work/gtLabels" --frames "$frames" --width "$width" --height "$height" >/dev/null
bytes=$(du -sb "$work/gtLabels" | cut -f1)

/usr/bin/python3 "$here/tests/io/s3_server.py" masks >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q '^s3rver http' "$work/server.log" && break; sleep 0.1; done
endpoint=$(sed -n 's/^s3rver \(http[^ ]*\).*/\1/p' "$work/server.log")
[[ -n $endpoint ]] || { cat "$work/server.log" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export HOME=$work  # no ~/.aws of the user's
"$aws" s3 cp --recursive --only-show-errors "$work/gtLabels" s3://masks/gtLabels/ --endpoint-url "$endpoint"

# curl's baseline: every object, 16 at a time, signed with curl's own SigV4 (7.75+) and the payload
# header S3 requires.
{
  echo 'aws-sigv4 = "aws:amz:us-east-1:s3"'
  echo "user = \"S3RVER:S3RVER\""
  echo 'header = "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"'
  echo 'fail'
  for f in "$work"/gtLabels/*.png; do
    name=$(basename "$f")
    echo "url = \"$endpoint/masks/gtLabels/$name\""
    echo "output = \"$work/curl/$name\""
  done
} >"$work/curl.config"

seconds() { # the wall time of a command, in seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; return 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

local_t=() s3_t=() aws_t=() curl_t=()
"$maskscan" scan "$work/gtLabels" "${flags[@]}" --out "$work/local" --no-progress >/dev/null 2>&1  # warms the cache
for round in $(seq "$rounds"); do
  local_t+=("$(seconds "$maskscan" scan "$work/gtLabels" "${flags[@]}" --out "$work/local" --force --no-progress)")
  s3_t+=("$(seconds "$maskscan" scan s3://masks/gtLabels/ --endpoint-url "$endpoint" --io-depth "$io_depth" \
    "${flags[@]}" --out "$work/s3" --force --no-progress)")
  cmp -s "$work/local/frames.csv" "$work/s3/frames.csv" || { echo "round $round: frames.csv differs" >&2; exit 1; }
  rm -rf "$work/aws" "$work/curl"
  aws_t+=("$(seconds "$aws" s3 cp --recursive --only-show-errors s3://masks/gtLabels/ "$work/aws/" \
    --endpoint-url "$endpoint")")
  mkdir -p "$work/curl"
  curl_t+=("$(seconds curl --silent --parallel --parallel-max 16 --config "$work/curl.config")")
  [[ $(ls "$work/curl" | wc -l) == "$frames" ]] || { echo "curl fetched $(ls "$work/curl" | wc -l) files" >&2; exit 1; }
  echo "round $round: local ${local_t[-1]} s, s3 scan ${s3_t[-1]} s, aws s3 cp ${aws_t[-1]} s, curl ${curl_t[-1]} s" >&2
done

l=$(median "${local_t[@]}") s=$(median "${s3_t[@]}") a=$(median "${aws_t[@]}") c=$(median "${curl_t[@]}")
mb=$(echo "$bytes / 1000000" | bc -l)
printf '%d frames of %dx%d, %.1f MB; medians of %d rounds (each round runs all four)\n' "$frames" "$width" "$height" "$mb" "$rounds"
printf '%-44s %8.2f s  %7.0f frames/s  %6.1f MB/s\n' \
  "maskscan scan (local disk, warm cache)" "$l" "$(echo "$frames / $l" | bc -l)" "$(echo "$mb / $l" | bc -l)" \
  "maskscan scan s3:// (io-depth $io_depth)" "$s" "$(echo "$frames / $s" | bc -l)" "$(echo "$mb / $s" | bc -l)" \
  "aws s3 cp --recursive (download only)" "$a" "$(echo "$frames / $a" | bc -l)" "$(echo "$mb / $a" | bc -l)" \
  "curl --parallel-max 16 (download only)" "$c" "$(echo "$frames / $c" | bc -l)" "$(echo "$mb / $c" | bc -l)"
printf 'ratios: s3 scan / local scan %.2f; s3 scan / aws s3 cp %.2f; s3 scan / curl %.2f\n' \
  "$(echo "$s / $l" | bc -l)" "$(echo "$s / $a" | bc -l)" "$(echo "$s / $c" | bc -l)"
