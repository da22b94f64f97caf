"""The DCGAN of the lecture notes (000_eb9a6f1966f0c3dc.txt), after Radford et al. 2016.

For 28x28 MNIST and width=64 it is exactly the lecture's network:
G: z (B, 100) -> Linear 7*7*256 (no bias) -> BN -> LeakyReLU -> (B, 256, 7, 7)
   -> ConvT 128, 5x5, s1 -> BN -> LeakyReLU          (B, 128, 7, 7)
   -> ConvT  64, 5x5, s2 -> BN -> LeakyReLU          (B, 64, 14, 14)
   -> ConvT   1, 5x5, s2 -> tanh                     (B, 1, 28, 28)
D: (B, 1, 28, 28) -> Conv 64, 5x5, s2 -> LeakyReLU -> Dropout 0.3   (B, 64, 14, 14)
   -> Conv 128, 5x5, s2 -> LeakyReLU -> Dropout 0.3                  (B, 128, 7, 7)
   -> Flatten -> Linear 1                                            (B,) logits
Other sizes (8, 32, 64 pixels; 1 or 3 channels) keep the pattern with one stride-2 layer per
halving, see ``upsample_plan``.
"""
from __future__ import annotations

import torch
from torch import nn

from . import register_family
from .blocks import maybe_sn, upsample_plan


def _convT(cin: int, cout: int, stride: int) -> nn.ConvTranspose2d:
    # 5x5 'same' transposed conv: stride 1 keeps the size, stride 2 doubles it exactly.
    return nn.ConvTranspose2d(cin, cout, 5, stride, padding=2, output_padding=stride - 1, bias=False)


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, out_shape: tuple, width: int = 64, leak: float = 0.3):
        super().__init__()
        c, h, _ = out_shape
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        s0, k = upsample_plan(h)
        ch = width * 2 ** k  # 256 for MNIST
        self.start = (ch, s0, s0)
        self.fc = nn.Sequential(nn.Linear(z_dim, ch * s0 * s0, bias=False), nn.BatchNorm1d(ch * s0 * s0),
                                nn.LeakyReLU(leak))
        layers = [_convT(ch, ch // 2, 1), nn.BatchNorm2d(ch // 2), nn.LeakyReLU(leak)]
        ch //= 2
        for _ in range(k - 1):
            layers += [_convT(ch, ch // 2, 2), nn.BatchNorm2d(ch // 2), nn.LeakyReLU(leak)]
            ch //= 2
        layers += [_convT(ch, c, 2 if k else 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, *self.start))  # (B, C, H, W)


class DCGANDiscriminator(nn.Module):
    def __init__(self, in_shape: tuple, width: int = 64, dropout: float = 0.3, leak: float = 0.3,
                 sn: bool = False, pack: int = 1):
        super().__init__()
        c, h, w = in_shape
        _, k = upsample_plan(h)
        layers, cin, cout = [], c * pack, width
        for _ in range(max(k, 2)):
            layers += [maybe_sn(nn.Conv2d(cin, cout, 5, 2, padding=2), sn), nn.LeakyReLU(leak)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin, cout = cout, cout * 2
            h, w = (h + 1) // 2, (w + 1) // 2
        self.features = nn.Sequential(*layers)
        self.head = maybe_sn(nn.Linear(cin * h * w, 1), sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)  # (B,) logits


@register_family("dcgan")
def build(cfg, data) -> nn.ModuleDict:
    if not data.is_image:
        from ..errors import ConfigError
        raise ConfigError(f"--model dcgan needs images; --data {data.name} gives points (use --model mlp)")
    return nn.ModuleDict({
        "G": DCGANGenerator(cfg.z_dim, data.shape, cfg.width, cfg.leak),
        "D": DCGANDiscriminator(data.shape, cfg.width, cfg.dropout, cfg.leak, cfg.spectral_norm, cfg.pack),
    })
