#!/usr/bin/python3
"""maskscan serve under load: /health latency while two full-size heatmap scans run, and a scan
through the service against the CLI's wall time (docs/service.md records the figures).

    /usr/bin/python3 bench/service_latency.py DATASET_DIR [--maskscan build/src/maskscan] [--runs 5]

DATASET_DIR: a folder of masks (e.g. `maskscan synth /tmp/ws --frames 8234`). The service gets its
parent as --root. Part 1: `hey -c 1 -q 100 -z 10s` (one client at a fixed 100 requests/s) on
/health while the service keeps two `heatmaps` scans of DATASET_DIR running (a new one is posted
as one ends), then p50/p99/max from hey's CSV. Part 2: `--runs` interleaved pairs of the CLI's
`scan DIR --heatmaps --out O` (process wall time) and the same scan posted to the idle service
(POST to the end event on /events, client wall time): the medians and their ratio.
Targets (issue 17): p99 < 10 ms, max < 50 ms; service within 5% of the CLI.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


class Service:
    def __init__(self, maskscan: str, root: Path, state: Path, extra: list[str]):
        self.proc = subprocess.Popen([maskscan, "serve", "--root", str(root), "--state-dir", str(state),
                                      "--listen", "127.0.0.1:0", *extra],
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise SystemExit(f"service did not start: {line}")
        self.port = int(m.group(1))
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        c.request(method, path, json.dumps(body) if body is not None else None)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, (json.loads(data) if data else {})

    def post_scan(self, path: str, options: dict) -> int:
        status, record = self.request("POST", "/scans", {"path": path, "options": options})
        if status != 202:
            raise SystemExit(f"POST /scans: {status} {record}")
        return record["id"]

    def wait_end(self, scan_id: int) -> dict:
        """Reads the scan's event stream until its end event."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        c.request("GET", f"/scans/{scan_id}/events")
        r = c.getresponse()
        name = None
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == "end":
                c.close()
                return json.loads(line[6:])
        raise SystemExit(f"scan {scan_id}: the event stream ended without its end event")

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=30)


def hey_health(port: int, seconds: int) -> list[float]:
    out = subprocess.run(["hey", "-c", "1", "-q", "100", "-z", f"{seconds}s", "-o", "csv",
                          f"http://127.0.0.1:{port}/health"], check=True, capture_output=True, text=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    bad = [r for r in rows if r["status-code"] != "200"]
    if bad:
        raise SystemExit(f"{len(bad)} /health requests failed: {bad[:3]}")
    return sorted(float(r["response-time"]) * 1000 for r in rows)


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * (len(sorted_ms) - 1))))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", type=Path)
    p.add_argument("--maskscan", default="build/src/maskscan")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=int, default=10)
    args = p.parse_args()
    dataset = args.dataset.resolve()
    maskscan = str(Path(args.maskscan).resolve())
    work = Path(tempfile.mkdtemp(prefix="maskscan-service-bench-"))
    try:
        service = Service(maskscan, dataset.parent, work / "state", [])
        rel = dataset.name

        # Part 1: /health at a fixed rate while two heatmap scans run all along.
        stop = threading.Event()
        scans_done = []

        def keep_two_running(slot: int) -> None:
            while not stop.is_set():
                scan_id = service.post_scan(rel, {"heatmaps": True})
                end = service.wait_end(scan_id)
                scans_done.append((slot, scan_id, end["state"], end["progress"]["frames_done"]))

        workers = [threading.Thread(target=keep_two_running, args=(i,)) for i in range(2)]
        for w in workers:
            w.start()
        time.sleep(1.0)  # both scans under way
        latencies = hey_health(service.port, args.seconds)
        stop.set()
        for w in workers:
            w.join()
        print(f"/health at 100 requests/s for {args.seconds} s while two heatmap scans of {dataset} ran "
              f"({len(scans_done)} scans ended meanwhile, all done: {all(s[2] == 'done' for s in scans_done)}):")
        print(f"  requests {len(latencies)}: p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
              f"max {latencies[-1]:.2f} ms")

        # Part 2: the same scan through the CLI and through the idle service, interleaved.
        cli, served = [], []
        for run in range(args.runs):
            out = work / f"cli{run}"
            t0 = time.monotonic()
            subprocess.run([maskscan, "scan", str(dataset), "--heatmaps", "--no-progress", "--out", str(out)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cli.append(time.monotonic() - t0)
            shutil.rmtree(out)
            t0 = time.monotonic()
            end = service.wait_end(service.post_scan(rel, {"heatmaps": True}))
            served.append(time.monotonic() - t0)
            if end["state"] != "done":
                raise SystemExit(f"service scan: {end}")
            print(f"  run {run + 1}: CLI {cli[-1]:.2f} s, service {served[-1]:.2f} s", flush=True)
        c, s = statistics.median(cli), statistics.median(served)
        print(f"scan --heatmaps of {dataset}, median of {args.runs} interleaved runs: CLI {c:.2f} s "
              f"(range {min(cli):.2f}-{max(cli):.2f}), service {s:.2f} s (range {min(served):.2f}-{max(served):.2f}): "
              f"service/CLI {s / c:.3f}")
        status = service.stop()
        print(f"service stopped with exit status {status}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
