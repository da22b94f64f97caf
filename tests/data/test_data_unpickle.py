"""The numpy-only unpickler: arrays in containers come back; other globals and persistent ids do not."""
from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest

from gankit.data.unpickle import NumpyOnlyUnpickler
from gankit.errors import DataError


def _load(payload: bytes):
    return NumpyOnlyUnpickler(io.BytesIO(payload), "x.pkl").load()


def test_arrays_in_containers_round_trip():
    obj = {"a": (np.arange(6, dtype=np.float32).reshape(2, 3), [np.array([1, 2], np.int64)])}
    got = _load(pickle.dumps(obj, protocol=4))  # (5 rebuilds arrays through another global)
    np.testing.assert_array_equal(got["a"][0], obj["a"][0])
    assert got["a"][0].dtype == np.float32 and got["a"][1][0].dtype == np.int64


class _Calls:
    def __reduce__(self):
        return (os.getcwd, ())


class _Persistent(pickle.Pickler):
    def persistent_id(self, obj):
        return "ref" if isinstance(obj, str) else None


def test_other_globals_and_persistent_ids_are_refused():
    with pytest.raises(DataError, match=r"x.pkl: refusing to unpickle (posix|os).getcwd"):
        _load(pickle.dumps(_Calls()))
    buf = io.BytesIO()
    _Persistent(buf).dump(["s"])
    with pytest.raises(DataError, match="x.pkl: refusing a pickle with persistent ids"):
        _load(buf.getvalue())
