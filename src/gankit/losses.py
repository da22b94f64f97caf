"""Adversarial losses, all on D's raw logits (no sigmoid + BCE: logsigmoid is stable).

Each loss gives ``d(real, fake)`` for the discriminator/critic and ``g(fake)`` for the
generator; both return scalars to minimise. ``real_label`` < 1 is one-sided label smoothing
(Salimans et al. 2016; 0.95 in the AC-GAN notebook) and applies to the BCE losses only. ``g``'s
``label`` is G's target for D's verdict on its fakes: 1 everywhere except where a seed smooths it
too (the AC-GAN notebook's ``trick`` of 0.95), and only the non-saturating loss takes another.

With l = logit and D = sigmoid(l):
- minimax        (Goodfellow et al. 2014): G minimises  log(1 - D(G(z))) = -softplus(l).
                 Its gradient vanishes when D confidently rejects fakes (l << 0), which is
                 why the non-saturating form exists.
- nonsaturating  G minimises -log D(G(z)) = softplus(-l). The default.
- wasserstein    (Arjovsky et al. 2017): critic minimises E f(fake) - E f(real).
- hinge          (Lim & Ye 2017; Miyato et al. 2018).
- lsgan          (Mao et al. 2017): least squares with targets 1 (real) and 0 (fake).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .registry import LOSSES


@dataclass(frozen=True)
class Loss:
    name: str
    d: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
    g: Callable[..., torch.Tensor]  # g(fake, label=1.0)
    probabilistic: bool = True  # sigmoid(logit) is a probability D(x) worth logging


def _register(loss: Loss) -> Loss:
    LOSSES.register(loss.name)(loss)
    return loss


def _bce_to(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean binary cross-entropy of sigmoid(logits) against one constant target."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def bce_d(real: torch.Tensor, fake: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """-[log D(x)] - [log(1 - D(G(z)))], with the real target optionally smoothed."""
    return _bce_to(real, real_label) + _bce_to(fake, 0.0)


def nonsaturating_g(fake: torch.Tensor, label: float = 1.0) -> torch.Tensor:
    """-[label log D(G(z)) + (1 - label) log(1 - D(G(z)))]: softplus(-l) when label is 1."""
    return F.softplus(-fake).mean() if label == 1.0 else _bce_to(fake, label)


MINIMAX = _register(Loss("minimax", bce_d, lambda fake, _=1.0: -F.softplus(fake).mean()))
NONSATURATING = _register(Loss("nonsaturating", bce_d, nonsaturating_g))
WASSERSTEIN = _register(Loss("wasserstein", lambda real, fake, _=1.0: fake.mean() - real.mean(),
                             lambda fake, _=1.0: -fake.mean(), probabilistic=False))
HINGE = _register(Loss("hinge", lambda real, fake, _=1.0: F.relu(1 - real).mean() + F.relu(1 + fake).mean(),
                       lambda fake, _=1.0: -fake.mean(), probabilistic=False))
LSGAN = _register(Loss("lsgan", lambda real, fake, t=1.0: 0.5 * ((real - t) ** 2).mean() + 0.5 * (fake ** 2).mean(),
                       lambda fake, _=1.0: 0.5 * ((fake - 1) ** 2).mean(), probabilistic=False))
