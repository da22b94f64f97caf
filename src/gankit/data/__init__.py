"""Data sources. Every source returns one in-memory ``Dataset``; batches are index slices of it.

Images are float32 (N, C, H, W) scaled to [-1, 1]; toy points are float32 (N, D).
Sources register themselves by name in ``gankit.registry.DATASETS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import torch

from ..registry import DATASETS


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


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]."""
    return (x.clamp(-1, 1) + 1) / 2


from . import digits, folder, mnist, toy  # noqa: E402,F401  (register the sources)
