"""mode_stats on exact, collapsed and off-mode samples of the ring and grid."""
from __future__ import annotations

import math

import pytest
import torch

from gankit.data.toy import grid_mixture, ring_mixture
from gankit.errors import ConfigError
from gankit.metrics import mode_stats


def test_exact_ring_samples_cover_all_modes():
    m = ring_mixture()
    x, _ = m.sample(2500, torch.Generator().manual_seed(0))
    s = mode_stats(x, m.means, m.std)
    assert s["modes_covered"] == 8 and s["num_modes"] == 8 and sum(s["per_mode"]) <= 2500
    # In 2-D, P(|N(0, s^2 I)| <= 3 s) = 1 - exp(-9 / 2) = 0.9889.
    assert s["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert s["reverse_kl"] < 0.01  # multinomial noise: about (K - 1) / 2N = 0.0014


def test_collapsed_ring_covers_one_mode():
    m = ring_mixture()
    x = m.means[3] + 0.01 * torch.randn(1000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    s = mode_stats(x, m.means, 0.02)
    assert s["modes_covered"] == 1 and s["per_mode"][3] == s["high_quality"] * 1000
    assert s["reverse_kl"] == pytest.approx(math.log(8))


def test_grid_threshold_and_off_mode_samples():
    m = grid_mixture()
    x, _ = m.sample(5000, torch.Generator().manual_seed(2))
    assert mode_stats(x, m.means, m.std)["modes_covered"] == 25
    assert mode_stats(x, m.means, m.std, min_count=1000)["modes_covered"] == 0  # ~200 per mode
    off = mode_stats(torch.full((100, 2), 1.0), m.means, m.std)  # between the modes
    assert off["modes_covered"] == 0 and off["high_quality"] == 0.0 and math.isnan(off["reverse_kl"])


def test_user_errors():
    with pytest.raises(ConfigError, match="std"):
        mode_stats(torch.zeros(4, 2), ring_mixture().means, [0.1, 0.2])
    with pytest.raises(ConfigError, match="sigmas"):
        mode_stats(torch.zeros(4, 2), ring_mixture().means, 0.1, sigmas=0)
