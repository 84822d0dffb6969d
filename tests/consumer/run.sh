#!/usr/bin/env bash
# Installs the built project into a scratch prefix, builds tests/consumer against it with
# find_package(maskscan), and runs it on a real folder: it must count all 101 CamVid frames.
#   run.sh BUILD_DIR SOURCE_DIR DATA_DIR static|shared [COMPONENT]
# static or shared: what the installed libmaskscan is; COMPONENT: install only that component (the
# shared variant of a static build, maskscan_shared_variant), else the build's own install. Also checked: the consumer's compile
# commands hold no include directory or definition of a private dependency (liburing, libspng,
# libdeflate, fmt, range-v3, Boost.JSON),
# and the shared library exports maskscan::* but no maskscan::detail:: nor any other symbol (but
# Asio's per-process statics).
set -euo pipefail
build_dir=$1 source_dir=$2 data_dir=$3 flavour=$4 component=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[[ $flavour == static || $flavour == shared ]] ||
  { echo "usage: run.sh BUILD_DIR SOURCE_DIR DATA_DIR static|shared [COMPONENT]" >&2; exit 2; }
# Runs a command quietly; on failure, prints what it said.
quiet() { "$@" >"$work/log" 2>&1 || { cat "$work/log"; echo "failed: $*"; return 1; }; }
quiet cmake --install "$build_dir" --prefix "$work/prefix" ${component:+--component "$component"}
quiet cmake -S "$source_dir/tests/consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
quiet cmake --build "$work/build"

private='spng|deflate|fmt|range[-/]v3|boost[_/]json|BOOST_JSON|uring|URING'
command=$(sed -n 's/^ *"command": //p' "$work/build/compile_commands.json")
leaks=$(tr ' ' '\n' <<<"$command" | grep -E -- '^-(I|isystem|D)' | grep -E -- "$private" || true)
if [[ -n $leaks ]]; then
  echo "the consumer is compiled with private dependencies of maskscan:"
  echo "$leaks"
  exit 1
fi

if [[ $flavour == shared ]]; then
  lib=$(ls "$work/prefix"/lib*/libmaskscan.so.0)
  soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [[ $soname == libmaskscan.so.0 ]] || { echo "soname of $lib: '$soname', not libmaskscan.so.0"; exit 1; }
  # ldd's output is taken whole first: `ldd | grep -q` under pipefail fails when grep's early exit
  # kills ldd with SIGPIPE (it did, once in several runs).
  loaded=$(ldd "$work/build/consumer")
  grep -q "libmaskscan.so.0 => $work/prefix" <<<"$loaded" ||
    { echo "the consumer does not load the installed libmaskscan.so.0:"; echo "$loaded"; exit 1; }
  symbols=$(nm -D --defined-only -C "$lib" | grep -v ' A MASKSCAN_0$' | sed 's/^[0-9a-f]* [A-Za-z] //')
  ours='^((typeinfo|typeinfo name|vtable|VTT|guard variable) for |(non-)?virtual thunk to )?maskscan::'
  exported=$(grep -cE "$ours" <<<"$symbols" || true)
  # maskscan::detail:: functions that public templates call are exported by name (cmake/maskscan.map).
  api_details=$(sed -n 's/^ *maskscan::detail::\([A-Za-z0-9_]*\)\*;$/\1/p' "$source_dir/cmake/maskscan.map" | paste -sd'|')
  internal=$(grep -E "${ours}detail::" <<<"$symbols" | grep -Ev "^maskscan::detail::(${api_details:-^})\(" || true)
  # Asio's per-process statics are shared with the program on purpose (cmake/maskscan.map).
  asio_statics='^(guard variable for )?boost::asio::detail::(call_stack<.*>::top_|(execution_context_)?service_base<.*>::id)'
  foreign=$(grep -Ev "$ours" <<<"$symbols" | grep -Ev "$asio_statics" || true)
  if ((exported == 0)) || [[ -n $internal || -n $foreign ]]; then
    echo "$lib exports $exported maskscan:: symbols; internal ones:"
    echo "${internal:-none}"
    echo "others:"
    echo "${foreign:-none}" | head -n 20
    exit 1
  fi
  echo "libmaskscan.so.0 exports $exported symbols, all maskscan:: and none of maskscan::detail::"
fi

frames=$("$work/build/consumer" "$data_dir/real/gray8_ids/camvid_segnet")
echo "consumer ($flavour) counted $frames frames"
[[ $frames == 101 ]]
