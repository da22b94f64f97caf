"""Conditional GANs: the label is an input of both networks.

Each family has two networks (``arch``):
- ``radford``, the default: the dcgan family's tuned networks (Radford et al.'s, width 32) and
  optimiser, with G conditioned by a Hadamard product z * embed(y) (as the notebook's AC-GAN) and
  D given a projection term (cgan) or a class head (acgan). Chosen by measurement
  (docs/benchmarks.md, "How each family's defaults were chosen").
- ``conv``: the papers' and the seeds' networks, below.

``cgan`` (Mirza & Osindero 2014, on the DCGAN of the lecture notes): G sees z concatenated with a
learned label embedding; D is the lecture's DCGAN discriminator plus a projection term
(Miyato & Koyama 2018): logit = head(h) + <embed(y), h>, h = D's features (with ``radford``: its
last feature map summed over space, (B, 4 * width)). Trained by ``gan_step``.

``acgan`` (Odena et al. 2017), as in the notebook 001_885837f1aa895cae.txt (Keras' mnist_acgan):
G: z (B, z_dim) * embed(y) (B, z_dim)  (Hadamard product, glorot-normal embedding)
   -> Dense 3*3*384, ReLU                                     (B, 384, 3, 3)
   -> ConvT 192, 5x5, s1, 'valid', ReLU, BN                   (B, 192, 7, 7)
   -> ConvT  96, 5x5, s2, 'same',  ReLU, BN                   (B, 96, 14, 14)
   -> ConvT   1, 5x5, s2, 'same',  tanh                       (B, 1, 28, 28)
D: Conv 32 s2, Conv 64 s1, Conv 128 s2, Conv 256 s1 (3x3, LeakyReLU 0.2, Dropout 0.3 each)
   -> Flatten (B, 256*7*7) -> two heads: real/fake logit (B,) and class logits (B, K).
with Keras' defaults where the notebook leaves them: glorot-uniform kernels (glorot-normal where it
says so) and zero biases, BatchNormalization's momentum 0.99 and epsilon 1e-3, TensorFlow's 'same'
padding (``SameConv2d``, ``SameConvTranspose2d`` of ``dcgan.py``).
Other sizes keep the pattern: for 8x8 digits G starts at 4x4 (too small for the 'valid' 5x5, so
that layer keeps the size) and upsamples once; channel counts scale with ``width`` (64: the
notebook's). Trained by the ``acgan`` step (class loss on real images only for D).

Both families add the class grid every epoch (``figures``: ``samples/classes-epoch-NNNN.png``, drawn by
``gankit.sampling.figures``), as the notebook's ``gen_pic``:
one row per class from the same latents, a white separator row, then real images of each class.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from ..rundir import CLASS_GRID
from . import register_family
from .blocks import maybe_sn, upsample_plan
from .dcgan import (RADFORD_TUNED, DCGANDiscriminator, DCGANGenerator, RadfordDiscriminator, RadfordGenerator, SameConv2d,
                    SameConvTranspose2d, keras_bn, keras_init_)

LABEL_EMBED_DIM = 50  # cGAN: size of G's label embedding, concatenated to z


def _check(cfg, data, name: str) -> None:
    if not data.is_image:
        raise ConfigError(f"--model {name} needs images; --data {data.name} gives points")
    if cfg.pack != 1:
        raise ConfigError(f"--set pack={cfg.pack}: --model {name} judges one image with its label at a time "
                          f"(use pack=1)")


# ---- cGAN --------------------------------------------------------------------------------------
class CGANGenerator(nn.Module):
    def __init__(self, z_dim: int, num_classes: int, out_shape: tuple, width: int = 64, leak: float = 0.2):
        super().__init__()
        self.embed = nn.Embedding(num_classes, LABEL_EMBED_DIM)
        self.net = DCGANGenerator(z_dim + LABEL_EMBED_DIM, out_shape, width, leak)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, self.embed(y)], 1))  # (B, z_dim + 50) -> (B, C, H, W)


class RadfordConditionalGenerator(nn.Module):
    """Radford's generator on z * embed(y), the notebook's Hadamard conditioning: both conditional
    families' default G. Concatenating [z, embed(y)] instead (Mirza & Osindero, the conv cGAN) let
    the label's rows outgrow z's and G drew one image per class (docs/benchmarks.md)."""

    def __init__(self, z_dim: int, num_classes: int, out_shape: tuple, width: int = 32):
        super().__init__()
        self.embed = nn.Embedding(num_classes, z_dim)
        nn.init.xavier_normal_(self.embed.weight)
        self.net = RadfordGenerator(z_dim, out_shape, width)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(z * self.embed(y))  # (B, z_dim) -> (B, C, H, W)


def _head(body: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """A discriminator body's real/fake logit from its feature map h: (B,)."""
    if isinstance(body.head, nn.Linear):  # the lecture's network: dense head on the flattened map
        return body.head(h.flatten(1)).squeeze(1)
    return body.head(h).flatten(1).squeeze(1)  # Radford's: a conv over the whole remaining map


class ProjectionDiscriminator(nn.Module):
    """A discriminator body (the lecture's or Radford's) plus the projection term <embed(y), h>."""

    def __init__(self, in_shape: tuple, num_classes: int, width: int = 64, dropout: float = 0.3,
                 leak: float = 0.2, sn: bool = False, arch: str = "conv"):
        super().__init__()
        self.pool = arch == "radford"  # Miyato & Koyama's projection: on features summed over space
        if arch == "radford":
            self.body = RadfordDiscriminator(in_shape, width, dropout, leak, sn)
            feat = self.body.head.in_channels  # 4 * width
        else:
            self.body = DCGANDiscriminator(in_shape, width, dropout, leak, sn)
            feat = self.body.head.in_features  # 128 * 7 * 7 for MNIST
        embed = nn.Embedding(num_classes, feat)
        nn.init.xavier_uniform_(embed.weight)  # N(0, 1) would make <embed(y), h> dwarf the head at start
        self.embed = maybe_sn(embed, sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body.features(x)  # (B, C, h, w)
        f = h.sum((2, 3)) if self.pool else h.flatten(1)  # (B, C) or (B, C * h * w)
        return _head(self.body, h) + (self.embed(y) * f).sum(1)  # (B,) logits


# The conditional families' defaults: the dcgan family's tuned networks and optimiser at batch 64
# (Radford's networks at width 32, lr 1.5e-3, beta2 0.99, EMA of G), chosen by measurement for these families
# too (docs/benchmarks.md, "How each family's defaults were chosen").
CONDITIONAL_TUNED = {**RADFORD_TUNED, "ema": 0.999}


@register_family("cgan", conditional=True, figures=(CLASS_GRID,), archs=("conv", "radford"),
                 defaults=CONDITIONAL_TUNED)
def build_cgan(cfg, data) -> nn.ModuleDict:
    _check(cfg, data, "cgan")
    if cfg.arch == "radford":
        G = RadfordConditionalGenerator(cfg.z_dim, data.num_classes, data.shape, cfg.width)
    else:
        G = CGANGenerator(cfg.z_dim, data.num_classes, data.shape, cfg.width, cfg.leak)
    return nn.ModuleDict({
        "G": G,
        "D": ProjectionDiscriminator(data.shape, data.num_classes, cfg.width, cfg.dropout, cfg.leak,
                                     cfg.spectral_norm, cfg.arch),
    })


# ---- AC-GAN ------------------------------------------------------------------------------------
class ACGANGenerator(nn.Module):
    def __init__(self, z_dim: int, num_classes: int, out_shape: tuple, width: int = 64):
        super().__init__()
        c, h, _ = out_shape
        s0, k = upsample_plan(h)  # 28 -> (7, 2), 8 -> (4, 1)
        ch0, ch1 = round(384 * width / 64), round(192 * width / 64)
        a = s0 - 4 if s0 >= 5 else s0  # the notebook: 3x3, then a 'valid' 5x5 ConvT gives 7x7
        self.start = (ch0, a, a)
        self.embed = nn.Embedding(num_classes, z_dim)
        self.fc = nn.Sequential(keras_init_(nn.Linear(z_dim, ch0 * a * a)), nn.ReLU())
        # Keras order: the ConvT's ReLU activation, then BatchNormalization (Keras' momentum and
        # epsilon); 'same' stride-2 layers crop as TensorFlow does.
        first = nn.ConvTranspose2d(ch0, ch1, 5, 1) if a < s0 else SameConvTranspose2d(ch0, ch1, 5, 1, bias=True)
        layers = [first, nn.ReLU(), keras_bn(ch1)]
        ch = ch1
        for _ in range(k - 1):  # (B, 96, 14, 14) for MNIST
            layers += [SameConvTranspose2d(ch, ch // 2, 5, 2, bias=True), nn.ReLU(), keras_bn(ch // 2)]
            ch //= 2
        layers += [SameConvTranspose2d(ch, c, 5, 2 if k else 1, bias=True), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        nn.init.xavier_normal_(self.embed.weight)  # embeddings_initializer='glorot_normal'
        for m in self.net:
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.xavier_normal_(m.weight)  # kernel_initializer='glorot_normal'
                nn.init.zeros_(m.bias)  # Keras' bias_initializer='zeros'

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = z * self.embed(y)  # (B, z_dim): Hadamard product of noise and class embedding
        return self.net(self.fc(h).view(-1, *self.start))  # (B, C, H, W)


class ACGANDiscriminator(nn.Module):
    """``forward(x, y)`` is the real/fake logit (so penalties and ``gan_step`` see a plain D);
    ``both(x)`` gives the real/fake logit and the class logits from one pass."""

    def __init__(self, in_shape: tuple, num_classes: int, width: int = 64, dropout: float = 0.3,
                 leak: float = 0.2, sn: bool = False):
        super().__init__()
        c, h, w = in_shape
        layers, cin = [], c
        for cout, stride in ((width // 2, 2), (width, 1), (width * 2, 2), (width * 4, 1)):  # 32/64/128/256
            # Conv2D(cout, 3, padding='same', strides=stride): TensorFlow's padding, Keras' initialisation
            layers += [maybe_sn(keras_init_(SameConv2d(cin, cout, 3, stride)), sn), nn.LeakyReLU(leak)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin = cout
            if stride == 2:  # Keras 'same': ceil(h / 2)
                h, w = (h + 1) // 2, (w + 1) // 2
        self.features = nn.Sequential(*layers, nn.Flatten())  # (B, 256 * 7 * 7) for MNIST
        self.adv = maybe_sn(keras_init_(nn.Linear(cin * h * w, 1)), sn)  # 'generation' head
        self.cls = maybe_sn(keras_init_(nn.Linear(cin * h * w, num_classes)), sn)  # 'auxiliary' head

    def both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return self.adv(f).squeeze(1), self.cls(f)  # (B,), (B, K) logits

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.both(x)[0]


class RadfordACGANDiscriminator(nn.Module):
    """Radford's discriminator with a second, class head on its last feature map."""

    def __init__(self, in_shape: tuple, num_classes: int, width: int = 32, dropout: float = 0.0,
                 leak: float = 0.2, sn: bool = False):
        super().__init__()
        self.body = RadfordDiscriminator(in_shape, width, dropout, leak, sn)
        head = self.body.head
        self.cls = maybe_sn(nn.Linear(head.in_channels * head.kernel_size[0] * head.kernel_size[1],
                                      num_classes), sn)

    def both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body.features(x)  # (B, C, h, w)
        return _head(self.body, h), self.cls(h.flatten(1))  # (B,), (B, K) logits

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.both(x)[0]


@register_family("acgan", step="acgan", conditional=True, archs=("conv", "radford"),
                 defaults={**CONDITIONAL_TUNED, "real_label": 0.95},
                 figures=(CLASS_GRID,))
def build_acgan(cfg, data) -> nn.ModuleDict:
    _check(cfg, data, "acgan")
    if cfg.arch == "radford":
        return nn.ModuleDict({
            "G": RadfordConditionalGenerator(cfg.z_dim, data.num_classes, data.shape, cfg.width),
            "D": RadfordACGANDiscriminator(data.shape, data.num_classes, cfg.width, cfg.dropout, cfg.leak,
                                           cfg.spectral_norm),
        })
    return nn.ModuleDict({
        "G": ACGANGenerator(cfg.z_dim, data.num_classes, data.shape, cfg.width),
        "D": ACGANDiscriminator(data.shape, data.num_classes, cfg.width, cfg.dropout, cfg.leak, cfg.spectral_norm),
    })
