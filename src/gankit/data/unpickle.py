"""An unpickler for untrusted files that rebuilds numpy arrays and nothing else.

A pickle can name any global (``os.system``, ``builtins.eval``, ...) and have it called while
loading. ``NumpyOnlyUnpickler`` admits only what numpy needs to rebuild a plain array (inside
tuples, lists and dicts); any other global, and any persistent id, is refused with a one-line
``DataError`` naming the file before anything is looked up.

    with gzip.open(path, "rb") as f:
        obj = NumpyOnlyUnpickler(f, path).load()
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError


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
