"""The ``idx`` source: any IDX image set in a folder, picked by prefix, labelled or not."""
from __future__ import annotations

import numpy as np
import pytest

from gankit.data import load_dataset
from gankit.data.idx import write_idx
from gankit.errors import DataError


def test_idx_source_any_set(tmp_path, make_tiny_mnist, to_uint8):
    xt, yt = make_tiny_mnist(7, 0, shape=(10, 12), num_classes=27)
    xs, ys = make_tiny_mnist(3, 1, shape=(10, 12), num_classes=27)
    yt[0] = 26  # largest label lives in train
    write_idx(tmp_path / "emnist-letters-train-images-idx3-ubyte.gz", xt)
    write_idx(tmp_path / "emnist-letters-train-labels-idx1-ubyte.gz", yt)
    write_idx(tmp_path / "emnist-letters-test-images-idx3-ubyte", xs)
    write_idx(tmp_path / "emnist-letters-test-labels-idx1-ubyte", ys)
    train = load_dataset("idx", data_dir=str(tmp_path))
    test = load_dataset("idx", data_dir=str(tmp_path), split="test")
    assert train.x.shape == (7, 1, 10, 12) and test.x.shape == (3, 1, 10, 12)
    assert train.num_classes == test.num_classes == 27
    np.testing.assert_array_equal(to_uint8(test.x[:, 0]), xs)

    # A second set in the same folder: ambiguous until a prefix picks one.
    write_idx(tmp_path / "other-train-images-idx3-ubyte", xt[:2])
    with pytest.raises(DataError, match="several IDX sets"):
        load_dataset("idx", data_dir=str(tmp_path))
    assert len(load_dataset("idx", data_dir=str(tmp_path), prefix="other")) == 2
    unlabelled = load_dataset("idx", data_dir=str(tmp_path), prefix="other")
    assert unlabelled.y is None and unlabelled.num_classes == 0


def test_idx_source_kaggle_names_and_errors(tmp_path, make_tiny_mnist):
    x, y = make_tiny_mnist(4, 0)
    write_idx(tmp_path / "train-images.idx3-ubyte", x)
    write_idx(tmp_path / "train-labels.idx1-ubyte", y)
    ds = load_dataset("idx", data_dir=str(tmp_path))
    np.testing.assert_array_equal(ds.y.numpy(), y)
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        load_dataset("idx", data_dir=str(tmp_path), split="test")
    with pytest.raises(DataError, match="--data-dir"):
        load_dataset("idx")
