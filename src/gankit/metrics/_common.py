"""Input checks shared by the metrics: features in, float64 torch tensors out."""
from __future__ import annotations

from typing import Union

import numpy as np
import torch

from ..errors import ConfigError, DataError

ArrayLike = Union[np.ndarray, torch.Tensor]

# Rows per block of a pairwise-distance matrix: a block holds at most this many float64 entries
# (2**23 -> 64 MiB), so 10k x 10k distances never sit in memory at once.
BLOCK_ENTRIES = 2**23


def as_matrix(x: ArrayLike, name: str, min_rows: int = 1) -> torch.Tensor:
    """`x` (N, F) as a float64 tensor, on its own device for tensors, the CPU for arrays."""
    if isinstance(x, torch.Tensor):
        t = x.detach().to(torch.float64)
    else:  # a copy: read-only arrays (e.g. memory-mapped caches) stay untouched
        t = torch.from_numpy(np.array(x, dtype=np.float64))
    if t.dim() != 2:
        raise DataError(f"{name}: expected a 2-D array (N, F), got shape {tuple(t.shape)}")
    if t.shape[0] < min_rows:
        raise DataError(f"{name}: needs at least {min_rows} rows, got {t.shape[0]}")
    if not bool(torch.isfinite(t).all()):
        raise DataError(f"{name}: contains NaN or Inf")
    return t


def same_width(a: torch.Tensor, b: torch.Tensor, names: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise DataError(f"{names}: feature sizes differ ({a.shape[1]} vs {b.shape[1]})")


def int_at_least(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


MAX_SEED = 2**31 - 1  # seeds are int32, as a config's


def check_seed(seed, flag: str = "--seed") -> int:
    """``seed`` as an int in 0..MAX_SEED, else a ConfigError naming ``flag``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{flag}: must be an integer in 0..{MAX_SEED}, got {seed!r}")
    return int(seed)


def row_blocks(n_rows: int, n_cols: int):
    """Slices over n_rows so that a (rows, n_cols) block stays under BLOCK_ENTRIES entries."""
    step = max(1, BLOCK_ENTRIES // max(1, n_cols))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))
