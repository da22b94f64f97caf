"""Model families. Each file builds one family's networks and registers it by name.

A family is registered with ``register_family``; what it contributes to the one engine:
- ``build(cfg, data) -> nn.ModuleDict`` with its networks ("G"/"D"; autoencoders: encoder "E", decoder "G");
- ``step``: the name of its step function in ``gankit.training.steps``;
- ``defaults``: config values its paper or seed uses, applied under the user's own settings;
- ``prepare_data``: (cfg, data) -> the Dataset the step trains on (e.g. a trained autoencoder's
  codes for the latent GAN), computed once when the trainer starts;
- ``figures``: the per-epoch figures it adds beside the fixed-seed grid (``rundir.CLASS_GRID`` for
  conditional models, ``rundir.RECON_GRID`` for autoencoders), drawn by ``gankit.sampling.figures``;
- ``encoder``: its "E" maps images to codes that its "G" decodes (autoencoders): what reconstructions,
  image interpolations and the latent GAN need;
- ``prior``: False when G's input has no distribution to draw from (the plain autoencoder's codes);
- ``parent``: the config key naming another run that its networks build on (the latent GAN's
  ``ae_run``); the engine and ``gankit.load`` load that run and hand it over as ``data.extra["parent"]``,
  so no model loads runs itself;
- ``archs``: the values of the ``arch`` setting it offers (its ``defaults`` may pick one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..registry import MODELS


@dataclass(frozen=True)
class Family:
    name: str
    build: Callable  # (cfg, data: Dataset) -> nn.ModuleDict
    step: str  # "gan", "ae", "vae", ... (a key of gankit.training.steps.STEPS)
    conditional: bool = False  # G takes class labels
    defaults: dict = field(default_factory=dict)
    # optimiser name -> the networks it updates; "D" uses lr_d, every other one lr_g
    optimizers: dict = field(default_factory=lambda: {"G": ("G",), "D": ("D",)})
    # (nets, z, y) -> samples in data space, in [-1, 1] for images; None: nets["G"](z, y)
    generate: Callable | None = None
    # (cfg, data) -> Dataset: what the step trains on; None: the data as loaded
    prepare_data: Callable | None = None
    figures: tuple = ()  # per-epoch figure kinds beside the fixed grid (keys of sampling.figures.EPOCH_FIGURES)
    archs: tuple = ("conv",)  # the networks ``arch`` may name
    encoder: bool = False  # nets["E"] encodes images to codes that nets["G"] decodes
    prior: bool = True  # G's input has a prior to sample from (an autoencoder's codes have none)
    parent: str = ""  # config key naming the run this family builds on ("" = none)


def sampling_generator(nets):
    """The generator that samples: G's EMA copy when the run keeps one ("G_ema"), else G itself."""
    return nets["G_ema"] if "G_ema" in nets else nets["G"]


def register_family(name: str, step: str = "gan", conditional: bool = False, defaults: dict | None = None,
                    optimizers: dict | None = None, generate: Callable | None = None,
                    prepare_data: Callable | None = None, figures: tuple = (), archs: tuple = ("conv",),
                    encoder: bool = False, parent: str = "", prior: bool = True):
    def deco(build: Callable) -> Callable:
        opts = optimizers or {"G": ("G",), "D": ("D",)}
        MODELS.register(name)(Family(name, build, step, conditional=conditional, defaults=dict(defaults or {}),
                                     optimizers=opts, generate=generate, prepare_data=prepare_data,
                                     figures=tuple(figures), archs=tuple(archs), encoder=encoder, prior=prior,
                                     parent=parent))
        return build

    return deco


# Importing the family files registers them (``conditional`` under another name: it is also a
# parameter of register_family).
from . import autoencoder, critic, dcgan, latent_gan, mlp  # noqa: E402,F401
from . import conditional as _conditional  # noqa: E402,F401
