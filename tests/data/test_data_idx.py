"""The IDX reader and writer: round trips, and every kind of damaged file -> one-line DataError."""
from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gankit.data.idx import read_idx, write_idx
from gankit.errors import DataError

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _one_line_error(path: Path, *fragments: str):
    """Read ``path`` expecting a DataError that names the file and mentions each fragment."""
    with pytest.raises(DataError) as info:
        read_idx(path)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_round_trip_raw_and_gzip(tmp_path, dtype, name):
    arr = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / name, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, arr)
    back[0, 0, 0] = 1  # writable, native-endian copy


def test_header_layout_is_the_mnist_one(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte", np.array([5, 0, 4], np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4])


def test_gzip_is_detected_by_magic_not_by_name(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    raw_named_gz = write_idx(tmp_path / "raw.gz", arr, compress=False)
    gz_named_raw = write_idx(tmp_path / "gz-idx2-ubyte", arr, compress=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz), arr)
    np.testing.assert_array_equal(read_idx(gz_named_raw), arr)


def test_gzip_output_is_deterministic(tmp_path):
    arr = np.arange(100, dtype=np.uint8)
    a = write_idx(tmp_path / "a.gz", arr).read_bytes()
    b = write_idx(tmp_path / "b.gz", arr).read_bytes()
    assert a == b


@settings(max_examples=40, deadline=None)
@given(arr=hnp.arrays(
    dtype=st.sampled_from([np.dtype(d) for d in DTYPES]),
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
), gz=st.booleans())
def test_round_trip_property(arr, gz):
    with tempfile.TemporaryDirectory() as d:
        path = write_idx(Path(d) / "x", arr, compress=gz)
        back = read_idx(path)
        assert back.dtype == arr.dtype.newbyteorder("=") and back.shape == arr.shape
        np.testing.assert_array_equal(back, arr)  # NaNs compare equal here


def test_truncated_payload(tmp_path):
    path = write_idx(tmp_path / "t-idx3-ubyte", np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    _one_line_error(path, "truncated", "(4, 28, 28)")


def test_truncated_payload_inside_gzip(tmp_path):
    path = tmp_path / "t-idx3-ubyte.gz"
    payload = bytes([0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(100)
    path.write_bytes(gzip.compress(payload))
    _one_line_error(path, "truncated")


def test_trailing_bytes(tmp_path):
    path = write_idx(tmp_path / "t", np.zeros(3, np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    _one_line_error(path, "trailing")


def test_truncated_gzip_stream(tmp_path):
    path = write_idx(tmp_path / "t.gz", np.arange(1000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-30])
    _one_line_error(path, "gzip")


def test_wrong_magic(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"PK\x03\x04" + bytes(32))  # a zip file, say
    _one_line_error(path, "not an IDX file")


def test_unknown_dtype_code(tmp_path):
    path = tmp_path / "bad-code"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 9]))
    _one_line_error(path, "dtype code 0x07")


def test_zero_dims(tmp_path):
    path = tmp_path / "no-dims"
    path.write_bytes(bytes([0, 0, 8, 0]))
    _one_line_error(path, "0 dimensions")


def test_dims_header_cut_short(tmp_path):
    path = tmp_path / "short-dims"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0]))  # 3 dims announced, 1.5 given
    _one_line_error(path, "header")


def test_dims_that_do_not_match_the_payload(tmp_path):
    path = tmp_path / "huge-dims"  # claims 2^32-1 x 2^32-1 bytes: must not try to allocate it
    path.write_bytes(bytes([0, 0, 8, 2]) + b"\xff" * 8 + bytes(16))
    _one_line_error(path, "need")


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    _one_line_error(empty, "not an IDX file")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "missing")


def test_writer_refuses_unsupported_dtypes(tmp_path):
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))
