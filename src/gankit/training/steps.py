"""One step function per family. Each takes the trainer and a batch and returns the scalars to
log (0-dim tensors; the engine averages them between log lines). Phases are numbered.

The trainer offers: ``tr.nets`` (ModuleDict), ``tr.cfg``, ``tr.loss``, ``tr.autocast()``,
``tr.noise(n)``, ``tr.fake_labels(n)``, ``tr.update(name, loss)`` (zero grads, backward, average
gradients across ranks, optimiser step) and ``tr.step`` (the number of steps done so far).
"""
from __future__ import annotations

from typing import Callable, Dict

import torch

from .. import penalties

STEPS: Dict[str, Callable] = {}


def register_step(name: str):
    def deco(fn: Callable) -> Callable:
        STEPS[name] = fn
        return fn

    return deco


def pack(x: torch.Tensor, k: int) -> torch.Tensor:
    """PacGAN (Lin et al. 2018): k samples side by side along channels/features for D."""
    if k == 1:
        return x
    b = x.shape[0] - x.shape[0] % k
    x = x[:b]
    return x.reshape(b // k, k * x.shape[1], *x.shape[2:])


def d_stats(tr, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict:
    """Mean D(x) and D(G(z)): probabilities for BCE losses, raw critic values otherwise."""
    if tr.loss.probabilistic:
        real_logits, fake_logits = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    return {"d_real": real_logits.detach().float().mean(), "d_fake": fake_logits.detach().float().mean()}


@register_step("gan")
def gan_step(tr, x: torch.Tensor, y: torch.Tensor | None) -> dict:
    cfg, G, D = tr.cfg, tr.nets["G"], tr.nets["D"]
    cond = tr.family.conditional
    y_real = y if cond else None
    y_fake = tr.fake_labels(x.shape[0]) if cond else None
    g_turn = (tr.step + 1) % cfg.n_critic == 0  # G is updated after every n_critic D updates
    out = {}

    # 1. Update D (the critic): real batch vs a fresh fake batch.
    with tr.autocast(), torch.set_grad_enabled(g_turn):
        fake = G(tr.noise(x.shape[0]), y_fake)
        real_logits = D(pack(x, cfg.pack), y_real)
        fake_logits = D(pack(fake.detach(), cfg.pack), y_fake)
        d_loss = tr.loss.d(real_logits.float(), fake_logits.float(), cfg.real_label)
    out["d_loss"] = d_loss.detach()
    if cfg.gp_lambda > 0:
        gp = penalties.gradient_penalty(D, pack(x, cfg.pack), pack(fake.float(), cfg.pack), y_real,
                                        generator=tr.noise_gen)
        d_loss = d_loss + cfg.gp_lambda * gp
        out["gp"] = gp.detach()
    if cfg.r1_gamma > 0:
        r1 = penalties.r1_penalty(D, pack(x, cfg.pack), y_real)
        d_loss = d_loss + 0.5 * cfg.r1_gamma * r1
        out["r1"] = r1.detach()
    tr.update("D", d_loss)
    if cfg.clip > 0:
        penalties.clip_weights(D, cfg.clip)
    out.update(d_stats(tr, real_logits, fake_logits))

    # 2. Update G, through the same fake batch and a frozen D.
    if g_turn:
        D.requires_grad_(False)
        with tr.autocast():
            g_loss = tr.loss.g(D(pack(fake, cfg.pack), y_fake).float())
        tr.update("G", g_loss)
        D.requires_grad_(True)
        tr.update_ema()
        out["g_loss"] = g_loss.detach()
    return out
