"""The job-array examples of docs/scale-out.md (docs/scale-out/*), run as each scheduler runs them.

Each scheduler's shard job runs once per task, here one after another, with the variables the
scheduler sets for that task (Slurm's SLURM_ARRAY_TASK_*, a Kubernetes Indexed Job's
JOB_COMPLETION_INDEX, AWS Batch's AWS_BATCH_JOB_ARRAY_INDEX) and nothing else of this machine's
environment; then its merge job. The merged results must be those of one `maskscan scan` of the
same masks with the same flags, file for file. The commands are taken from the files as written:
the Slurm scripts run with bash, the container commands are read from the YAML and JSON (their
/dataset folder is this test's scratch folder).

    MASKSCAN_CLI=build/src/maskscan /usr/bin/python3 -m pytest -q tests/docs/test_scale_out_examples.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "scale-out"
CLI = Path(os.environ.get("MASKSCAN_CLI", REPO / "build" / "src" / "maskscan")).resolve()


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    full = {"PATH": f"{CLI.parent}:/usr/bin:/bin", "HOME": str(cwd), **env}
    done = subprocess.run(argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{argv} {env}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def one_pass(tmp_path_factory) -> Path:
    """The masks, and one scan of them with the examples' flags."""
    work = tmp_path_factory.mktemp("one_pass")
    subprocess.run([str(CLI), "synth", str(work / "masks"), "--frames", "90", "--width", "48", "--height", "36",
                    "--seed", "7"], check=True, capture_output=True)
    subprocess.run([str(CLI), "scan", str(work / "masks"), "--labels", "woodscape", "--heatmaps", "--no-progress",
                    "--out", str(work / "one")], check=True, capture_output=True)
    return work


def dataset(one_pass: Path, tmp_path: Path) -> Path:
    """A scratch /dataset holding the masks (a copy: the jobs write beside them)."""
    subprocess.run(["cp", "-r", str(one_pass / "masks"), str(tmp_path / "masks")], check=True)
    return tmp_path


def check_results(one_pass: Path, results: Path) -> None:
    names = sorted(p.name for p in (one_pass / "one").iterdir())
    assert names == sorted(p.name for p in results.iterdir())
    for name in names:
        if name == "summary.json":
            ours, theirs = (json.loads((d / name).read_text()) for d in (one_pass / "one", results))
            for key in ("input", "options", "timing", "io_backend"):
                ours.pop(key), theirs.pop(key)
            assert ours == theirs
        else:
            assert (one_pass / "one" / name).read_bytes() == (results / name).read_bytes(), name


def container_command(manifest: Path) -> list[str]:
    doc = yaml.safe_load(manifest.read_text())
    container = doc["spec"]["template"]["spec"]["containers"][0]
    assert container["workingDir"] == "/dataset"
    return container["command"] + container["args"]


def test_slurm_array_and_dependent_merge(one_pass: Path, tmp_path: Path) -> None:
    work = dataset(one_pass, tmp_path)
    script = (EXAMPLES / "slurm-shards.sh").read_text()
    tasks = re.search(r"--array=(\d+)-(\d+)", script)
    first, last = int(tasks[1]), int(tasks[2])
    assert (first, last) == (0, 63)
    for task in range(first, last + 1):
        run(["bash", str(EXAMPLES / "slurm-shards.sh")], work,
            {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": str(first),
             "SLURM_ARRAY_TASK_MAX": str(last), "SLURM_ARRAY_TASK_COUNT": str(last - first + 1)})
    assert len(list((work / "states").iterdir())) == 64
    run(["bash", str(EXAMPLES / "slurm-merge.sh")], work, {})
    check_results(one_pass, work / "results")


def test_kubernetes_indexed_job_and_merge_job(one_pass: Path, tmp_path: Path) -> None:
    work = dataset(one_pass, tmp_path)
    job = yaml.safe_load((EXAMPLES / "k8s-indexed-job.yaml").read_text())
    assert job["spec"]["completionMode"] == "Indexed"
    completions = job["spec"]["completions"]
    command = container_command(EXAMPLES / "k8s-indexed-job.yaml")
    assert f"--shard-count {completions}" in command[-1]
    for index in range(completions):
        run(command, work, {"JOB_COMPLETION_INDEX": str(index)})
    run(container_command(EXAMPLES / "k8s-merge-job.yaml"), work, {})
    check_results(one_pass, work / "results")


def test_aws_batch_array_job_and_dependent_merge(one_pass: Path, tmp_path: Path) -> None:
    work = dataset(one_pass, tmp_path)
    array = json.loads((EXAMPLES / "aws-batch-array.json").read_text())
    size = array["arrayProperties"]["size"]
    command = [part.replace("/dataset", str(work)) for part in array["containerOverrides"]["command"]]
    assert f"--shard-count {size}" in command[-1]
    for index in range(size):
        run(command, work, {"AWS_BATCH_JOB_ARRAY_INDEX": str(index)})
    merge = json.loads((EXAMPLES / "aws-batch-merge.json").read_text())
    run([part.replace("/dataset", str(work)) for part in merge["containerOverrides"]["command"]], work, {})
    check_results(one_pass, work / "results")


def test_a_missing_task_fails_the_merge_naming_the_shard(one_pass: Path, tmp_path: Path) -> None:
    work = dataset(one_pass, tmp_path)
    for task in (0, 2):
        run(["bash", str(EXAMPLES / "slurm-shards.sh")], work,
            {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "2",
             "SLURM_ARRAY_TASK_COUNT": "3"})
    done = subprocess.run(["bash", str(EXAMPLES / "slurm-merge.sh")], cwd=work, capture_output=True, text=True,
                          env={"PATH": f"{CLI.parent}:/usr/bin:/bin"})
    assert done.returncode == 1
    assert "shard 1 of 3 missing" in done.stderr
    assert not (work / "results").exists()
