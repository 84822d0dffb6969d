"""`mpirun -n K maskscan scan DIR --mpi`: the outputs of K ranks are those of one process, byte for byte.

Run by ctest (mpi_scan, in a build with MASKSCAN_WITH_MPI), or:
    MASKSCAN_CLI=build/src/maskscan /usr/bin/python3 -m pytest -q tests/mpi/test_mpi_scan.py
K = 1..4 on 2 cores: mpirun --oversubscribe. CI runs as root, which OpenMPI refuses unless
OMPI_ALLOW_RUN_AS_ROOT and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM are set: this file sets them.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("MASKSCAN_CLI", REPO / "build" / "src" / "maskscan")).resolve()
DATA = Path(os.environ.get("MASKSCAN_TEST_DATA", REPO.parent / "shared" / "data"))
MPIRUN = shutil.which("mpirun")
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
       # No network interfaces to probe on a CI machine: the ranks talk through shared memory.
       "OMPI_MCA_btl": "self,vader", "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
# Every statistic: groups, heatmaps per size, a grid, components.
STATS = ["--heatmaps", "--heatmap-grid", "16x12", "--components", "8", "--group-by", r"_(FV|RV|MVL|MVR)\.png$",
         "--labels", "woodscape", "--no-progress"]

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun (openmpi-bin): scripts/install-deps.sh installs it")


def mpirun(k: int, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([MPIRUN, "--oversubscribe", "-n", str(k), str(CLI), *args], env=ENV, capture_output=True,
                          text=True, timeout=300, **kw)
    if check:
        assert done.returncode == 0, f"mpirun -n {k} {args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def scan(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(CLI), "scan", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, f"scan {args}: exit {done.returncode}\n{done.stderr}"
    return done


def files_below(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def numbers(summary: Path) -> dict:
    doc = json.loads(summary.read_text())
    for key in ("input", "options", "timing", "io_backend"):
        doc.pop(key)
    return doc


def same_outputs(one: Path, other: Path) -> None:
    names = files_below(one)
    assert names == files_below(other)
    assert any(n.startswith("groups/") for n in names) or not (one / "groups").exists()
    for name in names:
        if name.endswith("summary.json"):
            assert numbers(one / name) == numbers(other / name), name
        else:
            assert (one / name).read_bytes() == (other / name).read_bytes(), name


@pytest.fixture(scope="module")
def masks(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("mpi") / "masks"
    subprocess.run([str(CLI), "synth", str(d), "--frames", "48", "--width", "96", "--height", "72", "--seed", "5"],
                   check=True, capture_output=True)
    return d


@pytest.fixture(scope="module")
def one_process(masks: Path) -> Path:
    out = masks.parent / "one"
    scan(str(masks), *STATS, "--out", str(out), "--save-state", str(masks.parent / "one.state"))
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_k_ranks_write_the_outputs_of_one_process(masks: Path, one_process: Path, tmp_path: Path, k: int) -> None:
    done = mpirun(k, "scan", str(masks), "--mpi", *STATS, "--out", str(tmp_path / "out"), "--save-state",
                  str(tmp_path / "mpi.state"))
    assert f"{k} rank{'s' if k > 1 else ''} scan{'' if k > 1 else 's'} 48 frames, one shard each" in done.stderr
    assert done.stdout.count("48 frames scanned") == 1  # rank 0 alone says how it went
    same_outputs(one_process, tmp_path / "out")
    assert (tmp_path / "mpi.state").read_bytes() == (one_process.parent / "one.state").read_bytes()


def test_frames_of_many_sizes_and_classes_from_values_reduce_exactly(tmp_path: Path) -> None:
    # ADE20K: frames of many sizes, so each rank has heatmap sets the others lack; no class map, so
    # the ranks' class lists (the values each found) differ in length before they are widened.
    ade = DATA / "real" / "gray8_ids" / "ade20k_sceneparsing"
    args = [str(ade), "--heatmaps", "--heatmap-grid", "8x8", "--no-progress"]
    scan(*args, "--out", str(tmp_path / "one"), "--save-state", str(tmp_path / "one.state"))
    assert len(list((tmp_path / "one").glob("heatmaps_*.npy"))) > 3
    mpirun(3, "scan", *args, "--mpi", "--out", str(tmp_path / "three"), "--save-state", str(tmp_path / "three.state"))
    same_outputs(tmp_path / "one", tmp_path / "three")
    assert (tmp_path / "three.state").read_bytes() == (tmp_path / "one.state").read_bytes()


def test_progress_of_every_rank_is_one_line_on_rank_0(masks: Path, tmp_path: Path) -> None:
    done = mpirun(3, "scan", str(masks), "--mpi", "--labels", "woodscape", "--progress")
    lines = [line for line in done.stderr.replace("\r", "\n").splitlines() if "frames" in line and "/" in line]
    assert lines, done.stderr
    assert "48/48 frames" in lines[-1]  # the ranks' counts summed
    assert all("/48 frames" in line for line in lines)


def test_a_failing_rank_is_named_and_nothing_is_written(masks: Path, tmp_path: Path) -> None:
    # Only rank 0 gets standard input under mpirun: the other ranks' lists are empty.
    listing = "\n".join(p.name for p in sorted(masks.glob("*.png"))) + "\n"
    done = mpirun(2, "scan", "--files-from", "-", "--root", str(masks), "--mpi", "--no-progress", "--out",
                  str(tmp_path / "out"), check=False, input=listing)
    assert done.returncode != 0
    assert "maskscan: rank 1: " in done.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """1,600 full-size frames, seconds of decoding with spng on one worker: 8 masks under 200 names each
    (hard links)."""
    work = tmp_path_factory.mktemp("big")
    few, big = work / "few", work / "big"
    subprocess.run([str(CLI), "synth", str(few), "--frames", "8"], check=True, capture_output=True)
    big.mkdir()
    for n, mask in enumerate(sorted(few.glob("*.png"))):
        for copy in range(200):
            os.link(mask, big / f"{copy:03d}_{n}_{mask.name}")
    return big


def test_a_rank_that_dies_ends_the_job_with_its_rank_named_and_no_output(big: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rank_2_dies = (f'if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then {CLI} scan {big} --mpi --heatmaps --workers 1 '
                   f'--decoder spng --no-progress & p=$!; sleep 0.5; kill -9 $p; wait $p; '
                   f'else exec {CLI} scan {big} --mpi --heatmaps --workers 1 --decoder spng --no-progress --out {out}; fi')
    done = subprocess.run([MPIRUN, "--oversubscribe", "-n", "3", "sh", "-c", rank_2_dies], env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert ",2]" in done.stderr or "rank 2" in done.stderr, done.stderr  # mpirun names the process
    assert not (out / "summary.json").exists()


def interrupt_when_scanning(big: Path, args: list[str], sig: int) -> str:
    """Runs mpirun -n 2 with `args` and --progress; once rank 0's progress line shows frames done, sends
    mpirun `sig`. Returns its stderr."""
    run = subprocess.Popen([MPIRUN, "--oversubscribe", "-n", "2", str(CLI), *args, "--progress"], env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = b""
    deadline = time.monotonic() + 60
    while not re.search(rb"\] +[1-9][0-9]*/1600 frames", err) and time.monotonic() < deadline:
        ready, _, _ = select.select([run.stderr], [], [], 1)
        if ready:
            err += os.read(run.stderr.fileno(), 4096)
    run.send_signal(sig)
    _, rest = run.communicate(timeout=120)
    return (err + rest).decode()


def test_sigusr1_to_mpirun_writes_the_partial_result_and_resume_with_other_k_completes_it(big: Path,
                                                                                         tmp_path: Path) -> None:
    args = ["scan", str(big), "--mpi", "--heatmaps", "--workers", "1", "--decoder", "spng"]
    state, out = tmp_path / "run.state", tmp_path / "out"
    # mpirun passes SIGUSR1 on to every rank: each stops as a scan of one process does at Ctrl-C.
    err = interrupt_when_scanning(big, [*args, "--out", str(out), "--save-state", str(state)], signal.SIGUSR1)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"], err
    assert 0 < summary["frames_scanned"] < 1600
    assert "interrupted after" in err and f"--resume {state}" in err
    assert "mpirun kills the ranks" not in err
    mpirun(3, *args, "--no-progress", "--out", str(out), "--save-state", str(state), "--resume", str(state), "--force")
    scan(str(big), "--heatmaps", "--no-progress", "--save-state", str(tmp_path / "one.state"))
    assert state.read_bytes() == (tmp_path / "one.state").read_bytes()
    assert not json.loads((out / "summary.json").read_text())["partial"]


def test_ctrl_c_says_that_mpirun_may_kill_the_ranks_before_the_results_are_written(big: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    err = interrupt_when_scanning(big, ["scan", str(big), "--mpi", "--heatmaps", "--workers", "1", "--decoder", "spng",
                                        "--out", str(out)], signal.SIGINT)
    assert "mpirun kills the ranks 1 s after it asks them to stop" in err, err
    assert "send mpirun SIGUSR1" in err
    # Killed or not in time, never half-written: a summary.json, if any, is a whole partial one.
    if (out / "summary.json").exists():
        assert json.loads((out / "summary.json").read_text())["partial"]


def test_refusals(masks: Path, tmp_path: Path) -> None:
    both = mpirun(2, "scan", str(masks), "--mpi", "--shard", "0/2", check=False)
    assert both.returncode == 2 and "--shard excludes --mpi" in both.stderr
    strict = mpirun(2, "scan", str(masks), "--mpi", "--strict", check=False)
    assert strict.returncode == 2 and "--strict: not with --mpi" in strict.stderr
    assert strict.stderr.count("--strict: not with --mpi") == 1  # said once, by rank 0
    # A shard's state is continued as that shard, not by ranks: refused before any rank scans.
    scan(str(masks), "--no-progress", "--shard", "0/2", "--save-state", str(tmp_path / "shard.state"))
    resumed = mpirun(2, "scan", str(masks), "--mpi", "--no-progress", "--resume", str(tmp_path / "shard.state"),
                     check=False)
    assert resumed.returncode == 1
    assert "it holds shard 0 of 2: continue it with that --shard, without --mpi" in resumed.stderr
    assert "scan" not in resumed.stdout
