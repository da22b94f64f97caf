"""Autoencoders of the talk (003_4cc37f4be662be15.txt): the plain AE and the VAE.

Both work on pixels in [0, 1] as the talk does (the data's [-1, 1] is mapped on the way in and
out). The decoder is called "G" so that sampling (``run.generate``) decodes random codes, and the
encoder is "E"; one optimiser "AE" updates both with ``lr_g``. No EMA by default (``ema`` 0): the
decoder that is sampled is the one the training loss measured.

``ae``, the talk's autoencoder (784 -> 100 -> 784 for MNIST):
   E: x (B, C, H, W) -> Flatten -> Linear z_dim -> ReLU              (B, 100) codes, all >= 0
   G: c (B, z_dim) -> Linear C*H*W -> ReLU -> reshape                (B, C, H, W) pixels in [0, inf)
   loss: mean squared error on [0, 1] pixels (``tf.reduce_mean(tf.pow(X - dec_X, 2))``);
   Adam 0.005, batch 128. Decoding random normal codes gives noise, not digits: the codes of real
   images fill a small, sparse part of the code space (the talk's point, and the reason for the VAE
   and for the GAN on codes, ``latent_gan.py``).

``vae`` (Kingma & Welling 2014), ``arch`` mlp (the talk's) or conv:
   E: x -> (mu, logvar), each (B, z_dim); z = mu + exp(logvar / 2) * eps, eps ~ N(0, I)
   G: z -> Bernoulli logits (B, C, H, W); ``G(z)`` gives the mean image in [-1, 1]
   loss = recon + beta_kl * KL, recon = sum over pixels of BCE(x, logits), KL(q(z|x) || N(0, I)) in
   closed form; both summed per image and averaged over the batch, as the talk's ``cost``. mlp:
   hidden layers ``hidden`` with softplus (the talk: 784 -> 500 -> 501 -> 2 -> 500 -> 500 -> 784;
   here the encoder mirrors the decoder, 500 and 500);
   conv: 4x4 stride-2 convs with ReLU, one per halving (28 -> 14 -> 7), mirrored by transposed convs.

Every epoch both add the reconstruction grid (``figures``: ``samples/recon-epoch-NNNN.png``, drawn by
``gankit.sampling.figures``): 64 fixed training images beside their reconstructions (the talk's
"real images vs reconstructed images").
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ConfigError
from ..rundir import RECON_GRID
from . import register_family
from .blocks import upsample_plan



def to_pixels(x: torch.Tensor) -> torch.Tensor:
    """Data space [-1, 1] -> the talk's pixel space [0, 1]."""
    return (x + 1) / 2


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per example, summed over latent dims: (B, z) -> (B,).

    0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2) (Kingma & Welling 2014, appendix B)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)


def _check_images(data, name: str) -> None:
    if not data.is_image:
        raise ConfigError(f"--model {name} needs images; --data {data.name} gives points")


# ---- codes ---------------------------------------------------------------------------------------
def encode_mean(E: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The code of x: the AE's code, or the VAE posterior's mean."""
    out = E(x)
    return out[0] if isinstance(out, tuple) else out


# ---- AE ------------------------------------------------------------------------------------------
class AEEncoder(nn.Module):
    def __init__(self, in_shape: tuple, code: int):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(in_shape), code), nn.ReLU())
        nn.init.xavier_uniform_(self.net[1].weight)  # the talk's xavier_initializer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(to_pixels(x))  # (B, code)


class AEDecoder(nn.Module):
    def __init__(self, code: int, out_shape: tuple):
        super().__init__()
        self.out_shape = tuple(out_shape)
        self.net = nn.Sequential(nn.Linear(code, math.prod(out_shape)), nn.ReLU())
        nn.init.xavier_uniform_(self.net[0].weight)

    def forward(self, c: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        pixels = self.net(c).view(-1, *self.out_shape)  # (B, C, H, W) in [0, inf)
        return pixels * 2 - 1  # data space


@register_family("ae", step="ae", optimizers={"AE": ("E", "G")}, figures=(RECON_GRID,), encoder=True,
                 prior=False, defaults={"z_dim": 100, "optimizer": "adam", "lr_g": 5e-3, "beta1": 0.9, "beta2": 0.999,
                           "batch_size": 128, "ema": 0.0})
def build_ae(cfg, data) -> nn.ModuleDict:
    _check_images(data, "ae")
    return nn.ModuleDict({"E": AEEncoder(data.shape, cfg.z_dim), "G": AEDecoder(cfg.z_dim, data.shape)})


# ---- VAE -----------------------------------------------------------------------------------------
class VAEDecoderBase(nn.Module):
    """``logits(z)``: Bernoulli logits (B, C, H, W); ``forward(z)``: the mean image in [-1, 1]."""

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return torch.tanh(self.logits(z) / 2)  # = 2 * sigmoid(logits) - 1


class MLPVAEEncoder(nn.Module):
    def __init__(self, in_shape: tuple, hidden: list, z_dim: int):
        super().__init__()
        layers, width = [nn.Flatten()], math.prod(in_shape)
        for h in hidden:  # softplus, as the talk
            layers += [nn.Linear(width, h), nn.Softplus()]
            width = h
        self.net = nn.Sequential(*layers)
        self.out = nn.Linear(width, 2 * z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.out(self.net(to_pixels(x))).chunk(2, dim=1)
        return mu, logvar  # (B, z_dim) each


class MLPVAEDecoder(VAEDecoderBase):
    def __init__(self, z_dim: int, hidden: list, out_shape: tuple):
        super().__init__()
        self.out_shape = tuple(out_shape)
        layers, width = [], z_dim
        for h in reversed(hidden):
            layers += [nn.Linear(width, h), nn.Softplus()]
            width = h
        layers.append(nn.Linear(width, math.prod(out_shape)))
        self.net = nn.Sequential(*layers)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.out_shape)


def _conv_plan(h: int, width: int) -> tuple[int, int, list]:
    """(smallest side, stride-2 layers, channels per layer): 28, 64 -> (7, 2, [32, 64])."""
    s0, k = upsample_plan(h)
    return s0, k, [max(width // 2, 1) * 2 ** i for i in range(max(k, 1))]


class ConvVAEEncoder(nn.Module):
    def __init__(self, in_shape: tuple, width: int, z_dim: int):
        super().__init__()
        c, h, _ = in_shape
        s0, k, chans = _conv_plan(h, width)
        layers, cin = [], c
        for cout in chans:  # (B, 32, 14, 14), (B, 64, 7, 7) for MNIST
            layers += [nn.Conv2d(cin, cout, 4, 2, 1) if k else nn.Conv2d(cin, cout, 3, 1, 1), nn.ReLU()]
            cin = cout
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(cin * s0 * s0, 2 * z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.out(self.net(to_pixels(x))).chunk(2, dim=1)
        return mu, logvar  # (B, z_dim) each


class ConvVAEDecoder(VAEDecoderBase):
    def __init__(self, z_dim: int, width: int, out_shape: tuple):
        super().__init__()
        c, h, _ = out_shape
        s0, k, chans = _conv_plan(h, width)
        self.start = (chans[-1], s0, s0)
        self.fc = nn.Sequential(nn.Linear(z_dim, chans[-1] * s0 * s0), nn.ReLU())
        layers = []
        outs = list(reversed(chans))[1:] + [c]
        for i, (cin, cout) in enumerate(zip(reversed(chans), outs)):
            layers.append(nn.ConvTranspose2d(cin, cout, 4, 2, 1) if k else nn.ConvTranspose2d(cin, cout, 3, 1, 1))
            if i < len(outs) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, *self.start))  # (B, C, H, W)


# lr 2e-3 measured better than the talk's 1e-3 on MNIST for 2 CPU-minutes (FID 150 vs 163); a code
# of 8 instead of 20 was worse (169), docs/benchmarks.md.
@register_family("vae", step="vae", optimizers={"AE": ("E", "G")}, figures=(RECON_GRID,), encoder=True,
                 archs=("conv", "mlp"),
                 defaults={"z_dim": 20, "optimizer": "adam", "lr_g": 2e-3, "beta1": 0.9, "beta2": 0.999,
                           "batch_size": 64, "ema": 0.0})
def build_vae(cfg, data) -> nn.ModuleDict:
    _check_images(data, "vae")
    if cfg.z_dist != "normal":
        raise ConfigError(f"--set z_dist={cfg.z_dist}: the VAE's prior is a standard normal (z_dist=normal)")
    if cfg.arch == "mlp":
        return nn.ModuleDict({"E": MLPVAEEncoder(data.shape, cfg.hidden, cfg.z_dim),
                              "G": MLPVAEDecoder(cfg.z_dim, cfg.hidden, data.shape)})
    return nn.ModuleDict({"E": ConvVAEEncoder(data.shape, cfg.width, cfg.z_dim),
                          "G": ConvVAEDecoder(cfg.z_dim, cfg.width, data.shape)})
