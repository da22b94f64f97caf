"""Stacked MNIST: three MNIST digits as the R, G, B channels, so 1000 modes (a mode-collapse test).

x float32 (N, 3, 28, 28) in [-1, 1]; y = 100 * R digit + 10 * G digit + B digit, in 0..999.
The digits come from MNIST, found as ``mnist.py`` finds it (``data_dir`` first).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..registry import DATASETS
from . import SPLITS, Dataset, check_split, images_from_uint8
from .mnist import mnist_arrays


@DATASETS.register("stacked-mnist")
def stacked_mnist(
    data_dir: str = "", split: str = "train", size: int = 0, seed: int = 0, **kw: Any
) -> Dataset:
    """Stacked MNIST: three MNIST digits as the R, G, B channels -> 1000 modes (mode-collapse test).

    x float32 (size, 3, 28, 28) in [-1, 1]; y int64 = 100 * (R digit) + 10 * (G digit) + (B digit),
    in 0..999. The digit triples are drawn with replacement from the MNIST ``split`` (resolved as
    for ``mnist``) by a generator seeded with (``seed``, split), so the set is the same every time.
    ``size`` defaults to 60000 for train and 26000 for test: the papers count the modes of 26,000
    samples (Srivastava et al. 2017; Lin et al. 2018), and the floor needs as many real ones.
    """
    check_split(split)
    try:
        size, seed = int(size), int(seed)
    except (TypeError, ValueError):
        raise ConfigError(f"stacked-mnist: size and seed must be integers, got {size!r}, {seed!r}") from None
    if size < 0:
        raise ConfigError(f"stacked-mnist: size must be >= 0, got {size}")
    size = size or (60000 if split == "train" else 26000)
    x, y, source = mnist_arrays(data_dir, split)
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    picks = rng.integers(0, len(x), size=(size, 3))  # (size, 3) indices into MNIST
    images = x[picks]  # (size, 3, 28, 28) uint8
    labels = y[picks] @ np.array([100, 10, 1], dtype=np.int64)  # (size,)
    return Dataset("stacked-mnist", images_from_uint8(images), torch.from_numpy(labels), 1000,
                   {"source": source, "seed": seed})
