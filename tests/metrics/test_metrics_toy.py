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
    assert mode_stats(x, m.means, m.std, share=1.0)["modes_covered"] < 25  # ~200 per mode, some a few under
    off = mode_stats(torch.full((100, 2), 1.0), m.means, m.std)  # between the modes
    assert off["modes_covered"] == 0 and off["high_quality"] == 0.0 and math.isnan(off["reverse_kl"])


def test_strict_coverage_needs_a_fifth_of_the_fair_share():
    """100 points: a fair share of the 8-mode ring is 12.5, a fifth of it 2.5. Modes with 3 or
    more high-quality points are covered, those with 1 or 2 only hit."""
    m = ring_mixture()
    counts = [40, 30, 20, 4, 3, 2, 1, 0]
    x = torch.cat([m.means[k].expand(c, 2) for k, c in enumerate(counts)])  # exact mode centres
    s = mode_stats(x, m.means, m.std)
    assert s["per_mode"] == counts and s["high_quality"] == 1.0
    assert s["modes_covered"] == 5 and s["modes_hit"] == 7
    # weights set the fair share: of 100 points, a mode of weight 0.1 needs 2, and one of 0.3 needs 6
    w = [0.1] * 7 + [0.3]
    assert mode_stats(x, m.means, m.std, weights=w)["modes_covered"] == 6  # 2 now counts; the last has 0
    def at(cs):
        return torch.cat([m.means[k].expand(c, 2) for k, c in enumerate(cs)])
    assert mode_stats(at([35, 30, 20, 4, 3, 2, 1, 5]), m.means, m.std, weights=w)["modes_covered"] == 6  # 5 < 6
    assert mode_stats(at([34, 30, 20, 4, 3, 2, 1, 6]), m.means, m.std, weights=w)["modes_covered"] == 7


def test_user_errors():
    with pytest.raises(ConfigError, match="std"):
        mode_stats(torch.zeros(4, 2), ring_mixture().means, [0.1, 0.2])
    with pytest.raises(ConfigError, match="sigmas"):
        mode_stats(torch.zeros(4, 2), ring_mixture().means, 0.1, sigmas=0)
    with pytest.raises(ConfigError, match="share"):
        mode_stats(torch.zeros(4, 2), ring_mixture().means, 0.1, share=0)
