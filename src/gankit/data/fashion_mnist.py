"""Fashion-MNIST (Zalando): ten kinds of clothing in MNIST's format, from ``data_dir`` only.

The four standard IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each raw or gzipped) in ``data_dir`` or
in torchvision's ``FashionMNIST/raw/`` below it. ``gankit data download fashion-mnist --dest DIR``
fetches them. x float32 (N, 1, 28, 28) in [-1, 1], y int64 (N,) in 0..9.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..errors import DataError
from ..registry import DATASETS
from . import Dataset, check_split, images_from_uint8
from .idx import IDX_NAMES, standard_idx_split

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


@DATASETS.register("fashion-mnist")
def fashion_mnist(data_dir: str = "", split: str = "train", **kw: Any) -> Dataset:
    """Fashion-MNIST from the four IDX files in ``data_dir`` (or its ``FashionMNIST/raw/``).

    x float32 (N, 1, 28, 28) in [-1, 1], y int64 (N,) in 0..9; class names in ``extra["classes"]``.
    """
    check_split(split)
    how = "run `gankit data download fashion-mnist --dest DIR` and pass --data-dir DIR"
    if not data_dir:
        raise DataError(f"fashion-mnist needs --data-dir with its four IDX files; {how}")
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise DataError(f"--data-dir {data_dir}: no such folder")
    found = standard_idx_split(folder, split, ("FashionMNIST/raw",))
    if found is None:
        images_name, labels_name = IDX_NAMES[split]
        raise DataError(
            f"--data-dir {data_dir}: no Fashion-MNIST there (looked for {images_name}[.gz] and "
            f"{labels_name}[.gz]); {how}"
        )
    x, y, source = found
    return Dataset("fashion-mnist", images_from_uint8(x), torch.from_numpy(y), 10,
                   {"source": source, "classes": FASHION_CLASSES})
