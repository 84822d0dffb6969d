"""maskscan.dask: one scan's statistics from shards scanned on a Dask cluster.

``maskscan.dask.scan(path_or_paths, client, shards=N, **options)`` maps N shard scans over the
client's workers (each ``maskscan.scan(..., shard=f"{i}/{N}")``, the frames whose relative path hashes
to i: docs/scale-out.md), and merges the shards' statistics on the client as they arrive, one at a
time: the result is the :class:`maskscan.Result` of one scan of everything, and the client holds the
merged statistics plus one shard's. Every worker must see the masks at the same path (shared storage).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Optional, Sequence, Union

from . import Result, _core
from . import scan as _scan

__all__ = ["scan"]

# Options of a scan that a shard on a worker cannot take: what is written is the merged result's
# (Result.write, Result.save_state), and the shards are this function's.
_REFUSED = {
    "shard": "the shards are scan's own (shards=)",
    "shard_count": "the shards are scan's own (shards=)",
    "resume": "a shard's scan starts from nothing",
    "out": "write the merged result: maskscan.dask.scan(...).write(out)",
    "report": "write the merged result: maskscan.dask.scan(...).write(out, report=True)",
    "save_state": "save the merged result: maskscan.dask.scan(...).save_state(path)",
    "force": "write the merged result with Result.write",
    "progress": "follow the tasks on the Dask dashboard",
    "files_from": "give the paths themselves (a list) instead",
    "mpi": "this is the Dask front-end",
    "strict": "each shard would stop at its own first bad file",
}
_BALANCE = ("enet_c", "effective_beta", "effective_unit", "repeat_threshold")


def _scan_shard(index: int, count: int, path: Optional[str], paths: Optional[Sequence[str]], root: Optional[str],
                options: dict) -> bytes:
    """One shard's scan on a worker; its statistics as state bytes (the format of --save-state)."""
    if paths is None:
        return _scan(path, shard=(index, count), **options)._core.state_bytes()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    try:
        return _scan(files_from=listing.name, root=root, shard=(index, count), **options)._core.state_bytes()
    finally:
        os.unlink(listing.name)


def scan(path_or_paths: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]], client: Any,
         shards: Optional[int] = None, **options: Any) -> Result:
    """The statistics of every frame of ``path_or_paths``, scanned in ``shards`` Dask tasks.

    ``path_or_paths``: a directory (searched recursively, as :func:`maskscan.scan` does), or a list of
    PNG files (frames are named relative to their common folder, or ``root=``). ``client``: a
    ``distributed.Client``. ``shards``: the number of tasks (default: the cluster's threads). The other
    keywords are :func:`maskscan.scan`'s statistics, input and concurrency options, given to every
    shard (``workers=`` is per task); ``enet_c``, ``effective_beta``, ``effective_unit`` and
    ``repeat_threshold`` apply to the merged result. Options about writing, resuming or sharding are
    refused with ``ValueError`` (write the merged result instead). A task that fails raises its
    exception here (the others are cancelled); a bad option does so from every task at once. Files that
    cannot be scanned are per-file errors in the result, as always.
    """
    for key, why in _REFUSED.items():
        if key in options:
            raise ValueError(f"{key}: not with maskscan.dask.scan: {why}")
    balance = {k: options.pop(k) for k in _BALANCE if k in options}
    # Files the options name, absolute: a worker's working directory is not the client's.
    for key in ("labels", "class_names"):
        if isinstance(options.get(key), (str, os.PathLike)) and os.path.exists(options[key]):
            options[key] = os.path.abspath(os.fspath(options[key]))
    if isinstance(options.get("split"), dict):
        options["split"] = {name: os.path.abspath(os.fspath(f)) for name, f in options["split"].items()}
    root = options.pop("root", None)
    if isinstance(path_or_paths, (str, os.PathLike)):
        if root is not None:
            raise ValueError("root: only with a list of paths")
        path, paths = os.path.abspath(os.fspath(path_or_paths)), None
    else:
        path, paths = None, [os.path.abspath(os.fspath(p)) for p in path_or_paths]
        if not paths:
            raise ValueError("path_or_paths: an empty list")
        root = os.path.abspath(os.fspath(root)) if root is not None else os.path.commonpath(
            [os.path.dirname(p) for p in paths])
    if shards is None:
        shards = max(1, sum(client.nthreads().values()))
    if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= 1 << 20:
        raise ValueError(f"shards: a whole number from 1 to {1 << 20}, not {shards!r}")
    from distributed import as_completed  # here: importing distributed takes a while

    futures = client.map(_scan_shard, range(shards), count=shards, path=path, paths=paths, root=root,
                         options=options, pure=False)
    index = {future.key: i for i, future in enumerate(futures)}
    merger = _core.StateMerger()
    try:
        for future, state in as_completed(futures, with_results=True):
            merger.add(state, f"the statistics of shard {index[future.key]} of {shards}")
            future.release()  # its bytes may go: the merged statistics hold them now
    except BaseException:
        client.cancel(futures)
        raise
    return Result(merger.result(**balance))
