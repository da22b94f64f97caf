"""The DCGAN of the lecture notes (000_eb9a6f1966f0c3dc.txt), after Radford et al. 2016.

For 28x28 MNIST and width=64 it is exactly the lecture's network:
G: z (B, 100) -> Linear 7*7*256 (no bias) -> BN -> LeakyReLU -> (B, 256, 7, 7)
   -> ConvT 128, 5x5, s1 -> BN -> LeakyReLU          (B, 128, 7, 7)
   -> ConvT  64, 5x5, s2 -> BN -> LeakyReLU          (B, 64, 14, 14)
   -> ConvT   1, 5x5, s2 -> tanh                     (B, 1, 28, 28)
D: (B, 1, 28, 28) -> Conv 64, 5x5, s2 -> LeakyReLU -> Dropout 0.3   (B, 64, 14, 14)
   -> Conv 128, 5x5, s2 -> LeakyReLU -> Dropout 0.3                  (B, 128, 7, 7)
   -> Flatten -> Linear 1                                            (B,) logits
with Keras' defaults, which the lecture relies on: glorot-uniform weights and zero biases,
BatchNormalization(momentum=0.99, epsilon=1e-3) (PyTorch's momentum 0.01, eps 1e-3), and
TensorFlow's 'same' padding, which pads a stride-2 layer asymmetrically (one pixel before, two
after, for 5x5 kernels): ``SameConv2d`` and ``SameConvTranspose2d`` put every output pixel where
Keras puts it (PyTorch's symmetric ``padding=2, output_padding=1`` shifts G's and D's stride-2
outputs by one pixel against the lecture's).
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
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from . import register_family
from .blocks import maybe_sn, upsample_plan


def keras_init_(module: nn.Module) -> nn.Module:
    """Keras' default initialisation, in place: glorot-uniform weights (Dense, Conv2D,
    Conv2DTranspose; the fans over kernel area times input and output channels, as Keras counts
    them) and zero biases. Returns ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def keras_bn(n: int, dim: int = 2) -> nn.Module:
    """keras.layers.BatchNormalization(): moving averages kept with momentum 0.99 (PyTorch's 0.01),
    epsilon 1e-3."""
    return (nn.BatchNorm2d if dim == 2 else nn.BatchNorm1d)(n, eps=1e-3, momentum=0.01)


def tf_same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's 'same' convolution along one axis: the output has
    ceil(size / stride) pixels and the odd pixel of padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """keras.layers.Conv2D(padding='same'): TensorFlow's padding, computed from the input's size."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, bias: bool = True):
        super().__init__(cin, cout, kernel, stride, padding=0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (ph0, ph1), (pw0, pw1) = (tf_same_pads(n, k, s) for n, k, s in
                                  zip(x.shape[-2:], self.kernel_size, self.stride))
        return super().forward(F.pad(x, (pw0, pw1, ph0, ph1)))


class SameConvTranspose2d(nn.ConvTranspose2d):
    """keras.layers.Conv2DTranspose(padding='same'): ``stride`` times the input's size, cropped
    from the full transposed convolution as TensorFlow crops it (``tf_same_pads`` of the output:
    for 5x5 stride 2, one pixel off the top and left, two off the bottom and right)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, bias: bool = False):
        super().__init__(cin, cout, kernel, stride, padding=max(kernel - stride, 0) // 2, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        return super().forward(x)[..., :h * self.stride[0], :w * self.stride[1]]


def _convT(cin: int, cout: int, stride: int) -> nn.ConvTranspose2d:
    # Conv2DTranspose(cout, (5, 5), strides=stride, padding='same', use_bias=False)
    return SameConvTranspose2d(cin, cout, 5, stride, bias=False)


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, out_shape: tuple, width: int = 64, leak: float = 0.3):
        super().__init__()
        c, h, _ = out_shape
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        s0, k = upsample_plan(h)
        ch = width * 2 ** k  # 256 for MNIST
        self.start = (ch, s0, s0)
        self.fc = nn.Sequential(nn.Linear(z_dim, ch * s0 * s0, bias=False), keras_bn(ch * s0 * s0, dim=1),
                                nn.LeakyReLU(leak))
        layers = [_convT(ch, ch // 2, 1), keras_bn(ch // 2), nn.LeakyReLU(leak)]
        ch //= 2
        for _ in range(k - 1):
            layers += [_convT(ch, ch // 2, 2), keras_bn(ch // 2), nn.LeakyReLU(leak)]
            ch //= 2
        layers += [_convT(ch, c, 2 if k else 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        keras_init_(self)

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
            layers += [maybe_sn(keras_init_(SameConv2d(cin, cout, 5, 2)), sn), nn.LeakyReLU(leak)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin, cout = cout, cout * 2
            h, w = (h + 1) // 2, (w + 1) // 2
        self.features = nn.Sequential(*layers)
        self.head = maybe_sn(keras_init_(nn.Linear(cin * h * w, 1)), sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)  # (B,) logits


def radford_plan(side: int) -> list[tuple[int, int, int]]:
    """(kernel, stride, padding) of each of G's transposed convs, from 1x1 to ``side``: a 4x4 start,
    a 3x3 stride-2 step to 7 when the side is 7 * 2^k, then 4x4 stride-2 doublings."""
    s0, k = upsample_plan(side)
    if s0 not in (4, 7):
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


# Radford's networks at half width, no dropout, a high learning rate made safe by the EMA of G,
# Adam beta2 0.99: chosen at batch 64 (docs/benchmarks.md, "How the default was chosen"), and the
# conditional families' defaults.
RADFORD_TUNED = {"arch": "radford", "width": 32, "dropout": 0.0, "lr_g": 1.5e-3, "lr_d": 1.5e-3, "beta2": 0.99}
# gankit's tuned default for a CPU budget: the above at batch 256 and Adam 3e-3, which in 10
# CPU-minutes takes a third of the steps and reaches a lower FID on every seed measured, with a
# lazy R1 penalty on D (gamma 0.1, every 16 steps), which keeps D from overpowering G late in the
# run and halves the FID again, and latents from a mixture of ten separated normals, which gives
# G room to draw separate digits instead of shapes between two of them (docs/benchmarks.md,
# "Toward twice the floor in 10 CPU-minutes", "Lazy R1" and "A mixture of ten normals as the latent").
TUNED = {**RADFORD_TUNED, "batch_size": 256, "lr_g": 3e-3, "lr_d": 3e-3, "r1_gamma": 0.1, "r1_every": 16,
         "z_dist": "mixture"}


@register_family("dcgan", archs=("conv", "radford"), defaults=TUNED)
def build(cfg, data) -> nn.ModuleDict:
    if not data.is_image:
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
