"""The ``digits`` source: scikit-learn's 8x8 digits, fixed split."""
from __future__ import annotations

import torch

from gankit.data import load_dataset


def test_digits_shapes_range_and_split():
    train = load_dataset("digits")
    test = load_dataset("digits", split="test")
    assert train.x.shape == (1500, 1, 8, 8) and test.x.shape == (297, 1, 8, 8)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert train.x.min() == -1 and train.x.max() == 1
    assert set(train.y.tolist()) == set(range(10)) and train.num_classes == 10
    # grey levels are k/8 - 1 for k in 0..16
    levels = (train.x + 1) * 8
    assert torch.equal(levels, levels.round())
    # deterministic, and train/test do not overlap (compare whole images)
    assert torch.equal(load_dataset("digits").x, train.x)
    train_rows = {tuple(r) for r in train.x.flatten(1).tolist()}
    overlap = sum(tuple(r) in train_rows for r in test.x.flatten(1).tolist())
    assert overlap == 0  # the 1797 images are all distinct
