"""maskscan.tune: the library's tune from Python, its keywords checked, and a scan with the setting it
chooses equal to the default scan (every statistic is the same at every concurrency setting)."""
import subprocess

import numpy as np
import pytest

import maskscan


@pytest.fixture(scope="module")
def masks(tmp_path_factory, cli):
    root = tmp_path_factory.mktemp("tune") / "masks"
    subprocess.run([cli, "synth", str(root), "--frames", "40", "--width", "96", "--height", "72"], check=True,
                   capture_output=True)
    return root


QUICK = dict(sample=10, budget_seconds=3, min_trial_seconds=0.02, repeats=1)


def test_tune_returns_the_cli_json_and_its_best_setting_scans_the_same(masks):
    result = maskscan.tune(masks, heatmaps=True, **QUICK)
    assert set(result["best"]) == {"workers", "io_depth", "queue_depth", "io"}
    assert result["bottleneck"] in ("decode-bound", "read-bound", "memory-bound")
    assert result["sample_frames"] == 10 and result["source_frames"] == 40
    assert result["trials"][0]["step"] in ("warm-up", "start")
    assert all(t["frames"] == 10 * t["passes"] for t in result["trials"] if not t["refused"])
    tuned = maskscan.scan(masks, heatmaps=True, **result["best"])
    default = maskscan.scan(masks, heatmaps=True)
    assert np.array_equal(tuned.pixels, default.pixels)
    assert tuned.frames_present.tolist() == default.frames_present.tolist()
    assert all(np.array_equal(tuned.heatmaps[k], default.heatmaps[k]) for k in default.heatmaps)


def test_a_concurrency_keyword_given_is_held(masks):
    result = maskscan.tune(masks, workers=1, io="threads", **QUICK)
    assert {t["settings"]["workers"] for t in result["trials"]} == {1}
    assert {t["settings"]["io"] for t in result["trials"]} == {"threads"}
    assert result["best"]["workers"] == 1 and result["best"]["io"] == "threads"


def test_bad_keywords_are_refused_before_any_scan(masks):
    with pytest.raises(ValueError, match="sample"):
        maskscan.tune(masks, sample=0)
    with pytest.raises(ValueError, match="out"):
        maskscan.tune(masks, out="x", **QUICK)
    with pytest.raises(ValueError, match="components"):
        maskscan.tune(masks, components=5, **QUICK)
