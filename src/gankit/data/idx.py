"""The IDX file format (LeCun's MNIST format): a strict reader and a writer.

An IDX file is, all big-endian::

    bytes 0-1   0x00 0x00                     magic
    byte  2     dtype code                    0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                              0x0D float32, 0x0E float64
    byte  3     ndim                          number of dimensions, >= 1
    4 * ndim    dims                          uint32 each, e.g. 60000, 28, 28
    payload     prod(dims) * itemsize bytes   the array in C order

Files may be gzipped; the reader detects that by the gzip magic bytes (``1f 8b``), not by the
name. The reader checks the magic, the dtype code, the dims and the exact payload length, and
raises a one-line ``DataError`` naming the file for anything wrong.

    write_idx("train-labels-idx1-ubyte.gz", np.array([5, 0, 4], np.uint8))
    read_idx("train-labels-idx1-ubyte.gz")  # -> array([5, 0, 4], dtype=uint8)

Above the single file: ``read_idx_pair`` reads an images file with its labels file and checks
that they belong together, and ``standard_idx_split`` finds the four standard files
(``IDX_NAMES``, as MNIST and Fashion-MNIST ship them) in a folder.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DataError
from ..rundir import atomic_write
from . import check_labels

PathLike = Union[str, os.PathLike]

# IDX dtype code -> numpy dtype (big-endian on disk).
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}

GZIP_MAGIC = b"\x1f\x8b"


def read_bytes_maybe_gzip(path: PathLike) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic. DataError when unreadable."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from None


def read_idx(path: PathLike) -> np.ndarray:
    """Read one IDX file (raw or gzipped) into a native-endian array of shape ``dims``.

    Raises ``DataError`` naming the file when the magic, dtype code or dims are bad, or when the
    payload is not exactly ``prod(dims) * itemsize`` bytes (a truncated or padded file).
    """
    path = Path(path)
    data = read_bytes_maybe_gzip(path)
    if len(data) < 4:
        raise DataError(f"{path}: not an IDX file (only {len(data)} bytes, no 4-byte header)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{path}: not an IDX file (magic starts with 0x{data[0]:02x}{data[1]:02x}, expected 0x0000)"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise DataError(f"{path}: unknown IDX dtype code 0x{code:02x} (magic 0x{data[:4].hex()})")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{path}: truncated IDX header ({ndim} dims need {header} bytes, file has {len(data)})"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow on absurd dims
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise DataError(
            f"{path}: IDX payload {what}: dims {dims} of {dtype.name} need {expected} bytes, found {got}"
        )
    try:
        arr = np.frombuffer(data, dtype, offset=header).reshape(dims)
    except ValueError:  # e.g. dims (0, 2**31, 2**31): an empty payload, but a shape numpy cannot hold
        raise DataError(f"{path}: IDX dims {dims} describe an array too large to hold") from None
    return arr.astype(dtype.newbyteorder("="))  # a native-endian, writable copy


def write_idx(path: PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically. Gzipped when ``compress`` (default: name ends .gz).

    The gzip header carries no timestamp, so the same array always gives the same bytes.
    """
    path = Path(path)
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=")
    if native not in _CODE_OF:
        raise ValueError(f"IDX cannot store dtype {arr.dtype}; use one of {sorted(str(d) for d in _CODE_OF)}")
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {arr.ndim}")
    code = _CODE_OF[native]
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
    payload = header + np.ascontiguousarray(arr, IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.name.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)
    return atomic_write(path, payload)


# --------------------------------------------------------------------------------------------
# An images file with its labels; the standard four-file layout
# --------------------------------------------------------------------------------------------

# Standard IDX file names (without ``.gz``) per split: (images, labels).
IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def find_raw_or_gz(folder: Path, name: str) -> Optional[Path]:
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
    check_labels(y, num_classes, labels_path)
    return x, y


def standard_idx_split(
    data_dir: Path, split: str, subdirs: Sequence[str]
) -> Optional[Tuple[np.ndarray, np.ndarray, str]]:
    """The standard IDX files of ``split`` in ``data_dir`` (or one of ``subdirs``), or None.

    Returns x uint8 (N, 28, 28), y int64 (N,) in 0..9, and the images file's path. One file of
    the pair without the other is a ``DataError`` naming the folder.
    """
    images_name, labels_name = IDX_NAMES[split]
    for folder in [data_dir] + [data_dir / s for s in subdirs]:
        images = find_raw_or_gz(folder, images_name)
        labels = find_raw_or_gz(folder, labels_name)
        if images is None and labels is None:
            continue
        if images is None or labels is None:
            present, missing = (images, labels_name) if images else (labels, images_name)
            raise DataError(f"{folder}: found {present.name} but not {missing}[.gz] next to it")
        x, y = read_idx_pair(images, labels)
        return x, y, str(images)
    return None
