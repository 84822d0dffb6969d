"""`maskscan serve` from outside: the binary started on an ephemeral loopback port and driven over
HTTP (http.client, raw sockets and Debian's curl), its results checked against the CLI's own
outputs of the same scans and against independent truth (pixel totals, numpy sums of the heatmaps,
the expected counts of real masks).

Environment (tests/CMakeLists.txt sets them): MASKSCAN_CLI, the maskscan executable;
MASKSCAN_TEST_DATA, the shared test data (its real CamVid masks are used when present).

Datasets are generated once per session with `maskscan synth` below a temporary ROOT:
  small   40 frames 320x240          small2  24 frames 256x192
  big     400 frames 1280x966        long    big hard-linked 5 times (2000 frames, l0..l4/)
  huge    big hard-linked 10 times (4000 frames, r00..r09/): a scan of it with the reference
          decoder on one worker runs for many seconds, long enough to cancel, SIGTERM or kill -9
          it while it runs (the tests wait until it has scanned frames, never for a time)
  rep/lab + rep/rgb   12 frames with RGB photos, for a report with overlays
  mixed   5 frames, a symlink to a file outside ROOT (left out) and one to a file inside (kept)
  escape  a symlink to a folder outside ROOT
  camvid  a copy of the shared data's 101 real CamVid masks (when the data is there)
"""
import csv
import http.client
import io
import json
import os
import pathlib
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import numpy as np
import pytest

CURL = shutil.which("curl") or "/usr/bin/curl"
ENDED = ("done", "cancelled", "failed")
WAIT = 180  # seconds: the longest any wait may take on a loaded machine before a test fails
# The options of a scan that runs for many seconds on `huge` (the reference decoder, one worker).
SLOW = {"decoder": "spng", "workers": 1, "labels": "woodscape"}


# --------------------------------------------------------------------------------------------
# Session fixtures: the executable, the datasets, the CLI's reference scans
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cli() -> str:
    path = os.environ.get("MASKSCAN_CLI") or shutil.which("maskscan")
    if not path:
        pytest.skip("MASKSCAN_CLI is not set")
    return str(pathlib.Path(path).resolve())


def run(args, timeout=WAIT, check=True):
    p = subprocess.run([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} exited {p.returncode}:\n{p.stderr.decode(errors='replace')}")
    return p


def hard_link_copies(src: pathlib.Path, dst: pathlib.Path, prefix: str, copies: int):
    """dst/<prefix>NN/<name> for every PNG of src: hard links (the same bytes, no disk)."""
    files = sorted(src.glob("*.png"))
    for i in range(copies):
        d = dst / f"{prefix}{i:0{len(str(copies))}d}"
        d.mkdir(parents=True)
        for f in files:
            os.link(f, d / f.name)


class Datasets:
    def __init__(self, root, outside, camvid_expected):
        self.root = root          # canonical
        self.outside = outside    # a folder outside root
        self.camvid_expected = camvid_expected  # {name: {value: pixels}} or None

    def path(self, name):
        return self.root / name


@pytest.fixture(scope="session")
def datasets(cli, tmp_path_factory) -> Datasets:
    root = tmp_path_factory.mktemp("root").resolve()
    outside = tmp_path_factory.mktemp("outside").resolve()
    run([cli, "synth", root / "small", "--frames", 40, "--width", 320, "--height", 240, "--seed", 1])
    run([cli, "synth", root / "small2", "--frames", 24, "--width", 256, "--height", 192, "--seed", 2])
    run([cli, "synth", root / "big", "--frames", 400, "--seed", 3])
    run([cli, "synth", root / "rep" / "lab", "--frames", 12, "--width", 160, "--height", 120,
         "--seed", 4, "--rgb", root / "rep" / "rgb"])
    hard_link_copies(root / "big", root / "huge", "r", 10)
    hard_link_copies(root / "big", root / "long", "l", 5)
    # Outside the root: a mask and a secret that no request may reach.
    shutil.copy(root / "small" / "00000_FV.png", outside / "outside.png")
    (outside / "secret.txt").write_text("top secret, outside the root\n")
    # A dataset with a symlink to a file outside the root (left out) and one inside (kept).
    mixed = root / "mixed"
    mixed.mkdir()
    for f in sorted((root / "small").glob("*.png"))[:5]:
        shutil.copy(f, mixed / f.name)
    (mixed / "zz_outside.png").symlink_to(outside / "outside.png")
    (mixed / "zz_inside.png").symlink_to(root / "small" / "00010_MVR.png")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    # Real masks, copied in (a symlink out of the root would be refused).
    expected = None
    data = pathlib.Path(os.environ.get("MASKSCAN_TEST_DATA", "/nonexistent"))
    camvid = data / "real" / "gray8_ids" / "camvid_segnet"
    if camvid.is_dir():
        shutil.copytree(camvid, root / "camvid")
        counts = json.loads((camvid.parent / "expected_counts.json").read_text())
        expected = {k.split("/", 1)[1]: v for k, v in counts.items() if k.startswith("camvid_segnet/")}
    return Datasets(root, outside, expected)


@pytest.fixture(scope="session")
def cli_scan(cli, datasets, tmp_path_factory):
    """cli_scan("big", "--labels", "woodscape") -> the --out folder of that CLI scan (run once)."""
    cache = {}
    base = tmp_path_factory.mktemp("cli")

    def scan(name, *args):
        key = (name,) + tuple(str(a) for a in args)
        if key not in cache:
            out = base / f"out{len(cache)}"
            run([cli, "scan", datasets.path(name), *args, "--out", out])
            cache[key] = out
        return cache[key]

    return scan


# --------------------------------------------------------------------------------------------
# The server process and the ways to talk to it
# --------------------------------------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    """`maskscan serve` on 127.0.0.1:0; stderr read by a thread (every line kept in .lines)."""

    def __init__(self, cli, root, state_dir, *extra, token=None):
        self.cli, self.root, self.state_dir = cli, pathlib.Path(root), pathlib.Path(state_dir)
        self.extra = [str(e) for e in extra]
        self.token = token
        self.lines = []
        self.cond = threading.Condition()
        self.proc = None
        self.port = None
        self.returncode = None

    # --- the process ---
    def start(self, timeout=60):
        args = [self.cli, "serve", "--root", str(self.root), "--state-dir", str(self.state_dir),
                "--listen", "127.0.0.1:0", *self.extra]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        threading.Thread(target=self._read_stderr, daemon=True).start()
        line = self.wait_for_log(r"listening on http://127\.0\.0\.1:(\d+) \(", timeout)
        self.port = int(re.search(r"127\.0\.0\.1:(\d+) \(", line).group(1))
        return self

    def _read_stderr(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # EOF
            self.cond.notify_all()

    def log_lines(self):
        with self.cond:
            return [l for l in self.lines if l is not None]

    def wait_for_log(self, pattern, timeout=WAIT):
        """The first stderr line matching `pattern` (re.search), waiting for it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for l in self.lines:
                    if l is not None and rx.search(l):
                        return l
                if None in self.lines:
                    raise AssertionError(f"the server exited without logging /{pattern}/:\n" + self.log_text())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no log line /{pattern}/ within {timeout} s:\n" + self.log_text())
                self.cond.wait(left)

    def log_text(self):
        return "\n".join(self.log_lines()[-60:])

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=WAIT):
        """Sends `sig` and waits for the exit; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"the server did not exit within {timeout} s of {sig!r}:\n" + self.log_text())
        self.returncode = self.proc.returncode
        # Let the reader thread see EOF so that .lines is complete.
        with self.cond:
            self.cond.wait_for(lambda: None in self.lines, 10)
        return self.returncode

    # --- HTTP ---
    def auth(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method, target, body=None, headers=None, auth=True, timeout=60):
        hdrs = dict(self.auth()) if auth else {}
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def get(self, target, **kw):
        return self.request("GET", target, **kw)

    def get_json(self, target, expect=200):
        r = self.get(target)
        assert r.status == expect, (target, r)
        assert r.headers["content-type"] == "application/json"
        return r.json()

    def post_scan(self, path, options=None, expect=202):
        body = {"path": path}
        if options is not None:
            body["options"] = options
        r = self.request("POST", "/scans", body)
        assert r.status == expect, (body, r)
        if expect != 202:
            return r
        record = r.json()
        assert r.headers["location"] == f"/scans/{record['id']}"
        assert record["path"] == path and record["state"] in ("queued", "running")
        return record

    def scan(self, scan_id):
        return self.get_json(f"/scans/{scan_id}")

    def wait_state(self, scan_id, states=ENDED, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            r = self.scan(scan_id)
            if r["state"] in states:
                return r
            if time.monotonic() > deadline:
                raise AssertionError(f"scan {scan_id} still {r['state']} after {timeout} s: {r}\n" + self.log_text())
            time.sleep(0.05)

    def wait_frames(self, scan_id, frames=1, timeout=WAIT):
        """Waits until scan_id runs and has scanned `frames` frames; its record."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.scan(scan_id)
            assert r["state"] in ("queued", "running"), f"scan {scan_id} ended before it could be interrupted: {r}"
            if r["state"] == "running" and r["progress"]["frames_done"] >= frames:
                return r
            if time.monotonic() > deadline:
                raise AssertionError(f"scan {scan_id} has not scanned {frames} frames in {timeout} s: {r}")
            time.sleep(0.05)

    def file(self, scan_id, name):
        r = self.get(f"/scans/{scan_id}/files/{name}")
        assert r.status == 200, (name, r)
        return r.body

    def results(self, scan_id):
        return self.state_dir / "scans" / str(scan_id) / "results"

    # --- raw sockets ---
    def connect(self, timeout=30):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def raw(self, *parts, timeout=30):
        """Sends `parts` one after another (stopping early when the server has answered or closed)
        and reads until the server closes; what it sent."""
        s = self.connect(timeout)
        try:
            for part in parts:
                if readable(s, 0):  # answered already (e.g. refused after the header)
                    break
                try:
                    s.sendall(part)
                except OSError:  # refused and closed while we were sending
                    break
            return read_all(s)
        finally:
            s.close()

    def curl(self, *args, timeout=WAIT):
        auth = ["-H", f"Authorization: Bearer {self.token}"] if self.token else []
        p = run([CURL, "-s", "-S", *auth, *args], timeout=timeout, check=False)
        assert p.returncode == 0, f"curl {args}: exit {p.returncode}: {p.stderr.decode(errors='replace')}"
        return p.stdout

    def url(self, target=""):
        return f"http://127.0.0.1:{self.port}{target}"


def readable(s, timeout):
    r, _, _ = select.select([s], [], [], timeout)
    return bool(r)


def read_all(s):
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return out
        if not b:
            return out
        out += b


def status_of(raw_reply):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", raw_reply)
    return int(m.group(1)) if m else None


def body_of(raw_reply):
    return raw_reply.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in raw_reply else b""


def headers_of(raw_reply):
    head = raw_reply.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head if ":" in h)}


def read_events(server, scan_id, last_event_id=None, timeout=WAIT):
    """GET /scans/{id}/events on a raw socket until the server closes it: (headers, events) with
    each event {"id": int, "event": str, "data": parsed JSON}."""
    s = server.connect(timeout)
    try:
        head = f"GET /scans/{scan_id}/events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n"
        for k, v in server.auth().items():
            head += f"{k}: {v}\r\n"
        if last_event_id is not None:
            head += f"Last-Event-ID: {last_event_id}\r\n"
        s.sendall((head + "\r\n").encode())
        f = s.makefile("rb")
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        headers = {}
        while True:
            line = f.readline().rstrip(b"\r\n")
            if not line:
                break
            k, v = line.decode().split(":", 1)
            headers[k.strip().lower()] = v.strip()
        events, current = [], {}
        while True:
            line = f.readline()
            if not line:  # the server closed the stream
                break
            line = line.decode().rstrip("\n")
            if line == "":
                if current:
                    events.append(current)
                current = {}
            elif line.startswith(":"):
                continue  # a comment (keep-alive)
            else:
                k, _, v = line.partition(": ")
                current[k] = int(v) if k == "id" else (json.loads(v) if k == "data" else v)
        assert not current, f"an event cut short: {current}"
        return headers, events
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# CSV helpers
# --------------------------------------------------------------------------------------------

def csv_rows(path_or_bytes):
    text = path_or_bytes.decode() if isinstance(path_or_bytes, bytes) else pathlib.Path(path_or_bytes).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def check_totals_are_sums_of_rows(summary, frames_csv):
    """summary.json's per-class pixels and frames_present are the sums of frames.csv's rows."""
    header, rows = csv_rows(frames_csv)
    assert summary["frames_scanned"] == len(rows)
    for c in summary["classes"]:
        col = header.index(f"pixels_{c['name']}")
        assert c["pixels"] == sum(int(r[col]) for r in rows), c["name"]
        assert c["frames_present"] == sum(1 for r in rows if int(r[col]) > 0), c["name"]
    return header, rows


def check_rows_equal_reference(rows, reference_frames_csv, base_of=lambda p: p):
    """Every row equals the reference CLI scan's row of the same frame (`base_of` maps a path of
    `rows` to the reference's path: hard-linked copies are the same frames)."""
    _, ref = csv_rows(reference_frames_csv)
    by_path = {r[0]: r for r in ref}
    for r in rows:
        expected = by_path[base_of(r[0])]
        assert r[1:] == expected[1:], (r[0], r, expected)


def copy_name(path):  # "r03/00012_FV.png" -> "00012_FV.png"
    return path.split("/", 1)[1]


def check_heatmaps(npy_path, summary, frames):
    """Independent truth of a heatmap set: each pixel of each frame is in exactly one class (no
    ignore values), so the class layers sum to the frame count everywhere, and each layer sums to
    the class's pixels."""
    h = np.load(npy_path)
    assert h.dtype == np.uint32 and h.shape[0] == len(summary["classes"])
    assert np.all(h.sum(axis=0, dtype=np.uint64) == frames)
    for c, layer in zip(summary["classes"], h):
        assert int(layer.sum(dtype=np.uint64)) == c["pixels"], c["name"]


# --------------------------------------------------------------------------------------------
# Server fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture
def start_server(cli, datasets, tmp_path):
    """start_server(*extra, state_dir=None, token=None) -> a started Server; stopped (SIGTERM,
    exit status 0 asserted) at the end of the test."""
    servers = []

    def start(*extra, state_dir=None, token=None):
        state = state_dir or tmp_path / f"state{len(servers)}"
        s = Server(cli, datasets.root, state, "--compute-threads", 2, *extra, token=token).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        if s.proc.poll() is None:
            assert s.stop() == 0, s.log_text()


@pytest.fixture(scope="module")
def shared(cli, datasets, tmp_path_factory, cli_scan):
    """One server for the read-only and hostile tests."""
    s = Server(cli, datasets.root, tmp_path_factory.mktemp("shared-state"), "--compute-threads", 2,
               "--max-running", 2).start()
    yield s
    assert s.stop() == 0, s.log_text()


@pytest.fixture(scope="module")
def beside(shared):
    """A long scan (of `long`) on the shared server, started by the first hostile test and running
    beside them (test_scan_beside_the_hostile_requests_finishes_exactly checks it last)."""
    return shared.post_scan("long", SLOW)["id"]


@pytest.fixture(scope="module")
def done_small(shared):
    """A finished scan of `small` on the shared server: its id."""
    scan_id = shared.post_scan("small", {"labels": "woodscape"})["id"]
    assert shared.wait_state(scan_id)["state"] == "done"
    return scan_id


# ============================================================================================
# 1. Every endpoint with curl; the log
# ============================================================================================

def test_every_endpoint_with_curl(shared, cli_scan, tmp_path):
    health = json.loads(shared.curl(shared.url("/health")))
    assert health["status"] == "ok" and {"scans_queued", "scans_running"} <= set(health)

    # POST: 202, Location, the record.
    hdr = tmp_path / "headers"
    body = shared.curl("-X", "POST", shared.url("/scans"), "-H", "Content-Type: application/json",
                       "-d", '{"path": "small", "options": {"heatmaps": true, "labels": "woodscape"}}',
                       "-D", hdr)
    record = json.loads(body)
    head = hdr.read_text()
    assert head.startswith("HTTP/1.1 202")
    assert re.search(rf"^Location: /scans/{record['id']}\r?$", head, re.M | re.I)
    scan_id = record["id"]

    # The event stream: curl returns when the server closes it after "end".
    stream = shared.curl("-N", shared.url(f"/scans/{scan_id}/events")).decode()
    assert "event: end" in stream and stream.rstrip().endswith("}")
    end = json.loads(stream.rstrip().split("\n")[-1][len("data: "):])
    assert end["state"] == "done"

    one = json.loads(shared.curl(shared.url(f"/scans/{scan_id}")))
    assert one["state"] == "done" and one["has_results"] and one["summary"]["frames_scanned"] == 40
    listed = json.loads(shared.curl(shared.url("/scans")))["scans"]
    assert scan_id in [r["id"] for r in listed]
    assert all("summary" not in r for r in listed)

    files = json.loads(shared.curl(shared.url(f"/scans/{scan_id}/files")))["files"]
    assert files == sorted(["cooccurrence.csv", "frames.csv", "heatmaps_320x240.npy", "summary.json",
                            "weights.csv"])
    out = tmp_path / "weights.csv"
    shared.curl("-o", out, shared.url(f"/scans/{scan_id}/files/weights.csv"))
    workers = one["summary"]["options"]["workers"]
    cli = cli_scan("small", "--heatmaps", "--labels", "woodscape", "--workers", workers)
    assert out.read_bytes() == (shared.results(scan_id) / "weights.csv").read_bytes()
    assert out.read_bytes() == (cli / "weights.csv").read_bytes()
    npy = tmp_path / "h.npy"
    shared.curl("-o", npy, shared.url(f"/scans/{scan_id}/files/heatmaps_320x240.npy"))
    assert npy.read_bytes() == (cli / "heatmaps_320x240.npy").read_bytes()

    # A traversal sent as it is: refused, and not the record outside results/.
    got = shared.curl("--path-as-is", "-w", "\n%{http_code}", shared.url(f"/scans/{scan_id}/files/../scan.json"))
    assert got.endswith(b"\n403") and b'"created"' not in got

    # DELETE: an ended scan 409, an unknown one 404, a running (or queued) one 202 -> cancelled.
    code = shared.curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", shared.url(f"/scans/{scan_id}"))
    assert code == b"409"
    code = shared.curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", shared.url("/scans/987654"))
    assert code == b"404"
    long_id = json.loads(shared.curl("-X", "POST", shared.url("/scans"),
                                     "-d", json.dumps({"path": "huge", "options": SLOW})))["id"]
    cancelled = json.loads(shared.curl("-X", "DELETE", shared.url(f"/scans/{long_id}")))
    assert cancelled["id"] == long_id and cancelled["state"] in ("queued", "running", "cancelled")
    assert shared.wait_state(long_id)["state"] == "cancelled"


def test_log_has_a_line_per_request_and_per_state_change(shared):
    r = shared.get("/health?probe=log")
    assert r.status == 200 and r.json()["status"] == "ok"
    shared.wait_for_log(r"^maskscan serve: GET /health\?probe=log 200 \d+\.\d ms$")
    assert shared.get("/no/such/thing").status == 404
    shared.wait_for_log(r"GET /no/such/thing 404 \d+\.\d ms$")
    scan_id = shared.post_scan("small2")["id"]
    shared.wait_state(scan_id)
    shared.wait_for_log(r"POST /scans 202 \d+\.\d ms$")
    shared.wait_for_log(rf"^maskscan serve: scan {scan_id}: queued \(small2\)$")
    shared.wait_for_log(rf"^maskscan serve: scan {scan_id}: running$")
    shared.wait_for_log(rf"^maskscan serve: scan {scan_id}: done \(24 frames\)$")


# ============================================================================================
# 2. Byte-identity with the CLI
# ============================================================================================

def test_results_are_byte_identical_to_the_cli(shared, datasets, cli_scan):
    scan_id = shared.post_scan("big", {"heatmaps": True, "labels": "woodscape"})["id"]
    r = shared.wait_state(scan_id)
    assert r["state"] == "done", r
    assert "error" not in r and r["left_out"] == [] and r["has_results"]
    service = shared.results(scan_id)
    summary = json.loads((service / "summary.json").read_text())
    assert summary["input"] == str(datasets.path("big").resolve())  # the canonical path
    assert summary["partial"] is False and summary["frames_scanned"] == summary["frames_total"] == 400
    assert r["progress"]["frames_done"] == 400 and r["progress"]["frames_total"] == 400

    cli = cli_scan(datasets.path("big").resolve(), "--heatmaps", "--labels", "woodscape",
                   "--workers", summary["options"]["workers"])
    names = ["frames.csv", "weights.csv", "cooccurrence.csv", "heatmaps_1280x966.npy"]
    assert sorted(r["files"]) == sorted(names + ["summary.json"])
    assert sorted(p.name for p in cli.iterdir()) == sorted(r["files"])
    for name in names:
        assert (service / name).read_bytes() == (cli / name).read_bytes(), name
        assert shared.file(scan_id, name) == (cli / name).read_bytes(), name
    theirs = json.loads((cli / "summary.json").read_text())
    for d in (summary, theirs):
        d.pop("timing")
        d.pop("io_backend")
    assert summary == theirs

    # Independent truth: every pixel of every frame is counted once.
    assert sum(c["pixels"] for c in summary["classes"]) == 400 * 1280 * 966 == summary["pixels"]
    header, rows = check_totals_are_sums_of_rows(summary, service / "frames.csv")
    classes = [header.index(f"pixels_{c['name']}") for c in summary["classes"]]
    assert all(sum(int(row[i]) for i in classes) == 1280 * 966 for row in rows)
    check_heatmaps(service / "heatmaps_1280x966.npy", summary, 400)


def test_record_summary_is_exactly_the_summary_json(shared, done_small):
    """GET /scans/{id} carries summary.json's content: every number as written (doubles included,
    to the last bit), not a re-rounded copy."""
    written = shared.file(done_small, "summary.json")
    assert written == (shared.results(done_small) / "summary.json").read_bytes()
    record = shared.scan(done_small)
    mismatches = []

    def walk(a, b, where):
        if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
            for k in a:
                walk(a[k], b[k], f"{where}.{k}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{where}[{i}]")
        elif a != b or type(a) is not type(b):
            mismatches.append(f"{where}: record {a!r}, summary.json {b!r}")

    walk(record["summary"], json.loads(written), "summary")
    assert not mismatches, "\n".join(mismatches[:10])


def test_report_files_with_their_content_types(shared):
    scan_id = shared.post_scan("rep/lab", {"labels": "woodscape", "report": True, "rgb_dir": "rep/rgb",
                                           "overlays": 2, "heatmaps": True})["id"]
    r = shared.wait_state(scan_id)
    assert r["state"] == "done", r
    files = shared.get_json(f"/scans/{scan_id}/files")["files"]
    assert files == r["files"] == sorted(files)
    on_disk = sorted(str(p.relative_to(shared.results(scan_id))) for p in shared.results(scan_id).rglob("*")
                     if p.is_file())
    assert files == on_disk
    assert "report.html" in files and "images/class_weights.svg" in files
    assert any(re.fullmatch(r"images/overlays/.+\.png", f) for f in files)
    types = {".json": "application/json", ".csv": "text/csv; charset=utf-8", ".npy": "application/octet-stream",
             ".html": "text/html; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
    for name in files:
        got = shared.get(f"/scans/{scan_id}/files/{name}")
        assert got.status == 200, name
        assert got.headers["content-type"] == types[os.path.splitext(name)[1]], name
        data = (shared.results(scan_id) / name).read_bytes()
        assert int(got.headers["content-length"]) == len(data) and got.body == data, name
    # A '/' in a name may come percent-encoded.
    assert shared.get(f"/scans/{scan_id}/files/images%2Fclass_weights.svg").body == \
        (shared.results(scan_id) / "images" / "class_weights.svg").read_bytes()
    assert b"<html" in shared.file(scan_id, "report.html")[:4096].lower()


def test_symlinked_file_to_outside_the_root_is_left_out(shared, cli_scan):
    scan_id = shared.post_scan("mixed", {"labels": "woodscape"})["id"]
    r = shared.wait_state(scan_id)
    assert r["state"] == "done", r
    assert r["left_out"] == ["zz_outside.png"]
    header, rows = check_totals_are_sums_of_rows(r["summary"], shared.results(scan_id) / "frames.csv")
    assert [row[0] for row in rows] == sorted(p for p in os.listdir(shared.root / "mixed") if p != "zz_outside.png")
    # The kept frames are exactly the CLI's rows of the same masks.
    ref = cli_scan("small", "--labels", "woodscape")
    check_rows_equal_reference(rows, ref / "frames.csv",
                               base_of=lambda p: "00010_MVR.png" if p == "zz_inside.png" else p)


# ============================================================================================
# 3. Two scans at once
# ============================================================================================

def test_two_concurrent_scans_equal_their_cli_scans(start_server, datasets, cli_scan):
    server = start_server("--max-running", 2)
    real = datasets.camvid_expected is not None
    second, second_options = ("camvid", {"components": 8, "heatmaps": True}) if real else \
        ("small2", {"components": 8, "heatmaps": True, "labels": "woodscape"})
    a = server.post_scan("big", SLOW)
    b = server.post_scan(second, second_options)
    assert a["state"] == "running" and b["state"] == "running"
    health = server.get_json("/health")
    a_now = server.scan(a["id"])
    if a_now["state"] == "running":  # (a second at least, on one worker with the reference decoder)
        assert health["scans_running"] == 2
    ra, rb = server.wait_state(a["id"]), server.wait_state(b["id"])
    assert ra["state"] == "done" and rb["state"] == "done", (ra, rb)

    ref_a = cli_scan("big", "--labels", "woodscape")
    assert (server.results(a["id"]) / "frames.csv").read_bytes() == (ref_a / "frames.csv").read_bytes()
    assert ra["summary"]["frames_scanned"] == 400

    workers = rb["summary"]["options"]["workers"]
    args = ["--components", 8, "--heatmaps", "--workers", workers] + ([] if real else ["--labels", "woodscape"])
    ref_b = cli_scan(second, *args)
    for name in rb["files"]:
        if name != "summary.json":
            assert (server.results(b["id"]) / name).read_bytes() == (ref_b / name).read_bytes(), name
    assert "components.csv" in rb["files"]
    if real:  # independent truth: the expected counts of the real masks
        header, rows = csv_rows(server.results(b["id"]) / "frames.csv")
        assert len(rows) == len(datasets.camvid_expected) == 101
        for row in rows:
            counts = datasets.camvid_expected[row[0]]
            for value, pixels in counts.items():
                assert int(row[header.index(f"pixels_class_{value}")]) == pixels, (row[0], value)
            assert sum(counts.values()) == int(row[2]) * int(row[3])


# ============================================================================================
# 4. Cancel a running scan: exact partial results
# ============================================================================================

def test_cancel_mid_scan_writes_exact_partial_results(start_server, cli_scan):
    server = start_server()
    scan_id = server.post_scan("huge", dict(SLOW, heatmaps=True))["id"]
    server.wait_frames(scan_id, 1)
    r = server.request("DELETE", f"/scans/{scan_id}")
    assert r.status == 202, r
    assert r.json()["id"] == scan_id
    record = server.wait_state(scan_id)
    assert record["state"] == "cancelled" and "error" not in record, record
    assert record["has_results"]
    assert server.request("DELETE", f"/scans/{scan_id}").status == 409

    summary = record["summary"]
    assert summary["partial"] is True
    assert 0 < summary["frames_scanned"] < summary["frames_total"] == 4000
    assert record["progress"]["frames_done"] <= summary["frames_scanned"] + summary["frames_skipped"]
    header, rows = check_totals_are_sums_of_rows(summary, server.results(scan_id) / "frames.csv")
    assert sum(c["pixels"] for c in summary["classes"]) == len(rows) * 1280 * 966
    # Each scanned frame's row is the full CLI scan's row of the same mask.
    check_rows_equal_reference(rows, cli_scan("big", "--labels", "woodscape") / "frames.csv", base_of=copy_name)
    check_heatmaps(server.results(scan_id) / "heatmaps_1280x966.npy", summary, len(rows))
    # The event stream ends "cancelled".
    _, events = read_events(server, scan_id)
    assert events[-1]["event"] == "end" and events[-1]["data"]["state"] == "cancelled"
    server.wait_for_log(rf"scan {scan_id}: cancelling")
    server.wait_for_log(rf"scan {scan_id}: cancelled")


def test_queue_full_is_429_and_queued_scans_cancel(start_server):
    server = start_server("--max-running", 1, "--max-queued", 1)
    running = server.post_scan("huge", SLOW)
    assert running["state"] == "running"
    queued = server.post_scan("small")
    assert queued["state"] == "queued"
    full = server.post_scan("small2", expect=429)
    assert "error" in full.json() and full.headers["content-type"] == "application/json"
    assert server.get_json("/health") == {"status": "ok", "scans_queued": 1, "scans_running": 1}
    assert [r["id"] for r in server.get_json("/scans")["scans"]] == [running["id"], queued["id"]]

    r = server.request("DELETE", f"/scans/{queued['id']}")
    assert r.status == 202 and r.json()["state"] == "cancelled"
    record = server.scan(queued["id"])
    assert record["state"] == "cancelled" and not record["has_results"] and "summary" not in record
    assert server.get_json(f"/scans/{queued['id']}/files") == {"files": []}
    again = server.post_scan("small2")  # room in the queue again
    assert again["state"] == "queued"
    assert server.request("DELETE", f"/scans/{again['id']}").status == 202
    assert server.request("DELETE", f"/scans/{running['id']}").status == 202
    assert server.wait_state(running["id"])["state"] == "cancelled"
    assert server.get_json("/health") == {"status": "ok", "scans_queued": 0, "scans_running": 0}


# ============================================================================================
# 5. Server-Sent Events
# ============================================================================================

def test_event_stream_of_a_scan(shared):
    scan_id = shared.post_scan("big", SLOW)["id"]
    headers, events = read_events(shared, scan_id)
    assert headers["content-type"] == "text/event-stream"
    names = [e["event"] for e in events]
    assert events[0] == {"id": 1, "event": "state", "data": {"state": "queued"}}
    assert events[1]["event"] == "state" and events[1]["data"] == {"state": "running"}
    assert names[-1] == "end" and names.count("end") == 1
    assert set(names[2:-1]) <= {"progress"}
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids))
    done = [e["data"]["frames_done"] for e in events if e["event"] == "progress"]
    assert done == sorted(done) and all(0 <= d <= 400 for d in done)
    for e in events:
        if e["event"] == "progress":
            assert set(e["data"]) == {"frames_done", "frames_skipped", "frames_total", "elapsed_seconds"}
    end = events[-1]["data"]
    assert end["state"] == "done" and "error" not in end
    assert end["progress"]["frames_done"] == end["progress"]["frames_total"] == 400
    assert shared.scan(scan_id)["state"] == "done"

    # After the end: the whole (coalesced) history again, then resumption after a given event.
    _, replay = read_events(shared, scan_id)
    assert replay[0]["data"] == {"state": "queued"} and replay[-1] == events[-1]
    _, resumed = read_events(shared, scan_id, last_event_id=2)
    assert resumed and all(e["id"] > 2 for e in resumed)
    assert [e["event"] for e in resumed][-1] == "end" and resumed[-1] == events[-1]
    assert resumed == [e for e in replay if e["id"] > 2]
    _, nothing = read_events(shared, scan_id, last_event_id=events[-1]["id"])
    assert nothing == []
    assert shared.get("/scans/987654/events").status == 404


# ============================================================================================
# 6. Hostile requests (on the shared server, with its scan running beside them)
# ============================================================================================

BAD_BODIES = [
    ("malformed JSON", b'{"path": "small", ', "not JSON"),
    ("empty body", b"", "not JSON"),
    ("array body", b'["small"]', "object"),
    ("string body", b'"small"', "object"),
    ("missing path", b'{"options": {}}', "path"),
    ("path not a string", b'{"path": 7}', "path"),
    ("options not an object", b'{"path": "small", "options": [1]}', "options"),
    ("unknown top-level key", b'{"path": "small", "extra": 1}', "extra"),
    ("unknown option", b'{"path": "small", "options": {"turbo": true}}', "turbo"),
    ("heatmaps a string", b'{"path": "small", "options": {"heatmaps": "yes"}}', "heatmaps"),
    ("workers negative", b'{"path": "small", "options": {"workers": -1}}', "workers"),
    ("workers fractional", b'{"path": "small", "options": {"workers": 1.5}}', "workers"),
    ("workers over the compute threads", b'{"path": "small", "options": {"workers": 3}}', "workers"),
    ("workers huge", b'{"path": "small", "options": {"workers": 99999999999999999999}}', "workers"),
    ("components 5", b'{"path": "small", "options": {"components": 5}}', "components"),
    ("io_depth 0", b'{"path": "small", "options": {"io_depth": 0}}', "io_depth"),
    ("io unknown", b'{"path": "small", "options": {"io": "pigeon"}}', "io"),
    ("decoder a number", b'{"path": "small", "options": {"decoder": 1}}', "decoder"),
    ("heatmap_grid malformed", b'{"path": "small", "options": {"heatmap_grid": "axb"}}', "heatmap_grid"),
    ("enet_c 1", b'{"path": "small", "options": {"enet_c": 1}}', "enet_c"),
    ("effective_beta 2", b'{"path": "small", "options": {"effective_beta": 2}}', "effective_beta"),
    ("repeat_threshold -1", b'{"path": "small", "options": {"repeat_threshold": -1}}', "repeat_threshold"),
    ("effective_unit unknown", b'{"path": "small", "options": {"effective_unit": "bytes"}}', "effective_unit"),
    ("class_names empty", b'{"path": "small", "options": {"class_names": []}}', "class_names"),
    ("ignore a string", b'{"path": "small", "options": {"ignore": "x"}}', "ignore"),
    ("overlay_alpha 2", b'{"path": "small", "options": {"overlay_alpha": 2}}', "overlay_alpha"),
    ("group_by bad regex", b'{"path": "small", "options": {"group_by": "("}}', "group_by"),
    ("min_component_pixels 0", b'{"path": "small", "options": {"min_component_pixels": 0}}', "min_component_pixels"),
]


@pytest.mark.parametrize("what,body,names", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_scan_request_is_400_naming_the_key(shared, beside, what, body, names):
    before = len(shared.get_json("/scans")["scans"])
    r = shared.request("POST", "/scans", body, headers={"Content-Type": "application/json"})
    assert r.status == 400, (what, r)
    assert r.headers["content-type"] == "application/json"
    message = r.json()["error"]
    assert names in message, f"{what}: the message does not name {names!r}: {message!r}"
    assert len(shared.get_json("/scans")["scans"]) == before  # nothing queued


POST_PATHS = [
    ("../x", 403), ("..", 403), ("/etc", 403), ("/", 403), ("//etc", 403), ("small/../../x", 403),
    ("small/../../../etc", 403), ("./../small", 403), ("escape", 403), ("escape/outside.png", 403),
    ("escape/", 403), ("no-such-dataset", 404), ("small/nope.png", 404),
    # Paths that stay inside after normalisation: scanned or refused, but never outside the root.
    ("escape/../small", None), ("small/00000_FV.png/..", None),
]


@pytest.mark.parametrize("path,status", POST_PATHS, ids=[p[0] for p in POST_PATHS])
def test_scan_path_confined_to_the_root(shared, beside, datasets, path, status):
    r = shared.request("POST", "/scans", {"path": path})
    if status is None:
        assert r.status in (202, 403, 404), r
        if r.status == 202:
            record = shared.wait_state(r.json()["id"])
            if record.get("summary"):
                assert record["summary"]["input"].startswith(str(datasets.root) + "/"), record["summary"]["input"]
        return
    assert r.status == status, r
    assert "path" in r.json()["error"]


@pytest.mark.parametrize("options,key", [
    ({"labels": "../../etc/passwd"}, "labels"), ({"labels": "/etc/passwd"}, "labels"),
    ({"labels": "escape/secret.txt"}, "labels"), ({"rgb_dir": "/etc"}, "rgb_dir"), ({"rgb_dir": "escape"}, "rgb_dir"),
    ({"splits": {"train": "../x"}}, "splits.train"), ({"splits": {"train": "escape/secret.txt"}}, "splits.train"),
], ids=lambda o: json.dumps(o) if isinstance(o, dict) else o)
def test_option_paths_confined_to_the_root(shared, beside, options, key):
    r = shared.request("POST", "/scans", {"path": "small", "options": options})
    assert r.status == 403, r
    assert key in r.json()["error"]
    assert b"top secret" not in r.body and b"root:" not in r.body


def file_targets(i):
    return [
        f"/scans/{i}/files/../../scan.json",
        f"/scans/{i}/files/../scan.json",
        f"/scans/{i}/files/%2e%2e/scan.json",
        f"/scans/{i}/files/%2E%2E/%2E%2E/scan.json",
        f"/scans/{i}/files/%2e%2e%2fscan.json",
        f"/scans/{i}/files/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        f"/scans/{i}/files/..%2fscan.json",
        f"/scans/{i}/files/..%2F..%2Fscan.json",
        f"/scans/{i}/files/./summary.json",
        f"/scans/{i}/files/images/../summary.json",
        f"/scans/{i}/files/..\\scan.json",
        f"/scans/{i}/files/%5c..%5cscan.json",
        f"/scans/{i}/files/../../../../../../etc/passwd",
        f"/scans/{i}/../../etc/passwd",
        f"/scans/../scans/{i}",
    ]


def test_file_urls_never_leave_the_results(shared, beside, done_small):
    scan_json = (shared.state_dir / "scans" / str(done_small) / "scan.json").read_bytes()
    for target in file_targets(done_small):
        raw = shared.raw(f"GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        assert status_of(raw) == 403, (target, raw[:300])
        assert b'"created"' not in raw and b"root:" not in raw, target
    # Names that are simply not result files: 404, and never their content.
    for target in [f"/scans/{done_small}/files/scan.json", f"/scans/{done_small}/files/results/summary.json",
                   f"/scans/{done_small}/files//etc/passwd", f"/scans/{done_small}/files/%2fetc%2fpasswd",
                   f"/scans/{done_small}/files/summary.json.tmp", f"/scans/{done_small}/files/nope.csv",
                   f"/scans/{done_small}/files/summary.json/x"]:
        r = shared.get(target)
        assert r.status == 404, (target, r)
        assert r.body.strip() != scan_json.strip() and b"root:" not in r.body
    # A NUL is a malformed target.
    assert shared.get(f"/scans/{done_small}/files/summary.json%00.csv").status == 400
    assert shared.get(f"/scans/{done_small}/files/bad%zz").status == 400
    # And the real file is there.
    assert shared.file(done_small, "summary.json") == (shared.results(done_small) / "summary.json").read_bytes()


def test_wrong_methods_unknown_paths_and_ids(shared, beside, done_small):
    for method, target, allow in [("PUT", "/scans", "GET, POST"), ("PATCH", "/scans", "GET, POST"),
                                  ("DELETE", "/scans", "GET, POST"), ("POST", "/health", "GET"),
                                  ("PUT", f"/scans/{done_small}", "GET, DELETE"),
                                  ("POST", f"/scans/{done_small}/events", "GET"),
                                  ("DELETE", f"/scans/{done_small}/files/summary.json", "GET")]:
        r = shared.request(method, target, body=b"{}")
        assert r.status == 405, (method, target, r)
        assert r.headers["allow"] == allow and "error" in r.json()
    for target in ["/", "/nope", "/scan", "/scans/1/nope", f"/scans/{done_small}/files2", "/health/x"]:
        assert shared.get(target).status == 404, target
    for target in ["/scans/987654", "/scans/abc", "/scans/-1", "/scans/1.0", "/scans/0x1", "/scans/%31%32%33456",
                   "/scans/99999999999999999999999", "/scans/abc/events", "/scans/987654/files",
                   "/scans/987654/files/summary.json"]:
        r = shared.get(target)
        assert r.status == 404, (target, r)
        assert "error" in r.json()
    assert shared.request("DELETE", "/scans/abc").status == 404
    assert shared.request("DELETE", "/scans/987654").status == 404


@pytest.mark.parametrize("how", ["content-length", "chunked", "curl"])
def test_body_over_1_mib_is_413(shared, beside, tmp_path, how):
    size = 2 << 20
    body = b'{"path": "small", "pad": "' + b"x" * (size - 30) + b'"}'
    if how == "content-length":
        head = f"POST /scans HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        raw = shared.raw(head.encode(), *[body[i:i + 65536] for i in range(0, len(body), 65536)])
    elif how == "chunked":
        head = b"POST /scans HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunks = [b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536]) for i in range(0, len(body), 65536)]
        raw = shared.raw(head, *chunks, b"0\r\n\r\n")
    else:
        f = tmp_path / "body.json"
        f.write_bytes(body)
        raw = shared.curl("-i", "-X", "POST", shared.url("/scans"), "-H", "Content-Type: application/json",
                          "--data-binary", f"@{f}")
        raw = re.sub(rb"^HTTP/1.1 100 Continue\r\n\r\n", b"", raw)
    assert status_of(raw) == 413, raw[:300]
    assert "error" in json.loads(body_of(raw))
    assert shared.get("/health").status == 200


def test_header_over_16_kib_is_431(shared, beside):
    raw = shared.raw(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Padding: " + b"a" * (20 << 10) + b"\r\n\r\n")
    assert status_of(raw) == 431, raw[:300]
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(300))
    raw = shared.raw(b"GET /health HTTP/1.1\r\nHost: test\r\n" + many + b"\r\n")
    assert status_of(raw) == 431, raw[:300]
    # Just under the limit is fine.
    r = shared.get("/health", headers={"X-Padding": "a" * (12 << 10)})
    assert r.status == 200


@pytest.mark.parametrize("garbage", [
    b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET /health\r\n\r\n", b"GET /health HTTP/9.9\r\n\r\n",
    b"GET health HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x01\x02\xff\xfe\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /health HTTP/1.1\r\nBad Header Line\r\n\r\n",
    b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=lambda g: repr(g[:24]))
def test_malformed_requests_are_400_or_closed(shared, beside, garbage):
    s = shared.connect()
    try:
        s.sendall(garbage)
        s.shutdown(socket.SHUT_WR)  # nothing more comes: the server must answer or close
        raw = read_all(s)
    finally:
        s.close()
    assert raw == b"" or status_of(raw) == 400, raw[:300]
    assert shared.get("/health").status == 200


def test_slowloris_header_is_cut_off_while_health_answers(shared, beside):
    s = shared.connect()
    started = time.monotonic()
    closed_after = None
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")
        i = 0
        while time.monotonic() - started < 25:
            try:
                s.sendall(b"X-Slow-%d: 1\r\n" % i)  # one more header line every half second
            except OSError:
                closed_after = time.monotonic() - started
                break
            i += 1
            if readable(s, 0.5):
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                assert data == b"" or status_of(data) in (400, 408), data[:200]
                if data == b"":
                    closed_after = time.monotonic() - started
                    break
            assert shared.get("/health", timeout=10).status == 200  # the others are answered meanwhile
    finally:
        s.close()
    assert closed_after is not None, "the server kept a header that never ends open for 25 s"
    assert closed_after < 20, closed_after
    assert shared.get("/health").status == 200


def test_scan_beside_the_hostile_requests_finishes_exactly(shared, beside, cli_scan):
    """The scan started by the first hostile test ran beside them all: its frames.csv is the CLI's
    of the same masks (long is big five times: the CLI's rows of big under l0/ ... l4/)."""
    r = shared.wait_state(beside)
    assert r["state"] == "done", r
    assert r["summary"]["frames_scanned"] == 2000 and r["summary"]["partial"] is False
    header, *rows = (cli_scan("big", "--labels", "woodscape") / "frames.csv").read_bytes().splitlines(True)
    expected = header + b"".join(b"l%d/" % i + row for i in range(5) for row in rows)
    assert (shared.results(beside) / "frames.csv").read_bytes() == expected
    assert shared.alive() and shared.get("/health").status == 200
    # Hostile requests were answered while it ran.
    log = shared.log_lines()
    start = log.index(f"maskscan serve: scan {beside}: running")
    end = next(i for i, l in enumerate(log) if l.startswith(f"maskscan serve: scan {beside}: done"))
    assert any(re.search(r"POST /scans 40\d|\(refused\)", l) for l in log[start:end])


# ============================================================================================
# 7. Connections: too many, and thousands opened and dropped
# ============================================================================================

def test_connections_over_the_limit_get_503(start_server):
    server = start_server("--max-connections", 4)
    idle = []
    try:
        for _ in range(4):  # four keep-alive connections, each answered once and left open
            s = server.connect()
            s.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            f = s.makefile("rb")
            assert f.readline().startswith(b"HTTP/1.1 200")
            idle.append((s, f))
        raw = server.raw(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        assert status_of(raw) == 503, raw[:300]
        assert "error" in json.loads(body_of(raw))
        s, f = idle.pop()
        f.close()
        s.close()
        deadline = time.monotonic() + WAIT  # the freed slot is seen once the server reads the close
        while True:
            raw = server.raw(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            if status_of(raw) == 200:
                break
            assert status_of(raw) == 503 and time.monotonic() < deadline, raw[:300]
            time.sleep(0.1)
    finally:
        for s, f in idle:
            f.close()
            s.close()


def test_thousands_of_connections_opened_and_dropped(start_server, cli_scan):
    server = start_server("--max-connections", 150)
    scan_id = server.post_scan("big", SLOW)["id"]
    half = [b"GET /hea", b"POST /scans HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pa",
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01"]
    for batch in range(20):
        socks = [server.connect() for _ in range(100)]
        for i, s in enumerate(socks):
            kind = i % 5
            try:
                if kind in (1, 2, 3):
                    s.sendall(half[kind - 1])
                elif kind == 4:
                    s.sendall(half[3])
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            except OSError:
                pass  # refused (503) and closed already
        for s in socks:
            s.close()
        assert server.alive()
    assert server.get("/health").status == 200
    # No connection is still counted: 140 at once are all answered (they would get 503 otherwise).
    deadline = time.monotonic() + WAIT
    while True:
        socks = [server.connect() for _ in range(140)]
        try:
            for s in socks:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            statuses = [status_of(read_all(s)) for s in socks]
        finally:
            for s in socks:
                s.close()
        if statuses == [200] * 140:
            break
        assert set(statuses) <= {200, 503} and time.monotonic() < deadline, statuses
        time.sleep(0.2)
    r = server.wait_state(scan_id)
    assert r["state"] == "done", r
    assert (server.results(scan_id) / "frames.csv").read_bytes() == \
        (cli_scan("big", "--labels", "woodscape") / "frames.csv").read_bytes()


# ============================================================================================
# 8. kill -9 and restart; a corrupt record
# ============================================================================================

def test_restart_after_kill_9_lists_the_interrupted_scans(start_server, tmp_path, cli_scan):
    state = tmp_path / "state"
    first = start_server("--max-running", 1, state_dir=state)
    running = first.post_scan("huge", dict(SLOW, heatmaps=True))["id"]
    queued = first.post_scan("small")["id"]
    first.wait_frames(running, 1)
    first.proc.kill()
    first.proc.wait(WAIT)
    assert first.proc.returncode == -signal.SIGKILL
    bad = state / "scans" / "99"
    bad.mkdir(parents=True)
    (bad / "scan.json").write_text('{"id": 99, "path": "small", "state": ')  # cut short

    second = start_server(state_dir=state)
    second.wait_for_log(r"scans/99: left alone, its scan.json cannot be read")
    listed = {r["id"]: r for r in second.get_json("/scans")["scans"]}
    assert sorted(listed) == [running, queued]
    for scan_id in (running, queued):
        r = second.scan(scan_id)
        assert r["state"] == "failed" and r["error"].startswith("interrupted"), r
        assert listed[scan_id]["state"] == "failed"
        on_disk = json.loads((state / "scans" / str(scan_id) / "scan.json").read_text())
        assert on_disk["state"] == "failed" and on_disk["error"].startswith("interrupted")
        assert second.request("DELETE", f"/scans/{scan_id}").status == 409
        _, events = read_events(second, scan_id)
        assert events[-1]["event"] == "end" and events[-1]["data"]["state"] == "failed"
    assert second.get_json(f"/scans/{running}/files") == {"files": []}
    assert second.get("/scans/99").status == 404
    assert second.get_json("/health") == {"status": "ok", "scans_queued": 0, "scans_running": 0}

    new = second.post_scan("small", {"labels": "woodscape"})
    assert new["id"] > 99
    r = second.wait_state(new["id"])
    assert r["state"] == "done", r
    assert (second.results(new["id"]) / "frames.csv").read_bytes() == \
        (cli_scan("small", "--labels", "woodscape") / "frames.csv").read_bytes()
    assert second.stop() == 0


# ============================================================================================
# 9. SIGTERM while a scan runs
# ============================================================================================

@pytest.mark.parametrize("connections", ["none open", "an idle keep-alive one open", "an event stream open"])
def test_sigterm_cancels_the_running_scan_and_exits_0(start_server, cli_scan, connections):
    server = start_server("--max-running", 1)
    running = server.post_scan("huge", dict(SLOW, heatmaps=True))["id"]
    queued = server.post_scan("small")["id"]
    server.wait_frames(running, 1)
    held = []  # connections open at the signal must neither hold the exit up nor break it
    if connections == "an idle keep-alive one open":
        idle = server.connect()
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        f = idle.makefile("rb")
        assert f.readline().startswith(b"HTTP/1.1 200")
        held = [f, idle]
    elif connections == "an event stream open":
        stream = server.connect()
        stream.sendall(f"GET /scans/{running}/events HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        f = stream.makefile("rb")
        assert f.readline().startswith(b"HTTP/1.1 200")
        while not f.readline().startswith(b"event: state"):  # the stream is under way
            pass
        held = [f, stream]
    try:
        assert server.stop(signal.SIGTERM, timeout=60) == 0, server.log_text()
    finally:
        for h in held:
            h.close()
    scans = server.state_dir / "scans"
    record = json.loads((scans / str(running) / "scan.json").read_text())
    assert record["state"] == "cancelled" and record["has_results"], record
    summary = json.loads((scans / str(running) / "results" / "summary.json").read_text())
    assert summary["partial"] is True and 0 < summary["frames_scanned"] < summary["frames_total"] == 4000
    _, rows = check_totals_are_sums_of_rows(summary, scans / str(running) / "results" / "frames.csv")
    check_rows_equal_reference(rows, cli_scan("big", "--labels", "woodscape") / "frames.csv", base_of=copy_name)
    check_heatmaps(scans / str(running) / "results" / "heatmaps_1280x966.npy", summary, len(rows))
    other = json.loads((scans / str(queued) / "scan.json").read_text())
    assert other["state"] == "cancelled" and not other["has_results"], other
    # Stopped in order: every scan recorded, then "stopped" (the last line).
    log = server.log_lines()
    assert any(l.endswith("SIGTERM received") for l in log), log[-8:]
    assert not any("cannot record" in l for l in log), log[-8:]
    assert log[-1] == "maskscan serve: stopped", log[-8:]


# ============================================================================================
# 10. Bearer token
# ============================================================================================

def test_bearer_token(start_server, tmp_path, cli):
    token = "s3cret-T0ken-0123456789abcdefXYZ"
    assert len(token) == 32
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    server = start_server("--token-file", token_file, token=token)
    server.wait_for_log(r"token required")

    wrong = [None, f"Bearer {token[:-1]}", f"Bearer {token}x", f"Bearer {token[:-1]}Y", f"Basic {token}",
             f"Bearer{token}", "Bearer ", "Bearer", token, f"Token {token}", f"Bearer {token.lower()}",
             f"Bearer {token[:16]}"]
    targets = [("GET", "/health"), ("GET", "/scans"), ("POST", "/scans"), ("GET", "/scans/1"),
               ("DELETE", "/scans/1"), ("GET", "/scans/1/events"), ("GET", "/scans/1/files/summary.json"),
               ("PUT", "/scans"), ("GET", "/nope")]
    for auth in wrong:
        for method, target in targets:
            headers = {"Authorization": auth} if auth is not None else {}
            r = server.request(method, target, body=b'{"path": "small"}' if method == "POST" else None,
                               headers=headers, auth=False)
            assert r.status == 401, (auth, method, target, r)
            assert r.headers["www-authenticate"] == "Bearer"
            assert "error" in r.json()
    assert server.get_json("/scans") == {"scans": []}  # nothing was queued by those

    assert server.get_json("/health")["status"] == "ok"
    scan_id = server.post_scan("small")["id"]
    assert server.wait_state(scan_id)["state"] == "done"
    assert json.loads(server.curl(server.url(f"/scans/{scan_id}/files")))["files"]
    code = run([CURL, "-s", "-o", "/dev/null", "-w", "%{http_code}", server.url("/health")]).stdout
    assert code == b"401"

    # A token shorter than 16 characters: the service does not start.
    short = tmp_path / "short"
    short.write_text("too-short\n")
    p = run([cli, "serve", "--root", server.root, "--state-dir", tmp_path / "s2", "--listen", "127.0.0.1:0",
             "--token-file", short], check=False, timeout=60)
    assert p.returncode == 1 and b"16 characters" in p.stderr


# ============================================================================================
# The review's findings, each shown fixed
# ============================================================================================

def test_regex_that_would_crash_or_hang_is_refused_or_fails_the_scan(start_server):
    server = start_server()
    deep = "(" + "(?:" * 20000 + "a" + ")" * 20000 + ")"
    r = server.request("POST", "/scans", {"path": "small", "options": {"group_by": deep}})
    assert r.status == 400 and "group_by" in r.json()["error"], r
    # Catastrophic backtracking: the scan fails with a message naming group_by, promptly.
    scan_id = server.post_scan("small", {"group_by": "((?:.*){30}X)"})["id"]
    record = server.wait_state(scan_id)
    assert record["state"] == "failed" and "group_by" in record["error"], record
    assert server.get("/health").status == 200


def test_files_a_request_names_are_small_regular_files(start_server, datasets):
    server = start_server()
    fifo = datasets.root / "a-fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    r = server.request("POST", "/scans", {"path": "small", "options": {"labels": "a-fifo"}})
    assert r.status == 400 and "not a regular file" in r.json()["error"], r
    splits = {f"s{i}": "rep/rgb/00000_FV.png" for i in range(65)}
    r = server.request("POST", "/scans", {"path": "small", "options": {"splits": splits}})
    assert r.status == 400 and "at most 64 splits" in r.json()["error"], r


def test_report_overlays_use_no_rgb_frame_outside_the_root(start_server, datasets):
    # RGB frames that are symlinks to photos outside the root are not shown.
    rgb = datasets.root / "rep-links"
    if not rgb.exists():
        rgb.mkdir()
        for photo in sorted((datasets.root / "rep" / "rgb").glob("*.png")):
            shutil.copy(photo, datasets.outside / photo.name)
            (rgb / photo.name).symlink_to(datasets.outside / photo.name)
    server = start_server()
    scan_id = server.post_scan("rep/lab", {"report": True, "rgb_dir": "rep-links"})["id"]
    assert server.wait_state(scan_id)["state"] == "done"
    html = server.file(scan_id, "report.html").decode()
    assert "None of the scanned frames has an RGB frame" in html
    files = server.get_json(f"/scans/{scan_id}/files")["files"]
    assert not [f for f in files if f.startswith("images/overlays/")], files
    # The same photos inside the root are shown.
    scan_id = server.post_scan("rep/lab", {"report": True, "rgb_dir": "rep/rgb"})["id"]
    assert server.wait_state(scan_id)["state"] == "done"
    files = server.get_json(f"/scans/{scan_id}/files")["files"]
    assert [f for f in files if f.startswith("images/overlays/")], files


def test_head_gets_an_empty_405_and_the_connection_closed(shared):
    raw = shared.raw(b"HEAD /health HTTP/1.1\r\nHost: test\r\n\r\n")
    assert status_of(raw) == 405
    assert body_of(raw) == b""
    assert headers_of(raw).get("connection", "").lower() == "close"


def test_max_queued_0_takes_a_scan_that_can_start_at_once(start_server):
    server = start_server("--max-queued", 0, "--max-running", 1)
    first = server.post_scan("long", SLOW)["id"]  # starts at once
    assert server.request("POST", "/scans", {"path": "small"}).status == 429  # would wait
    assert server.request("DELETE", f"/scans/{first}").status == 202
    assert server.wait_state(first)["state"] == "cancelled"


def test_last_event_id_of_another_stream_sends_every_event_again(shared, done_small):
    _, events = read_events(shared, done_small, last_event_id=10**6)
    assert events[0]["event"] == "state" and events[-1]["event"] == "end", events
    assert events[-1]["data"]["state"] == "done" and "progress" in events[-1]["data"]


def test_bearer_scheme_is_case_insensitive(start_server, tmp_path):
    token = "0123456789abcdef0123456789abcdef"
    (tmp_path / "token").write_text(token + "\n")
    server = start_server("--token-file", tmp_path / "token", token=token)
    assert server.get("/health", auth=False, headers={"Authorization": f"bearer {token}"}).status == 200
    assert server.get("/health", auth=False, headers={"Authorization": f"BEARER {token}"}).status == 200
    assert server.get("/health", auth=False, headers={"Authorization": f"bearer {token}x"}).status == 401
