"""maskscan.dask.scan on a distributed.LocalCluster (Debian's python3-distributed): the merged
statistics of N shard tasks are those of one maskscan.scan, for a directory and for a list of paths."""
import json

import numpy as np
import pytest

import maskscan
import maskscan.dask

import distributed  # Debian's python3-distributed (scripts/install-deps.sh): a missing one fails, never skips


@pytest.fixture(scope="module")
def client():
    # Worker processes, as on a cluster: each imports maskscan and scans its shards on its own.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def numbers(result):
    doc = json.loads(result.to_json())
    for key in ("input", "options", "timing", "io_backend"):
        doc.pop(key)
    return doc


def same(a, b):
    assert a.shards is None and b.shards is None
    assert a._core.frames_csv() == b._core.frames_csv()
    assert numbers(a) == numbers(b)
    assert sorted(a.heatmaps) == sorted(b.heatmaps)
    for size in a.heatmaps:
        np.testing.assert_array_equal(a.heatmaps[size], b.heatmaps[size])
    for group in a.grid_heatmaps:
        np.testing.assert_array_equal(a.grid_heatmaps[group], b.grid_heatmaps[group])


@pytest.mark.parametrize("shards", [1, 2, 5])
def test_a_directory_in_shards_gives_one_scan_s_statistics(client, camvid, shards):
    options = dict(labels="camvid11", heatmaps=True, heatmap_grid="8x6", components=8)
    same(maskscan.dask.scan(camvid, client, shards=shards, **options), maskscan.scan(camvid, **options))


def test_many_frame_sizes_and_classes_from_values(client, data):
    ade = data / "real" / "gray8_ids" / "ade20k_sceneparsing"
    same(maskscan.dask.scan(ade, client, heatmaps=True), maskscan.scan(ade, heatmaps=True))


def test_a_list_of_paths_is_named_relative_to_its_folder(client, camvid, tmp_path):
    paths = sorted(camvid.glob("*.png"))[::3]
    (tmp_path / "list.txt").write_text("\n".join(str(p) for p in paths) + "\n")
    one = maskscan.scan(files_from=tmp_path / "list.txt", root=camvid, labels="camvid11")
    merged = maskscan.dask.scan(paths, client, shards=3, labels="camvid11")
    same(merged, one)
    assert merged.frame_paths == [p.name for p in paths]


def test_balancing_options_apply_to_the_merged_result(client, camvid):
    merged = maskscan.dask.scan(camvid, client, labels="camvid11", enet_c=1.2, repeat_threshold=0.5)
    one = maskscan.scan(camvid, labels="camvid11", enet_c=1.2, repeat_threshold=0.5)
    np.testing.assert_array_equal(merged.weights("enet"), one.weights("enet"))
    np.testing.assert_array_equal(merged.repeat_factors(), one.repeat_factors())


def test_refusals_and_a_failing_task(client, camvid, tmp_path):
    for key in ("out", "save_state", "shard", "resume", "progress", "strict"):
        with pytest.raises(ValueError, match=f"^{key}: not with maskscan.dask.scan"):
            maskscan.dask.scan(camvid, client, **{key: tmp_path / "x"})
    with pytest.raises(ValueError, match="shards"):
        maskscan.dask.scan(camvid, client, shards=0)
    with pytest.raises(Exception, match="no-such-folder"):
        maskscan.dask.scan(tmp_path / "no-such-folder", client, shards=2)
    with pytest.raises(Exception, match="io_depth"):
        maskscan.dask.scan(camvid, client, shards=2, io_depth=0)


def test_a_relative_directory_is_the_client_s(client, camvid, monkeypatch):
    monkeypatch.chdir(camvid.parent)
    same(maskscan.dask.scan(camvid.name, client, shards=2, labels="camvid11"), maskscan.scan(camvid, labels="camvid11"))
