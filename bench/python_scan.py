#!/usr/bin/python3
"""Issue 16's benchmark: `maskscan.scan` from Python against the CLI on the same files, interleaved.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_scan.py DATASET_DIR [--runs 5] [--labels woodscape]

Rows (warm page cache, median of the runs, each configuration run in turn so that machine noise
hits them alike): the CLI (`maskscan scan DIR --labels L --heatmaps --no-progress`, whole process),
a Python process doing `maskscan.scan(DIR, labels=L, heatmaps=True)` (whole process: the
interpreter, numpy and the module start too), and the scan call alone inside that process (what a
training script pays once it runs). Peak RSS of each process. Prints a Markdown table."""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def timed(argv, env=None):
    with tempfile.NamedTemporaryFile("r") as t:
        out = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", t.name, *argv], capture_output=True, text=True,
                             env=env, check=True)
        wall, rss = t.read().split()
    return float(wall), int(rss) / 1024, out.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--labels", default="woodscape")
    p.add_argument("--maskscan", default=str(ROOT / "build" / "src" / "maskscan"))
    p.add_argument("--pythonpath", default=str(ROOT / "build" / "python"))
    a = p.parse_args()
    env = dict(os.environ, PYTHONPATH=a.pythonpath)
    code = ("import time, json, maskscan\n"
            "t = time.perf_counter()\n"
            f"r = maskscan.scan({a.dir!r}, labels={a.labels!r}, heatmaps=True)\n"
            "s = time.perf_counter() - t\n"
            "print(json.dumps({'scan': s, 'frames': r.totals['frames']}))\n")
    subprocess.run(["cat"] + [str(f) for f in pathlib.Path(a.dir).glob("*.png")], stdout=subprocess.DEVNULL)
    rows = {"CLI: maskscan scan (process)": [], "Python: maskscan.scan (process)": [],
            "Python: the maskscan.scan call": []}
    rss = {k: 0.0 for k in rows}
    frames = None
    for _ in range(a.runs):
        wall, mem, _ = timed([a.maskscan, "scan", a.dir, "--labels", a.labels, "--heatmaps", "--no-progress"])
        rows["CLI: maskscan scan (process)"].append(wall)
        rss["CLI: maskscan scan (process)"] = max(rss["CLI: maskscan scan (process)"], mem)
        wall, mem, out = timed(["/usr/bin/python3", "-c", code], env)
        inner = json.loads(out.strip().splitlines()[-1])
        frames = inner["frames"]
        rows["Python: maskscan.scan (process)"].append(wall)
        rows["Python: the maskscan.scan call"].append(inner["scan"])
        rss["Python: maskscan.scan (process)"] = max(rss["Python: maskscan.scan (process)"], mem)
    base = statistics.median(rows["CLI: maskscan scan (process)"])
    print(f"{a.dir}: {frames} frames, --labels {a.labels} --heatmaps, median of {a.runs} interleaved runs, "
          f"{os.cpu_count()} cores")
    print()
    print("| run | wall s (median) | min..max | vs CLI | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, times in rows.items():
        med = statistics.median(times)
        mem = f"{rss[name]:.0f}" if rss[name] else ""
        print(f"| {name} | {med:.2f} | {min(times):.2f}..{max(times):.2f} | {med / base:.2f}x | {mem} |")


if __name__ == "__main__":
    sys.exit(main())
