# Type stubs of the maskscan package (docs/python.md documents each name).
import os
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
WEIGHT_KINDS: Tuple[str, ...]

class DuplicateFrame(ValueError): ...
class MaskscanWarning(UserWarning): ...

class Progress(NamedTuple):
    frames_done: int
    frames_skipped: int
    frames_total: int
    elapsed_seconds: float

class FileError(NamedTuple):
    path: str
    code: str
    message: str
    group: str

_Path = Union[str, os.PathLike[str]]

def scan(
    path: Optional[_Path] = ...,
    *,
    heatmaps: bool = ...,
    heatmap_grid: Union[str, Tuple[int, int]] = ...,
    shard: Union[str, Tuple[int, int]] = ...,
    shard_count: int = ...,
    labels: str = ...,
    remap: str = ...,
    num_classes: int = ...,
    class_names: Union[_Path, Sequence[str]] = ...,
    ignore: Union[int, Sequence[int]] = ...,
    instance_divisor: int = ...,
    components: int = ...,
    min_component_pixels: int = ...,
    group_by: str = ...,
    split: Dict[str, _Path] = ...,
    workers: int = ...,
    io_depth: int = ...,
    queue_depth: int = ...,
    io: str = ...,
    decoder: str = ...,
    serial: bool = ...,
    strict: bool = ...,
    max_pixels: int = ...,
    max_file_bytes: Union[int, str] = ...,
    max_heatmap_bytes: Union[int, str] = ...,
    max_memory: Union[int, str] = ...,
    files_from: _Path = ...,
    root: _Path = ...,
    include_results: bool = ...,
    resume: _Path = ...,
    enet_c: float = ...,
    effective_beta: float = ...,
    effective_unit: str = ...,
    repeat_threshold: Optional[float] = ...,
    out: _Path = ...,
    report: bool = ...,
    colormap: str = ...,
    rgb_dir: _Path = ...,
    overlays: int = ...,
    overlay_alpha: float = ...,
    save_state: _Path = ...,
    force: bool = ...,
    progress: Union[bool, Callable[[Progress], Any]] = ...,
) -> Result: ...
async def scan_async(path: Optional[_Path] = ..., **options: Any) -> Result: ...
def tune(
    path: Optional[_Path] = ...,
    *,
    sample: int = ...,
    budget_seconds: float = ...,
    min_trial_seconds: float = ...,
    repeats: int = ...,
    cold: bool = ...,
    **options: Any,
) -> Dict[str, Any]: ...
def load_state(path: _Path) -> Result: ...
def merge(*results: Result, prefixes: Sequence[str] = ...) -> Result: ...
def builtin_class_maps() -> List[str]: ...

class Result:
    @property
    def input(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def partial(self) -> bool: ...
    @property
    def shards(self) -> Optional[Dict[str, Any]]: ...
    @property
    def frames_total(self) -> int: ...
    @property
    def stopped_at(self) -> str: ...
    @property
    def wall_seconds(self) -> float: ...
    @property
    def class_names(self) -> List[str]: ...
    @property
    def ignore(self) -> List[int]: ...
    @property
    def totals(self) -> Dict[str, Any]: ...
    @property
    def pixels(self) -> npt.NDArray[np.uint64]: ...
    @property
    def frames_present(self) -> npt.NDArray[np.uint64]: ...
    @property
    def heatmaps(self) -> Dict[Tuple[int, int], npt.NDArray[np.uint32]]: ...
    @property
    def grid_heatmaps(self) -> Dict[str, npt.NDArray[np.uint32]]: ...
    def weights(self, kind: str = ..., *, enet_c: float = ..., effective_beta: float = ...,
                effective_unit: str = ..., repeat_threshold: Optional[float] = ...) -> npt.NDArray[np.float32]: ...
    def weights_table(self, **balance: Any) -> Dict[str, np.ndarray]: ...
    def repeat_factors(self, threshold: Optional[float] = ...) -> npt.NDArray[np.float64]: ...
    @property
    def cooccurrence(self) -> npt.NDArray[np.uint64]: ...
    @property
    def frame_paths(self) -> List[str]: ...
    @property
    def frames(self) -> Any: ...
    @property
    def errors(self) -> List[FileError]: ...
    @property
    def warnings(self) -> List[str]: ...
    @property
    def groups(self) -> List[str]: ...
    def group(self, name: str) -> Result: ...
    def to_json(self) -> str: ...
    def summary(self) -> Dict[str, Any]: ...
    def table(self, unicode: bool = ...) -> str: ...
    def write(self, out: _Path, report: bool = ..., force: bool = ..., **report_options: Any) -> Optional[str]: ...
    def save_state(self, path: _Path) -> None: ...
