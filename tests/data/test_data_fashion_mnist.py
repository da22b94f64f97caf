"""Fashion-MNIST: only from a data_dir, with its class names."""
from __future__ import annotations

import numpy as np
import pytest

from gankit.data import load_dataset
from gankit.errors import DataError


def test_fashion_mnist_needs_a_data_dir():
    with pytest.raises(DataError, match="fashion-mnist needs --data-dir.*download fashion-mnist"):
        load_dataset("fashion-mnist")


def test_fashion_mnist_from_dir(tmp_path, make_mnist_dir):
    data = make_mnist_dir(tmp_path / "f", gz=False)
    ds = load_dataset("fashion-mnist", data_dir=str(tmp_path / "f"), split="test")
    assert ds.x.shape == (8, 1, 28, 28) and ds.num_classes == 10 and ds.extra["classes"][9] == "Ankle boot"
    np.testing.assert_array_equal(ds.y.numpy(), data["test"][1])
    with pytest.raises(DataError, match="no Fashion-MNIST"):
        load_dataset("fashion-mnist", data_dir=str(tmp_path))
