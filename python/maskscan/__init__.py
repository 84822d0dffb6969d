"""maskscan: exact class statistics of segmentation label masks, from Python.

``maskscan.scan(path, **options)`` runs the C++ library's scan (the same as ``maskscan scan``; every
CLI flag is a keyword of the same name, ``--io-depth`` is ``io_depth=``) and returns a
:class:`Result`: per-class pixel counts, frames present, heatmaps as numpy arrays that share the
library's memory, class weights, repeat factors, co-occurrence, per-frame rows and the files that
could not be scanned. The scan runs outside the GIL; Ctrl-C stops it within ~0.1 s and raises
``KeyboardInterrupt`` with the partial result as its ``result`` attribute.

``maskscan.torch`` (imported on use) turns a result into float32 class weights for
``torch.nn.CrossEntropyLoss`` and a distributed-ready ``RepeatFactorSampler``. docs/python.md
documents every name.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import warnings
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core

__all__ = [
    "scan", "scan_async", "tune", "Result", "Progress", "FileError", "load_state", "merge", "builtin_class_maps",
    "WEIGHT_KINDS", "DuplicateFrame", "MaskscanWarning",
]
__version__ = "0.1.0"

#: The weight definitions of ``Result.weights`` (docs/statistics.md): weights.csv's columns.
WEIGHT_KINDS = ("inverse_frequency", "inverse_sqrt_frequency", "median_frequency_present",
                "median_frequency_all", "enet", "effective_number")

DuplicateFrame = _core.DuplicateFrame

_BALANCE_KEYS = ("enet_c", "effective_beta", "effective_unit", "repeat_threshold")
_REPORT_KEYS = ("colormap", "rgb_dir", "overlays", "overlay_alpha")
_POLL_SECONDS = 0.05  # how often a blocking scan looks for Ctrl-C and reports progress


class MaskscanWarning(UserWarning):
    """How the values of a scan were read, as the CLI says it on stderr (``Result.warnings``)."""


class Progress(NamedTuple):
    """A running scan's progress, as the progress callback receives it."""
    frames_done: int      #: frames finished (scanned + skipped)
    frames_skipped: int   #: of which could not be scanned
    frames_total: int     #: frames in the input
    elapsed_seconds: float


class FileError(NamedTuple):
    """A file that could not be scanned (the scan went on without it)."""
    path: str     #: relative to the scanned directory
    code: str     #: a stable name of the cause, e.g. "corrupt_png" (summary.json's "code")
    message: str  #: the cause in words
    group: str    #: with grouping, the file's group (else "")


def _bytes(key: str, value: Any) -> int:
    """A byte size: an int, or a string with a unit as the CLI takes it ("500MB", "2GiB")."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{key}: expected an int or a size such as '500MB', got {type(value).__name__}")
    if isinstance(value, int):
        return value
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgGtT]?)(i?)[bB]?\s*", value)
    if not m:
        raise ValueError(f"{key} '{value}': expected bytes, e.g. 500MB, 2GB or 3GiB (whole numbers)")
    power = " kmgt".index(m.group(2).lower() or " ")
    return int(m.group(1)) * (1024 if m.group(3) else 1000) ** power


class _Bar:
    """A progress line on stderr (tqdm's, when tqdm is importable)."""

    def __init__(self) -> None:
        try:
            from tqdm import tqdm  # type: ignore
            self._tqdm = tqdm(unit="frame", desc="maskscan", file=sys.stderr)
        except ImportError:
            self._tqdm = None
        self._last = ""

    def __call__(self, p: Progress) -> None:
        if self._tqdm is not None:
            self._tqdm.total = p.frames_total
            self._tqdm.n = p.frames_done
            self._tqdm.refresh()
            return
        rate = p.frames_done / p.elapsed_seconds if p.elapsed_seconds > 0 else 0.0
        pct = 100.0 * p.frames_done / p.frames_total if p.frames_total else 100.0
        line = (f"\rmaskscan: {p.frames_done}/{p.frames_total} frames ({pct:.0f}%), {rate:.0f} frames/s"
                + (f", {p.frames_skipped} skipped" if p.frames_skipped else ""))
        if line != self._last:
            sys.stderr.write(line)
            sys.stderr.flush()
            self._last = line

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
        elif self._last:
            sys.stderr.write("\n")
            sys.stderr.flush()


class _Run:
    """One scan of maskscan.scan / scan_async: the options split between the library and this layer."""

    def __init__(self, path: Any, options: Dict[str, Any]) -> None:
        opts = dict(options)
        progress = opts.pop("progress", None)
        self.out = _path_or_none("out", opts.pop("out", None))
        self.report = opts.pop("report", False)
        self.save_state = _path_or_none("save_state", opts.pop("save_state", None))
        self.force = opts.pop("force", False)
        self.report_options = {key: opts.pop(key) for key in _REPORT_KEYS if key in opts}
        if not isinstance(self.report, bool) or not isinstance(self.force, bool):
            raise TypeError("report and force: expected a bool")
        if self.report_options and not self.report:
            raise ValueError(f"{next(iter(self.report_options))}: an option of the report (report=True)")
        if self.report and self.out is None:
            raise ValueError("report: needs out=DIR (report.html is written there)")
        _core.check_report_options(**self.report_options)
        _sizes_in_bytes(opts)
        if self.save_state is not None:
            _check_state(self.save_state, opts.get("resume"), self.force)
        if self.out is not None:
            _check_out(self.out, self.force)
            if not opts.get("include_results", False):
                opts["_exclude"] = [self.out, os.path.join(self.out, "images")]
        if not (progress is None or isinstance(progress, bool) or callable(progress)):
            raise TypeError("progress: expected a bool or a callable taking a maskscan.Progress")
        self.job = _core.ScanJob(path, **opts)  # every option checked, the input listed: the scan starts
        self._reported: Optional[Progress] = None
        if self.out is not None:  # made now, as the CLI does: a folder that cannot be made fails before the scan
            try:
                os.makedirs(self.out, exist_ok=True)
            except OSError as e:
                self.job.cancel()
                self.job.wait()
                raise ValueError(f"out {self.out}: cannot create it ({e.strerror})") from None
        left_out = self.job.left_out()
        if left_out:
            shown = ", ".join(left_out[:5]) + (f" and {len(left_out) - 5} more" if len(left_out) > 5 else "")
            warnings.warn(f"left out {len(left_out)} director{'y' if len(left_out) == 1 else 'ies'} that hold "
                          f"maskscan results (an earlier scan's summary.json): {shown}; their PNGs are a report's "
                          "pictures, not masks (include_results=True scans them)", stacklevel=3)
        self.bar: Optional[_Bar] = _Bar() if progress is True else None
        self.on_progress: Optional[Callable[[Progress], Any]] = (
            self.bar if progress is True else progress if callable(progress) else None)

    def report_progress(self) -> None:
        if self.on_progress is None:
            return
        p = Progress(*self.job.progress())
        if p != self._reported and p.frames_total:
            self._reported = p
            self.on_progress(p)

    def finish(self) -> "Result":
        """The result once the job is done, its files written; the progress line ended."""
        try:
            result = Result(self.job.result())
            try:
                if self.save_state is not None:
                    result.save_state(self.save_state)
                if self.out is not None:
                    result._core.write(self.out, self.report, **self.report_options)
            except Exception as e:  # the statistics are not lost with the files
                e.result = result  # type: ignore[attr-defined]
                raise
            for warning in result.warnings:  # what the CLI says on stderr about how the values were read
                warnings.warn(warning, MaskscanWarning, stacklevel=4)
            return result
        finally:
            if self.bar is not None:
                self.bar.close()

    def interrupted(self, error: BaseException) -> None:
        """Stops the scan after an exception on the caller's side, and attaches the partial result
        (None when the scan had not started: the exception came while its input was listed)."""
        if getattr(self, "job", None) is None:
            if isinstance(error, KeyboardInterrupt) and not hasattr(error, "result"):
                error.result = None  # type: ignore[attr-defined]
            return
        self.job.cancel()
        self.job.wait()
        try:
            error.result = self.finish()  # type: ignore[attr-defined]
        except Exception:  # the partial result is a courtesy: the interruption is what is raised
            error.result = None  # type: ignore[attr-defined]


def _sizes_in_bytes(options: Dict[str, Any]) -> None:
    """The size keywords ("2GiB" or an int) as ints, in place."""
    for key in ("max_memory", "max_file_bytes", "max_heatmap_bytes", "row_memory"):
        if key in options:
            options[key] = _bytes(key, options[key])


def _path_or_none(key: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{key}: expected a path (str or os.PathLike), got {type(value).__name__}")
    return os.fspath(value)


def _check_state(state: str, resume: Any, force: bool) -> None:
    folder = os.path.dirname(state) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"save_state {state}: its folder does not exist")
    if os.path.isdir(state):
        raise ValueError(f"save_state {state}: is a directory")
    same_as_resumed = resume is not None and os.path.exists(state) and os.path.samefile(state, os.fspath(resume))
    if os.path.exists(state) and not force and not same_as_resumed:
        raise ValueError(f"save_state {state}: the file exists; pass force=True to overwrite it")


def _check_out(out: str, force: bool) -> None:
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"out {out}: exists and is not a directory")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise ValueError(f"out {out}: the directory is not empty; pass force=True to overwrite results in it")


def scan(path: Union[str, os.PathLike, None] = None, **options: Any) -> "Result":
    """Scans every ``*.png`` below ``path`` (a directory, searched recursively, or one PNG file; or
    the ``*.png`` objects below ``"s3://bucket/prefix/"``).

    Every option of ``maskscan scan`` is a keyword of the same name and meaning (``--io-depth N``:
    ``io_depth=N``; flags take ``True``): ``heatmaps``, ``heatmap_grid`` ("64x48" or (64, 48)),
    ``labels``, ``remap``, ``num_classes``, ``class_names`` (a file, or a list of names), ``ignore``
    (an int or a list), ``instance_divisor``, ``components``, ``min_component_pixels``,
    ``group_by``, ``split`` ({name: list file}), ``workers``, ``io_depth``, ``queue_depth``, ``io``,
    ``decoder``, ``serial``, ``strict``, ``max_pixels``, ``max_file_bytes``, ``max_heatmap_bytes``,
    ``max_memory`` (bytes, or "500MB"), ``row_memory`` (bytes; default: every row in memory),
    ``spill_dir``, ``files_from`` (instead of ``path``), ``root``, ``endpoint_url``, ``region``,
    ``profile``, ``no_sign_request``, ``s3_addressing``, ``s3_retries``, ``s3_timeout`` (with a path
    ``"s3://bucket/prefix/"``: objects of S3-compatible storage, docs/object-storage.md),
    ``include_results``, ``resume`` (a state file), ``enet_c``, ``effective_beta``,
    ``effective_unit``, ``repeat_threshold``; and ``out`` (write the CLI's result files there),
    ``report`` (report.html too), ``save_state``, ``force``, ``progress`` (``True``: a progress line
    on stderr; a callable: called with a :class:`Progress`, on this thread, with the GIL held).

    Invalid options raise ``ValueError`` (``TypeError`` for a wrong type) before anything is read.
    Files that cannot be scanned are listed in ``Result.errors``, never raised. Ctrl-C stops the
    scan (frames in flight are finished) and raises ``KeyboardInterrupt`` whose ``result`` is the
    partial :class:`Result`.
    """
    run = _Run.__new__(_Run)
    run.job = None
    try:
        run.__init__(path, options)  # Ctrl-C may come while the input is listed: run.job is None then
        while not run.job.wait(_POLL_SECONDS):
            run.report_progress()
        run.report_progress()  # the final counts
    except BaseException as e:  # KeyboardInterrupt, or an exception of the progress callback
        run.interrupted(e)
        raise
    return run.finish()


async def scan_async(path: Union[str, os.PathLike, None] = None, **options: Any) -> "Result":
    """``await maskscan.scan_async(path, **options)``: :func:`scan` without blocking the event loop.

    The scan runs on threads of its own; the loop looks at it every 20 ms (progress callbacks run
    on the loop). Cancelling the awaiting task stops the scan and raises ``CancelledError``, whose
    ``result`` is the partial :class:`Result`.
    """
    import asyncio  # here: importing asyncio takes ~90 ms, which a plain scan need not pay

    loop = asyncio.get_running_loop()
    # Listing the input and writing the outputs run on the loop's executor (the C++ parts release
    # the GIL), so that the loop keeps running meanwhile.
    starting = loop.run_in_executor(None, _Run, path, options)
    run: Optional[_Run] = None
    try:
        run = await asyncio.shield(starting)
        while not run.job.done():
            await asyncio.sleep(0.02)
            run.report_progress()
        run.report_progress()  # the final counts
    except BaseException as e:
        if run is None:
            if not isinstance(e, asyncio.CancelledError):
                raise  # the options or the input were refused
            try:
                run = await starting  # cancelled while the input was listed: its scan is stopped at once
            except Exception:
                e.result = None  # type: ignore[attr-defined]
                raise e from None
        run.job.cancel()
        while not run.job.done():  # without blocking the loop: frames in flight finish
            await asyncio.sleep(0.02)
        try:
            e.result = await loop.run_in_executor(None, run.finish)  # type: ignore[attr-defined]
        except Exception:
            e.result = None  # type: ignore[attr-defined]
        raise
    return await loop.run_in_executor(None, run.finish)


def tune(path: Union[str, os.PathLike, None] = None, *, sample: int = 300, budget_seconds: float = 20.0,
         min_trial_seconds: float = 0.5, repeats: int = 3, cold: bool = False, **options: Any) -> Dict[str, Any]:
    """Choose workers, io_depth, queue_depth and io for scans of `path` with `options` (scan's keywords)
    from measured scans of a sample, as `maskscan tune --json` does (docs/tuning.md). A concurrency
    keyword given (workers=4, io="threads") is held at its value. Returns that JSON as a dict: "best"
    (keywords for maskscan.scan: ``maskscan.scan(path, **{**options, **result["best"]})``), "scan_flags",
    "bottleneck", "evidence", "trials", ..."""
    _sizes_in_bytes(options)
    tuning = {"sample": sample, "budget_seconds": budget_seconds, "min_trial_seconds": min_trial_seconds,
              "repeats": repeats, "cold": cold}
    return json.loads(_core.tune(path, tuning, **options))


def load_state(path: Union[str, os.PathLike]) -> "Result":
    """The statistics a scan saved (``save_state=`` or ``maskscan scan --save-state``) as a Result."""
    return Result(_core.load_state(os.fspath(path)))


def merge(*results: "Result", prefixes: Sequence[str] = ()) -> "Result":
    """Results of scans of disjoint frames (shards) merged into one, exactly as ``maskscan merge``.

    ``prefixes`` (one per result) names each result's frames ``prefix/name`` first, for shards of
    different directories that hold equal relative names. A frame in two results raises
    :class:`DuplicateFrame` (a ValueError): it would be counted twice. Class maps, ignore values
    and heatmap settings must be the same (ValueError otherwise).
    """
    if len(results) == 1 and isinstance(results[0], (list, tuple)):
        results = tuple(results[0])
    return Result(_core.merge([r._core for r in results], list(prefixes)))


def builtin_class_maps() -> List[str]:
    """The names ``labels=`` takes besides a class-map file: woodscape, cityscapes, camvid11, ..."""
    return list(_core.builtin_class_maps())


class Result:
    """The statistics of a scan (or of merged scans). Arrays share the library's memory: they stay
    valid after the Result is dropped, and are read-only views, not copies, where the library holds
    the numbers (heatmaps); derived numbers (pixels, weights) are arrays of their own."""

    def __init__(self, core: "_core.Result") -> None:
        self._core = core
        self._totals: Optional[Dict[str, Any]] = None
        self._heatmaps: Optional[Dict[Tuple[int, int], np.ndarray]] = None

    def __repr__(self) -> str:
        t = self.totals
        return (f"<maskscan.Result {self.input!r}: {t['frames']} frames, {t['skipped']} skipped, "
                f"{len(self.class_names)} classes{', partial' if self.partial else ''}>")

    # What was scanned
    @property
    def input(self) -> str:
        """Where the frames were: the directory as given ("merged: FILE" for load_state, "merged" for merge)."""
        return self._core.input

    @property
    def status(self) -> str:
        """"done", "cancelled" (Ctrl-C or a cancelled task: partial) or "stopped" (strict=True)."""
        return self._core.status

    @property
    def partial(self) -> bool:
        """Only some of the frames were scanned (the scan was interrupted or stopped)."""
        return self._core.partial

    @property
    def shards(self) -> Optional[Dict[str, Any]]:
        """None, or the shards these statistics hold: ``{"count": N, "held": [i, ...]}`` (``shard=``)."""
        return self._core.shards

    @property
    def frames_total(self) -> int:
        """Frames in the input (scanned, skipped and, when partial, not reached)."""
        return self._core.frames_total

    @property
    def stopped_at(self) -> str:
        """strict=True: the file the scan stopped at (else "")."""
        return self._core.stopped_at

    @property
    def wall_seconds(self) -> float:
        """How long the scan took (0 for statistics read from a state file or merged)."""
        return self._core.wall_seconds

    # The numbers
    @property
    def class_names(self) -> List[str]:
        """Class id k is class_names[k]."""
        return list(self._core.class_names)

    @property
    def ignore(self) -> List[int]:
        """The values counted as deliberately unlabelled (not classes)."""
        return list(self._core.ignore)

    @property
    def totals(self) -> Dict[str, Any]:
        """frames, skipped, pixels, labelled_pixels, ignored_pixels, out_of_range_pixels,
        unknown_colour_pixels (ints) and class_pixels, frames_present (uint64 arrays)."""
        if self._totals is None:
            self._totals = self._core.totals()
        return self._totals

    @property
    def pixels(self) -> np.ndarray:
        """uint64 [C]: pixels of each class over all frames."""
        return self.totals["class_pixels"]

    @property
    def frames_present(self) -> np.ndarray:
        """uint64 [C]: frames in which each class has at least one pixel."""
        return self.totals["frames_present"]

    @property
    def heatmaps(self) -> Dict[Tuple[int, int], np.ndarray]:
        """{(W, H): uint32 [C, H, W]}: frames in which pixel (x, y) holds class c, per frame size,
        over all groups. Views of the library's memory (no copy), read-only. Empty without
        heatmaps=True."""
        if self._heatmaps is None:
            grouped = any(g != "" for g in self.groups)
            sets = (self._core.ungrouped() if grouped else self._core).heatmaps()
            self._heatmaps = {(w, h): _read_only(a) for _, w, h, _, a in sets}
        return self._heatmaps

    @property
    def grid_heatmaps(self) -> Dict[str, np.ndarray]:
        """heatmap_grid=: {group: uint32 [C, H, W]} on the common grid ("" without grouping)."""
        return {g: _read_only(a) for g, _, _, _, a in self._core.grid_heatmaps()}

    def weights(self, kind: str = "median_frequency_present", **balance: Any) -> np.ndarray:
        """float32 [C]: class weights of one definition (``WEIGHT_KINDS``, docs/statistics.md),
        NaN for ignore-listed classes and classes with no pixel. ``enet_c``, ``effective_beta``,
        ``effective_unit`` override the scan's."""
        if kind not in WEIGHT_KINDS:
            raise ValueError(f"weights: unknown kind '{kind}' (one of {', '.join(WEIGHT_KINDS)})")
        return self._core.weights(**balance)[kind]

    def weights_table(self, **balance: Any) -> Dict[str, np.ndarray]:
        """Every weight definition, frequency, frame_frequency, ignored and repeat_factor per class."""
        return dict(self._core.weights(**balance))

    def repeat_factors(self, threshold: Optional[float] = None) -> np.ndarray:
        """float64 [N]: the LVIS repeat factor of each frame (the order of ``frame_paths``),
        r = max over its classes of max(1, sqrt(t / f_c)). ``threshold`` t: the scan's
        repeat_threshold unless given (one of them is needed)."""
        if threshold is None:
            threshold = self._core.repeat_threshold
            if threshold is None:
                raise ValueError("repeat_factors: give a threshold (or scan with repeat_threshold=)")
        return self._core.repeat_factors(float(threshold))

    @property
    def cooccurrence(self) -> np.ndarray:
        """uint64 [C, C]: frames in which both class a and class b occur (diagonal: frames_present)."""
        return self._core.cooccurrence()

    @property
    def frame_paths(self) -> List[str]:
        """The scanned frames, relative to the input, sorted (the rows of ``frames``)."""
        return list(self._core.frame_paths())

    @property
    def frames(self) -> Any:
        """Per-frame rows with frames.csv's columns (path, group, width, height, pixels_<class>,
        ignored, out_of_range, unknown_colours, repeat_factor, ...): a pandas.DataFrame when pandas
        is importable, else a dict of column name to numpy array."""
        text = self._core.frames_csv()
        try:
            import pandas as pd  # type: ignore
        except ImportError:
            return _csv_columns(text)
        return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values={"repeat_factor": [""]},
                           dtype={"path": str, "group": str})

    @property
    def errors(self) -> List[FileError]:
        """The files that could not be scanned, each with its cause."""
        return [FileError(*e) for e in self._core.errors()]

    @property
    def warnings(self) -> List[str]:
        """What a reader of the numbers must be told about how the values were read (summary.json's
        "warnings"; scan() also issues each as a :class:`MaskscanWarning`): no class map and the
        built-in map that would name the values, many out-of-range or unknown-colour pixels, ..."""
        return list(self._core.warnings())

    @property
    def groups(self) -> List[str]:
        """The groups (group_by= or split=), sorted; [""] without grouping."""
        return list(self._core.groups())

    def group(self, name: str) -> "Result":
        """The statistics of one group (its frames, errors and heatmaps)."""
        return Result(self._core.group(name))

    # Files and text
    def to_json(self) -> str:
        """The content of summary.json (what ``maskscan scan --out`` writes)."""
        return self._core.summary_json()

    def summary(self) -> Dict[str, Any]:
        """summary.json as a dict."""
        return json.loads(self.to_json())

    def table(self, unicode: bool = True) -> str:
        """The summary table the CLI prints."""
        return self._core.summary_table(unicode)

    def write(self, out: Union[str, os.PathLike], report: bool = False, force: bool = False,
              **report_options: Any) -> Optional[str]:
        """Writes the CLI's result files (summary.json, frames.csv, weights.csv, ...; report.html
        with ``report``, and its options ``colormap``, ``rgb_dir``, ``overlays``,
        ``overlay_alpha``) into ``out``; returns the report's path."""
        out = os.fspath(out)
        _check_out(out, force)
        if report_options and not report:
            raise ValueError(f"{next(iter(report_options))}: an option of the report (report=True)")
        path = self._core.write(out, report, **report_options)
        return None if path is None else os.fspath(path)

    def save_state(self, path: Union[str, os.PathLike]) -> None:
        """Writes the mergeable binary statistics (``maskscan merge``, :func:`load_state`)."""
        self._core.save_state(os.fspath(path))


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _csv_columns(text: str) -> Dict[str, np.ndarray]:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    out: Dict[str, np.ndarray] = {}
    for i, name in enumerate(header):
        column = [r[i] for r in body]
        if name in ("path", "group"):
            out[name] = np.array(column, dtype=object)
        elif name == "repeat_factor":
            out[name] = np.array([float(v) if v else np.nan for v in column], dtype=np.float64)
        else:
            out[name] = np.array([int(v) for v in column], dtype=np.int64)
    return out


def __getattr__(name: str) -> Any:
    if name == "torch":  # maskscan.torch without an explicit import, loaded only when used
        import importlib
        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'maskscan' has no attribute '{name}'")
