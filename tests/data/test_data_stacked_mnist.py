"""Stacked MNIST: three MNIST digits per image, 1000 modes, the same set for the same seed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.data import load_dataset
from gankit.errors import ConfigError


def test_stacked_mnist(mnist_dir, to_uint8):
    folder, data = mnist_dir
    x, y = data["train"][0], data["train"][1].astype(np.int64)
    ds = load_dataset("stacked-mnist", data_dir=str(folder), size=300)
    assert ds.x.shape == (300, 3, 28, 28) and ds.num_classes == 1000
    assert ds.y.dtype == torch.int64 and 0 <= ds.y.min() and ds.y.max() <= 999
    # Each channel is one MNIST image (its pixel [0, 0] is its index); the label spells the digits.
    idx = to_uint8(ds.x[:, :, 0, 0]).astype(np.int64)  # (300, 3)
    for c in range(3):
        np.testing.assert_array_equal(to_uint8(ds.x[:, c]), x[idx[:, c]])
    np.testing.assert_array_equal(ds.y.numpy(), 100 * y[idx[:, 0]] + 10 * y[idx[:, 1]] + y[idx[:, 2]])
    assert len(np.unique(ds.y.numpy())) > 100  # many modes, not a few

    again = load_dataset("stacked-mnist", data_dir=str(folder), size=300)
    other = load_dataset("stacked-mnist", data_dir=str(folder), size=300, seed=1)
    assert torch.equal(again.x, ds.x) and torch.equal(again.y, ds.y)
    assert not torch.equal(other.y, ds.y)
    assert len(load_dataset("stacked-mnist", data_dir=str(folder), split="test")) == 26000
    with pytest.raises(ConfigError, match="size"):
        load_dataset("stacked-mnist", data_dir=str(folder), size=-1)
