#!/usr/bin/python3
"""Runs every recipe of README.md and docs/*.md as written, on small real and synthetic data.

    ctest --preset release -L docs       (after a build; tests/CMakeLists.txt passes the paths)
    /usr/bin/python3 tests/docs/run_recipes.py --list      (each block, and how it is treated)

Every fenced code block of README.md and docs/*.md says what it is by its info string. A block with
any other info string, or none, fails the test, so that no recipe goes unchecked:
    ```sh              run: each line (a trailing backslash continues it; comment-only lines are
                       skipped) in its own bash -o pipefail, so `cd` and variables do not carry over,
                       with the built maskscan first on PATH; it must exit 0
    ```sh session      run as one bash script (set -e -o pipefail) in its own process group, so that
                       a line may start a server in the background (`maskscan serve ... &`) and the
                       next ones talk to it; it must exit 0, and whatever it left running is then
                       stopped (SIGTERM to the group, SIGKILL after 5 s)
    ```python          run with /usr/bin/python3 after the block before it in the same file, in that
                       block's directory (it reads what that recipe wrote); it must exit 0
    ```cpp             compiled and run: its #include lines at file scope, the rest the body of a
                       coroutine `awaitable<void> f(any_io_executor executor)` run on an io_context;
                       it must compile (errors name the .md line) and return normally
    ```json class-map  a class-map file: `maskscan scan gtFine/ --labels <the block>` must accept it
    ```text            not run: output, an error message, a formula, a diagram, a file layout
    ```file PATH       a file of the repository shown whole (a job script, a manifest): the block must
                       equal the file PATH, which a test of its own runs (docs/scale-out/* by
                       tests/docs/test_scale_out_examples.py)
Each sh, cpp and json block runs in a fresh copy of the scratch data (make_fixture), in which every
path the recipes name exists with data of its kind: path/to/gtLabels, CamVid/valannot, gtFine/, ...

A line whose whole trailing comment is `# exit N` must exit with status N.
A line whose whole trailing comment is `# interrupted: exit N` runs at a terminal (a pty), gets
Ctrl-C (SIGINT) as soon as its progress line shows, and must exit N with its results marked partial.
After a maskscan command exits as documented, the outputs it names are checked: --out holds
summary.json (partial only when interrupted), frames.csv and weights.csv, and report.html,
heatmaps_*.npy, components.csv and groups/ when asked for; a --save-state file exists; a
--files-from scan counted the frames its list names; synth wrote --frames masks (and photos);
overlay wrote a PNG.
The few lines not run as written are in NOT_AS_WRITTEN below, each with its reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import os
import pty
import random
import re
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Lines of the docs that are not run as written: (file, command without its comment) -> the command
# run instead, or None for a line that is not run. Each entry must match exactly one line of the docs,
# so a line that changed or went away fails the test and this list cannot grow silently.
NOT_AS_WRITTEN: dict[tuple[str, str], tuple[str | None, str]] = {
    # README, the set-up of a fresh machine.
    ("README.md", "bash scripts/demo.sh"): (
        None, "installs Debian packages as root and builds; the synth and scan it then runs are recipes run here"),
    ("README.md", "bash scripts/test.sh"): (
        None, "installs Debian packages and runs the whole test suite, this test included: it would run itself"),
    # WoodScape's size (8,234 or 824 frames of 1280x966, with photos ~0.6 MB each): the same command at test size.
    ("README.md", "maskscan synth demo/ --frames 8234"): (
        "maskscan synth demo/ --frames 40 --width 128 --height 96", "test size"),
    ("README.md", "maskscan synth ws/semantic_annotations/gtLabels --rgb ws/rgb_images"): (
        "maskscan synth ws/semantic_annotations/gtLabels --rgb ws/rgb_images --frames 40 --width 128 --height 96",
        "test size"),
    # The Python package's install (README, docs/python.md): tests/python/test_package.py runs it in a venv; here
    # the python blocks import the build's package (--pythonpath), as an installed one would be imported.
    ("README.md", "python3 -m venv --system-site-packages .venv && . .venv/bin/activate"): (
        None, "a venv and pip install: tests/python/test_package.py does both"),
    ("README.md", "pip install --no-build-isolation ."): (None, "tests/python/test_package.py"),
    ("docs/python.md", "python3 -m venv --system-site-packages .venv && . .venv/bin/activate"): (
        None, "a venv and pip install: tests/python/test_package.py does both"),
    ("docs/python.md", "pip install --no-build-isolation ."): (None, "tests/python/test_package.py"),
    ("docs/python.md", "pip wheel --no-build-isolation --no-deps -w dist/ ."): (None, "tests/python/test_package.py"),
    # docs/robustness.md writes to fixed paths in /tmp, which both commands refuse to overwrite: a second
    # or concurrent run would fail. The same commands into the scratch directory's tmp/.
    ("docs/robustness.md", "MASKSCAN_BAD_INPUTS_OUT=/tmp/bad-inputs build/tests/maskscan_tests '[write-bad-inputs]'"): (
        "MASKSCAN_BAD_INPUTS_OUT=tmp/bad-inputs build/tests/maskscan_tests '[write-bad-inputs]'", "no fixed /tmp path"),
    ("docs/robustness.md",
     "build/src/maskscan scan /tmp/bad-inputs --num-classes 16 --no-progress --out /tmp/bad-inputs-out"): (
        "build/src/maskscan scan tmp/bad-inputs --num-classes 16 --no-progress --out tmp/bad-inputs-out",
        "no fixed /tmp path"),
}

KINDS = ("sh", "sh session", "python", "cpp", "json class-map", "text")
COMMAND_TIMEOUT = 120  # seconds; a recipe that hangs fails instead of blocking ctest until its TIMEOUT


@dataclasses.dataclass
class Block:
    file: str   # relative to the repository, e.g. docs/robustness.md
    line: int   # of the opening fence, 1-based
    info: str   # the info string, blanks collapsed
    lines: list[str]  # the content, the fence's indentation removed

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclasses.dataclass
class Command:
    line: int            # in the .md file, of the command's first line
    text: str            # as written, without its comment
    comment: str         # the trailing comment, without '#'
    run: str | None      # what runs: text, or its NOT_AS_WRITTEN replacement, or None (skipped)
    reason: str = ""     # why run differs from text
    expected: int = 0
    interrupt: bool = False


class RecipeFailure(Exception):
    pass


# ---------------------------------------------------------------------------------------------------
# Reading the docs

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def doc_files(source_dir: Path) -> list[Path]:
    return [source_dir / "README.md"] + sorted((source_dir / "docs").glob("*.md"))


def read_blocks(path: Path, source_dir: Path) -> list[Block]:
    blocks, open_block, fence = [], None, ""
    name = path.relative_to(source_dir).as_posix()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = FENCE.match(line)
        if open_block is None:
            if m and not (m["fence"][0] == "`" and "`" in m["info"]):
                open_block, fence = Block(name, number, " ".join(m["info"].split()), []), m["fence"]
                indent = len(m["indent"])
            continue
        if m and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence) and not m["info"].strip():
            blocks.append(open_block)
            open_block = None
            continue
        stripped = len(line) - len(line.lstrip(" "))
        open_block.lines.append(line[min(indent, stripped):])
    if open_block is not None:
        raise RecipeFailure(f"{open_block.where}: the code block is never closed")
    return blocks


def split_comment(line: str) -> tuple[str, str]:
    """Splits a shell line at its comment: a '#' that starts a word outside quotes."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                continue
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


EXIT_COMMENT = re.compile(r"^(?P<interrupted>interrupted: )?exit (?P<status>\d+)$")


def commands_of(block: Block, used: set[tuple[str, str]]) -> list[Command]:
    commands, pending, first = [], "", 0
    for offset, raw in enumerate(block.lines):
        if not pending:
            first = block.line + 1 + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if not line or line.startswith("#"):
            continue
        text, comment = split_comment(line)
        command = Command(first, text, comment, text)
        if m := EXIT_COMMENT.match(comment):
            command.expected, command.interrupt = int(m["status"]), bool(m["interrupted"])
        key = (block.file, text)
        if key in NOT_AS_WRITTEN:
            if key in used:
                raise RecipeFailure(f"{block.file}:{first}: NOT_AS_WRITTEN matches this line twice: {text}")
            used.add(key)
            command.run, command.reason = NOT_AS_WRITTEN[key]
        commands.append(command)
    if pending:
        raise RecipeFailure(f"{block.where}: the block ends in a continued line")
    return commands


def check_kinds(blocks: list[Block]) -> None:
    for b in blocks:
        if b.info not in KINDS and not b.info.startswith("file "):
            said = f"info string '{b.info}'" if b.info else "no info string"
            raise RecipeFailure(
                f"{b.where}: a code block with {said}: the docs test does not know what to do with it. Say what "
                f"it is: ```sh or ```python (a recipe, run), ```cpp (compiled and run), ```json class-map "
                f"(loaded by maskscan), ```file PATH (a file of the repository, shown whole) or ```text (output, "
                f"a message, a formula, a layout: not run); "
                f"see tests/docs/run_recipes.py")


# ---------------------------------------------------------------------------------------------------
# The scratch data every recipe finds

def write_gray_png(path: Path, width: int, height: int, pixels: bytes) -> None:
    """An 8-bit grayscale PNG, filter None on every row, written here so no PNG library is needed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + pixels[y * width:(y + 1) * width] for y in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def make_fixture(root: Path, maskscan: str, tests_binary: str, data: Path) -> None:
    """Every path the recipes name, with data of the kind they expect (small: the test stays fast)."""
    real = data / "real"

    def run(*args: str) -> None:
        done = subprocess.run([maskscan, *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=COMMAND_TIMEOUT)
        if done.returncode != 0:
            raise RecipeFailure(f"making the scratch data: maskscan {shlex.join(args)} exited {done.returncode}:\n"
                                f"{done.stdout}")

    def link(target: Path, name: str) -> None:
        if not target.exists():
            raise RecipeFailure(f"test data missing: {target} (set MASKSCAN_TEST_DATA)")
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(target)

    small = ["--width", "128", "--height", "96"]
    root.mkdir(parents=True)
    # WoodScape-like masks (no WoodScape mask is public): a folder, the layout with photos, the demo's.
    run("synth", "path/to/gtLabels", "--frames", "32", *small)
    run("synth", "gtLabels", "--frames", "32", "--rgb", "rgb_images", *small)
    run("synth", "demo/ws", "--frames", "40", *small)
    # Real datasets, read only.
    link(real / "gray8_ids/camvid_segnet", "CamVid/valannot")
    link(real / "palette/voc2012_aug", "VOC/SegmentationClass")
    link(real / "rgb_color/rugd_sample", "RUGD/annotations")
    # gtFine/ as Cityscapes lays it out: the crop's labelIds as a val frame, and a copy named as a train
    # frame so that splits/val.txt selects one of two. Beside each, the other masks a real gtFine/
    # holds (instanceIds, labelTrainIds), which a recipe must not count as labelIds.
    crops = real / "gray8_ids/mmseg_testdata"
    kinds = {"labelIds": "cityscapes_frankfurt_000000_000294_gtFine_labelIds.png",
             "instanceIds": "cityscapes_frankfurt_000000_000294_gtFine_instanceIds_16bit.png",
             "labelTrainIds": "cityscapes_frankfurt_000000_000294_gtFine_labelTrainIds.png"}
    for name in ("val/frankfurt/frankfurt_000000_000294", "train/aachen/aachen_000000_000019"):
        (root / "gtFine" / name).parent.mkdir(parents=True, exist_ok=True)
        for kind, file in kinds.items():
            shutil.copyfile(crops / file, root / f"gtFine/{name}_gtFine_{kind}.png")
    (root / "splits").mkdir()
    (root / "splits/val.txt").write_text("val/frankfurt/frankfurt_000000_000294_gtFine_labelIds.png\n")
    # rugd.json: RUGD's colour table as a JSON class map (docs/class-maps.md), void ignored.
    classes = []
    for line in (real / "rgb_color/rugd_sample/RUGD_annotation-colormap.txt").read_text().splitlines():
        ident, name, r, g, b = line.split()
        classes.append({"id": int(ident), "name": name, "colour": [int(r), int(g), int(b)]})
    (root / "rugd.json").write_text(json.dumps({"name": "RUGD", "classes": classes, "ignore": [0]}, indent=1))
    # data/: 320 frames of 480x360 noise in ids 0..9 (8 distinct files, hard-linked): the slowest masks to
    # count (a run per pixel), so that a scan of data/ lasts long enough (~1 s) to be interrupted half-way.
    (root / "data").mkdir()
    rng, table = random.Random(7), bytes(i % 10 for i in range(256))
    for i in range(8):
        write_gray_png(root / f"data/noise{i}.png", 480, 360, rng.randbytes(480 * 360).translate(table))
    names = [f"{i:05d}_{('FV', 'MVL', 'MVR', 'RV')[i % 4]}.png" for i in range(320)]
    for i, name in enumerate(names):
        os.link(root / f"data/noise{i % 8}.png", root / "data" / name)
    for i in range(8):
        (root / f"data/noise{i}.png").unlink()
    (root / "part1.txt").write_text("".join(n + "\n" for n in names[:160]))
    (root / "part2.txt").write_text("".join(n + "\n" for n in names[160:]))
    # Two cities' states whose frames share names (00000_FV.png, ...), for merge --prefix.
    for city, seed in (("cityA", "2"), ("cityB", "3")):
        run("synth", city, "--frames", "8", "--seed", seed, *small)
        run("scan", city, "--labels", "woodscape", "--no-progress", "--save-state", f"{city}.state")
    # The paths docs/robustness.md runs from the repository's root, and a tmp/ for what it puts in /tmp.
    link(Path(maskscan).resolve(), "build/src/maskscan")
    link(Path(tests_binary).resolve(), "build/tests/maskscan_tests")
    (root / "tmp").mkdir()


# ---------------------------------------------------------------------------------------------------
# Running

@dataclasses.dataclass
class Outcome:
    status: int   # as a shell reports it: 128 + N for a process killed by signal N
    output: str
    seconds: float
    signalled: bool = False


def run_plain(argv: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    start = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode(errors="replace")
        return Outcome(128 + signal.SIGKILL, output + f"\n[no exit after {COMMAND_TIMEOUT} s: killed]",
                       COMMAND_TIMEOUT, signalled=True)
    status, signalled = done.returncode, done.returncode < 0
    return Outcome(128 - status if signalled else status, done.stdout.decode(errors="replace"),
                   time.monotonic() - start, signalled)


def run_interrupted(argv: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    """Runs at a terminal and presses Ctrl-C once the progress line shows: the scan is under way."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    start = time.monotonic()
    child = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    output, sent = b"", False
    while True:
        if time.monotonic() - start > COMMAND_TIMEOUT:
            os.killpg(child.pid, signal.SIGKILL)
            output += f"\n[no exit after {COMMAND_TIMEOUT} s: killed]".encode()
            break
        ready, _, _ = select.select([master], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            chunk = b""
        if not chunk:
            break
        output += chunk
        if not sent and b"frames/s" in output:
            os.killpg(child.pid, signal.SIGINT)  # as the terminal does: the whole foreground group
            sent = True
    os.close(master)
    status = child.wait()
    text = output.decode(errors="replace").replace("\r\n", "\n")
    if not sent:
        text += "\n[the progress line never showed: Ctrl-C was not sent]"
    signalled = status < 0
    return Outcome(128 - status if signalled else status, text, time.monotonic() - start, signalled)


def maskscan_calls(command: str) -> list[list[str]]:
    """The argument lists of the maskscan commands in a shell line (split at && || ; |)."""
    calls, current = [], []
    for word in shlex.split(command) + ["&&"]:
        if word in ("&&", "||", ";", "|"):
            while current and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", current[0]):
                current.pop(0)  # VAR=value before the program
            if current and current[0] == "mpirun":  # mpirun [its options] maskscan ...
                while current and Path(current[0]).name != "maskscan":
                    current.pop(0)
            if current and Path(current[0]).name == "maskscan":
                calls.append(current[1:])
            current = []
        else:
            current.append(word)
    return calls


def flag(args: list[str], name: str, default: str | None = None) -> str | None:
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    return default


def check_outputs(args: list[str], cwd: Path, command: Command) -> list[str]:
    """What a maskscan command that exited as documented must have written; returns the problems."""
    problems: list[str] = []
    if not args or command.expected not in (0, 3, 130):
        return problems
    sub, rest = args[0], args[1:]
    if sub in ("scan", "merge"):
        out = flag(rest, "--out")
        if out:
            d = cwd / out
            names = ["summary.json", "frames.csv", "weights.csv"]
            names += ["report.html"] if "--report" in rest else []
            names += ["components.csv"] if flag(rest, "--components", "0") != "0" else []
            problems += [f"--out {out}: {n} is missing" for n in names if not (d / n).is_file()]
            if "--heatmaps" in rest and not list(d.glob("heatmaps_*.npy")):
                problems.append(f"--out {out}: no heatmaps_*.npy")
            if (flag(rest, "--group-by") or flag(rest, "--split")) and not any((d / "groups").glob("*/summary.json")):
                problems.append(f"--out {out}: no groups/<group>/summary.json")
            if (d / "summary.json").is_file():
                summary = json.loads((d / "summary.json").read_text())
                if summary["partial"] != command.interrupt:
                    problems.append(f"--out {out}: summary.json says partial: {summary['partial']}")
                if command.interrupt and summary["frames_scanned"] >= summary["frames_total"]:
                    problems.append("interrupted, yet every frame was scanned")
                if command.expected == 3 and not summary["frames_skipped"]:
                    problems.append(f"--out {out}: exit 3, yet summary.json lists no skipped file")
                listed = flag(rest, "--files-from")
                if listed and listed != "-":
                    wanted = sum(1 for l in (cwd / listed).read_text().splitlines() if l.strip())
                    if summary["frames_scanned"] + summary["frames_skipped"] != wanted:
                        problems.append(f"--files-from {listed} names {wanted} frames, summary.json counts "
                                        f"{summary['frames_scanned']} + {summary['frames_skipped']} skipped")
        state = flag(rest, "--save-state")
        if state and not (cwd / state).is_file():
            problems.append(f"--save-state {state} was not written")
    elif sub == "synth":
        frames = int(flag(rest, "--frames", "824"))
        dirs = [rest[0]] + ([flag(rest, "--rgb")] if flag(rest, "--rgb") else [])
        for d in dirs:
            found = len(list((cwd / d).glob("*.png")))
            if found != frames:
                problems.append(f"synth {d}: {found} PNGs, expected {frames}")
    elif sub == "overlay":
        out = cwd / flag(rest, "--out")
        if not out.is_file() or out.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append(f"overlay --out {out.name}: no PNG written")
    return problems


class Runner:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = Path(args.work).resolve()
        self.fixture = self.work / "fixture"
        self.env = dict(os.environ)
        self.env["PATH"] = f"{self.work / 'bin'}{os.pathsep}{self.env.get('PATH', '')}"
        self.env.pop("MASKSCAN_BAD_INPUTS_OUT", None)
        # The mpirun recipes: OpenMPI refuses to run as root (CI does) unless told it may.
        self.env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        if args.pythonpath:  # the python blocks import the build's maskscan package
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(Path(args.pythonpath).resolve())] + [p for p in [self.env.get("PYTHONPATH")] if p])
        self.failures: list[str] = []
        self.ran = self.skipped = 0
        self.cpp_program: Path | None = None

    def fresh_dir(self, block: Block) -> Path:
        d = self.work / "blocks" / f"{block.file.replace('/', '_')}-L{block.line}"
        subprocess.run(["cp", "-a", str(self.fixture), str(d)], check=True)  # -a keeps data/'s hard links
        return d

    def fail(self, where: str, what: str, outcome: Outcome | None, command: str | None = None) -> None:
        text = f"FAIL {where}: {what}"
        if command:
            text += f"\n  command: {command}"
        if outcome is not None:
            lines = outcome.output.rstrip().splitlines()
            shown = lines[-80:]
            text += "\n  output" + (f" (last {len(shown)} of {len(lines)} lines)" if len(lines) > 80 else "") + ":"
            text += "".join(f"\n  | {l}" for l in shown) if shown else " (none)"
        print(text, flush=True)
        self.failures.append(f"{where}: {what}")

    def run_sh(self, block: Block, commands: list[Command], cwd: Path) -> None:
        for c in commands:
            where = f"{block.file}:{c.line} (line {c.line - block.line} of the sh block at line {block.line})"
            if c.run is None:
                print(f"skip {where}: {c.text}  ({c.reason})", flush=True)
                self.skipped += 1
                continue
            argv = ["bash", "-o", "pipefail", "-c", c.run]
            outcome = (run_interrupted if c.interrupt else run_plain)(argv, cwd, self.env)
            self.ran += 1
            shown = c.run if c.run == c.text else f"{c.run}   [written: {c.text}; {c.reason}]"
            wanted = f"exit {c.expected}" + (" after Ctrl-C" if c.interrupt else "")
            if outcome.status != c.expected or outcome.signalled:
                how = f"killed by signal {outcome.status - 128}" if outcome.signalled else f"exit {outcome.status}"
                hint = ""
                if c.interrupt and outcome.status == 0:
                    hint = " (the scan ended before Ctrl-C reached it)"
                elif not c.comment and outcome.status:
                    hint = " (a line that should exit otherwise says so in its comment: '# exit N')"
                self.fail(where, f"{how}, expected {wanted}{hint}", outcome, shown)
                return  # the block's later lines build on this one
            problems = [p for args in maskscan_calls(c.run) for p in check_outputs(args, cwd, c)]
            if problems:
                self.fail(where, "; ".join(problems), outcome, shown)
                return
            done = ""
            if c.interrupt and (out := next((flag(a, "--out") for a in maskscan_calls(c.run)), None)):
                summary = json.loads((cwd / out / "summary.json").read_text())
                done = f": {summary['frames_scanned']} of {summary['frames_total']} frames done, partial"
            print(f"ok   {where}: {shown}  ({wanted}{done}, {outcome.seconds:.2f} s)", flush=True)

    def run_session(self, block: Block, cwd: Path) -> None:
        script = cwd / f"{block.file.replace('/', '_')}-L{block.line}.sh"
        # A session runs in the scratch copy, not the checkout: the repository's tools it names (the
        # local S3 server) are given by their absolute path, and run by Debian's python3.
        lines = [line.replace("python3 tests/io/", f"/usr/bin/python3 {REPO}/tests/io/") for line in block.lines]
        script.write_text("set -e -o pipefail\n" + "\n".join(lines) + "\n")
        start = time.monotonic()
        log = cwd / (script.name + ".out")  # a file, not a pipe: a background server keeps a pipe open
        with open(log, "wb") as out:
            proc = subprocess.Popen(["bash", str(script)], cwd=cwd, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = proc.wait(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            status = 128 + signal.SIGKILL
        finally:  # what the block left running (a server): stopped as a user would, then for sure
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline:
                    try:
                        os.killpg(proc.pid, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.05)
        output = log.read_bytes()
        outcome = Outcome(status, output.decode(errors="replace"), time.monotonic() - start)
        self.ran += 1
        text = outcome.output
        if status != 0:
            self.fail(block.where, f"sh session block: exit {status}, expected 0 (run in {cwd})", outcome)
        elif "maskscan scan s3://" in "\n".join(block.lines) and not any(
                json.loads(f.read_text()).get("input", "").startswith("s3://") and
                json.loads(f.read_text())["frames_scanned"] > 0 for f in cwd.glob("*/summary.json")):
            self.fail(block.where, "the scan of the bucket wrote no summary.json of frames read from s3://", outcome)
        elif "maskscan serve" in "\n".join(block.lines) and not (
                "event: end" in text and '"state":"done"' in text and list(cwd.glob("*/scans/*/results/summary.json"))):
            self.fail(block.where, "the service's scan did not end done with its results written", outcome)
        else:
            print(f"ok   {block.where}: sh session block, {len(block.lines)} lines  ({outcome.seconds:.2f} s)",
                  flush=True)

    def run_python(self, block: Block, cwd: Path) -> None:
        # Blank lines before the code: a traceback's line numbers are the .md file's.
        script = cwd / f"{block.file.replace('/', '_')}.py"
        script.write_text("\n" * block.line + "\n".join(block.lines) + "\n")
        outcome = run_plain([self.args.python, str(script)], cwd, self.env)
        self.ran += 1
        if outcome.status != 0:
            self.fail(block.where, f"python block: exit {outcome.status}, expected 0 (run in {cwd})", outcome)
        else:
            print(f"ok   {block.where}: python block, {len(block.lines)} lines  ({outcome.seconds:.2f} s)", flush=True)

    def run_cpp(self, block: Block, index: int, cwd: Path) -> None:
        if self.cpp_program is None:
            if not self.args.cpp_build or not self.args.cpp_program:
                self.fail(block.where, "a cpp block, but no --cpp-build/--cpp-program to compile it with", None)
                return
            build_dir, target = self.args.cpp_build
            outcome = run_plain([self.args.cmake, "--build", build_dir, "--target", target], REPO, self.env)
            if outcome.status != 0:
                self.fail(block.where, "the cpp blocks do not compile (errors name the .md lines)", outcome)
                return
            self.cpp_program = Path(self.args.cpp_program)
        outcome = run_plain([str(self.cpp_program), str(index)], cwd, self.env)
        self.ran += 1
        if outcome.status != 0:
            self.fail(block.where, f"cpp block: exit {outcome.status}, expected 0 (run in {cwd})", outcome)
        else:
            print(f"ok   {block.where}: cpp block compiled and run  ({outcome.seconds:.2f} s)", flush=True)

    def run_class_map(self, block: Block, cwd: Path) -> None:
        (cwd / "class-map.json").write_text("\n".join(block.lines) + "\n")
        command = "maskscan scan gtFine/ --labels class-map.json --out class-map-check/"
        outcome = run_plain(["bash", "-c", command], cwd, self.env)
        self.ran += 1
        if outcome.status != 0 or not (cwd / "class-map-check/summary.json").is_file():
            self.fail(block.where, f"maskscan did not accept the class map (exit {outcome.status})", outcome, command)
        else:
            print(f"ok   {block.where}: class map accepted by `{command}`  ({outcome.seconds:.2f} s)", flush=True)

    def check_file_block(self, block: Block) -> None:
        shown = "\n".join(block.lines) + "\n"
        path = Path(self.args.source_dir) / block.info.removeprefix("file ").strip()
        self.ran += 1
        if not path.is_file():
            self.failures.append(f"{block.where}: ```{block.info}: there is no such file")
            print(f"FAIL {block.where}: ```{block.info}: there is no such file", flush=True)
        elif path.read_text() != shown:
            self.failures.append(f"{block.where}: the block differs from {path.name}: copy the file into it")
            print(f"FAIL {block.where}: the block differs from {path}", flush=True)
        else:
            print(f"ok   {block.where}: the block is {path.name} as it is", flush=True)

    def run_all(self, blocks: list[Block], commands: dict[int, list[Command]]) -> None:
        previous: dict[str, Path] = {}  # per file: the directory of its last block
        cpp_index = 0
        for i, block in enumerate(blocks):
            if block.info == "text":
                continue
            if block.info.startswith("file "):
                self.check_file_block(block)
                continue
            if block.info == "python":
                cwd = previous.get(block.file) or self.fresh_dir(block)
                self.run_python(block, cwd)
            elif block.info == "cpp":
                cwd = self.fresh_dir(block)
                self.run_cpp(block, cpp_index, cwd)
                cpp_index += 1
            elif block.info == "json class-map":
                cwd = self.fresh_dir(block)
                self.run_class_map(block, cwd)
            elif block.info == "sh session":
                cwd = self.fresh_dir(block)
                self.run_session(block, cwd)
            else:
                cwd = self.fresh_dir(block)
                self.run_sh(block, commands[i], cwd)
            previous[block.file] = cwd


# ---------------------------------------------------------------------------------------------------
# The C++ recipes as one program (written at build time by --write-cpp)

def cpp_source(blocks: list[Block], source_dir: Path) -> str:
    includes, bodies, table = [], [], []
    for n, b in enumerate(b for b in blocks if b.info == "cpp"):
        path = (source_dir / b.file).as_posix()
        body = []
        for k, line in enumerate(b.lines):
            if line.lstrip().startswith("#include"):
                includes += [f'#line {b.line + 1 + k} "{path}"', line]
                body.append("")  # keeps the body's line numbers
            else:
                body.append(line)
        bodies += [f"boost::asio::awaitable<void> recipe_{n}(boost::asio::any_io_executor executor) {{",
                   f'#line {b.line + 1} "{path}"', *body, "  co_return;", "}", ""]
        table.append(f'    recipe_{n},  // {b.where}')
    return "\n".join([
        "// Written by tests/docs/run_recipes.py --write-cpp from the ```cpp blocks of README.md and docs/*.md.",
        "// Each block: its #include lines first, the rest the body of a coroutine; `recipes N` runs block N.",
        *includes,
        '#line 1 "cpp_recipes.cpp (generated)"',
        "#include <boost/asio/any_io_executor.hpp>",
        "#include <boost/asio/awaitable.hpp>",
        "",
        *bodies,
        "#include <boost/asio/co_spawn.hpp>",
        "#include <boost/asio/io_context.hpp>",
        "#include <cstdio>",
        "#include <cstdlib>",
        "#include <exception>",
        "",
        "int main(int argc, char** argv) {",
        "  boost::asio::awaitable<void> (*const recipes[])(boost::asio::any_io_executor) = {",
        *table,
        "      nullptr};",
        "  const int n = argc == 2 ? std::atoi(argv[1]) : -1;",
        "  if (n < 0 || n >= int(sizeof recipes / sizeof recipes[0]) - 1) return 2;",
        "  try {",
        "    boost::asio::io_context io;",
        "    boost::asio::co_spawn(io, recipes[n](io.get_executor()), [](std::exception_ptr e) {",
        "      if (e) std::rethrow_exception(e);",
        "    });",
        "    io.run();",
        "  } catch (const std::exception& e) {",
        '    std::fprintf(stderr, "recipe %d threw: %s\\n", n, e.what());',
        "    return 1;",
        "  }",
        "  return 0;",
        "}",
        ""])


# ---------------------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source-dir", default=str(REPO), help="the checkout whose README.md and docs/*.md are run")
    p.add_argument("--maskscan", help="the built maskscan (put first on PATH as `maskscan`)")
    p.add_argument("--tests-binary", help="the built maskscan_tests (docs/robustness.md runs it)")
    p.add_argument("--data", default=str(REPO.parent / "shared/data"), help="the test data root")
    p.add_argument("--work", help="scratch directory (emptied first, kept afterwards for a look)")
    p.add_argument("--python", default="/usr/bin/python3", help="runs the python blocks")
    p.add_argument("--pythonpath", help="the build's python/ directory (the maskscan package the python blocks import)")
    p.add_argument("--cmake", default="cmake")
    p.add_argument("--cpp-build", nargs=2, metavar=("BUILD_DIR", "TARGET"), help="builds the cpp recipes")
    p.add_argument("--cpp-program", help="the program --cpp-build makes")
    p.add_argument("--write-cpp", metavar="FILE", help="only write the cpp blocks as one program to FILE")
    p.add_argument("--list", action="store_true", help="only list the blocks and how each is treated")
    args = p.parse_args()
    source_dir = Path(args.source_dir).resolve()

    try:
        blocks = [b for f in doc_files(source_dir) for b in read_blocks(f, source_dir)]
        check_kinds(blocks)
        used: set[tuple[str, str]] = set()
        commands = {i: commands_of(b, used) for i, b in enumerate(blocks) if b.info == "sh"}
        stale = sorted(set(NOT_AS_WRITTEN) - used)
        if stale:
            raise RecipeFailure("NOT_AS_WRITTEN names lines the docs do not have (any more): update it:\n"
                                + "\n".join(f"  {f}: {t}" for f, t in stale))
    except RecipeFailure as e:
        print(f"FAIL {e}", flush=True)
        return 1

    if args.write_cpp:
        text = cpp_source(blocks, source_dir)
        out = Path(args.write_cpp)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.is_file() or out.read_text() != text:  # unchanged: no rebuild
            out.write_text(text)
        return 0
    if args.list:
        for i, b in enumerate(blocks):
            print(f"{b.where}  {b.info}")
            for c in commands.get(i, []):
                run = "skipped" if c.run is None else ("as written" if c.run == c.text else f"runs: {c.run}")
                print(f"    :{c.line}  {c.text}  [exit {c.expected}{', Ctrl-C' if c.interrupt else ''}; {run}]")
        return 0
    if not args.maskscan or not args.work:
        p.error("--maskscan and --work are needed to run the recipes")

    for name in ("maskscan", "tests_binary", "cpp_program"):  # the recipes run in other directories
        if getattr(args, name):
            setattr(args, name, str(Path(getattr(args, name)).resolve()))
    runner = Runner(args)
    start = time.monotonic()
    shutil.rmtree(runner.work, ignore_errors=True)
    (runner.work / "bin").mkdir(parents=True)
    (runner.work / "blocks").mkdir()
    (runner.work / "bin/maskscan").symlink_to(args.maskscan)
    try:
        make_fixture(runner.fixture, args.maskscan, args.tests_binary or "/nonexistent", Path(args.data))
    except RecipeFailure as e:
        print(f"FAIL {e}", flush=True)
        return 1
    runner.run_all(blocks, commands)
    counted = (f"{len(blocks)} code blocks in {len(doc_files(source_dir))} files; {runner.ran} recipes run, "
               f"{runner.skipped} skipped (NOT_AS_WRITTEN), in {time.monotonic() - start:.1f} s; scratch: {runner.work}")
    if runner.failures:
        print(f"\n{len(runner.failures)} recipe(s) FAILED ({counted}):")
        for f in runner.failures:
            print(f"  {f}")
        return 1
    print(f"\nevery recipe ran as documented ({counted})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
