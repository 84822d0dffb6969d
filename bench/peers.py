#!/usr/bin/python3
"""Python peers for maskscan: the approaches of the WoodScape blog article, run on the same files.

The article (WoodScape, 8,234 masks of 1280x966, 10 classes) timed a plain for loop (261 s for
class pixel counts, 918 s for heatmaps), a ThreadPoolExecutor with as_completed (counts in 56 s),
an unmetered thread pool for heatmaps (out of memory), a queued thread pool with at most 100
pending futures (heatmaps in 331 s) and a ProcessPoolExecutor (slower than the loop). This module
reimplements each of them faithfully, plus the best plain single-process numpy we could write, so
that maskscan can be compared with them on the same files in the same run.

Usage (Debian's interpreter: it has python3-numpy and python3-pil; a `python3` on PATH may not):

    /usr/bin/python3 bench/peers.py --peer NAME --dir DATASET_DIR [--limit N] [--classes 10]
        [--workers W] [--json OUT.json] [--check-counts]
        [--numpy-counts {auto,equal,bincount}] [--numpy-heatmaps {auto,staged,fancy}]

    e.g. /usr/bin/python3 bench/peers.py --peer numpy_best --dir /data/woodscape/gtLabels \\
             --limit 400 --json /tmp/numpy_best.json

Peers (--peer):
  loop_counts           plain for loop; per frame `counts[c] += int((mask == c).sum())` for every c
  threadpool_counts     ThreadPoolExecutor(max_workers=W), one task per file (returns that frame's
                        per-class counts, computed as in loop_counts), all submitted at once,
                        collected with as_completed and summed (unbounded submission, as the article)
  processpool_counts    the same with ProcessPoolExecutor(max_workers=W)
  loop_heatmaps         plain loop; per frame the one-hot expansion
                        `onehot = mask[None, :, :] == np.arange(C)[:, None, None]` and `heat += onehot`
                        (heat: C x H x W uint32); counts from the same one-hot (count_nonzero per class)
  threadpool_heatmaps   queued thread pool: at most 100 pending futures (when 100 are pending, wait
                        with FIRST_COMPLETED and merge the finished ones); each task returns the
                        frame's counts and its one-hot as a uint8 C x H x W array, which the main
                        thread adds into the heatmap (what the article did; the 12 MB one-hot per
                        pending result is why its unmetered version ran out of memory)
  processpool_heatmaps  the same queued scheme with ProcessPoolExecutor(max_workers=W) (the one-hot
                        is pickled back to the parent)
  numpy_best            the fastest plain numpy we could write, single process, single thread:
                        counts and heatmaps (see "numpy_best" below for the measured choices)
  numpy_best_counts     numpy_best without heatmaps

Options:
  --dir DIR        every *.png under DIR (recursive), sorted by path
  --limit N        only the first N of them (for the slow peers: run on a fixed subset and report
                   per-frame figures, ms_per_frame / frames_per_s)
  --classes C      class ids 0..C-1 (default 10); other values are counted as out_of_range_pixels
  --workers W      pool size for the pool peers (default os.cpu_count()); the others use 1
  --json OUT       also write the JSON object to OUT
  --check-counts   does nothing extra: it only records that class_pixels is meant to be compared
                   with maskscan's summary.json classes[].pixels (the caller does the comparison)
  --numpy-counts / --numpy-heatmaps
                   force a method of numpy_best (default auto: the faster one for C, see below)

Reading a mask is `np.asarray(Image.open(path))` in every peer, as in the article: a palette PNG
gives its indices (mode P), a grey PNG its values (mode L, or I;16 for 16-bit); nothing is converted
to RGB. A file that fails to decode, or decodes to more than one channel, is skipped and reported in
frames_skipped / errors (maskscan skips such files too). Frames of different sizes are fine:
heatmaps are kept per (H, W).

Output: one JSON object on stdout (and in --json), with
  peer, frames (frames counted), seconds (wall: time.perf_counter from after the file listing
  to the end of the work, so reading, decoding, computing, merging, and pool start-up and
  shutdown; the same span as maskscan's wall_seconds), frames_per_s, ms_per_frame,
  peak_rss_mb (max of ru_maxrss of RUSAGE_SELF and RUSAGE_CHILDREN, MiB), workers,
  class_pixels [C], frames_present [C] (frames with at least one pixel of the class),
  heatmap_sum (sum of all heatmap cells over all resolutions: a cheap checksum; null for
  count peers), heatmap_sha256 (sha256 of the little-endian uint32 C x H x W heatmap when there
  is exactly one resolution, else null), and also out_of_range_pixels, frames_skipped, errors
  (first 10), resolutions, classes, dir, limit and library versions.
The checksums are computed after the clock stops.

numpy_best, measured on 40 synthetic WoodScape-like 1280x966 masks, 10 classes, on a shared
2-vCPU machine (decoding alone, np.asarray(Image.open(p)), took ~5 ms/frame):
  heatmaps, per frame:
    staged   for each class: np.equal(mask, c, out=buf) into one reused bool buffer,
             np.add(heat8[c], buf.view(np.uint8), out=heat8[c]) into a uint8 staging heatmap
             that is added into the uint32 heatmap every 255 frames (and at the end)  1.8-2.4 ms
    per-class adds straight into uint32: np.add(heat[c], mask == c, out=heat[c],
             casting='unsafe')                                                        5.7 ms
    the same with the reused bool buffer                                              5.4 ms
    fancy    flat index: heat.reshape(-1)[mask * H*W + arange(H*W)] += 1 (correct without
             np.add.at because a frame holds each (class, pixel) once)                5.2 ms
    one-hot  heat += (mask[None] == arange(C)[:, None, None])  (uint8 arange)         6.3 ms
    one-hot into a uint8 staging heatmap                                              2.1 ms
    np.add.at(heat.reshape(C, -1), (mask.ravel(), arange(H*W)), 1)                    72 ms
  so auto picks `staged` (about 3x the per-class uint32 adds); its cost grows with C while
  `fancy` does not (crossover measured near C = 27), so auto picks `fancy` for C > 24.
  Row-blocking `staged` (16..256 rows at a time, to stay in cache) was no faster.
  counts, per frame (C = 10 / 16 / 24 / 32):
    equal    np.count_nonzero(np.equal(mask, c, out=buf)) per class   0.84 / 1.34 / 1.93 / 2.67 ms
    bincount np.bincount(mask.ravel(), minlength=...)                 1.44 / 1.41 / 1.35 / 1.40 ms
    (mask == c).sum() per class (the loop peers)                      3.3 ms at C = 10
  so auto counts with `equal` for C <= 14 and `bincount` above (bincount only for uint8/uint16
  masks, whose bins are bounded; other dtypes use `equal`). With heatmaps, `staged` already has
  the per-class comparison in buf, so its counts cost only the count_nonzero.

Honesty: every run reads and decodes every file and does all of the work (the one-hot arrays
are built in full; nothing is cached between runs or between peers); pools are created inside
the timed span.
"""

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

PEERS = (
    "loop_counts",
    "threadpool_counts",
    "processpool_counts",
    "loop_heatmaps",
    "threadpool_heatmaps",
    "processpool_heatmaps",
    "numpy_best",
    "numpy_best_counts",
)
MAX_PENDING = 100  # the article's metered pool: at most this many futures pending
STAGE_FRAMES = 255  # a uint8 staging heatmap holds at most 255 frames before it must be flushed
EQUAL_COUNTS_MAX_C = 14  # numpy_best auto: per-class count_nonzero up to here, bincount above
STAGED_HEATMAPS_MAX_C = 24  # numpy_best auto: staged per-class adds up to here, fancy index above


class BadMask(Exception):
    pass


def read_mask(path):
    """The article's read: np.asarray(Image.open(path)), a 2-D array of class ids."""
    with Image.open(path) as im:
        mask = np.asarray(im)
        mode = im.mode
    if mask.ndim != 2:
        raise BadMask(f"not a single-channel label mask (mode {mode}, shape {mask.shape})")
    if mask.dtype == np.bool_:  # mode "1"
        mask = mask.view(np.uint8)
    elif mask.dtype.kind not in "iu":
        raise BadMask(f"label mask is not integer (mode {mode}, dtype {mask.dtype})")
    return mask


def readable_masks(paths, t):
    """The mask of each path in turn; a file that cannot be read is counted in t as failed and skipped,
    as maskscan skips it."""
    for p in paths:
        try:
            mask = read_mask(p)
        except Exception as e:  # noqa: BLE001
            t.fail(p, e)
            continue
        yield mask


# ----------------------------------------------------------------------------------------------
# Per-frame work of the article-style peers. Module level so ProcessPoolExecutor can pickle them.
# Each returns (shape, counts, out_of_range[, onehot]).


def frame_counts_loop(mask, C):
    counts = [int((mask == c).sum()) for c in range(C)]
    return counts, mask.size - sum(counts)


def task_counts(path, C):
    mask = read_mask(path)
    counts, oor = frame_counts_loop(mask, C)
    return mask.shape, counts, oor


def frame_onehot(mask, C):
    """The article's one-hot: a C x H x W bool array (built in full)."""
    return mask[None, :, :] == np.arange(C)[:, None, None]


def onehot_counts(onehot, size):
    counts = [int(np.count_nonzero(onehot[c])) for c in range(onehot.shape[0])]
    return counts, size - sum(counts)


def task_onehot(path, C):
    mask = read_mask(path)
    onehot = frame_onehot(mask, C)
    counts, oor = onehot_counts(onehot, mask.size)
    # The one-hot as a uint8 C x H x W array (a view of the same bytes: no copy, nothing skipped).
    return mask.shape, counts, oor, onehot.view(np.uint8)


# ----------------------------------------------------------------------------------------------


class Totals:
    def __init__(self, C):
        self.C = C
        self.class_pixels = [0] * C
        self.frames_present = [0] * C
        self.out_of_range = 0
        self.frames = 0
        self.skipped = 0
        self.errors = []
        self.shapes = set()

    def add(self, shape, counts, oor):
        self.frames += 1
        self.shapes.add(tuple(shape))
        self.out_of_range += int(oor)
        for c in range(self.C):
            n = int(counts[c])
            self.class_pixels[c] += n
            if n:
                self.frames_present[c] += 1

    def fail(self, path, exc):
        self.skipped += 1
        if len(self.errors) < 10:
            self.errors.append(f"{path}: {type(exc).__name__}: {exc}")


def heat_for(heats, shape, C, dtype=np.uint32):
    h = heats.get(shape)
    if h is None:
        h = heats[shape] = np.zeros((C,) + shape, dtype)
    return h


# ----------------------------------------------------------------------------------------------
# The peers. Each takes (paths, C, workers, args) and returns (totals, heatmaps dict or None).


def run_loop_counts(paths, C, W, args):
    t = Totals(C)
    for mask in readable_masks(paths, t):
        counts = [0] * C
        for c in range(C):
            counts[c] += int((mask == c).sum())
        t.add(mask.shape, counts, mask.size - sum(counts))
    return t, None


def run_pool_counts(executor_cls):
    def run(paths, C, W, args):
        t = Totals(C)
        with executor_cls(max_workers=W) as ex:
            futures = {ex.submit(task_counts, p, C): p for p in paths}  # unbounded, as the article
            for f in cf.as_completed(futures):
                try:
                    shape, counts, oor = f.result()
                except Exception as e:  # noqa: BLE001
                    t.fail(futures[f], e)
                    continue
                t.add(shape, counts, oor)
        return t, None

    return run


def run_loop_heatmaps(paths, C, W, args):
    t = Totals(C)
    heats = {}
    for mask in readable_masks(paths, t):
        onehot = mask[None, :, :] == np.arange(C)[:, None, None]
        heat = heat_for(heats, mask.shape, C)
        heat += onehot
        t.add(mask.shape, *onehot_counts(onehot, mask.size))
    return t, heats


def run_pool_heatmaps(executor_cls):
    def run(paths, C, W, args):
        t = Totals(C)
        heats = {}

        def merge(done):
            for f in done:
                try:
                    shape, counts, oor, onehot = f.result()
                except Exception as e:  # noqa: BLE001
                    t.fail(owner.pop(f), e)
                    continue
                owner.pop(f)
                heat = heat_for(heats, tuple(shape), C)
                heat += onehot
                t.add(shape, counts, oor)
                del onehot

        owner = {}  # pending future -> its path
        with executor_cls(max_workers=W) as ex:
            pending = set()
            for p in paths:
                if len(pending) >= MAX_PENDING:
                    done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                    merge(done)
                    del done
                f = ex.submit(task_onehot, p, C)
                owner[f] = p
                pending.add(f)
            # Drain with the same waits (as_completed would keep every result alive until the end).
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                merge(done)
                del done
        return t, heats

    return run


def choose_counts_method(args, C):
    if args.numpy_counts != "auto":
        return args.numpy_counts
    return "equal" if C <= EQUAL_COUNTS_MAX_C else "bincount"


def choose_heatmaps_method(args, C):
    if args.numpy_heatmaps != "auto":
        return args.numpy_heatmaps
    return "staged" if C <= STAGED_HEATMAPS_MAX_C else "fancy"


def numpy_best_methods(args, C):
    """What numpy_best actually uses, for the JSON (None for the other peers)."""
    if args.peer == "numpy_best_counts":
        return {"counts": choose_counts_method(args, C), "heatmaps": None}
    if args.peer == "numpy_best":
        h = choose_heatmaps_method(args, C)
        # staged counts with count_nonzero on the comparison it already made; fancy uses bincount
        return {"counts": "equal" if h == "staged" else "bincount", "heatmaps": h}
    return None


def numpy_counts(mask, C, method, buf):
    """Per-class counts and the out-of-range count of one frame."""
    if method == "bincount" and mask.dtype in (np.uint8, np.uint16):
        bins = np.bincount(mask.ravel(), minlength=C)
        counts = bins[:C]
        return counts, mask.size - int(counts.sum())
    # equal: one reused bool buffer; count_nonzero on bool is a vectorised popcount-like pass
    counts = [np.count_nonzero(np.equal(mask, c, out=buf)) for c in range(C)]
    return counts, mask.size - sum(counts)


def run_numpy_best(heatmaps):
    def run(paths, C, W, args):
        t = Totals(C)
        cmethod = choose_counts_method(args, C)
        hmethod = choose_heatmaps_method(args, C) if heatmaps else None
        bufs = {}  # shape -> reused bool buffer
        heats = {}  # shape -> uint32 C x H x W
        stage = {}  # shape -> [uint8 C x H x W staging heatmap, frames in it]   (staged)
        ramps = {}  # shape -> arange(H*W)                                         (fancy)

        def flush(shape):
            s = stage[shape]
            if s[1]:
                np.add(heats[shape], s[0], out=heats[shape])
                s[0].fill(0)
                s[1] = 0

        for mask in readable_masks(paths, t):
            shape = mask.shape
            buf = bufs.get(shape)
            if buf is None:
                buf = bufs[shape] = np.empty(shape, np.bool_)
            if hmethod == "staged":
                heat_for(heats, shape, C)
                s = stage.get(shape)
                if s is None:
                    s = stage[shape] = [np.zeros((C,) + shape, np.uint8), 0]
                h8 = s[0]
                bu8 = buf.view(np.uint8)
                counts = [0] * C
                for c in range(C):
                    np.equal(mask, c, out=buf)
                    counts[c] = np.count_nonzero(buf)
                    np.add(h8[c], bu8, out=h8[c])
                s[1] += 1
                if s[1] == STAGE_FRAMES:
                    flush(shape)
                t.add(shape, counts, mask.size - sum(counts))
            elif hmethod == "fancy":
                hw = mask.size
                ramp = ramps.get(shape)
                if ramp is None:
                    ramp = ramps[shape] = np.arange(hw, dtype=np.intp)
                flat = heat_for(heats, shape, C).reshape(-1)
                counts, oor = numpy_counts(mask, C, "bincount", buf)
                idx = mask.ravel().astype(np.intp)
                if oor:  # drop ids outside 0..C-1
                    keep = (idx >= 0) & (idx < C)
                    idx = idx[keep] * hw + ramp[keep]
                else:
                    idx *= hw
                    idx += ramp
                flat[idx] += 1  # unique indices within a frame, so no np.add.at needed
                t.add(shape, counts, oor)
            else:
                t.add(shape, *numpy_counts(mask, C, cmethod, buf))
        for shape in stage:
            flush(shape)
        return t, (heats if heatmaps else None)

    return run


RUNNERS = {
    "loop_counts": run_loop_counts,
    "threadpool_counts": run_pool_counts(cf.ThreadPoolExecutor),
    "processpool_counts": run_pool_counts(cf.ProcessPoolExecutor),
    "loop_heatmaps": run_loop_heatmaps,
    "threadpool_heatmaps": run_pool_heatmaps(cf.ThreadPoolExecutor),
    "processpool_heatmaps": run_pool_heatmaps(cf.ProcessPoolExecutor),
    "numpy_best": run_numpy_best(heatmaps=True),
    "numpy_best_counts": run_numpy_best(heatmaps=False),
}
POOL_PEERS = {"threadpool_counts", "processpool_counts", "threadpool_heatmaps", "processpool_heatmaps"}


def list_pngs(root, limit):
    root = Path(root)
    if not root.is_dir():
        raise SystemExit(f"peers.py: --dir {root}: not a directory")
    paths = sorted(str(p) for p in root.rglob("*") if p.suffix == ".png" and p.is_file())
    return paths[:limit] if limit is not None else paths


def peak_rss_mb():
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kib, children_kib) / 1024.0  # Linux reports KiB


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Python peers of maskscan (the blog article's approaches); see the module docstring."
    )
    ap.add_argument("--peer", required=True, choices=PEERS)
    ap.add_argument("--dir", required=True, help="dataset directory, searched recursively for *.png")
    ap.add_argument("--limit", type=int, default=None, help="only the first N files (sorted by path)")
    ap.add_argument("--classes", type=int, default=10, help="number of classes C (ids 0..C-1)")
    ap.add_argument("--workers", type=int, default=None, help="pool size (default os.cpu_count())")
    ap.add_argument("--json", default=None, help="also write the JSON result here")
    ap.add_argument("--check-counts", action="store_true",
                    help="no extra work: class_pixels is meant to be compared with maskscan's summary.json")
    ap.add_argument("--numpy-counts", choices=("auto", "equal", "bincount"), default="auto",
                    help="numpy_best's counting method (default: the faster one for --classes)")
    ap.add_argument("--numpy-heatmaps", choices=("auto", "staged", "fancy"), default="auto",
                    help="numpy_best's heatmap method (default: the faster one for --classes)")
    args = ap.parse_args(argv)
    if args.classes < 1:
        ap.error("--classes must be at least 1")
    if args.limit is not None and args.limit < 0:
        ap.error("--limit must be >= 0")
    C = args.classes
    W = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if W < 1:
        ap.error("--workers must be at least 1")

    paths = list_pngs(args.dir, args.limit)

    t0 = time.perf_counter()
    totals, heats = RUNNERS[args.peer](paths, C, W, args)
    seconds = time.perf_counter() - t0

    heatmap_sum = heatmap_sha = None
    if heats is not None:
        heatmap_sum = int(sum(int(h.sum(dtype=np.uint64)) for h in heats.values()))
        if len(heats) == 1:
            (h,) = heats.values()
            heatmap_sha = hashlib.sha256(np.ascontiguousarray(h, dtype="<u4").tobytes()).hexdigest()

    result = {
        "peer": args.peer,
        "frames": totals.frames,
        "seconds": seconds,
        "frames_per_s": totals.frames / seconds if seconds > 0 else 0.0,
        "ms_per_frame": seconds * 1e3 / totals.frames if totals.frames else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "workers": W if args.peer in POOL_PEERS else 1,
        "class_pixels": totals.class_pixels,
        "frames_present": totals.frames_present,
        "heatmap_sum": heatmap_sum,
        "heatmap_sha256": heatmap_sha,
        "out_of_range_pixels": totals.out_of_range,
        "frames_skipped": totals.skipped,
        "errors": totals.errors,
        "resolutions": sorted(f"{w}x{h}" for (h, w) in totals.shapes),
        "classes": C,
        "dir": str(args.dir),
        "limit": args.limit,
        "files": len(paths),
        "check_counts": bool(args.check_counts),
        "numpy_best_methods": numpy_best_methods(args, C),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pillow": Image.__version__ if hasattr(Image, "__version__") else None,
    }
    text = json.dumps(result)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
