"""maskscan.torch: a scan's statistics as PyTorch training inputs.

Two things a segmentation training loop takes from a :class:`maskscan.Result`:

- :func:`class_weights` (and :func:`ignore_index`): the float32 per-class weights and the ignore
  value of ``torch.nn.CrossEntropyLoss``::

      r = maskscan.scan("gtLabels", labels="woodscape")
      loss = torch.nn.CrossEntropyLoss(weight=maskscan.torch.class_weights(r, device="cuda"),
                                       ignore_index=maskscan.torch.ignore_index(r))

- :class:`RepeatFactorSampler`: LVIS repeat factor sampling (frames holding rare classes are seen
  more often) with stochastic rounding per epoch, as detectron2's ``RepeatFactorTrainingSampler``,
  split between the replicas of distributed training as ``DistributedSampler`` splits a dataset::

      r = maskscan.scan("gtLabels", labels="woodscape", repeat_threshold=0.1)
      sampler = maskscan.torch.RepeatFactorSampler(r, dataset.label_paths)
      loader = torch.utils.data.DataLoader(dataset, batch_size=8, sampler=sampler)
      for epoch in range(epochs):
          sampler.set_epoch(epoch)
          for batch in loader: ...

This module imports torch; ``maskscan`` itself does not (``maskscan.torch`` is loaded on first use).
"""
from __future__ import annotations

import math
import os
import posixpath
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.distributed
import torch.utils.data

from . import WEIGHT_KINDS, Result

__all__ = ["class_weights", "ignore_index", "RepeatFactorSampler"]

_LISTED = 5  # unmatched dataset paths named in an error message


def class_weights(result: Result, kind: str = "median_frequency_present", *, absent: float = 0.0,
                  device: Union[str, torch.device, None] = None) -> torch.Tensor:
    """float32 tensor [C]: the class weights of one definition, for ``CrossEntropyLoss(weight=...)``.

    ``kind`` is one of ``maskscan.WEIGHT_KINDS`` (docs/statistics.md); element k is the weight of
    class id k (``result.class_names[k]``), i.e. of target value k. ``result.weights(kind)`` has no
    weight (NaN) for ignore-listed classes and for classes without a pixel; here they get
    ``absent`` (default 0.0). A class of weight 0 contributes nothing to the loss: with
    ``reduction="mean"`` CrossEntropyLoss divides by the summed weights of the targets, so its
    pixels are neither in the numerator nor in the denominator, as if they were ignored.
    ``device``: where the tensor is put (default: the CPU).
    """
    if kind not in WEIGHT_KINDS:
        raise ValueError(f"class_weights: unknown kind '{kind}' (one of {', '.join(WEIGHT_KINDS)})")
    if isinstance(absent, bool) or not isinstance(absent, (int, float)) or not math.isfinite(absent) or absent < 0:
        raise ValueError(f"class_weights: absent must be a finite number >= 0, got {absent!r}")
    weights = np.array(result.weights(kind), dtype=np.float32, copy=True)
    weights[np.isnan(weights)] = absent
    tensor = torch.from_numpy(weights)
    return tensor if device is None else tensor.to(device)


def ignore_index(result: Result) -> int:
    """The scan's one ignore value, for ``CrossEntropyLoss(ignore_index=...)``.

    Target pixels equal to it add nothing to the loss (nor to the mean's denominator).
    CrossEntropyLoss takes a single ignore value, so a result with none or with several raises
    ``ValueError``:

    - none: leave ``ignore_index`` out; its default, -100, matches no target value, so every pixel
      counts.
    - several (e.g. the 15 ignored Cityscapes labelIds): map them to one value in the targets
      (e.g. the Cityscapes trainIds' 255) and pass that; or, when all of them are class ids below
      ``len(result.class_names)``, keep the default ignore_index and use :func:`class_weights`
      with ``absent=0``: their classes get weight 0, which ignores them in the loss.
    """
    values = result.ignore
    if not values:
        raise ValueError("ignore_index: the scan has no ignore value; leave CrossEntropyLoss's ignore_index at "
                         "its default (-100, which matches no target value)")
    if len(values) > 1:
        listed = ", ".join(str(v) for v in values)
        raise ValueError(f"ignore_index: the scan has {len(values)} ignore values ({listed}) and CrossEntropyLoss "
                         "takes one ignore_index; map them to one value in the targets, or give the ones that are "
                         "class ids weight 0 (class_weights(..., absent=0)) and keep the default ignore_index")
    return int(values[0])


def _normalized(path: Any) -> str:
    """A path as '/'-separated text without '.' and '..' parts, leading '/' or trailing '/'."""
    text = os.fsdecode(os.fspath(path))
    if os.sep != "/":
        text = text.replace(os.sep, "/")
    if os.altsep and os.altsep != "/":
        text = text.replace(os.altsep, "/")
    text = posixpath.normpath(text).lstrip("/") if text else ""
    return "" if text == "." else text


def _match_frames(frame_paths: Sequence[str], dataset_paths: Sequence[Any], scanned: str) -> np.ndarray:
    """int64 [len(dataset_paths)]: the index into frame_paths of each dataset path's frame
    (``scanned``: the scanned directory, "" when not known)."""
    frames: Dict[str, int] = {}
    for i, frame in enumerate(frame_paths):
        frames.setdefault(_normalized(frame), i)
    root = _normalized(os.path.abspath(scanned)) + "/" if scanned and os.path.isdir(scanned) else ""
    matched = np.empty(len(dataset_paths), dtype=np.int64)
    unmatched: List[str] = []
    for j, original in enumerate(dataset_paths):
        path = _normalized(original)
        exact = frames.get(path)
        if exact is None and root:  # a path below the scanned directory: its path relative to it
            absolute = _normalized(os.path.abspath(os.fsdecode(os.fspath(original))))
            if absolute.startswith(root):
                exact = frames.get(absolute[len(root):])
        if exact is not None:
            matched[j] = exact
            continue
        hits: List[Tuple[str, int]] = []
        slash = path.find("/")
        while slash >= 0:  # every suffix of the path that starts after a '/'
            hit = frames.get(path[slash + 1:])
            if hit is not None:
                hits.append((path[slash + 1:], hit))
            slash = path.find("/", slash + 1)
        if len(hits) > 1:
            raise ValueError(f"RepeatFactorSampler: dataset path {os.fsdecode(os.fspath(original))!r} matches "
                             f"{len(hits)} scanned frames ({', '.join(repr(f) for f, _ in hits)}); it is ambiguous")
        if not hits:
            unmatched.append(os.fsdecode(os.fspath(original)))
            continue
        matched[j] = hits[0][1]
    if unmatched:
        listed = ", ".join(repr(p) for p in unmatched[:_LISTED]) + (", ..." if len(unmatched) > _LISTED else "")
        raise ValueError(f"RepeatFactorSampler: {len(unmatched)} of {len(dataset_paths)} dataset paths match no "
                         f"scanned frame (neither a frame's path relative to the scanned directory nor ending "
                         f"in one at a '/'): {listed}")
    return matched


class RepeatFactorSampler(torch.utils.data.Sampler[int]):
    """LVIS repeat factor sampling of a dataset, per epoch, optionally split between replicas.

    ``dataset_paths`` are the label masks of the dataset in its index order (``dataset[i]`` is the
    frame of ``dataset_paths[i]``). Each is matched to a frame of the scan by its path: the frame
    whose path (relative to the scanned directory, ``result.frame_paths``) equals it; else, for a
    path below the scanned directory (``result.input``, when it is a directory here), the frame of
    its path relative to that directory; else the frame whose path it ends with at a '/' boundary
    (``/data/ws/gtLabels/00001_FV.png`` is frame ``00001_FV.png`` of a scan of ``gtLabels``, wherever
    that was). A path matching no frame, or ending in two frames' paths (``/x/a/b.png`` with frames
    ``a/b.png`` and ``b.png``), raises ``ValueError``: every mask of the dataset must have been
    scanned.

    Frame i has the repeat factor r_i = ``result.repeat_factors(threshold)`` (the scan's
    ``repeat_threshold`` when ``threshold`` is None): the largest max(1, sqrt(t / f_c)) of its
    classes, f_c the fraction of frames holding class c. Each epoch (detectron2's
    ``RepeatFactorTrainingSampler``) index i is listed floor(r_i) times, plus once more with
    probability frac(r_i) (stochastic rounding, so that on average it is listed r_i times); the
    list is shuffled (``shuffle=True``). The randomness comes from a ``torch.Generator`` seeded
    with ``seed + epoch`` only, so every replica computes the same epoch list; the list is then
    split as ``torch.utils.data.DistributedSampler`` splits a dataset: cut to a multiple of
    ``num_replicas`` (``drop_last=True``) or padded to one by repeating its start, and replica
    ``rank`` takes positions ``rank, rank + num_replicas, ...``. All replicas have the same length,
    and together they see each listed index once (the padding: fewer than ``num_replicas`` more).
    ``num_replicas`` and ``rank`` default to ``torch.distributed``'s world size and rank when it is
    initialized, else 1 and 0.

    Call :meth:`set_epoch` before each epoch, as with DistributedSampler: otherwise every epoch
    repeats the same list. The length changes from epoch to epoch (its mean is
    ``expected_epoch_size / num_replicas``); ``len()`` is the current epoch's and agrees with the
    iteration.

    ``torch.utils.data.WeightedRandomSampler(repeat_factors, ...)`` is not a substitute: it has no
    ``num_replicas``/``rank``, so under distributed training each replica would draw a whole epoch
    of its own, and it draws with replacement, independently per draw, so a frame of weight 2 may
    come 0 or 5 times while others are never seen; here each frame is seen floor(r_i) or
    ceil(r_i) times per epoch, once over all replicas together.
    """

    def __init__(self, result: Result, dataset_paths: Sequence[Union[str, "os.PathLike[str]"]],
                 threshold: Optional[float] = None, *, num_replicas: Optional[int] = None,
                 rank: Optional[int] = None, shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        super().__init__(None)
        if isinstance(dataset_paths, (str, bytes, os.PathLike)):
            raise TypeError("RepeatFactorSampler: dataset_paths must be a sequence of paths, not one path")
        dataset_paths = list(dataset_paths)
        initialized = torch.distributed.is_available() and torch.distributed.is_initialized()
        if num_replicas is None:
            num_replicas = torch.distributed.get_world_size() if initialized else 1
        if rank is None:
            rank = torch.distributed.get_rank() if initialized else 0
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"RepeatFactorSampler: {name} must be an int, got {type(value).__name__}")
        if num_replicas < 1:
            raise ValueError(f"RepeatFactorSampler: num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"RepeatFactorSampler: rank {rank} is not in [0, {num_replicas - 1}] "
                             f"(num_replicas={num_replicas})")
        frame_of = _match_frames(result.frame_paths, dataset_paths, result.input)
        factors = np.asarray(result.repeat_factors(threshold), dtype=np.float64)[frame_of]
        factors.flags.writeable = False
        self._factors = factors
        self._whole = torch.from_numpy(np.floor(factors).astype(np.int64))
        self._fraction = torch.from_numpy(factors - np.floor(factors))
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self._cached: Optional[Tuple[int, List[int]]] = None

    @property
    def repeat_factors(self) -> np.ndarray:
        """float64 [len(dataset_paths)], read-only: the repeat factor of each dataset index."""
        return self._factors

    @property
    def expected_epoch_size(self) -> float:
        """The mean length of an epoch's list over all replicas: the sum of the repeat factors."""
        return float(self._factors.sum())

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch (its rounding and order); call it before each epoch with the same
        value on every replica."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"RepeatFactorSampler.set_epoch: epoch must be an int >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def _epoch_indices(self) -> List[int]:
        """This replica's dataset indices of the current epoch (computed once per epoch)."""
        if self._cached is not None and self._cached[0] == self.epoch:
            return self._cached[1]
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        draws = torch.rand(len(self._fraction), generator=generator, dtype=torch.float64)
        counts = self._whole + (draws < self._fraction).to(torch.int64)
        indices = torch.repeat_interleave(torch.arange(len(counts), dtype=torch.int64), counts)
        if self.shuffle:
            indices = indices[torch.randperm(len(indices), generator=generator)]
        listed = indices.tolist()
        n = len(listed)
        if self.drop_last:
            total = n - n % self.num_replicas
            listed = listed[:total]
        else:
            total = -(-n // self.num_replicas) * self.num_replicas
            if total > n:  # pad by repeating from the start (n > 0 here)
                listed += (listed * math.ceil((total - n) / n))[:total - n]
        mine = listed[self.rank:total:self.num_replicas]
        self._cached = (self.epoch, mine)
        return mine

    def __iter__(self) -> Iterator[int]:
        """The dataset indices this replica visits in the current epoch."""
        return iter(self._epoch_indices())

    def __len__(self) -> int:
        """How many indices this replica visits in the current epoch (the same on every replica)."""
        return len(self._epoch_indices())

    def __repr__(self) -> str:
        return (f"<maskscan.torch.RepeatFactorSampler: {len(self._factors)} frames, expected epoch size "
                f"{self.expected_epoch_size:.1f}, replica {self.rank} of {self.num_replicas}, epoch {self.epoch}>")
