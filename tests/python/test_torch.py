"""maskscan.torch against independent truth: the result's numpy weights, a hand-written weighted
cross entropy, repeat factors recomputed from the expected counts of the real VOC masks, and the
LVIS / DistributedSampler semantics checked on the epoch lists themselves."""
import json
import math
import os
import pathlib
import random
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import maskscan  # noqa: E402
import maskscan.torch as mt  # noqa: E402

EPOCHS = 400


@pytest.fixture(scope="module")
def real_data() -> pathlib.Path:
    """../shared/data/real beside the checkout, or $MASKSCAN_TEST_DATA/real."""
    root = os.environ.get("MASKSCAN_TEST_DATA",
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data"))
    real = pathlib.Path(root) / "real"
    if not real.is_dir():
        pytest.skip(f"no test data at {root}")
    return real


@pytest.fixture(scope="module")
def camvid(real_data):
    """101 CamVid masks: 11 classes, ignore value 11; every mask holds every class."""
    return maskscan.scan(real_data / "gray8_ids" / "camvid_segnet", labels="camvid11")


@pytest.fixture(scope="module")
def voc_dir(real_data) -> pathlib.Path:
    return real_data / "palette" / "voc2012_aug"


@pytest.fixture(scope="module")
def voc(voc_dir):
    """200 VOC masks: 21 classes, ignore value 255, classes in 3% to 100% of the frames."""
    return maskscan.scan(voc_dir, labels="pascal-voc")


@pytest.fixture(scope="module")
def threshold(voc) -> float:
    """Twice the rarest class's frame frequency: frames holding rare classes get factors > 1."""
    frequency = voc.weights_table()["frame_frequency"]
    return float(2 * frequency[frequency > 0].min())


def _epoch_lists(sampler, epoch):
    sampler.set_epoch(epoch)
    return list(sampler)


# Class weights and ignore_index

def test_class_weights_are_the_results_weights_with_nan_as_absent(voc_dir):
    r = maskscan.scan(voc_dir, labels="pascal-voc", ignore=[0, 255])  # background ignore-listed: NaN weight
    for kind in maskscan.WEIGHT_KINDS:
        numpy_weights = r.weights(kind)
        assert np.isnan(numpy_weights[0]) and not np.isnan(numpy_weights[1:]).any()
        w = mt.class_weights(r, kind)
        assert np.isnan(numpy_weights[0])  # not changed in place
        assert isinstance(w, torch.Tensor) and w.dtype == torch.float32 and w.shape == (len(r.class_names),)
        assert torch.equal(w, torch.from_numpy(np.where(np.isnan(numpy_weights), 0, numpy_weights).astype(np.float32)))
        assert w[0].item() == 0.0
        other = mt.class_weights(r, kind, absent=1.5, device="cpu")
        assert other[0].item() == 1.5 and torch.equal(other[1:], w[1:])
    assert torch.equal(mt.class_weights(r), mt.class_weights(r, "median_frequency_present"))


def test_class_weights_rejects_an_unknown_kind_and_a_bad_absent(camvid):
    with pytest.raises(ValueError, match="median_frequency_present.*effective_number"):
        mt.class_weights(camvid, "median")
    with pytest.raises(ValueError, match="absent"):
        mt.class_weights(camvid, absent=float("nan"))


def _weighted_cross_entropy(logits, target, weight, ignore):
    """CrossEntropyLoss(weight, ignore_index, reduction="mean") written out."""
    logp = torch.log_softmax(logits.double(), dim=1)
    keep = target != ignore
    t = torch.where(keep, target, torch.zeros_like(target))
    nll = -logp.gather(1, t.unsqueeze(1)).squeeze(1)
    w = weight.double()[t] * keep
    return (w * nll).sum() / w.sum()


@pytest.mark.parametrize("dataset", ["camvid", "voc"])
def test_class_weights_and_ignore_index_in_cross_entropy_loss(dataset, request):
    r = request.getfixturevalue(dataset)
    w, ignore = mt.class_weights(r), mt.ignore_index(r)
    assert ignore == {"camvid": 11, "voc": 255}[dataset]
    classes = len(r.class_names)
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(4, classes, 8, 8, generator=g)
    target = torch.randint(0, classes, (4, 8, 8), generator=g)
    target[torch.rand(4, 8, 8, generator=g) < 0.2] = ignore
    loss = torch.nn.CrossEntropyLoss(weight=w, ignore_index=ignore)(logits, target)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(_weighted_cross_entropy(logits, target, w, ignore).item(), rel=1e-5)


def test_a_class_of_weight_zero_adds_nothing_to_the_loss(voc_dir):
    r = maskscan.scan(voc_dir, labels="pascal-voc", ignore=[0, 255])
    w = mt.class_weights(r, "inverse_frequency")
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 21, 6, 6, generator=g)
    target = torch.randint(0, 21, (2, 6, 6), generator=g)
    assert (target == 0).any()
    loss = torch.nn.CrossEntropyLoss(weight=w, ignore_index=255)
    ignored = torch.where(target == 0, torch.full_like(target, 255), target)
    assert loss(logits, target).item() == pytest.approx(loss(logits, ignored).item(), rel=1e-6)


def test_ignore_index_needs_exactly_one_ignore_value(real_data, voc_dir):
    raw = maskscan.scan(real_data / "gray8_ids" / "camvid_segnet")  # no class map: nothing ignored
    assert raw.ignore == []
    with pytest.raises(ValueError, match="no ignore value.*-100"):
        mt.ignore_index(raw)
    two = maskscan.scan(voc_dir, labels="pascal-voc", ignore=[0, 255])
    with pytest.raises(ValueError, match=r"2 ignore values \(0, 255\).*one ignore_index"):
        mt.ignore_index(two)


# RepeatFactorSampler

def _factors_from_expected_counts(real_data, frame_paths, t):
    """LVIS factors of the VOC frames from the counts collected with another decoder."""
    counts = json.loads((real_data / "palette" / "expected_counts.json").read_text())
    present = [{int(v) for v, n in counts[f"voc2012_aug/{p}"].items() if n > 0 and int(v) != 255} for p in frame_paths]
    frames_with = {c: sum(c in s for s in present) for c in range(21)}
    class_factor = {c: max(1.0, math.sqrt(t / (n / len(present)))) for c, n in frames_with.items() if n}
    return np.array([max([class_factor[c] for c in s], default=1.0) for s in present])


def test_paths_in_any_order_and_with_a_prefix_get_their_frames_factors(voc, threshold, real_data):
    frames = voc.frame_paths
    order = list(range(len(frames)))
    random.Random(5).shuffle(order)
    prefixes = ["/data/VOC/SegmentationClassAug/", "relative/dir/", "", "/"]
    paths = [prefixes[k % 4] + frames[i] for k, i in enumerate(order)]
    paths[1] = pathlib.Path(paths[1])  # PathLike
    s = mt.RepeatFactorSampler(voc, paths, threshold)
    truth = _factors_from_expected_counts(real_data, frames, threshold)
    assert (truth > 1).sum() >= 20 and (truth == 1).sum() >= 20
    np.testing.assert_allclose(voc.repeat_factors(threshold), truth, rtol=1e-12)
    np.testing.assert_allclose(s.repeat_factors, truth[order], rtol=1e-12)
    assert s.repeat_factors.dtype == np.float64 and len(s.repeat_factors) == len(paths)
    assert s.expected_epoch_size == pytest.approx(truth.sum())


def test_each_frame_is_listed_its_repeat_factor_times_on_average(voc, threshold):
    s = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, seed=11)
    r = s.repeat_factors
    assert (r > 1).sum() >= 20
    counts = np.zeros((EPOCHS, len(r)))
    for epoch in range(EPOCHS):
        listed = _epoch_lists(s, epoch)
        counts[epoch] = np.bincount(listed, minlength=len(r))
        assert len(listed) == len(s)
    # Stochastic rounding: floor(r) or ceil(r) times in every epoch; r times on average.
    assert ((counts == np.floor(r)) | (counts == np.ceil(r))).all()
    assert (counts[:, r == 1] == 1).all()
    diff = np.abs(counts.mean(axis=0) - r)
    assert diff.max() < 0.15 and diff.mean() < 0.03
    assert counts.sum(axis=1).mean() == pytest.approx(s.expected_epoch_size, rel=0.01)
    assert len({int(n) for n in counts.sum(axis=1)}) > 1  # the epoch size varies


def test_the_order_is_shuffled_unless_asked_not_to(voc, threshold):
    shuffled = _epoch_lists(mt.RepeatFactorSampler(voc, voc.frame_paths, threshold), 0)
    ordered = _epoch_lists(mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, shuffle=False), 0)
    assert sorted(shuffled) == ordered  # the same rounding (seed + epoch), then shuffled or not
    assert shuffled != ordered


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("replicas", [3, 7])
def test_replicas_split_the_single_replica_epoch_list(voc, threshold, replicas, drop_last):
    whole = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, num_replicas=1, rank=0, seed=4)
    ranks = [mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, num_replicas=replicas, rank=k, seed=4,
                                    drop_last=drop_last) for k in range(replicas)]
    uneven = 0
    for epoch in range(6):
        full = _epoch_lists(whole, epoch)
        parts = [_epoch_lists(s, epoch) for s in ranks]
        n = len(full)
        uneven += n % replicas != 0
        assert len({len(p) for p in parts}) == 1  # every replica takes as many steps
        assert [len(s) for s in ranks] == [len(p) for p in parts]
        # Position j of the epoch list goes to replica j % replicas, as its (j // replicas)-th index.
        joined = [parts[j % replicas][j // replicas] for j in range(replicas * len(parts[0]))]
        if drop_last:
            assert joined == full[:n - n % replicas]
        else:
            padding = len(joined) - n
            assert 0 <= padding < replicas
            assert joined == full + full[:padding]
            assert all(joined.count(i) >= full.count(i) for i in set(full))
    assert uneven  # some epochs needed padding or truncation


def test_epochs_are_deterministic_per_seed_and_epoch(voc, threshold):
    a = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, seed=1)
    b = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, seed=1)
    c = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, seed=2)
    first = _epoch_lists(a, 3)
    assert first == _epoch_lists(b, 3) == list(a)  # another sampler, and iterating again
    assert first != _epoch_lists(c, 3)
    assert first != _epoch_lists(a, 4)
    assert _epoch_lists(a, 3) == first  # going back to an epoch gives its list again
    assert first == _epoch_lists(mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, seed=0), 4)  # seed + epoch


def test_len_agrees_with_the_iteration_and_the_data_loader(voc, threshold):
    s = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, num_replicas=2, rank=1)
    for epoch in (0, 1, 9):
        s.set_epoch(epoch)
        n = len(s)
        assert n == len(list(s)) == len(s)
        dataset = torch.utils.data.TensorDataset(torch.arange(len(voc.frame_paths)))
        loader = torch.utils.data.DataLoader(dataset, batch_size=16, sampler=s)
        assert len(loader) == math.ceil(n / 16)
        assert torch.cat([batch for batch, in loader]).tolist() == list(s)


def test_the_scans_threshold_is_the_default(voc_dir, voc, threshold):
    with pytest.raises(ValueError, match="threshold"):
        mt.RepeatFactorSampler(voc, voc.frame_paths)
    scanned = maskscan.scan(voc_dir, labels="pascal-voc", repeat_threshold=threshold)
    s = mt.RepeatFactorSampler(scanned, scanned.frame_paths)
    np.testing.assert_array_equal(s.repeat_factors, voc.repeat_factors(threshold))


def test_a_path_that_is_not_a_scanned_frame_is_named(voc, threshold):
    paths = ["/data/" + p for p in voc.frame_paths]
    paths[17] = "/data/2099_000001.png"
    paths[40] = "/data/sub/" + voc.frame_paths[40] + ".bak"
    with pytest.raises(ValueError, match=r"2 of 200 dataset paths match no scanned frame.*2099_000001\.png"):
        mt.RepeatFactorSampler(voc, paths, threshold)
    for path in ("/data/x" + voc.frame_paths[0], "x" + voc.frame_paths[0]):  # a suffix only at a '/' boundary
        with pytest.raises(ValueError, match="1 of 1 dataset paths match no scanned frame"):
            mt.RepeatFactorSampler(voc, [path], threshold)


def test_a_path_ending_in_two_frames_paths_is_ambiguous(tmp_path, real_data):
    mask = real_data / "gray8_ids" / "camvid_segnet" / "0016E5_07959.png"
    (tmp_path / "a").mkdir()
    shutil.copy(mask, tmp_path / "b.png")
    shutil.copy(mask, tmp_path / "a" / "b.png")
    r = maskscan.scan(tmp_path, labels="camvid11", repeat_threshold=0.5)
    assert r.frame_paths == ["a/b.png", "b.png"]
    # Exact matches, and a path below the scanned directory (relative to it: "a/b.png").
    s = mt.RepeatFactorSampler(r, ["a/b.png", "/b.png", str(tmp_path / "a" / "b.png"), tmp_path / "b.png"])
    assert len(s.repeat_factors) == 4
    with pytest.raises(ValueError, match=r"/x/a/b\.png.*2 scanned frames.*ambiguous"):
        mt.RepeatFactorSampler(r, ["/x/a/b.png"])


@pytest.mark.parametrize("replicas, rank", [(3, 3), (3, -1), (1, 1)])
def test_a_rank_outside_the_replicas_is_rejected(voc, threshold, replicas, rank):
    with pytest.raises(ValueError, match=f"rank {rank}"):
        mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, num_replicas=replicas, rank=rank)


def test_zero_replicas_are_rejected(voc, threshold):
    with pytest.raises(ValueError, match="num_replicas"):
        mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, num_replicas=0, rank=0)


def test_replicas_default_to_the_initialized_process_group(voc, threshold, monkeypatch):
    assert mt.RepeatFactorSampler(voc, voc.frame_paths, threshold).num_replicas == 1
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda *a, **k: 4)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda *a, **k: 2)
    s = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, seed=9)
    assert (s.num_replicas, s.rank) == (4, 2)
    explicit = mt.RepeatFactorSampler(voc, voc.frame_paths, threshold, seed=9, num_replicas=4, rank=2)
    assert list(s) == list(explicit)
