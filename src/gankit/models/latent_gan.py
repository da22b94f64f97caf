"""A GAN trained on a trained autoencoder's codes (the talk 003_4cc37f4be662be15.txt: "To speed up
things we do GAN on AutoEncoder ... it doesn't change the AE").

``--set ae_run=RUN`` names a finished ``ae`` (or ``vae``: its posterior means) run. When training
starts, the whole training set is encoded once by RUN's encoder (``prepare_data``); the GAN then
trains with the ordinary ``gan_step`` on those codes as points:
   G: z (B, z_dim) -> MLP (``hidden``) -> code (B, code)       D: code (B, code) -> MLP -> logit (B,)
Sampling decodes G's codes with RUN's decoder (``generate``), so the fixed grids, ``gankit sample``
and the metrics all see images.

RUN is this family's ``parent``: the engine (training) and ``gankit.load`` (sampling) load it and hand
it over in ``data.extra["parent"]``. Its networks sit frozen among this run's networks under "AE", so
its checkpoints keep the weights it was trained against; rebuilding them reads RUN's config, so RUN
must still exist when this run is loaded or resumed.
"""
from __future__ import annotations

import torch
from torch import nn

from ..data import Dataset
from ..errors import ConfigError
from ..registry import MODELS
from . import register_family, sampling_generator
from .autoencoder import encode_mean
from .mlp import MLPDiscriminator, MLPGenerator


def autoencoder_of(cfg, data):
    """The trained autoencoder run that ``ae_run`` names, as the engine or ``gankit.load`` loaded it
    (``data.extra["parent"]``, see ``Family.parent``); a one-line ConfigError naming ae_run otherwise."""
    ae = (getattr(data, "extra", None) or {}).get("parent")
    if ae is None:
        raise ConfigError("--set ae_run=RUN: --model latent-gan needs the run directory of a trained "
                          f"autoencoder (--model {' or '.join(_autoencoders())})")
    if not ae.family.encoder:
        raise ConfigError(f"--set ae_run={cfg.ae_run}: a --model {ae.config.model} run, not an autoencoder "
                          f"({' or '.join(_autoencoders())})")
    return ae


def _autoencoders() -> list[str]:
    return [name for name in MODELS.names() if MODELS.get(name).encoder]


@torch.no_grad()
def encode_dataset(cfg, data: Dataset) -> Dataset:
    """The training set as codes (N, code), with its labels (and the autoencoder still in ``extra``)."""
    ae = autoencoder_of(cfg, data)
    if tuple(data.shape) != ae.data_shape:
        raise ConfigError(f"--set ae_run={cfg.ae_run}: that autoencoder was trained on {ae.data_shape} data; "
                          f"--data {data.name} gives {tuple(data.shape)}")
    E = ae.nets["E"].eval()
    codes = torch.cat([encode_mean(E, data.x[i:i + 1000].float()) for i in range(0, len(data), 1000)])
    return Dataset(f"{data.name}-codes", codes, data.y, data.num_classes, data.extra)


def decode_samples(nets: nn.ModuleDict, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return nets["AE"]["G"](sampling_generator(nets)(z))  # codes (B, code) -> images (B, C, H, W) in [-1, 1]


# Measured on the ae's MNIST codes for 2 CPU-minutes (docs/benchmarks.md): Adam 1e-3 with beta2 0.99
# beat the config's 2e-4 / 0.999 (FID 261 vs 299).
@register_family("latent-gan", prepare_data=encode_dataset, generate=decode_samples, parent="ae_run",
                 defaults={"lr_g": 1e-3, "lr_d": 1e-3, "beta2": 0.99})
def build(cfg, data) -> nn.ModuleDict:
    ae = autoencoder_of(cfg, data)
    frozen = nn.ModuleDict({"E": ae.nets["E"], "G": ae.nets["G"]}).requires_grad_(False)
    return nn.ModuleDict({
        "G": MLPGenerator(cfg.z_dim, data.shape, cfg.hidden, cfg.leak, image=False),
        "D": MLPDiscriminator(data.shape, cfg.hidden, cfg.dropout, cfg.leak, cfg.spectral_norm, cfg.pack),
        "AE": frozen,
    })
