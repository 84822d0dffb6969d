#!/usr/bin/env bash
# The one list of Debian 12 packages maskscan needs to build, test and benchmark.
# Used by the README's commands and by .ci/run, so a missing package shows up everywhere at once.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev   # Asio (C++20 coroutines, random_access_file), Boost.JSON
  liburing-dev                             # io_uring backend for asio::random_access_file
  libspng-dev zlib1g-dev                   # reference PNG decoder (and its zlib)
  libdeflate-dev                           # fast inflate / crc32 / adler32
  librange-v3-dev libfmt-dev libcli11-dev
  libcurl4-openssl-dev libssl-dev          # s3:// object storage: HTTP(S) with libcurl; SigV4's HMAC-SHA256 from OpenSSL
  python3-botocore                         # its tests: uploads to the local S3 server, and each request's signature checked by AWS's signer
  awscli                                   # bench/s3_throughput.sh: `aws s3 cp --recursive` as the baseline
  catch2                                   # v2.13 test framework
  python3 python3-numpy python3-pil        # test oracles (numpy.load of .npy) and Python peers
  pybind11-dev python3-pybind11 python3-dev # the Python module maskscan._core (src/python)
  python3-venv python3-pip python3-setuptools python3-wheel  # pip install --no-build-isolation . (offline)
  python3-pytest python3-pandas python3-torch  # the Python tests; Result.frames; maskscan.torch
  python3-yaml                              # the Kubernetes manifests of docs/scale-out, read by their test
  python3-distributed                       # maskscan.dask (a LocalCluster in its tests)
  libopenmpi-dev openmpi-bin               # the MPI front-end (scan --mpi under mpirun; MASKSCAN_WITH_MPI)
  time                                     # /usr/bin/time for peak RSS in benchmarks
  clang-14 libclang-rt-14-dev llvm-14      # libFuzzer harnesses (scripts/fuzz.sh), llvm-symbolizer
  chromium fonts-dejavu-core               # browser test of report.html (headless); without a font no text renders
  curl hey                                 # maskscan serve: its tests drive it with curl; bench/service_latency with hey
)

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present" >&2
fi

# The tests' local S3-compatible server: s3rver from the npm registry, pinned by
# tools/s3rver/package-lock.json, into tools/s3rver/node_modules (test-only, never shipped). Node.js
# and npm from Debian unless the machine already has them (another Node.js, e.g. NodeSource's,
# brings its own npm, which Debian's npm package would conflict with).
if ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing nodejs npm" >&2
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends nodejs npm
fi
s3rver_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/s3rver"
if [[ ! -x "$s3rver_dir/node_modules/.bin/s3rver" || "$s3rver_dir/package-lock.json" -nt "$s3rver_dir/node_modules/.package-lock.json" ]]; then
  echo "install-deps: installing s3rver (npm ci in tools/s3rver)" >&2
  npm ci --prefix "$s3rver_dir" --no-audit --no-fund --loglevel=error
else
  echo "install-deps: s3rver present" >&2
fi
