"""WGAN-GP's gradient penalty against a known answer, and WGAN's weight clipping."""
import math

import pytest
import torch
from torch import nn

import gankit
from gankit import config, penalties
from gankit.models.critic import WGAN_DEFAULTS
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
                          "n_critic": 5, "out": str(tmp_path / "r")})
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
    assert c == WGAN_DEFAULTS["clip"] > 0
    weights = torch.cat([p.detach().flatten() for p in run.nets["D"].parameters()])
    assert weights.abs().max().item() <= c
    assert math.isclose(weights.abs().max().item(), c, rel_tol=1e-6)  # the bound was reached: clipping worked
    # the same critic trained with a gradient penalty instead keeps weights far outside it
    free = gankit.train({**base, "model": "wgan-gp", "out": str(tmp_path / "gp")})
    assert max(p.detach().abs().max().item() for p in free.nets["D"].parameters()) > 10 * c


class QuadraticCritic(nn.Module):
    """f(x) = s/2 |x|^2 (one scalar parameter s): grad_x f = s x, so the penalties depend on where
    they are evaluated: GP on |s x_hat| at the interpolated points, R1 on |s x| at the real ones."""

    def __init__(self, s: float = 1.0):
        super().__init__()
        self.s = nn.Parameter(torch.tensor(s))

    def forward(self, x, y=None):
        return 0.5 * self.s * x.flatten(1).pow(2).sum(1)


class ConstGenerator(nn.Module):
    """Every fake is the same point c: fakes matter to the interpolation but G has nothing to train."""

    def __init__(self, c):
        super().__init__()
        self.c = torch.tensor(c)

    def forward(self, z, y=None):
        return self.c.expand(z.shape[0], -1).clone()


def test_penalty_of_a_quadratic_critic_at_fixed_alpha():
    """GP = E (|x_hat| - 1)^2 with x_hat = a real + (1 - a) fake, one a per example: a wrong mix
    (a and 1 - a swapped, one a for the batch or per pixel, real or fake alone) changes the value."""
    g = torch.Generator().manual_seed(3)
    real, fake = torch.randn(6, 1, 2, 2, generator=g), torch.randn(6, 1, 2, 2, generator=g) * 2 + 1
    alpha = torch.tensor([0.0, 1.0, 0.25, 0.5, 0.9, 0.1])
    gp = penalties.gradient_penalty(QuadraticCritic(), real, fake, alpha=alpha)
    x_hat = [(a * r + (1 - a) * f).flatten() for a, r, f in zip(alpha.tolist(), real, fake)]
    want = sum((x.norm().item() - 1) ** 2 for x in x_hat) / 6
    assert gp.item() == pytest.approx(want, rel=1e-6)
    for wrong in (1 - alpha, alpha.mean().expand(6)):
        assert gp.item() != pytest.approx(penalties.gradient_penalty(QuadraticCritic(), real, fake,
                                                                     alpha=wrong).item(), rel=1e-3)
    # drawn from a generator: the same per-example U(0, 1) draws
    drawn = penalties.gradient_penalty(QuadraticCritic(), real, fake, generator=torch.Generator().manual_seed(5))
    a = torch.rand(6, generator=torch.Generator().manual_seed(5))
    want = sum(((ai * r + (1 - ai) * f).norm().item() - 1) ** 2 for ai, r, f in zip(a.tolist(), real, fake)) / 6
    assert drawn.item() == pytest.approx(want, rel=1e-6)
    # it is differentiable in D's parameters (it is part of D's loss): d/ds E(s|x_hat| - 1)^2
    D = QuadraticCritic(0.7)
    penalties.gradient_penalty(D, real, fake, alpha=alpha).backward()
    n = torch.stack([x.norm() for x in x_hat])
    assert D.s.grad.item() == pytest.approx((2 * (0.7 * n - 1) * n).mean().item(), rel=1e-5)


def test_r1_of_a_quadratic_critic():
    """R1 = E |grad_x D(x)|^2 on the real batch = s^2 E |x|^2 for f = s/2 |x|^2."""
    g = torch.Generator().manual_seed(4)
    real = torch.randn(8, 1, 3, 3, generator=g)
    sq = real.flatten(1).pow(2).sum(1)  # |x|^2 per example
    D = QuadraticCritic(1.5)
    r1 = penalties.r1_penalty(D, real)
    assert r1.item() == pytest.approx(1.5 ** 2 * sq.mean().item(), rel=1e-6)
    r1.backward()
    assert D.s.grad.item() == pytest.approx(2 * 1.5 * sq.mean().item(), rel=1e-6)


def test_penalties_of_a_compiled_critic_match_the_eager_ones():
    """--compile compiles D in place, and torch.compile's graphs (aot_autograd) have no double
    backward: the penalties call D eagerly, so their values and D's gradient stay those of the
    uncompiled D (the default's lazy R1 under --compile raised a RuntimeError before)."""
    g = torch.Generator().manual_seed(5)
    real, fake = torch.randn(8, 1, 3, 3, generator=g), torch.randn(8, 1, 3, 3, generator=g)
    alpha = torch.rand(8, generator=g)
    values = []
    for compiled in (False, True):
        D = QuadraticCritic(1.5)
        if compiled:
            D.compile(backend="aot_eager")
            assert D(real).requires_grad  # the compiled graph itself runs
        r1 = penalties.r1_penalty(D, real)
        gp = penalties.gradient_penalty(D, real, fake, alpha=alpha)
        (r1 + gp).backward()
        values.append((r1.item(), gp.item(), D.s.grad.item()))
    assert values[1] == pytest.approx(values[0], rel=1e-6)


def _critic_step(tmp_path, **settings):
    """One critic step of the wgan family on the ring with D = QuadraticCritic(s=0.8) and every
    fake at c; returns (trainer, the batch, the noise stream before the step, the step's output)."""
    cfg = config.resolve({"model": "wgan", "data": "ring", "batch_size": 64, "precision": "fp32", "clip": 0.0,
                          "n_critic": 5, "out": str(tmp_path / "r"), **settings})
    assert (cfg.n_critic, cfg.loss) == (5, "wasserstein")
    tr = Trainer(cfg)
    tr.nets["D"], tr.nets["G"] = QuadraticCritic(0.8), ConstGenerator([2.0, -1.0])
    x = tr.data.x[:64]
    stream = torch.Generator().manual_seed(0)
    stream.set_state(tr.noise_gen.get_state())
    out = tr.step_fn(tr, x, None)
    assert "g_loss" not in out  # step 1 of 5: the critic only
    return tr, x, stream, out


def test_wgan_gp_step_penalises_at_interpolates_with_alpha_from_the_noise_stream(tmp_path):
    """The step draws z, then alpha, from the run's noise stream; with f = s/2 |x|^2 the penalty and
    D's gradient are known exactly: d/ds [E f(fake) - E f(x) + lambda E(s|x_hat| - 1)^2]."""
    lam = 10.0
    tr, x, stream, out = _critic_step(tmp_path, gp_lambda=lam)
    stream_z = torch.randn(64, tr.cfg.z_dim, generator=stream)  # G's latents come first ...
    alpha = torch.rand(64, generator=stream)  # ... then one alpha per example
    assert torch.equal(stream.get_state(), tr.noise_gen.get_state())  # and nothing else was drawn
    assert stream_z.shape == (64, tr.cfg.z_dim)
    c = torch.tensor([2.0, -1.0])
    x_hat = alpha[:, None] * x + (1 - alpha[:, None]) * c
    n = x_hat.norm(dim=1)
    s = 0.8
    assert out["gp"].item() == pytest.approx(((s * n - 1) ** 2).mean().item(), rel=1e-5)
    critic = 0.5 * (c.pow(2).sum() - x.pow(2).sum(1).mean())  # d/ds of E f(fake) - E f(real)
    want = critic + lam * (2 * (s * n - 1) * n).mean()
    assert tr.nets["D"].s.grad.item() == pytest.approx(want.item(), rel=1e-5)
    assert "r1" not in out


def test_r1_step_adds_half_gamma_times_r1_to_d_loss(tmp_path):
    """With r1_gamma, D's loss gains gamma/2 E |grad_x D(x)|^2 on the real batch: for f = s/2 |x|^2
    that is gamma/2 s^2 E|x|^2, whose derivative in s is gamma s E|x|^2."""
    gamma = 4.0
    tr, x, _, out = _critic_step(tmp_path, r1_gamma=gamma)
    sq = x.pow(2).sum(1).mean()
    s = 0.8
    assert out["r1"].item() == pytest.approx((s ** 2 * sq).item(), rel=1e-5)
    c = torch.tensor([2.0, -1.0])
    want = 0.5 * (c.pow(2).sum() - sq) + gamma * s * sq
    assert tr.nets["D"].s.grad.item() == pytest.approx(want.item(), rel=1e-5)
    assert "gp" not in out
    # the logged d_loss is the adversarial part alone
    assert out["d_loss"].item() == pytest.approx((0.5 * s * (c.pow(2).sum() - sq)).item(), rel=1e-5)
