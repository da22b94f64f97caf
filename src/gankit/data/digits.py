"""scikit-learn's 8x8 handwritten digits: 1797 images shipped inside scikit-learn (no network).

A tiny image set for smoke tests and quick demos: x float32 (N, 1, 8, 8) in [-1, 1] (the 0..16
grey levels mapped linearly), y int64 (N,) in 0..9. The split is fixed: a permutation seeded with
0, train = its first 1500 images, test = the remaining 297.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..registry import DATASETS
from . import Dataset, check_split
from .mnist import MNIST_CLASSES

TRAIN_SIZE = 1500
SPLIT_SEED = 0


@DATASETS.register("digits")
def digits(data_dir: str = "", split: str = "train", **kw: Any) -> Dataset:
    """The sklearn digits split: train (1500, 1, 8, 8), test (297, 1, 8, 8). ``data_dir`` is unused."""
    check_split(split)
    from sklearn.datasets import load_digits  # imported here: sklearn is slow to import

    bunch = load_digits()
    images = bunch.images.astype(np.float32)  # (1797, 8, 8), values 0..16
    labels = bunch.target.astype(np.int64)  # (1797,)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    idx = order[:TRAIN_SIZE] if split == "train" else order[TRAIN_SIZE:]
    x = torch.from_numpy(images[idx] / 8.0 - 1.0).unsqueeze(1)  # (N, 1, 8, 8) in [-1, 1]
    return Dataset("digits", x, torch.from_numpy(labels[idx]), 10,
                   {"source": "sklearn.datasets.load_digits", "classes": MNIST_CLASSES})
