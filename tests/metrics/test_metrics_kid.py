"""KID: the unbiased estimator against a direct computation, same vs shifted distributions."""
from __future__ import annotations

import numpy as np
import pytest

from gankit.errors import ConfigError, DataError
from gankit.metrics import kid


def _mmd2_direct(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) with k(a, b) = (a.b / d + 1)^3, by explicit sums."""
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * k(x, y).mean())


def test_equals_direct_estimator_when_one_subset_is_everything():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(80, 12)), rng.normal(size=(80, 12)) + 0.2
    mean, std = kid(a, b, subsets=3, subset_size=80)
    assert mean == pytest.approx(_mmd2_direct(a, b), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)  # the same (whole) subsets every time


def test_same_distribution_is_near_zero_and_shifted_is_clearly_positive():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(1000, 32)), rng.normal(size=(1000, 32))
    same_mean, same_std = kid(a, b, subsets=10, subset_size=500)
    shift_mean, shift_std = kid(a, b + 0.3, subsets=10, subset_size=500)
    # Over seeds 0-7: |same| <= 3.2e-3 (within 3 std), shifted ~0.3, at least 100x |same|.
    assert abs(same_mean) < 3 * same_std + 1e-3
    assert shift_mean > 30 * abs(same_mean) and shift_mean > 10 * shift_std


def test_subset_size_is_capped_and_seed_is_reproducible():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 8)), rng.normal(size=(70, 8))
    assert kid(a, b, subsets=5, seed=3) == kid(a, b, subsets=5, seed=3)
    assert kid(a, b, subsets=5, seed=3) != kid(a, b, subsets=5, seed=4)


def test_user_errors():
    x = np.zeros((10, 4))
    with pytest.raises(DataError, match="at least 2 rows"):
        kid(x[:1], x)
    with pytest.raises(DataError, match="feature sizes differ"):
        kid(x, np.zeros((10, 3)))
    with pytest.raises(ConfigError, match="subset_size"):
        kid(x, x, subset_size=1)
    with pytest.raises(ConfigError, match="subsets"):
        kid(x, x, subsets=0)
