# Type stubs of maskscan.torch (its docstrings document each name).
import os
from typing import Iterator, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt
import torch
import torch.utils.data

from . import Result

def class_weights(result: Result, kind: str = ..., *, absent: float = ...,
                  device: Union[str, torch.device, None] = ...) -> torch.Tensor: ...
def ignore_index(result: Result) -> int: ...

class RepeatFactorSampler(torch.utils.data.Sampler[int]):
    num_replicas: int
    rank: int
    shuffle: bool
    seed: int
    drop_last: bool
    epoch: int
    def __init__(self, result: Result, dataset_paths: Sequence[Union[str, os.PathLike[str]]],
                 threshold: Optional[float] = ..., *, num_replicas: Optional[int] = ..., rank: Optional[int] = ...,
                 shuffle: bool = ..., seed: int = ..., drop_last: bool = ...) -> None: ...
    @property
    def repeat_factors(self) -> npt.NDArray[np.float64]: ...
    @property
    def expected_epoch_size(self) -> float: ...
    def set_epoch(self, epoch: int) -> None: ...
    def __iter__(self) -> Iterator[int]: ...
    def __len__(self) -> int: ...
