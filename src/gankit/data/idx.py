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
"""
from __future__ import annotations

import contextlib
import gzip
import math
import os
import secrets
import zlib
from pathlib import Path
from typing import Iterator, Union

import numpy as np

from ..errors import DataError

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
    with atomic_output(path) as tmp:
        tmp.write_bytes(payload)
    return path


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success fsync it and ``os.replace`` it into place.

    On any exception the temporary file is removed and ``path`` is left untouched, so readers
    never see a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name opened with "x" (not mkstemp) so the file gets the usual umask permissions.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    open(tmp, "xb").close()
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
