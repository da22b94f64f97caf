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

``arch: radford`` gives the all-convolutional networks of Radford et al. 2016 as PyTorch's own
examples write them for 28x28 MNIST (pytorch/examples, cpp/dcgan): 4x4 kernels, no dense layer,
batch norm in both networks (never on D's input layer), ReLU in G. For width=64:
G: z (B, 100, 1, 1) -> ConvT 256, 4x4 -> BN -> ReLU              (B, 256, 4, 4)
   -> ConvT 128, 3x3, s2, p1 -> BN -> ReLU                       (B, 128, 7, 7)
   -> ConvT  64, 4x4, s2, p1 -> BN -> ReLU                       (B, 64, 14, 14)
   -> ConvT   1, 4x4, s2, p1 -> tanh                             (B, 1, 28, 28)
D: Conv 64, 4x4, s2, p1 -> LeakyReLU 0.2                         (B, 64, 14, 14)
   -> Conv 128, 4x4, s2, p1 -> BN -> LeakyReLU 0.2               (B, 128, 7, 7)
   -> Conv 256, 4x4, s2, p1 -> BN -> LeakyReLU 0.2               (B, 256, 3, 3)
   -> Conv 1, 3x3                                                (B,) logits
It costs about a third of the lecture network's multiply-adds per image and learns faster on a
CPU budget; gankit's tuned default uses it (docs/benchmarks.md, "Quality per budget").
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


def radford_plan(side: int) -> list[tuple[int, int, int]]:
    """(kernel, stride, padding) of each of G's transposed convs, from 1x1 to ``side``: a 4x4 start,
    a 3x3 stride-2 step to 7 when the side is 7 * 2^k, then 4x4 stride-2 doublings."""
    s0, k = upsample_plan(side)
    if s0 not in (4, 7):
        from ..errors import ConfigError
        raise ConfigError(f"--set arch=radford: images must be 4 or 7 times a power of two pixels wide, got {side}")
    return [(4, 1, 0)] + ([(3, 2, 1)] if s0 == 7 else []) + [(4, 2, 1)] * k


class RadfordGenerator(nn.Module):
    def __init__(self, z_dim: int, out_shape: tuple, width: int = 64):
        super().__init__()
        c = out_shape[0]
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        plan = radford_plan(out_shape[1])
        chans = [width * 2 ** (len(plan) - 2 - i) for i in range(len(plan) - 1)] + [c]  # 256, 128, 64, 1
        layers, cin = [], z_dim
        for i, ((k, s, p), cout) in enumerate(zip(plan, chans)):
            layers.append(nn.ConvTranspose2d(cin, cout, k, s, p, bias=False))
            layers += [nn.Tanh()] if i == len(plan) - 1 else [nn.BatchNorm2d(cout), nn.ReLU()]
            cin = cout
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))  # (B, C, H, W)


class RadfordDiscriminator(nn.Module):
    def __init__(self, in_shape: tuple, width: int = 64, dropout: float = 0.0, leak: float = 0.2,
                 sn: bool = False, pack: int = 1):
        super().__init__()
        c, h, _ = in_shape
        layers, cin, cout = [], c * pack, width
        for i in range(len(radford_plan(h)) - 1):  # one stride-2 conv per G upsampling: 28 -> 14 -> 7 -> 3
            layers.append(maybe_sn(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), sn))
            if i:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(leak))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin, cout, h = cout, cout * 2, h // 2
        self.features = nn.Sequential(*layers)
        self.head = maybe_sn(nn.Conv2d(cin, 1, h, bias=False), sn)  # the whole remaining map -> 1

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)  # (B,) logits


# gankit's tuned default for a CPU budget (docs/benchmarks.md, "Quality per CPU budget"): Radford's
# networks at half width, no dropout, a high learning rate made safe by the EMA of G, Adam beta2 0.99.
TUNED = {"arch": "radford", "width": 32, "dropout": 0.0, "lr_g": 1.5e-3, "lr_d": 1.5e-3, "beta2": 0.99}


@register_family("dcgan", archs=("conv", "radford"), defaults=TUNED)
def build(cfg, data) -> nn.ModuleDict:
    if not data.is_image:
        from ..errors import ConfigError
        raise ConfigError(f"--model dcgan needs images; --data {data.name} gives points (use --model mlp)")
    if cfg.arch == "radford":
        return nn.ModuleDict({
            "G": RadfordGenerator(cfg.z_dim, data.shape, cfg.width),
            "D": RadfordDiscriminator(data.shape, cfg.width, cfg.dropout, cfg.leak, cfg.spectral_norm, cfg.pack),
        })
    return nn.ModuleDict({
        "G": DCGANGenerator(cfg.z_dim, data.shape, cfg.width, cfg.leak),
        "D": DCGANDiscriminator(data.shape, cfg.width, cfg.dropout, cfg.leak, cfg.spectral_norm, cfg.pack),
    })
