"""Every GAN family takes the loss and regulariser options: hinge / least squares losses, R1,
spectral normalisation, EMA of G, separate learning rates for G and D (TTUR) and n_critic, beside
its own regulariser (wgan's weight clipping, wgan-gp's gradient penalty). Each option is checked
by what it does in two real steps on the digits (or the autoencoder codes of the latent GAN)."""
import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from gankit import config, penalties
from gankit.models.blocks import MIXTURE_SHIFT, sample_z
from gankit.models.critic import WGAN_DEFAULTS
from gankit.run import latents
from gankit.training.engine import Trainer

OPTIONS = {"r1_gamma": 1.0, "spectral_norm": True, "ema": 0.9, "lr_g": 1e-4, "lr_d": 4e-4, "n_critic": 2,
           "width": 8, "hidden": [32], "batch_size": 32, "precision": "fp32"}
D_LOSS = {  # the discriminator's side of each loss, written out (t: the real target)
    "hinge": lambda r, f, t: F.relu(1 - r).mean() + F.relu(1 + f).mean(),
    "lsgan": lambda r, f, t: 0.5 * ((r - t) ** 2).mean() + 0.5 * (f ** 2).mean(),
}
G_LOSS = {"hinge": lambda f: -f.mean(), "lsgan": lambda f: 0.5 * ((f - 1) ** 2).mean()}
LAYERS = (nn.Conv2d, nn.Linear, nn.Embedding)
STEP_SIZE = {"adam": 1.0, "rmsprop": 10.0}  # |first update| / lr, per element: Adam g/|g|, RMSprop g/sqrt(0.01 g^2)


def _input_grad(D, x, y):
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x, y).sum(), x)
    return g.flatten(1)


def _r1_by_hand(D, real, y=None):
    return _input_grad(D, real, y).pow(2).sum(1).mean()


def _gp_by_hand(D, real, fake, y=None, generator=None, alpha=None):
    a = alpha.view(-1, *[1] * (real.dim() - 1))
    g = _input_grad(D, a * real.detach() + (1 - a) * fake.detach(), y)
    return ((g.norm(dim=1) - 1) ** 2).mean()


def _spy(monkeypatch, name, by_hand):
    """Wrap penalties.<name>: each call also computes the penalty by hand on a copy of D in the
    same state (same RNG, so the same dropout masks; same power-iteration vectors)."""
    calls, real_fn = [], getattr(penalties, name)

    def spy(D, real, *args, **kwargs):
        rng = torch.get_rng_state()
        want = by_hand(copy.deepcopy(D), real, *args, **kwargs)
        torch.set_rng_state(rng)
        got = real_fn(D, real, *args, **kwargs)
        calls.append({"real": real.detach().clone(), "got": got.detach(), "want": want.detach()})
        return got

    monkeypatch.setattr(penalties, name, spy)
    return calls


def _record_loss(tr):
    """Replace the trainer's loss by one that records what D's and G's losses were given."""
    seen = {"d": [], "g": []}
    loss = tr.loss

    def d(real, fake, t):
        seen["d"].append((real.detach().clone(), fake.detach().clone(), t))
        return loss.d(real, fake, t)

    def g(fake, label=1.0):
        seen["g"].append(fake.detach().clone())
        return loss.g(fake, label)

    tr.loss = dataclasses.replace(loss, d=d, g=g)
    return seen


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("loss", ["hinge", "lsgan"])
@pytest.mark.parametrize("model", ["cgan", "acgan", "wgan", "wgan-gp", "latent-gan"])
def test_gan_family_takes_every_option(tmp_path, ae_run, model, loss, monkeypatch):
    cfg = config.resolve({"model": model, "data": "digits", "loss": loss, "ae_run": str(ae_run),
                          "out": str(tmp_path / "r"), **OPTIONS})
    # the family's own regulariser is kept
    assert (cfg.clip, cfg.gp_lambda) == {"wgan": (WGAN_DEFAULTS["clip"], 0.0), "wgan-gp": (0.0, 10.0)}.get(model, (0.0, 0.0))
    tr = Trainer(cfg)
    D, G, G_ema = tr.nets["D"], tr.nets["G"], tr.nets["G_ema"]
    sn = [m for m in D.modules() if parametrize.is_parametrized(m)]
    assert sn  # spectral norm on D's layers
    assert tr.opts["D"].param_groups[0]["lr"] == 4e-4 and tr.opts["G"].param_groups[0]["lr"] == 1e-4
    r1_calls = _spy(monkeypatch, "r1_penalty", _r1_by_hand)
    gp_calls = _spy(monkeypatch, "gradient_penalty", _gp_by_hand)
    seen = _record_loss(tr)
    tr.step = 200  # past the EMA's warm-up: the decay is ema = 0.9 itself, min(0.9, 201/210)

    outs, batches, d_params, g_params, ema_params = [], [], [_params(D)], [_params(G)], [_params(G_ema)]
    for i in range(2):
        x, y = tr.data.x[i * 32:(i + 1) * 32], tr.data.y[i * 32:(i + 1) * 32]
        outs.append(tr.step_fn(tr, x, y))
        batches.append(x)
        tr.step += 1
        d_params.append(_params(D))
        g_params.append(_params(G))
        ema_params.append(_params(G_ema))
        assert all(torch.isfinite(v).all() for v in outs[-1].values())

    # n_critic = 2: step 1 updates D only, step 2 D then G
    assert "g_loss" not in outs[0] and "g_loss" in outs[1]
    assert all(torch.equal(a, b) for a, b in zip(g_params[0], g_params[1]))
    assert all(torch.equal(a, b) for a, b in zip(ema_params[0], ema_params[1]))
    assert all(not torch.equal(a, b) for a, b in zip(d_params[0], d_params[1]) if a.numel() > 1)

    # the loss: D's and G's sides are the chosen formulas of the logits D gave (acgan: its
    # adversarial head, with its real target 0.95); d_real / d_fake are raw scores, not sigmoids
    assert len(seen["d"]) == 2 and len(seen["g"]) == 1
    for out, (r, f, t) in zip(outs, seen["d"]):
        assert t == cfg.real_label
        torch.testing.assert_close(out["d_loss"], D_LOSS[loss](r, f, t))
        torch.testing.assert_close(out["d_real"], r.mean())
        torch.testing.assert_close(out["d_fake"], f.mean())
    torch.testing.assert_close(outs[1]["g_loss"], G_LOSS[loss](seen["g"][0]))

    # R1 at every D update, on the real batch, = E |grad_x D(x)|^2 computed by hand
    assert len(r1_calls) == 2
    for out, call, x in zip(outs, r1_calls, batches):
        assert torch.equal(call["real"], x)
        assert call["got"].item() > 0
        torch.testing.assert_close(call["got"], call["want"], rtol=1e-5, atol=1e-7)
        assert out["r1"].item() == call["got"].item()
    # wgan-gp's gradient penalty, with R1, at every D update; the other families have none
    assert len(gp_calls) == (2 if model == "wgan-gp" else 0)
    for out, call in zip(outs, gp_calls):
        torch.testing.assert_close(call["got"], call["want"], rtol=1e-5, atol=1e-7)
        assert out["gp"].item() == call["got"].item()
    assert all(("gp" in out) == (model == "wgan-gp") for out in outs)

    # TTUR: the first update of each network moves its weights by its own learning rate (per
    # element, Adam's first step is lr g/|g|, RMSprop's 10 lr g/|g|); weights wgan clipped are left out
    # (to float32's precision on weights of size ~1: 1e-7 of a step of 1e-4)
    before, after = torch.cat([p.flatten() for p in d_params[0]]), torch.cat([p.flatten() for p in d_params[1]])
    unclipped = after.abs() < (cfg.clip or float("inf"))
    d_step = (after - before)[unclipped].abs().max().item()
    g_step = max((b - a).abs().max().item() for a, b in zip(g_params[1], g_params[2]))
    assert d_step == pytest.approx(STEP_SIZE[cfg.optimizer] * 4e-4, rel=1e-2)
    assert g_step == pytest.approx(STEP_SIZE[cfg.optimizer] * 1e-4, rel=1e-2)
    if model == "wgan":  # every critic weight clipped to [-clip, clip], and the bound reached
        weights = torch.cat([p.flatten() for p in d_params[2]])
        assert weights.abs().max().item() == pytest.approx(cfg.clip, rel=1e-6) and weights.abs().max() <= cfg.clip

    # EMA: G_ema = 0.9 G_ema + 0.1 G after G's update
    for e0, e1, g in zip(ema_params[1], ema_params[2], g_params[2]):
        torch.testing.assert_close(e1, 0.9 * e0 + 0.1 * g, rtol=1e-5, atol=1e-7)
    assert not all(torch.equal(e, g) for e, g in zip(ema_params[2], g_params[2]))

    # spectral norm on every layer of D with weights: each uses W / sigma(W), so D's output does not
    # depend on the scale of the raw weights (without it, 10 W would change every logit)
    assert all(parametrize.is_parametrized(m) for m in D.modules() if isinstance(m, LAYERS))
    D.eval()  # no further power iteration: sigma is the estimate held in the layer
    x, y = batches[0], tr.data.y[:32]
    with torch.no_grad():
        out = D(x, y)
        for m in sn:
            m.parametrizations.weight.original.mul_(10.0)
        torch.testing.assert_close(D(x, y), out, rtol=1e-4, atol=1e-5)


def test_the_mixture_latent_puts_a_tenth_of_its_draws_around_each_centre():
    """z_dist=mixture: ten unit normals centred MIXTURE_SHIFT along the first ten axes, with equal
    odds; the other axes stay standard normal, and a seed draws the same latents again."""
    z = sample_z(20_000, 12, "mixture", torch.Generator().manual_seed(0))
    assert torch.equal(z, sample_z(20_000, 12, "mixture", torch.Generator().manual_seed(0)))
    centre = z[:, :10].argmax(dim=1)  # the shifted axis stands out (MIXTURE_SHIFT standard deviations)
    shares = torch.bincount(centre, minlength=10).double() / len(z)
    assert shares.min() > 0.085 and shares.max() < 0.115, shares
    shifted = z[torch.arange(len(z)), centre]
    assert abs(shifted.mean() - MIXTURE_SHIFT) < 0.1 and abs(shifted.std() - 1) < 0.1
    assert abs(z[:, 10:].mean()) < 0.03 and abs(z[:, 10:].std() - 1) < 0.03
    cfg = config.resolve({"z_dist": "mixture", "z_dim": 12, "epochs": 1})
    cut = latents(cfg, 20_000, torch.Generator().manual_seed(0), truncation=1.0)
    centre = cut[:, :10].argmax(dim=1)
    noise = cut - MIXTURE_SHIFT * torch.nn.functional.one_hot(centre, 12)
    assert noise.abs().max() <= 1.0 and len(centre.unique()) == 10  # truncated about each centre, not about 0
    small = sample_z(3_000, 3, "mixture", torch.Generator().manual_seed(0))  # one centre per axis
    assert torch.bincount(small.argmax(dim=1), minlength=3).min() > 900
