"""WGAN-GP's gradient penalty against a known answer, and WGAN's weight clipping."""
import math

import pytest
import torch
from torch import nn

import gankit
from gankit import config, penalties
from gankit.training.engine import Trainer


class LinearCritic(nn.Module):
    """f(x) = w . x: its gradient is w everywhere, so the penalty is (|w| - 1)^2 for any x_hat."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x, y=None):
        return x.flatten(1) @ self.w


class ZeroGenerator(nn.Module):
    def forward(self, z, y=None):
        return torch.zeros(z.shape[0], 2)


@pytest.mark.parametrize("w", [[3.0, 4.0], [0.6, 0.0], [0.0, 1.0]])
def test_penalty_of_a_linear_critic(w):
    w = torch.tensor(w)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(32, 2, generator=g), torch.randn(32, 2, generator=g) + 3
    gp = penalties.gradient_penalty(LinearCritic(w), real, fake, generator=g)
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, abs=1e-6)


def test_penalty_on_images_is_per_example_norm():
    w = torch.randn(64, generator=torch.Generator().manual_seed(1))
    real, fake = torch.rand(16, 1, 8, 8), torch.rand(16, 1, 8, 8)
    gp = penalties.gradient_penalty(LinearCritic(w), real, fake)
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-5)


def test_wgan_gp_step_adds_lambda_times_penalty(tmp_path):
    """One critic step of the wgan-gp family with f(x) = w.x and G(z) = 0: the critic's loss
    -mean(x).w + lambda (|w| - 1)^2 has gradient -mean(x) + 2 lambda (|w| - 1) w / |w|."""
    cfg = config.resolve({"model": "wgan-gp", "data": "ring", "batch_size": 64, "precision": "fp32",
                          "out": str(tmp_path / "r")})
    assert (cfg.gp_lambda, cfg.n_critic, cfg.loss) == (10.0, 5, "wasserstein")
    tr = Trainer(cfg)
    w = torch.tensor([0.3, -0.4])  # |w| = 0.5
    tr.nets["D"], tr.nets["G"] = LinearCritic(w), ZeroGenerator()
    x = tr.data.x[:64]
    out = tr.step_fn(tr, x, None)
    assert out["gp"].item() == pytest.approx(0.25, abs=1e-6)
    assert "g_loss" not in out  # step 1 of 5: the critic only
    expected = -x.mean(0) + 2 * cfg.gp_lambda * (0.5 - 1) * w / 0.5
    torch.testing.assert_close(tr.nets["D"].w.grad, expected, rtol=1e-5, atol=1e-6)


def test_weight_clipping_bounds_every_critic_weight(tmp_path):
    base = {"data": "digits", "limit": 256, "batch_size": 64, "width": 8, "epochs": 1, "progress": False,
            "report": False}
    run = gankit.train({**base, "model": "wgan", "out": str(tmp_path / "wgan")})
    c = run.config.clip
    assert c == 0.01
    weights = torch.cat([p.detach().flatten() for p in run.nets["D"].parameters()])
    assert weights.abs().max().item() <= c
    assert math.isclose(weights.abs().max().item(), c, rel_tol=1e-6)  # the bound was reached: clipping worked
    # the same critic trained with a gradient penalty instead keeps weights far outside it
    free = gankit.train({**base, "model": "wgan-gp", "out": str(tmp_path / "gp")})
    assert max(p.detach().abs().max().item() for p in free.nets["D"].parameters()) > 10 * c
