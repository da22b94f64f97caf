"""FID: closed forms, an independent scipy.linalg.sqrtm computation, and user errors."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from gankit.errors import DataError
from gankit.metrics import feature_stats, fid, frechet_distance


def _fid_sqrtm(a: np.ndarray, b: np.ndarray) -> float:
    """The pytorch-fid formula with scipy's (complex) sqrtm, as an independent reference."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_diagonal_gaussians_closed_form():
    # For commuting (diagonal) covariances: d^2 = |mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 4.0, 20), rng.uniform(0.1, 4.0, 20)
    mu1, mu2 = rng.normal(size=20), rng.normal(size=20)
    want = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(want, rel=1e-12)


def test_matches_scipy_sqrtm_on_correlated_features():
    rng = np.random.default_rng(1)
    f = 32
    a = rng.normal(size=(600, f)) @ rng.normal(size=(f, f))
    b = rng.normal(size=(500, f)) @ rng.normal(size=(f, f)) * 0.7 + 0.3
    assert fid(a, b) == pytest.approx(_fid_sqrtm(a, b), rel=1e-6)


def test_stats_of_float32_tensors_are_float64_and_unbiased():
    import torch

    rng = np.random.default_rng(2)
    a = rng.normal(size=(100, 5)).astype(np.float32)
    mu, sigma = feature_stats(torch.from_numpy(a))
    assert mu.dtype == sigma.dtype == np.float64  # float32 features, float64 statistics
    np.testing.assert_allclose(mu, a.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(a.astype(np.float64), rowvar=False), rtol=1e-12)


def test_self_distance_is_zero_even_when_rank_deficient():
    rng = np.random.default_rng(3)
    full = rng.normal(size=(400, 16)) * 3
    low_rank = rng.normal(size=(10, 64))  # N < F: the covariance is singular
    assert fid(full, full) == pytest.approx(0.0, abs=1e-9)
    assert fid(low_rank, low_rank) == pytest.approx(0.0, abs=1e-6)
    assert fid(full, full + 1.0) == pytest.approx(16.0, rel=1e-9)  # a pure shift: |mu1 - mu2|^2


def test_user_errors():
    x = np.zeros((10, 4))
    with pytest.raises(DataError, match="2-D"):
        fid(np.zeros(10), x)
    with pytest.raises(DataError, match="at least 2 rows"):
        fid(x[:1], x)
    with pytest.raises(DataError, match="shapes do not match"):
        fid(x, np.zeros((10, 5)))
    with pytest.raises(DataError, match="NaN"):
        fid(np.full((10, 4), np.nan), x)
