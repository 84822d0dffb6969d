#!/usr/bin/env bash
# The README's first command: install, build, generate a WoodScape-like demo dataset, scan it.
# FRAMES=8234 scripts/demo.sh runs at WoodScape's full size (default 824 frames).
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${FRAMES:-824}
bash scripts/install-deps.sh
bash scripts/build.sh
demo=demo/woodscape_like_${frames}
if [[ ! -f $demo/.complete ]]; then
  ./build/src/maskscan synth "$demo/gtLabels" --frames "$frames" --seed 1
  touch "$demo/.complete"
fi
./build/src/maskscan scan "$demo/gtLabels" --heatmaps --out "$demo/results"
