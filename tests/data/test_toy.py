"""Toy mixtures: exact densities, the ring/grid/gmm1d layouts, and the registered sources."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from gankit.data import load_dataset
from gankit.data.toy import Mixture, gmm1d_mixture, grid_mixture, ring_mixture
from gankit.errors import ConfigError


def test_ring_has_8_distinct_modes_on_radius_2():
    m = ring_mixture()
    assert m.means.shape == (8, 2)
    assert torch.allclose(m.means.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64))
    gaps = torch.cdist(m.means, m.means) + torch.eye(8, dtype=torch.float64) * 1e9
    assert float(gaps.min()) == pytest.approx(2 * 2.0 * math.sin(math.pi / 8))  # neighbours 45 degrees apart
    angles = torch.atan2(m.means[:, 1], m.means[:, 0]) % (2 * math.pi)
    assert torch.allclose(angles.sort().values, torch.arange(8, dtype=torch.float64) * math.pi / 4, atol=1e-12)
    assert torch.all(m.std == 0.02)


def test_grid_is_5x5_at_even_coordinates():
    m = grid_mixture()
    got = {tuple(p) for p in m.means.round().long().tolist()}
    assert got == {(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert torch.all(m.std == 0.05)


def test_gmm1d_pdf_integrates_to_one_and_matches_scipy():
    m = gmm1d_mixture(means=(-2.0, 1.0, 4.0), std=(0.5, 1.0, 0.3), weights=(1, 2, 1))
    density = lambda t: float(m.pdf(torch.tensor([[t]], dtype=torch.float64)))  # noqa: E731
    total, _ = integrate.quad(density, -20, 20, points=[-2, 1, 4], limit=200, epsabs=1e-13, epsrel=1e-13)
    assert total == pytest.approx(1.0, abs=1e-9)
    x = np.linspace(-5, 6, 50)
    want = 0.25 * stats.norm.pdf(x, -2, 0.5) + 0.5 * stats.norm.pdf(x, 1, 1.0) + 0.25 * stats.norm.pdf(x, 4, 0.3)
    np.testing.assert_allclose(m.pdf(torch.from_numpy(x)).numpy(), want, rtol=1e-12)


def test_ring_pdf_integrates_to_one_on_a_grid():
    # The trapezoid rule on a step of std/2 is exact for Gaussians up to ~exp(-2 pi^2 * 4).
    m = ring_mixture()
    t = torch.arange(-2.5, 2.5 + 1e-9, 0.01, dtype=torch.float64)
    gx, gy = torch.meshgrid(t, t, indexing="ij")
    dens = m.pdf(torch.stack([gx.flatten(), gy.flatten()], 1)).reshape(len(t), len(t))
    assert float(dens.sum() * 0.01**2) == pytest.approx(1.0, abs=1e-9)


def test_log_prob_matches_scipy_in_2d():
    m = Mixture([[0.0, 0.0], [3.0, -1.0]], std=[1.0, 0.5], weights=[0.3, 0.7])
    x = torch.randn(20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    want = np.log(0.3 * stats.multivariate_normal.pdf(x.numpy(), [0, 0], 1.0)
                  + 0.7 * stats.multivariate_normal.pdf(x.numpy(), [3, -1], 0.25))
    np.testing.assert_allclose(m.log_prob(x).numpy(), want, rtol=1e-12)


def test_sample_shapes_components_and_spread():
    m = Mixture([[0.0], [10.0]], std=0.5, weights=[0.2, 0.8])
    x, idx = m.sample(20000, torch.Generator().manual_seed(1))
    assert x.dtype == torch.float32 and x.shape == (20000, 1) and idx.dtype == torch.int64
    assert float((idx == 1).double().mean()) == pytest.approx(0.8, abs=0.01)
    resid = x[:, 0].double() - m.means[idx, 0]
    assert float(resid.std()) == pytest.approx(0.5, rel=0.03)


def test_registered_sources_and_splits():
    ds = load_dataset("ring", n=500)
    assert ds.name == "ring" and ds.x.shape == (500, 2) and ds.x.dtype == torch.float32
    assert ds.num_classes == 8 and ds.y.shape == (500,) and int(ds.y.max()) < 8
    assert isinstance(ds.extra["mixture"], Mixture) and not ds.is_image
    assert torch.equal(ds.x, load_dataset("ring", n=500).x)  # deterministic
    assert not torch.equal(ds.x, load_dataset("ring", split="test", n=500).x)  # other seed
    assert load_dataset("grid", n=100).num_classes == 25
    g = load_dataset("gmm1d", n=300, means=(-1.0, 0.0, 1.0), std=0.1)
    assert g.x.shape == (300, 1) and g.num_classes == 3


@pytest.mark.parametrize("kwargs, match", [
    ({"split": "valid"}, "split"),
    ({"n": 0}, "n must be"),
    ({"std": 0.0}, "std"),
])
def test_bad_options_are_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        load_dataset("ring", **kwargs)


def test_bad_mixture_shapes_are_config_errors():
    with pytest.raises(ConfigError, match="means"):
        Mixture([0.0, 1.0], 1.0)
    with pytest.raises(ConfigError, match="weights"):
        Mixture([[0.0], [1.0]], 1.0, weights=[1.0, -1.0])
    with pytest.raises(ConfigError, match="points"):
        ring_mixture().log_prob(torch.zeros(4, 3))
