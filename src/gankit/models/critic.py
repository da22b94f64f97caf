"""Wasserstein GANs: a critic (no sigmoid) against a DCGAN generator.

``wgan`` (Arjovsky et al. 2017): weight clipping to [-0.01, 0.01] with RMSprop (the paper's
Algorithm 1: 5e-5, 5 critic updates per G update). ``wgan-gp`` (Gulrajani et al. 2017): gradient
penalty lambda = 10 instead of clipping, Adam with betas (0, 0.9) (that paper's Algorithm 1: 1e-4,
5 critic updates). The book chapter (004) walks from one to the other. Both are trained by
``gan_step``. The family defaults keep each algorithm but run it on Radford's networks at width
32 with a faster rate and fewer critic updates, measured best for a CPU budget (``WGAN_DEFAULTS``);
``--set arch=conv --set lr_g=5e-5 ...`` gives the papers' settings.

``arch: radford`` (the default): Radford's generator; the critic is Radford's discriminator, with
its batch norm under clipping (as the WGAN paper's DCGAN critic) and without it (``RadfordCritic``)
when a per-example gradient penalty is on.

``arch: conv``: the lecture's generator and the WGAN-GP MNIST critic (5x5 stride-2 convs, LeakyReLU,
linear output):
   (B, 1, 28, 28) -> Conv 64, 5x5, s2 -> LeakyReLU      (B, 64, 14, 14)
   -> Conv 128, 5x5, s2 -> LeakyReLU                     (B, 128, 7, 7)
   -> Conv 256, 5x5, s2 -> LeakyReLU                     (B, 256, 4, 4)
   -> Flatten -> Linear 1                                (B,) scores, unbounded
No batch norm: the gradient penalty is per example, and batch norm makes each score depend on the
whole batch (WGAN-GP, section 4). No dropout either. Larger images get one more stride-2 layer per
doubling. For 1-D/2-D points both networks are the MLPs of ``mlp.py`` (the critic without dropout),
as in the WGAN-GP paper's toy experiments.
"""
from __future__ import annotations

import torch
from torch import nn

from . import register_family
from .blocks import maybe_sn, upsample_plan
from .dcgan import DCGANGenerator, RadfordDiscriminator, RadfordGenerator, radford_plan
from .mlp import MLPDiscriminator, MLPGenerator


class Critic(nn.Module):
    def __init__(self, in_shape: tuple, width: int = 64, leak: float = 0.2, sn: bool = False, pack: int = 1):
        super().__init__()
        c, h, w = in_shape
        _, k = upsample_plan(h)  # 28 -> 2 halvings in G; the critic takes 3
        layers, cin, cout = [], c * pack, width
        for _ in range(max(3, k + 1)):
            layers += [maybe_sn(nn.Conv2d(cin, cout, 5, 2, padding=2), sn), nn.LeakyReLU(leak)]
            cin, cout = cout, cout * 2
            h, w = (h + 1) // 2, (w + 1) // 2
        self.features = nn.Sequential(*layers)
        self.head = maybe_sn(nn.Linear(cin * h * w, 1), sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)  # (B,) critic scores


class RadfordCritic(nn.Module):
    """Radford's discriminator without batch norm (the penalty is per example), biases kept:
       (B, 1, 28, 28) -> Conv w, 4x4, s2 -> LeakyReLU -> Conv 2w -> ... (B, 4w, 3, 3) -> Conv 1, 3x3."""

    def __init__(self, in_shape: tuple, width: int = 32, leak: float = 0.2, sn: bool = False, pack: int = 1):
        super().__init__()
        c, h, _ = in_shape
        layers, cin, cout = [], c * pack, width
        for _ in range(len(radford_plan(h)) - 1):
            layers += [maybe_sn(nn.Conv2d(cin, cout, 4, 2, 1), sn), nn.LeakyReLU(leak)]
            cin, cout, h = cout, cout * 2, h // 2
        self.features = nn.Sequential(*layers)
        self.head = maybe_sn(nn.Conv2d(cin, 1, h), sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)  # (B,) critic scores


def build(cfg, data) -> nn.ModuleDict:
    if not data.is_image:
        return nn.ModuleDict({
            "G": MLPGenerator(cfg.z_dim, data.shape, cfg.hidden, cfg.leak, image=False),
            "D": MLPDiscriminator(data.shape, cfg.hidden, 0.0, cfg.leak, cfg.spectral_norm, cfg.pack),
        })
    if cfg.arch == "radford":
        # A per-example gradient penalty needs a critic without batch norm; with weight clipping
        # the critic keeps Radford's batch norm, as the WGAN paper's DCGAN critic does.
        per_example = cfg.gp_lambda > 0 or cfg.r1_gamma > 0
        D = (RadfordCritic(data.shape, cfg.width, cfg.leak, cfg.spectral_norm, cfg.pack) if per_example
             else RadfordDiscriminator(data.shape, cfg.width, 0.0, cfg.leak, cfg.spectral_norm, cfg.pack))
        return nn.ModuleDict({"G": RadfordGenerator(cfg.z_dim, data.shape, cfg.width), "D": D})
    return nn.ModuleDict({
        "G": DCGANGenerator(cfg.z_dim, data.shape, cfg.width, cfg.leak),
        "D": Critic(data.shape, cfg.width, cfg.leak, cfg.spectral_norm, cfg.pack),
    })


# The papers' algorithms (clipping with RMSprop; lambda = 10 with Adam betas (0, 0.9)) on the tuned
# default's networks (Radford's at width 32), with the rates, critic counts and (for clipping) the
# bound that measured best for a CPU budget: one critic step each, clipping at 0.02 rather than the
# paper's 0.01, and for clipping batches of 32, which give twice the steps in the same time
# (docs/benchmarks.md, "How each family's defaults were chosen", "The fourth probes" and "The
# fifth probes"). The papers' own rates (5e-5 with 5 critic steps; 1e-4 with 5) are a few times
# slower to reach the same FID.
WGAN_DEFAULTS = {"loss": "wasserstein", "clip": 0.02, "optimizer": "rmsprop", "lr_g": 5e-4, "lr_d": 5e-4,
                 "n_critic": 1, "arch": "radford", "width": 32, "batch_size": 32}
WGAN_GP_DEFAULTS = {"loss": "wasserstein", "gp_lambda": 10.0, "n_critic": 1, "optimizer": "adam",
                    "lr_g": 5e-4, "lr_d": 5e-4, "beta1": 0.0, "beta2": 0.9, "arch": "radford", "width": 32}

register_family("wgan", defaults=WGAN_DEFAULTS, archs=("conv", "radford"))(build)
register_family("wgan-gp", defaults=WGAN_GP_DEFAULTS, archs=("conv", "radford"))(build)
