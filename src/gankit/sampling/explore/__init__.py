"""Exploring a trained run: each command writes PNG (and a GIF where something moves) into
``RUN/explore/`` and returns an ``Exploration`` (the files, and the tensors behind them).

    import gankit
    run = gankit.load("runs/dcgan-mnist")
    gankit.explore(run, "interpolate", mode="slerp")     # RUN/explore/interpolate-latents-slerp.{png,gif}

Commands (``COMMANDS``): grid, classes, interpolate, walk, arithmetic, manifold, scatter,
reconstruct, prior, discriminator. They follow the course: the lecture notes' latent walks and digit
interpolation (000_eb9a6f1966f0c3dc.txt), the talk's VAE latent scatter and 20x20 manifold
(003_4cc37f4be662be15.txt), DCGAN's vector arithmetic (Radford et al. 2016), and GAN Lab's picture
of D's decision surface under G's deformed latent grid (Kahng et al. 2018) for the 2-D toy data.

Prior samples (grid, walk, manifold, latent interpolation) are drawn as ``gankit sample`` draws
them (``Run.sample``: the EMA generator when there is one); whatever goes through the encoder
(reconstruct, image interpolation, class arithmetic of autoencoders) is decoded by the decoder
``G`` trained with that encoder.

The package follows that list: ``samples.py`` (grid, classes, interpolate, walk, arithmetic: what
the generator draws from its prior), ``codes.py`` (manifold, scatter, reconstruct, prior: a 2-D latent
space and an autoencoder's codes), ``toy.py`` (discriminator: 1-D and 2-D toy runs), and
``_common.py`` (what they share: loading the run, drawing samples, checks and savers). Beside each
figure a command writes its caption, ``<stem>.json`` (``rundir.explore_caption``), which ``gankit
report`` shows under it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ...errors import GankitError
from ...run import Run
from ._common import Exploration, _as_run
from .codes import manifold, pca_2d, prior, reconstruct, scatter
from .samples import arithmetic, classes, grid, interpolate, walk
from .toy import discriminator

__all__ = ["COMMANDS", "Exploration", "explore", "grid", "classes", "interpolate", "walk", "arithmetic", "manifold",
           "scatter", "reconstruct", "prior", "discriminator", "pca_2d"]


# ---- dispatch --------------------------------------------------------------------------------------
COMMANDS: dict[str, Callable[..., Exploration]] = {
    "grid": grid, "classes": classes, "interpolate": interpolate, "walk": walk, "arithmetic": arithmetic,
    "manifold": manifold, "scatter": scatter, "reconstruct": reconstruct, "prior": prior,
    "discriminator": discriminator,
}


def explore(run: Run | str | Path, what: str, **options) -> Exploration:
    """Run one explore command by name: ``explore(run, "walk", scale_means=5)``."""
    if what not in COMMANDS:
        raise GankitError(f"explore: unknown command {what!r}; valid: {', '.join(COMMANDS)}")
    return COMMANDS[what](_as_run(run), **options)
