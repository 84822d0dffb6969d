#!/usr/bin/python3
"""maskscan's speed benchmark: every peer and every maskscan mode on the same files in one run.

    /usr/bin/python3 bench/run_bench.py [--quick] [--workdir DIR] [--out bench/results]

Makes the datasets with `maskscan synth` (reproducible from the seed; kept in --workdir between
runs): woodscape (8,234 frames, 1280x966, adaptive filters as libpng/PIL write), opencv (the same
frames Sub-filtered on every row, as cv2.imwrite writes), small (the first 824 woodscape frames).
Then measures, warm page cache, median of --runs runs:
  - floors: single-core read-only and decode-only ms/frame (bench/maskscan_floor);
  - maskscan --serial, default, and sweeps of --workers, --io-depth, --queue-depth, --decoder;
  - the Python peers of bench/peers.py (the seed article's approaches and the best plain numpy),
    on fixed subsets where the full set would take minutes (figures are per frame).
Writes <out>.md (a markdown table) and <out>.json. --quick: the small set only, fewer runs.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MASKSCAN = ROOT / "build/src/maskscan"
FLOOR = ROOT / "build/bench/maskscan_floor"
PEERS = ROOT / "bench/peers.py"
PY = "/usr/bin/python3"  # Debian's interpreter: python3-numpy and python3-pil live there

# Frames each peer runs on: the article's slow approaches get a fixed subset (first N frames).
PEER_SUBSETS = {
    "loop_counts": 300, "threadpool_counts": 600, "processpool_counts": 300,
    "loop_heatmaps": 100, "threadpool_heatmaps": 200, "processpool_heatmaps": 100,
    "numpy_best_counts": 824, "numpy_best": 400,
}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def ensure_dataset(workdir: Path, name: str, frames: int, filt: str) -> Path:
    d = workdir / f"{name}_{frames}"
    if not (d / ".complete").exists():
        print(f"making {d} ...", file=sys.stderr, flush=True)
        sh([str(MASKSCAN), "synth", str(d / "gtLabels"), "--frames", str(frames), "--seed", "1", "--filter", filt])
        (d / ".complete").touch()
    return d / "gtLabels"


def warm(directory: Path):
    for p in directory.rglob("*.png"):
        p.read_bytes()


def timed(cmd, runs):
    """Median wall seconds and max peak RSS (MiB) of `cmd` over `runs` runs (GNU time)."""
    walls, rss = [], 0
    for _ in range(runs):
        out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], text=True, capture_output=True)
        if out.returncode not in (0, 3):
            raise RuntimeError(f"{cmd} failed: {out.stderr[-2000:]}")
        wall, kb = out.stderr.strip().splitlines()[-1].split()
        walls.append(float(wall))
        rss = max(rss, int(kb))
    return statistics.median(walls), rss / 1024


def maskscan_row(label, dataset, frames, flags, runs, cores_used):
    wall, rss = timed([str(MASKSCAN), "scan", str(dataset), "--no-progress", *flags], runs)
    return {"name": label, "tool": "maskscan", "flags": " ".join(flags), "frames": frames, "seconds": wall,
            "frames_per_s": frames / wall, "ms_per_frame_per_core": 1000 * wall * cores_used / frames,
            "peak_rss_mb": rss, "heatmaps": "--heatmaps" in flags}


def peer_row(peer, dataset, frames, runs):
    results = []
    for _ in range(runs):
        out = sh([PY, str(PEERS), "--peer", peer, "--dir", str(dataset), "--limit", str(frames)])
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    r = sorted(results, key=lambda x: x["seconds"])[len(results) // 2]
    return {"name": peer, "tool": "python", "flags": f"first {r['frames']} frames", "frames": r["frames"],
            "seconds": r["seconds"], "frames_per_s": r["frames_per_s"],
            "ms_per_frame_per_core": r["ms_per_frame"] * max(1, r.get("workers") or 1) if "pool" in peer else r["ms_per_frame"],
            "peak_rss_mb": r["peak_rss_mb"], "heatmaps": "heatmaps" in peer or peer == "numpy_best",
            "class_pixels": r.get("class_pixels")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the 824-frame set only, 3 runs, small peer subsets")
    ap.add_argument("--workdir", default=str(ROOT / "bench/data"), help="where the datasets are made and kept")
    ap.add_argument("--out", default=str(ROOT / "bench/results"), help="output path without extension")
    ap.add_argument("--runs", type=int, default=None, help="runs per row (median); default 5, --quick 3")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    cores = os.cpu_count() or 1
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    full = ensure_dataset(workdir, "woodscape", 824 if args.quick else 8234, "adaptive")
    opencv = ensure_dataset(workdir, "opencv", 824 if args.quick else 8234, "sub")
    small = ensure_dataset(workdir, "woodscape", 824, "adaptive")
    sets = {"woodscape": full, "opencv": opencv, "small": small}
    counts = {k: len(list(v.glob("*.png"))) for k, v in sets.items()}
    for d in sets.values():
        warm(d)

    rows = []
    # Floors: one core, read-only and decode-only, per frame.
    if FLOOR.exists():
        for name in ("woodscape", "opencv"):
            out = json.loads(sh([str(FLOOR), str(sets[name])]).stdout)
            for key, ms in out["ms_per_frame"].items():
                rows.append({"name": f"floor: {key}", "tool": "floor", "flags": name, "frames": out["frames"],
                             "seconds": ms * out["frames"] / 1000, "frames_per_s": 1000 / ms,
                             "ms_per_frame_per_core": ms, "peak_rss_mb": None, "heatmaps": False, "dataset": name})

    # maskscan modes.
    def ms(label, dataset, flags, cores_used=cores):
        row = maskscan_row(label, sets[dataset], counts[dataset], flags, runs, cores_used)
        row["dataset"] = dataset
        rows.append(row)
        print(f"{label:40s} {dataset:10s} {row['frames_per_s']:8.0f} frames/s", file=sys.stderr, flush=True)
        return row

    for heat in ([], ["--heatmaps"]):
        tag = "counts+heatmaps" if heat else "counts"
        ms(f"maskscan --serial ({tag})", "woodscape", ["--serial", *heat], 1)
        ms(f"maskscan --serial --decoder spng ({tag})", "woodscape", ["--serial", "--decoder", "spng", *heat], 1)
        ms(f"maskscan default ({tag})", "woodscape", heat)
        ms(f"maskscan --decoder spng ({tag})", "woodscape", ["--decoder", "spng", *heat])
    ms("maskscan --serial (counts+heatmaps)", "opencv", ["--serial", "--heatmaps"], 1)
    ms("maskscan default (counts+heatmaps)", "opencv", ["--heatmaps"])
    ms("maskscan --decoder spng (counts+heatmaps)", "opencv", ["--decoder", "spng", "--heatmaps"])
    for w in (1, 2, 4):
        ms(f"maskscan --workers {w} (counts+heatmaps)", "woodscape", ["--workers", str(w), "--heatmaps"], min(w, cores))
    for d in (1, 8, 64):
        ms(f"maskscan --io-depth {d} (counts+heatmaps)", "woodscape", ["--io-depth", str(d), "--heatmaps"])
    for q in (2, 16, 128):
        ms(f"maskscan --queue-depth {q} (counts+heatmaps)", "woodscape", ["--queue-depth", str(q), "--heatmaps"])
    ms("maskscan --io threads (counts+heatmaps)", "woodscape", ["--io", "threads", "--heatmaps"])
    ms("maskscan default (counts+heatmaps)", "small", ["--heatmaps"])

    # Python peers, on subsets of the woodscape set.
    if not args.skip_peers:
        for peer, n in PEER_SUBSETS.items():
            n = min(n, counts["woodscape"]) if not args.quick else min(n // 3 or 1, counts["woodscape"])
            print(f"peer {peer} on {n} frames ...", file=sys.stderr, flush=True)
            row = peer_row(peer, sets["woodscape"], n, 1 if n > 50 else runs)
            row["dataset"] = "woodscape"
            rows.append(row)

    def fps(name, dataset="woodscape"):
        return next((r["frames_per_s"] for r in rows if r["name"] == name and r.get("dataset") == dataset), None)

    summary = {
        "machine": {"cores": cores, "cpu": platform.processor() or platform.machine(), "kernel": platform.release(),
                    "load_before": os.getloadavg()},
        "frames": counts, "runs": runs, "rows": rows,
        "ratios": {},
    }
    best_counts, best_heat = fps("maskscan default (counts)"), fps("maskscan default (counts+heatmaps)")
    for peer in PEER_SUBSETS:
        p = fps(peer)
        if p:
            mine = best_heat if ("heatmaps" in peer or peer == "numpy_best") else best_counts
            summary["ratios"][f"maskscan vs {peer}"] = mine / p
    w1, w2 = fps("maskscan --workers 1 (counts+heatmaps)"), fps("maskscan --workers 2 (counts+heatmaps)")
    if w1 and w2:
        summary["ratios"]["2 workers vs 1 worker (counts+heatmaps)"] = w2 / w1
    for dataset in ("woodscape", "opencv"):
        floor = next((r for r in rows if r["name"] == "floor: decode fast" and r.get("dataset") == dataset), None)
        mine = next((r for r in rows if r["name"] == "maskscan default (counts+heatmaps)" and r.get("dataset") == dataset), None)
        if floor and mine:
            summary["ratios"][f"{dataset}: ms/frame/core of default (counts+heatmaps) vs decode floor"] = \
                mine["ms_per_frame_per_core"] / floor["ms_per_frame_per_core"]
    spng = fps("maskscan --decoder spng (counts+heatmaps)")
    if spng and best_heat:
        summary["ratios"]["fast decoder vs libspng (counts+heatmaps, default)"] = best_heat / spng
    Path(args.out + ".json").write_text(json.dumps(summary, indent=2) + "\n")

    lines = [f"Machine: {cores} cores, {summary['machine']['cpu']}, Linux {summary['machine']['kernel']}; "
             f"load average before the run {summary['machine']['load_before'][0]:.2f}; median of {runs} runs, warm cache.",
             "", "| row | dataset | frames | wall s | frames/s | ms/frame/core | peak RSS MiB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        rss = f"{r['peak_rss_mb']:.0f}" if r["peak_rss_mb"] else "-"
        lines.append(f"| {r['name']} | {r.get('dataset', '')} | {r['frames']} | {r['seconds']:.2f} | "
                     f"{r['frames_per_s']:.0f} | {r['ms_per_frame_per_core']:.3f} | {rss} |")
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {v:.1f}x |" for k, v in summary["ratios"].items()]
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
