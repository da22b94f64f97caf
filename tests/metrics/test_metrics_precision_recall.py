"""Precision/recall, density/coverage and memorisation: known answers, brute force, directions."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import gankit.metrics._common as common
from gankit.errors import ConfigError, DataError
from gankit.metrics import density_coverage, memorization, precision_recall


def _brute_force(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    """The definitions with full distance matrices (Kynkäänniemi et al. 2019; Naeem et al. 2020)."""
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=-1)
    d_fr = np.linalg.norm(fake[:, None] - real[None], axis=-1)  # (M, N)
    r_real = np.sort(d_rr, axis=1)[:, k]  # column 0 is the sample itself
    r_fake = np.sort(d_ff, axis=1)[:, k]
    inside = d_fr <= r_real[None]
    return {
        "precision": inside.any(axis=1).mean(),
        "recall": (d_fr <= r_fake[:, None]).any(axis=0).mean(),
        "density": inside.sum() / (k * len(fake)),
        "coverage": (d_fr.min(axis=0) <= r_real).mean(),
    }


def test_blocked_computation_equals_brute_force(monkeypatch):
    monkeypatch.setattr(common, "BLOCK_ENTRIES", 1000)  # force many small blocks
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(230, 6)), rng.normal(size=(170, 6)) * 1.3 + 0.2
    got = precision_recall(real, fake, k=3)
    want = _brute_force(real, fake, k=3)
    assert got["precision"] == pytest.approx(want["precision"]) and got["recall"] == pytest.approx(want["recall"])
    got = density_coverage(real, fake, k=5)
    want = _brute_force(real, fake, k=5)
    assert got["density"] == pytest.approx(want["density"]) and got["coverage"] == pytest.approx(want["coverage"])


def test_identical_sets():
    x = torch.randn(500, 16, generator=torch.Generator().manual_seed(1))
    assert precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}
    dc = density_coverage(x, x, k=5)
    # Each real ball holds its own centre and its k neighbours: k + 1 of the M = N fakes. The k-th
    # neighbour sits exactly on the ball's edge, where float rounding may drop it now and then.
    assert dc["density"] == pytest.approx(6 / 5, abs=0.005) and dc["coverage"] == 1.0


def test_shift_lowers_everything_and_narrow_fakes_trade_recall_for_precision():
    rng = np.random.default_rng(2)
    real, other = rng.normal(size=(1000, 16)), rng.normal(size=(1000, 16))
    same = precision_recall(real, other)
    shifted = precision_recall(real, other + 1.5)
    assert same["precision"] > 0.6 and same["recall"] > 0.6
    assert shifted["precision"] < 0.1 and shifted["recall"] < 0.1
    narrow = precision_recall(real, other * 0.5)  # good-looking but not diverse
    assert narrow["precision"] > 0.95 and narrow["recall"] < 0.2
    dc_same, dc_shift = density_coverage(real, other), density_coverage(real, other + 1.5)
    assert 0.6 < dc_same["density"] < 1.4 and dc_same["coverage"] > 0.9
    assert dc_shift["density"] < 0.1 and dc_shift["coverage"] < 0.2


def test_memorization_copies_vs_fresh_samples():
    rng = np.random.default_rng(3)
    train, test, fresh = (rng.normal(size=(1000, 8)) for _ in range(3))
    copies = train[:500] + 1e-3 * rng.normal(size=(500, 8))
    fresh_r = memorization(train, test, fresh)
    assert fresh_r["quantile"] == 0.5 and fresh_r["threshold"] > 0
    assert fresh_r["memorized"] == pytest.approx(0.5, abs=0.06)  # as far from train as unseen data
    assert memorization(train, test, copies)["memorized"] == 1.0
    low = memorization(train, test, fresh, quantile=0.05)
    assert low["threshold"] < fresh_r["threshold"] and low["memorized"] == pytest.approx(0.05, abs=0.03)


def test_user_errors():
    x = np.zeros((3, 4))
    with pytest.raises(ConfigError, match="k=3 needs more than 3 samples"):
        precision_recall(x, np.ones((10, 4)))
    with pytest.raises(ConfigError, match="k must be"):
        density_coverage(np.ones((10, 4)), np.ones((10, 4)), k=0)
    with pytest.raises(DataError, match="feature sizes differ"):
        precision_recall(np.ones((10, 4)), np.ones((10, 5)))
    with pytest.raises(ConfigError, match="quantile"):
        memorization(x, x, x, quantile=1.0)
