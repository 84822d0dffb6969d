"""maskscan.scan against independent truth: the expected counts of the real masks (counted with
another decoder when the data was collected), the CLI's own outputs of the same scan, and a numpy
count of the decoded masks for the heatmaps."""
import gc
import os
import shutil
import json
import subprocess

import numpy as np
import pytest

import maskscan


def test_counts_match_the_expected_counts_of_real_masks(data):
    folder = data / "real" / "gray8_ids"
    expected = json.loads((folder / "expected_counts.json").read_text())
    r = maskscan.scan(folder)  # no class map: the classes are the values found
    frames = r.frames
    assert len(frames) == len(expected)
    assert set(frames["path"]) == set(expected)
    for path, counts in expected.items():
        row = frames[frames["path"] == path].iloc[0]
        beyond = 0  # values with no class column (classes are the values below 1024): out of range
        for value, pixels in counts.items():
            column = f"pixels_class_{value}"
            if column in frames.columns:
                assert row[column] == pixels, (path, value)
            else:
                beyond += pixels
        assert row["out_of_range"] == beyond, path
        assert sum(counts.values()) == row["width"] * row["height"], path
    # The totals are the sums of the rows.
    per_class = np.array([frames[f"pixels_{n}"].sum() for n in r.class_names], dtype=np.uint64)
    np.testing.assert_array_equal(r.pixels, per_class)
    present = np.array([(frames[f"pixels_{n}"] > 0).sum() for n in r.class_names], dtype=np.uint64)
    np.testing.assert_array_equal(r.frames_present, present)
    assert r.pixels.dtype == np.uint64 and r.frames_present.dtype == np.uint64


def test_heatmaps_equal_a_numpy_count_of_the_decoded_masks(camvid):
    from PIL import Image
    r = maskscan.scan(camvid, labels="camvid11", heatmaps=True)
    (size, heat), = r.heatmaps.items()
    assert size == (480, 360) and heat.shape == (len(r.class_names), 360, 480) and heat.dtype == np.uint32
    masks = np.stack([np.asarray(Image.open(camvid / p)) for p in r.frame_paths])
    for c in range(len(r.class_names)):
        np.testing.assert_array_equal(heat[c], (masks == c).sum(axis=0), err_msg=r.class_names[c])


def test_arrays_are_views_of_the_library_memory_and_outlive_the_result(camvid):
    r = maskscan.scan(camvid, labels="camvid11", heatmaps=True)
    heat = r.heatmaps[(480, 360)]
    assert not heat.flags.owndata and not heat.flags.writeable
    assert type(heat.base).__name__ == "PyCapsule"  # the owner of the C++ buffer, not a copy
    again = r.heatmaps[(480, 360)]
    assert np.shares_memory(heat, again)
    total = int(heat.sum(dtype=np.uint64))
    pixels = r.pixels
    del r, again
    gc.collect()
    litter = [np.full(heat.size, 7, dtype=np.uint32) for _ in range(4)]  # would reuse freed memory
    assert int(heat.sum(dtype=np.uint64)) == total  # still valid: the capsule keeps the buffer
    del litter
    assert int(pixels.sum()) > 0


def test_the_same_files_as_the_cli(camvid, cli, tmp_path):
    options = dict(labels="camvid11", heatmaps=True, repeat_threshold=0.5, group_by=r"0016E5_0(79|80)")
    out_cli, out_py = tmp_path / "cli", tmp_path / "py"
    subprocess.run([cli, "scan", str(camvid), "--labels", "camvid11", "--heatmaps", "--repeat-threshold", "0.5",
                    "--group-by", r"0016E5_0(79|80)", "--out", str(out_cli), "--no-progress"],
                   check=True, stdout=subprocess.DEVNULL)
    r = maskscan.scan(camvid, out=out_py, **options)
    for name in ("frames.csv", "weights.csv", "cooccurrence.csv", "heatmaps_480x360.npy",
                 "groups/79/frames.csv", "groups/80/heatmaps_480x360.npy"):
        assert (out_py / name).read_bytes() == (out_cli / name).read_bytes(), name
    a, b = json.loads((out_py / "summary.json").read_text()), json.loads((out_cli / "summary.json").read_text())
    for s in (a, b):
        s.pop("timing")
        s.pop("io_backend")
    assert a == b
    assert r.frames.shape[0] == 101
    # The in-memory forms are those files.
    assert r.to_json() == (out_py / "summary.json").read_text()  # the content of the file, grouped or not
    np.testing.assert_array_equal(r.heatmaps[(480, 360)], np.load(out_cli / "heatmaps_480x360.npy"))
    np.testing.assert_array_equal(r.group("79").heatmaps[(480, 360)],
                                  np.load(out_cli / "groups" / "79" / "heatmaps_480x360.npy"))
    assert r.groups == ["79", "80", "unmatched"]


@pytest.mark.parametrize("concurrency", [dict(serial=True), dict(workers=1, io_depth=1, queue_depth=1),
                                         dict(workers=3, io_depth=8, queue_depth=5, io="threads"),
                                         dict(decoder="spng")])
def test_every_concurrency_setting_gives_the_same_statistics(camvid, concurrency):
    base = maskscan.scan(camvid, labels="camvid11", heatmaps=True)
    other = maskscan.scan(camvid, labels="camvid11", heatmaps=True, **concurrency)
    assert other._core.frames_csv() == base._core.frames_csv()
    np.testing.assert_array_equal(other.heatmaps[(480, 360)], base.heatmaps[(480, 360)])


def test_weights_are_float32_with_nan_for_ignored_and_absent_classes(camvid):
    r = maskscan.scan(camvid, labels="camvid11")
    table = r.weights_table()
    for kind in maskscan.WEIGHT_KINDS:
        w = r.weights(kind)
        assert w.dtype == np.float32 and w.shape == (len(r.class_names),)
    # The weights are weights.csv's numbers (an independent reading: the CSV the library writes).
    rows = [line.split(",") for line in r._core.weights_csv().splitlines()]
    header = rows[0]
    for row in rows[1:]:
        c = int(row[0])
        for kind in maskscan.WEIGHT_KINDS:
            cell = row[header.index(kind)]
            got = r.weights(kind)[c]
            assert (np.isnan(got) and cell == "") or got == np.float32(float(cell)), (kind, c)
    assert table["ignored"].dtype == bool
    with pytest.raises(ValueError, match="unknown kind"):
        r.weights("nope")
    with pytest.raises(ValueError, match="enet_c"):
        r.weights("enet", enet_c=0.5)


def test_bad_files_are_errors_of_the_result_never_exceptions(data, tmp_path):
    for p in (data / "pngsuite").glob("x*.png"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "good.png").write_bytes((data / "real" / "gray8_ids" / "camvid_segnet" / "0016E5_07959.png").read_bytes())
    r = maskscan.scan(tmp_path)
    assert r.totals["frames"] == 1 and r.totals["skipped"] == len(r.errors) > 5
    assert all(e.code and e.message and e.path.startswith("x") for e in r.errors)


@pytest.mark.parametrize("options, error, match", [
    (dict(workers=5000), ValueError, "workers"),
    (dict(labels="no-such-map"), ValueError, "labels"),
    (dict(components=5), ValueError, "components"),
    (dict(heatmap_grid="64by48"), ValueError, "64by48"),
    (dict(io="fast"), ValueError, "io 'fast'"),
    (dict(workers="2"), TypeError, "workers"),
    (dict(heatmaps=1), TypeError, "heatmaps"),
    (dict(unknown_option=1), ValueError, "unknown option 'unknown_option'"),
    (dict(num_classes=3, labels="camvid11"), ValueError, "num_classes"),
    (dict(remap="cityscapes-train", labels="camvid11"), ValueError, "remap cityscapes-train maps"),
    (dict(max_memory="lots"), ValueError, "max_memory"),
    (dict(max_memory="1MB", heatmaps=True), ValueError, "max_memory"),
    (dict(enet_c=1.0), ValueError, "enet_c"),
    (dict(report=True), ValueError, "out=DIR"),
    (dict(io_depth=0), ValueError, "io_depth 0"),
    (dict(queue_depth=0), ValueError, "queue_depth 0"),
    (dict(num_classes=0), ValueError, "num_classes 0"),
    (dict(class_names=[]), ValueError, "class_names"),
    (dict(min_component_pixels=0, components=4), ValueError, "min_component_pixels 0"),
    (dict(max_pixels="1M"), TypeError, "max_pixels"),
    (dict(report=True, colormap="jet"), ValueError, "colormap 'jet'"),
    (dict(report=True, overlays=99), ValueError, "overlays 99"),
    (dict(report=True, overlay_alpha=2.0), ValueError, "overlay_alpha"),
    (dict(report=True, rgb_dir="/no/such/dir"), ValueError, "rgb_dir"),
    (dict(colormap="magma"), ValueError, "an option of the report"),
    (dict(save_state="/no/such/dir/x.state"), ValueError, "its folder does not exist"),
])
def test_bad_options_raise_before_anything_is_read_or_written(camvid, tmp_path, options, error, match):
    with pytest.raises(error, match=match):
        out = None if options.get("report") and "colormap" not in options and len(options) == 1 else tmp_path / "out"
        maskscan.scan(camvid, out=out, **options)
    assert not (tmp_path / "out").exists()


def test_missing_input_and_an_out_with_results_are_refused(camvid, tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        maskscan.scan(tmp_path / "nothing-here")
    with pytest.raises(ValueError, match="no \\*.png"):
        maskscan.scan(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        maskscan.scan(camvid, out=tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_progress_callback_runs_on_the_calling_thread_with_the_gil(camvid):
    import threading
    seen = []
    caller = threading.get_ident()

    def progress(p):
        assert threading.get_ident() == caller
        seen.append(p)

    r = maskscan.scan(camvid, progress=progress, workers=1)
    assert seen and seen[-1].frames_done == seen[-1].frames_total == 101 == r.totals["frames"]
    assert all(isinstance(p, maskscan.Progress) for p in seen)


def test_progress_bar_writes_to_stderr(camvid, capsys):
    maskscan.scan(camvid, progress=True)
    assert "101" in capsys.readouterr().err


def test_state_files_and_merges_give_the_result_of_one_scan(camvid, tmp_path):
    paths = sorted(p.name for p in camvid.glob("*.png"))
    (tmp_path / "a.txt").write_text("\n".join(paths[:40]) + "\n")
    (tmp_path / "b.txt").write_text("\n".join(paths[40:]) + "\n")
    common = dict(labels="camvid11", heatmaps=True)
    whole = maskscan.scan(camvid, **common)
    a = maskscan.scan(files_from=tmp_path / "a.txt", root=camvid, **common)
    b = maskscan.scan(files_from=tmp_path / "b.txt", root=camvid, save_state=tmp_path / "b.state", **common)
    loaded = maskscan.load_state(tmp_path / "b.state")
    assert loaded._core.frames_csv() == b._core.frames_csv()
    merged = maskscan.merge(a, loaded)
    assert merged._core.frames_csv() == whole._core.frames_csv()
    np.testing.assert_array_equal(merged.heatmaps[(480, 360)], whole.heatmaps[(480, 360)])
    with pytest.raises(maskscan.DuplicateFrame):
        maskscan.merge(a, a)
    with pytest.raises(ValueError):
        maskscan.merge(a, maskscan.scan(files_from=tmp_path / "b.txt", root=camvid))  # heatmaps differ
    a.save_state(tmp_path / "a.state")
    assert maskscan.load_state(tmp_path / "a.state")._core.frames_csv() == a._core.frames_csv()


def test_shards_merge_into_the_result_of_one_scan(camvid, monkeypatch):
    common = dict(labels="camvid11", heatmaps=True)
    whole = maskscan.scan(camvid, **common)
    assert whole.shards is None
    shards = [maskscan.scan(camvid, shard=f"{i}/3", **common) for i in range(3)]
    assert [s.shards for s in shards] == [{"count": 3, "held": [i]} for i in range(3)]
    assert sum(s.totals["frames"] for s in shards) == whole.totals["frames"]
    part = maskscan.merge(shards[0], shards[2])
    assert part.shards == {"count": 3, "held": [0, 2]}  # a part, and it says so
    merged = maskscan.merge(part, shards[1])
    assert merged.shards is None
    assert merged._core.frames_csv() == whole._core.frames_csv()
    np.testing.assert_array_equal(merged.heatmaps[(480, 360)], whole.heatmaps[(480, 360)])
    with pytest.raises(ValueError, match="shard 1 of 3"):
        maskscan.merge(shards[1], merged)  # a shard and a whole scan
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")
    assert maskscan.scan(camvid, shard="auto", shard_count=3, **common)._core.frames_csv() == \
        shards[1]._core.frames_csv()
    with pytest.raises(ValueError, match="shard-count|shard_count"):
        maskscan.scan(camvid, shard="auto", **common)
    with pytest.raises(ValueError, match="shard 3/3.*the index below it"):
        maskscan.scan(camvid, shard=(3, 3))


def test_every_flag_of_maskscan_scan_is_a_keyword(cli, camvid, tmp_path):
    import re
    help_text = subprocess.run([cli, "scan", "--help"], capture_output=True, text=True, check=True).stdout
    flags = sorted(set(re.findall(r"^\s+(?:-\w,)?--([a-z0-9-]+)", help_text, re.M)) - {"help"})
    assert len(flags) > 35
    for flag in flags:
        keyword = flag.replace("-", "_")
        # The report's options are checked by the library only with a report to write.
        extra = dict(report=True, out=tmp_path / "out") if keyword in ("colormap", "rgb_dir", "overlays",
                                                                       "overlay_alpha") else {}
        with pytest.raises((TypeError, ValueError)) as info:  # a value of no option's type
            maskscan.scan(camvid, **{keyword: object()}, **extra)
        assert "unknown option" not in str(info.value) and "an option of the report" not in str(info.value), flag
        assert keyword in str(info.value) or flag == "progress", (flag, str(info.value))


def test_options_mean_what_the_cli_s_flags_mean(camvid, cli, tmp_path):
    flags = ["--workers", "1", "--io-depth", "3", "--queue-depth", "7", "--io", "threads", "--decoder", "spng",
             "--components", "8", "--min-component-pixels", "4", "--ignore", "3", "--heatmap-grid", "8x6",
             "--max-pixels", "10000000", "--max-file-bytes", "5000000", "--max-heatmap-bytes", "900000000",
             "--max-memory", "2GB", "--enet-c", "1.1", "--effective-beta", "0.99", "--effective-unit", "pixels",
             "--repeat-threshold", "0.8", "--instance-divisor", "1000", "--num-classes", "12"]
    subprocess.run([cli, "scan", str(camvid), *flags, "--out", str(tmp_path / "cli"), "--no-progress"], check=True,
                   stdout=subprocess.DEVNULL)
    r = maskscan.scan(camvid, workers=1, io_depth=3, queue_depth=7, io="threads", decoder="spng", components=8,
                      min_component_pixels=4, ignore=3, heatmap_grid=(8, 6), max_pixels=10000000,
                      max_file_bytes="5MB", max_heatmap_bytes=900000000, max_memory="2GB", enet_c=1.1,
                      effective_beta=0.99, effective_unit="pixels", repeat_threshold=0.8, instance_divisor=1000,
                      num_classes=12, out=tmp_path / "py")
    a = json.loads((tmp_path / "py" / "summary.json").read_text())
    b = json.loads((tmp_path / "cli" / "summary.json").read_text())
    for s in (a, b):
        s.pop("timing")
    assert a == b
    for name in ("frames.csv", "weights.csv", "components.csv", "heatmaps_grid_8x6.npy"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert r.summary()["options"] == b["options"]


def test_strict_stops_at_the_first_bad_file(data, tmp_path):
    good = data / "real" / "gray8_ids" / "camvid_segnet"
    for i, p in enumerate(sorted(good.glob("*.png"))[:20]):
        (tmp_path / f"{i:02d}.png").write_bytes(p.read_bytes())
    (tmp_path / "05b.png").write_bytes(b"not a png")
    r = maskscan.scan(tmp_path, strict=True, workers=1, io_depth=1, queue_depth=1)
    assert r.status == "stopped" and r.partial and r.stopped_at == "05b.png"
    assert [e.path for e in r.errors] == ["05b.png"]
    assert r.totals["frames"] < 20


def test_resume_completes_a_saved_scan(camvid, tmp_path):
    paths = sorted(p.name for p in camvid.glob("*.png"))
    (tmp_path / "first.txt").write_text("\n".join(paths[:30]) + "\n")
    maskscan.scan(files_from=tmp_path / "first.txt", root=camvid, labels="camvid11", heatmaps=True,
                  save_state=tmp_path / "first.state")
    whole = maskscan.scan(camvid, labels="camvid11", heatmaps=True)
    resumed = maskscan.scan(camvid, labels="camvid11", heatmaps=True, resume=tmp_path / "first.state")
    assert resumed._core.frames_csv() == whole._core.frames_csv()
    np.testing.assert_array_equal(resumed.heatmaps[(480, 360)], whole.heatmaps[(480, 360)])
    with pytest.raises(ValueError, match="cannot|differ|labels|meaning"):
        maskscan.scan(camvid, labels="camvid11", resume=tmp_path / "first.state")  # without heatmaps: not that scan


def test_weight_options_given_later_keep_the_scan_s_others(camvid):
    r = maskscan.scan(camvid, labels="camvid11", repeat_threshold=0.9, effective_beta=0.99)
    scanned = r.weights_table()
    later = r.weights_table(enet_c=1.1)
    np.testing.assert_array_equal(later["repeat_factor"], scanned["repeat_factor"])  # the scan's threshold
    np.testing.assert_array_equal(later["effective_number"], scanned["effective_number"])  # its beta
    assert not np.array_equal(later["enet"], scanned["enet"], equal_nan=True)
    fresh = maskscan.scan(camvid, labels="camvid11", repeat_threshold=0.9, effective_beta=0.99, enet_c=1.1)
    np.testing.assert_array_equal(later["enet"], fresh.weights_table()["enet"])


def test_resume_may_save_its_state_into_the_file_it_resumes(camvid, tmp_path):
    paths = sorted(p.name for p in camvid.glob("*.png"))
    (tmp_path / "first.txt").write_text("\n".join(paths[:30]) + "\n")
    state = tmp_path / "scan.state"
    maskscan.scan(files_from=tmp_path / "first.txt", root=camvid, labels="camvid11", save_state=state)
    r = maskscan.scan(camvid, labels="camvid11", resume=state, save_state=state)  # as the CLI allows
    assert maskscan.load_state(state)._core.frames_csv() == r._core.frames_csv()
    assert r.totals["frames"] == 101
    with pytest.raises(ValueError, match="exists"):
        maskscan.scan(camvid, labels="camvid11", save_state=state)  # another scan would overwrite it


def test_results_of_earlier_scans_are_left_out_with_a_warning(camvid, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for p in sorted(camvid.glob("*.png"))[:5]:
        shutil.copyfile(p, data / p.name)
    maskscan.scan(data, out=data / "results", report=True)  # report.html's pictures are PNGs
    with pytest.warns(UserWarning, match="left out 1 directory .*results"):
        r = maskscan.scan(data)
    assert r.totals["frames"] == 5


def test_arrays_are_read_only(camvid):
    r = maskscan.scan(camvid, labels="camvid11", heatmaps=True)
    for a in (r.pixels, r.frames_present, r.heatmaps[(480, 360)], r.cooccurrence, r.weights("enet")):
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 1


def test_the_cli_s_warnings_are_python_warnings(camvid):
    with pytest.warns(maskscan.MaskscanWarning, match="camvid11") as caught:
        r = maskscan.scan(camvid)  # no class map: the values are the classes, and camvid11 names them
    assert [str(w.message) for w in caught] == r.warnings == r.summary()["warnings"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert maskscan.scan(camvid, labels="camvid11").warnings == []
