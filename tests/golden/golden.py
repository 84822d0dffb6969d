#!/usr/bin/env python3
"""The golden scan: one fixed grouped scan with every output, compared byte for byte with the
outputs that maskscan 69d3b20 (before the library was reshaped, issue 14) wrote for it.

    golden.py --maskscan BUILD/src/maskscan            compare (the ctest golden_scan_outputs)
    golden.py --maskscan BUILD/src/maskscan --update   rewrite expected/ (only for an intended change)

The input (input/masks, input/rgb) is `maskscan synth` output at two frame sizes, 32x24 (seed 7) and
20x16 (seed 11), plus b/truncated_FV.png (the first 100 bytes of a/00000_FV.png), so that the
skipped-file paths are in the outputs too. It is copied into a scratch folder whose files all get
one fixed mtime (the state file records each frame's mtime), and scanned there with relative paths.

What is compared: the exit status, stdout, stderr, every file under --out (summary.json, frames.csv,
weights.csv, cooccurrence.csv, components.csv, heatmaps_*.npy, heatmaps_grid_*.npy, groups/*/...,
report.html, images/**) and the --save-state file, and the list of files itself. Bytes are stored
in expected/, except the PNGs of images/, which are listed in expected/images.sha256 by the SHA-256
of what they decode to (width, height and 8-bit RGB pixels), and the PNGs embedded in report.html,
which are replaced by that same digest before storing/comparing. Pictures are compared by their
pixels, not their bytes: the encoder's settings (zlib level, row filters) change the bytes of a PNG
and nothing it shows; a pixel that changes fails the comparison.

Masked before comparing (MASKS below; the only fields that legitimately vary from run to run or
machine to machine):
  - wall time and frames/s: summary.json timing (all and each group), report.html Run cards,
    the stdout line "... in 0.02 s (593 frames/s, ...)";
  - the report's generation date ("generated 2026-12-06 12:06 UTC");
  - the program version (report.html "by maskscan 0.1.0" and its Run list);
  - the absolute path of the maskscan binary (argv[0], in the report's command line);
  - the io backend that `--io auto` picked (uring or threads, depends on the kernel): summary.json
    "io_backend", report.html and stdout "io=...".
"""
import argparse
import base64
import difflib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
INPUT = HERE / "input"
EXPECTED = HERE / "expected"
PNG_MANIFEST = "images.sha256"
FIXED_MTIME_NS = 1_700_000_000_123_456_789

ARGS = ["scan", "masks", "--labels", "woodscape", "--heatmaps", "--heatmap-grid", "8x6", "--components", "8",
        "--min-component-pixels", "2", "--group-by", r"_(FV|RV)\.png$", "--out", "out", "--save-state",
        "out.state", "--report", "--rgb-dir", "rgb", "--overlays", "4", "--workers", "2", "--no-progress"]

# (file pattern, regex, replacement): applied in order to the text of matching files.
NUMBER = r"-?[0-9][0-9.eE+-]*"
MASKS = [
    (r"\.json$", rf'("wall_seconds": ){NUMBER}', r'\1"<masked>"'),
    (r"\.json$", rf'("frames_per_second": ){NUMBER}', r'\1"<masked>"'),
    (r"\.json$", r'("io_backend": )"[a-z]+"', r'\1"<masked>"'),
    (r"report\.html$", r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC by maskscan [^<]*", "generated <date> by maskscan <version>"),
    (r"report\.html$", r"<b>[0-9.]+ s</b><span>scan time", "<b><masked> s</b><span>scan time"),
    (r"report\.html$", r"<b>[0-9.,]+</b><span>frames/s", "<b><masked></b><span>frames/s"),
    (r"report\.html$", r"<dt>maskscan</dt><dd>[^<]*</dd>", "<dt>maskscan</dt><dd><version></dd>"),
    (r"report\.html$", r"<dt>command</dt><dd>[^<\s]*maskscan ", "<dt>command</dt><dd><maskscan> "),
    (r"report\.html$", r"io=[a-z]+", "io=<masked>"),
    (r"^stdout\.txt$", r" in [0-9.]+ s \([0-9.,]+ frames/s, io=[a-z]+,", " in <masked> s (<masked> frames/s, io=<masked>,"),
]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def add_bytes(a, b, n):
    """Bytewise (a + b) mod 256 of two n-byte strings, as big integers (no carry between bytes)."""
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    low, high = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "big")


def png_pixels(data):
    """The SHA-256 of an 8-bit RGB PNG's decoded image: width, height, then the pixels row by row."""
    if not data.startswith(PNG_SIGNATURE):
        raise SystemExit("golden: a picture is not a PNG")
    at, idat, ihdr = 8, [], None
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat.append(body)
    width, height = int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big")
    if ihdr[8:13] != bytes([8, 2, 0, 0, 0]):
        raise SystemExit("golden: the report's pictures are 8-bit RGB, not interlaced")
    raw = zlib.decompress(b"".join(idat))
    stride, bpp = width * 3, 3
    prev, rows = bytes(stride), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if kind == 0:
            row = line
        elif kind == 2:
            row = add_bytes(line, prev, stride)
        else:  # sub, average, Paeth: byte by byte
            row = bytearray(line)
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[i] = (row[i] + pred) & 255
            row = bytes(row)
        rows.append(row)
        prev = row
    digest = hashlib.sha256(f"{width}x{height}\n".encode())
    for row in rows:
        digest.update(row)
    return digest.hexdigest()


def embedded_png_to_hash(text):
    def repl(m):
        return "data:image/png;pixels-sha256," + png_pixels(base64.b64decode(m.group(1)))
    return re.sub(r"data:image/png;base64,([A-Za-z0-9+/=]+)", repl, text)


def normalized(rel, data):
    """The bytes of output `rel` as stored and compared."""
    masks = [(rx, rep) for pat, rx, rep in MASKS if re.search(pat, rel)]
    if not masks and not rel.endswith(".html"):
        return data
    text = data.decode("utf-8")
    if rel.endswith(".html"):
        text = embedded_png_to_hash(text)
    for rx, rep in masks:
        text, n = re.subn(rx, rep, text)
        if n == 0:
            raise SystemExit(f"golden: mask {rx!r} matched nothing in {rel}: update MASKS with the output's new form")
    return text.encode("utf-8")


def run_scan(maskscan, work):
    shutil.copytree(INPUT, work, dirs_exist_ok=True)
    for root, dirs, files in os.walk(work):
        for name in files + dirs:
            os.utime(os.path.join(root, name), ns=(FIXED_MTIME_NS, FIXED_MTIME_NS))
    env = dict(os.environ, LC_ALL="C", TZ="UTC", COLUMNS="100")
    proc = subprocess.run([maskscan] + ARGS, cwd=work, capture_output=True, env=env, stdin=subprocess.DEVNULL)
    outputs = {"exit_status": f"{proc.returncode}\n".encode(), "stdout.txt": proc.stdout, "stderr.txt": proc.stderr}
    for path in sorted((work / "out").rglob("*")):
        if path.is_file():
            outputs["out/" + path.relative_to(work / "out").as_posix()] = path.read_bytes()
    outputs["out.state"] = (work / "out.state").read_bytes()
    return outputs


def is_image(rel):
    return rel.startswith("out/images/") and rel.endswith(".png")


def expected_outputs():
    found = {}
    for path in sorted(EXPECTED.rglob("*")):
        rel = path.relative_to(EXPECTED).as_posix()
        if path.is_file() and rel != PNG_MANIFEST:
            found[rel] = path.read_bytes()
    images = {}
    for line in (EXPECTED / PNG_MANIFEST).read_text().splitlines():
        digest, rel = line.split("  ", 1)
        images[rel] = digest
    return found, images


def update(outputs):
    shutil.rmtree(EXPECTED, ignore_errors=True)
    EXPECTED.mkdir()
    lines = []
    for rel, data in outputs.items():
        if is_image(rel):
            lines.append(f"{png_pixels(data)}  {rel}")
            continue
        dest = EXPECTED / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(normalized(rel, data))
    (EXPECTED / PNG_MANIFEST).write_text("\n".join(lines) + "\n")
    print(f"golden: wrote {len(outputs) - len(lines)} files and {len(lines)} image hashes to {EXPECTED}")


def compare(outputs):
    files, images = expected_outputs()
    actual_images = {rel: png_pixels(d) for rel, d in outputs.items() if is_image(rel)}
    actual_files = {rel: normalized(rel, d) for rel, d in outputs.items() if not is_image(rel)}
    failures = []
    for rel in sorted(set(files) ^ set(actual_files)):
        failures.append(f"{rel}: {'missing from the outputs' if rel in files else 'not in expected/'}")
    for rel in sorted(set(images) ^ set(actual_images)):
        failures.append(f"{rel}: {'missing from the outputs' if rel in images else 'not in ' + PNG_MANIFEST}")
    for rel in sorted(set(files) & set(actual_files)):
        want, got = files[rel], actual_files[rel]
        if want == got:
            continue
        msg = f"{rel}: differs"
        try:
            diff = difflib.unified_diff(want.decode().splitlines(), got.decode().splitlines(), "expected", "actual",
                                        lineterm="", n=1)
            msg += "\n" + "\n".join(list(diff)[:40])
        except UnicodeDecodeError:
            first = next(i for i in range(min(len(want), len(got)) + 1) if i == min(len(want), len(got)) or want[i] != got[i])
            msg += f" (binary: {len(want)} vs {len(got)} bytes, first difference at byte {first})"
        failures.append(msg)
    for rel in sorted(set(images) & set(actual_images)):
        if images[rel] != actual_images[rel]:
            failures.append(f"{rel}: pixels SHA-256 {actual_images[rel]}, expected {images[rel]}")
    if failures:
        print("golden: the outputs differ from tests/golden/expected:\n" + "\n".join(failures))
        return 1
    print(f"golden: {len(actual_files)} files and {len(actual_images)} images identical")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maskscan", required=True)
    ap.add_argument("--update", action="store_true", help="rewrite expected/ from this binary's outputs")
    ap.add_argument("--keep", help="scan in this folder (kept) instead of a temporary one")
    a = ap.parse_args()
    maskscan = str(Path(a.maskscan).resolve())
    if a.keep:
        work = Path(a.keep).resolve()
        shutil.rmtree(work, ignore_errors=True)
        return finish(a, run_scan(maskscan, work))
    with tempfile.TemporaryDirectory(prefix="maskscan-golden-") as tmp:
        return finish(a, run_scan(maskscan, Path(tmp) / "work"))


def finish(a, outputs):
    if a.update:
        update(outputs)
        return 0
    return compare(outputs)


if __name__ == "__main__":
    sys.exit(main())
