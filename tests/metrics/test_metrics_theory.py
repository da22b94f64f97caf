"""The optimal discriminator: a trained D approaches D*, and V(D*) = -log 4 + 2 JSD."""
from __future__ import annotations

import json
import math

import pytest

from gankit.data.toy import Mixture, gmm1d_mixture
from gankit.errors import ConfigError
from gankit.metrics import checkerboard, optimal_d_experiment
from gankit.metrics.theory import overlap_counts
from torch import nn


def test_trained_d_approaches_d_star(tmp_path):
    png = tmp_path / "optimal-d.png"
    r = optimal_d_experiment(gmm1d_mixture(), Mixture([[0.0]], 1.0), seed=0, out_png=str(png))
    json.dumps(r)
    assert png.stat().st_size > 10_000
    # Measured over seeds 0-3 with the defaults: max error 0.013-0.021, mean error <= 0.008. The
    # remaining error sits where D* turns steeply in thin density (few samples per step); the
    # bounds leave a 3x margin.
    assert r["d_max_abs_err"] < 0.06 and r["d_mean_abs_err"] < 0.02
    assert abs(r["identity_diff"]) < 1e-6
    assert r["value_at_optimum"] == pytest.approx(-math.log(4) + 2 * r["jsd"], abs=1e-6)
    assert 0.0 <= r["value_gap"] < 0.01  # V(D) <= V(D*): D* is the maximiser
    assert r["final_bce"] == pytest.approx(-r["value_at_trained"] / 2, abs=0.02)


def test_divergences_estimated_from_d():
    """D's logit is its log density ratio: on fresh samples it estimates KL both ways and the JSD.
    Measured over seeds 0-3 against N(0, 1): KL(p_data || p_g) within 0.013 of the exact 1.625, the
    JSD within 0.004 of 0.366, and KL(p_g || p_data) 0.24-0.27 under the exact 3.076: p_g's mass
    between the data's modes is where D saw the fewest real points, so there it is least sure how
    thin the data is."""
    r = optimal_d_experiment(gmm1d_mixture(), Mixture([[0.0]], 1.0), seed=0)
    assert r["kl_data_g"] == pytest.approx(1.6251, abs=1e-3) and r["kl_g_data"] == pytest.approx(3.0761, abs=1e-3)
    assert r["kl_data_g_from_d"] == pytest.approx(r["kl_data_g"], abs=0.05)
    assert r["jsd_from_d"] == pytest.approx(r["jsd"], abs=0.015)
    assert 0.8 * r["kl_g_data"] < r["kl_g_data_from_d"] < r["kl_g_data"]


@pytest.mark.parametrize("p_g, jsd, value", [
    (gmm1d_mixture(), 0.0, -math.log(4)),  # p_g = p_data: D* = 1/2 everywhere
    (Mixture([[40.0]], 0.5), math.log(2), 0.0),  # disjoint supports: D* is 1 or 0
])
def test_quadrature_known_answers(p_g, jsd, value):
    r = optimal_d_experiment(gmm1d_mixture(), p_g, steps=5)
    assert r["jsd"] == pytest.approx(jsd, abs=1e-9)
    assert r["value_at_optimum"] == pytest.approx(value, abs=1e-9)
    if jsd == 0.0:
        assert r["kl_data_g"] == pytest.approx(0.0, abs=1e-9) and r["kl_g_data"] == pytest.approx(0.0, abs=1e-9)


def test_needs_1d_mixtures():
    with pytest.raises(ConfigError, match="1-D"):
        optimal_d_experiment(Mixture([[0.0, 0.0]], 1.0), gmm1d_mixture())


def test_a_kernel_the_stride_does_not_divide_overlaps_unevenly(tmp_path):
    # One 5x5 stride-2 layer: along each axis the interior pixels get 3 and 2 taps in turn, so a
    # pixel gets 9, 6 or 4; 4x4 stride 2 gives every interior pixel 2 x 2 = 4.
    odd = overlap_counts([nn.ConvTranspose2d(1, 1, 5, 2, 2, bias=False)], 6)
    even = overlap_counts([nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False)], 6)
    assert set(odd[3:-3, 3:-3].flatten().tolist()) == {4.0, 6.0, 9.0}
    assert set(even[2:-2, 2:-2].flatten().tolist()) == {4.0}
    r = checkerboard(tmp_path)
    lecture, radford = (r[k] for k in r if k not in ("png", "json"))
    assert (lecture["interior_min"], lecture["interior_max"]) == (16.0, 64.0)
    assert radford["interior_min"] == radford["interior_max"] == 16.0
    assert (tmp_path / "checkerboard.png").stat().st_size > 10_000
