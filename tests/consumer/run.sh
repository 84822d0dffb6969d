#!/usr/bin/env bash
# Installs the built project into a scratch prefix, builds tests/consumer against it with
# find_package(maskscan), and runs it on a real folder: it must count all 101 CamVid frames.
set -euo pipefail
build_dir=$1 source_dir=$2 data_dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
frames=$("$work/build/consumer" "$data_dir/real/gray8_ids/camvid_segnet")
echo "consumer counted $frames frames"
[[ $frames == 101 ]]
