"""Regularisers of D: gradient penalty (WGAN-GP), R1, and weight clipping (WGAN).

Penalties are computed in float32 outside autocast: they differentiate through D's gradient,
where low precision hurts most. They call D eagerly even under ``--compile``: torch.compile's
graphs (aot_autograd) have no double backward, which every gradient penalty needs.
"""
from __future__ import annotations

import torch
from torch import nn


def _eager(D):
    """D's uncompiled call (forward and hooks) when ``Module.compile`` has compiled it in place, else D."""
    return D._call_impl if getattr(D, "_compiled_call_impl", None) is not None else D


def _grad_of(d_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    (g,) = torch.autograd.grad(d_out.sum(), x, create_graph=True)
    return g.flatten(1)  # (B, prod(shape))


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, y=None, generator=None,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """Gulrajani et al. 2017: E[(||grad_x D(x_hat)||_2 - 1)^2] with x_hat = a*real + (1-a)*fake,
    a ~ U(0, 1) drawn once per example (not per pixel; or given as ``alpha`` (B,)).
    Returns the penalty without lambda."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    if alpha is None:
        alpha = torch.rand(real.shape[0], device=real.device, generator=generator)
    alpha = alpha.view(shape)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    g = _grad_of(_eager(D)(x_hat, y), x_hat)
    return ((g.norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(D, real: torch.Tensor, y=None) -> torch.Tensor:
    """Mescheder et al. 2018: E[||grad_x D(x)||^2] on real data. Returns it without gamma/2."""
    x = real.detach().requires_grad_(True)
    g = _grad_of(_eager(D)(x, y), x)
    return g.pow(2).sum(1).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """Arjovsky et al. 2017: clamp every parameter of the critic to [-c, c]."""
    for p in module.parameters():
        p.clamp_(-c, c)
