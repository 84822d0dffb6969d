#!/usr/bin/env bash
# The README's first command: install, build, generate a WoodScape-like demo dataset (label masks
# and RGB frames in WoodScape's layout), scan it per camera with heatmaps, and write report.html.
# FRAMES=8234 scripts/demo.sh runs at WoodScape's full size (default 824 frames).
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${FRAMES:-824}
bash scripts/install-deps.sh
bash scripts/build.sh
demo=demo/woodscape_like_${frames}
masks=$demo/semantic_annotations/gtLabels
if [[ ! -f $demo/.complete-with-rgb ]]; then
  rm -rf "$demo"
  ./build/src/maskscan synth "$masks" --frames "$frames" --seed 1 --rgb "$demo/rgb_images"
  touch "$demo/.complete-with-rgb"
fi
# --force: the demo's own results directory is rewritten on every run.
./build/src/maskscan scan "$masks" --labels woodscape --heatmaps --group-by '_(FV|RV|MVL|MVR)\.png$' --out "$demo/results" --force --report
echo "open file://$(realpath "$demo/results/report.html")"
