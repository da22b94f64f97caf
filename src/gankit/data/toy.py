"""Toy data with exact densities: mixtures of isotropic Gaussians in 1-D and 2-D.

The 2-D ``ring`` (8 modes) and ``grid`` (25 modes) are the mode-collapse benchmarks of Metz et
al. 2017 (Unrolled GANs), Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN); the 1-D
``gmm1d`` is the setting of the optimal-discriminator experiment (``gankit.metrics.theory``).
Because the density is known, metrics can compare a model with the truth, not only with samples.

Every source returns points x float32 (N, D), labels y = the component that drew each point,
``num_classes`` = K and ``extra={"mixture": Mixture}``. The "test" split draws from a different
seed than "train".
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import torch

from ..errors import ConfigError
from ..registry import DATASETS
from . import Dataset

_SPLITS = {"train": 0, "test": 1}


class Mixture:
    """A mixture of K isotropic Gaussians in D dimensions.

    p(x) = sum_k w_k N(x; mu_k, s_k^2 I)

    means: (K, D); std: one float for all components or K floats; weights: K non-negative
    numbers (normalised here), uniform when omitted. Densities are computed in float64.
    """

    def __init__(
        self,
        means: Union[torch.Tensor, Sequence],
        std: Union[float, Sequence[float], torch.Tensor],
        weights: Optional[Union[Sequence[float], torch.Tensor]] = None,
    ):
        means = torch.as_tensor(means, dtype=torch.float64)
        if means.dim() != 2 or means.shape[0] == 0 or means.shape[1] == 0:
            raise ConfigError(f"mixture means must have shape (K, D), got {tuple(means.shape)}")
        k = means.shape[0]
        std = torch.as_tensor(std, dtype=torch.float64).flatten()
        if std.numel() == 1:
            std = std.expand(k).clone()
        if std.numel() != k or not bool((std > 0).all()):
            raise ConfigError(f"mixture std must be one positive number or {k} of them")
        if weights is None:
            weights = torch.full((k,), 1.0 / k, dtype=torch.float64)
        weights = torch.as_tensor(weights, dtype=torch.float64).flatten()
        if weights.numel() != k or not bool((weights >= 0).all()) or float(weights.sum()) <= 0:
            raise ConfigError(f"mixture weights must be {k} non-negative numbers, not all zero")
        self.means = means  # (K, D)
        self.std = std  # (K,)
        self.weights = weights / weights.sum()  # (K,)

    @property
    def num_components(self) -> int:
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw n >= 1 points: x float32 (n, D) and the component of each, int64 (n,)."""
        if n < 1:
            raise ConfigError(f"mixture: can only sample n >= 1 points, got {n}")
        idx = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        noise = torch.randn(n, self.dim, dtype=torch.float64, generator=generator)  # (n, D)
        x = self.means[idx] + self.std[idx, None] * noise
        return x.float(), idx

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log density, float64 (n,), of points x (n, D) (a 1-D x of length n when D == 1)."""
        x = torch.as_tensor(x, dtype=torch.float64)
        if x.dim() == 1 and self.dim == 1:
            x = x[:, None]
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ConfigError(f"points must have shape (n, {self.dim}), got {tuple(x.shape)}")
        sq = (x[:, None, :] - self.means[None]).square().sum(dim=2)  # (n, K); no cancellation as in cdist
        var = self.std.square()  # (K,)
        log_norm = -0.5 * self.dim * torch.log(2 * math.pi * var)  # (K,)
        log_comp = log_norm - 0.5 * sq / var  # (n, K)
        return torch.logsumexp(torch.log(self.weights) + log_comp, dim=1)

    def pdf(self, x: torch.Tensor) -> torch.Tensor:
        """Exact density, float64 (n,)."""
        return self.log_prob(x).exp()

    def __repr__(self) -> str:
        return f"Mixture(K={self.num_components}, D={self.dim})"


def ring_mixture(modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Mixture:
    """`modes` Gaussians at angles 2*pi*k/modes, k = 0..modes-1, on a circle (Metz et al. 2017)."""
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float64) / modes  # endpoint excluded
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (modes, 2)
    return Mixture(means, std)


def grid_mixture(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """side x side Gaussians on a centred square grid; the default is {-4, -2, 0, 2, 4}^2."""
    ticks = spacing * (torch.arange(side, dtype=torch.float64) - (side - 1) / 2)  # (side,)
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return Mixture(torch.stack([gx.flatten(), gy.flatten()], dim=1), std)  # (side^2, 2)


def gmm1d_mixture(
    means: Sequence[float] = (-2.0, 2.0), std: Union[float, Sequence[float]] = 0.5,
    weights: Optional[Sequence[float]] = None,
) -> Mixture:
    """A 1-D mixture; by default 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)."""
    return Mixture(torch.as_tensor(means, dtype=torch.float64).reshape(-1, 1), std, weights)


def _make(name: str, mixture: Mixture, split: str, n: int, seed: int) -> Dataset:
    if split not in _SPLITS:
        raise ConfigError(f"dataset {name!r}: split must be one of {sorted(_SPLITS)}, got {split!r}")
    if n < 1:
        raise ConfigError(f"dataset {name!r}: n must be at least 1, got {n}")
    gen = torch.Generator().manual_seed(2 * seed + _SPLITS[split])  # distinct per (seed, split)
    x, idx = mixture.sample(n, gen)
    return Dataset(name, x, idx, mixture.num_components, {"mixture": mixture})


# The sources below take the common signature fn(data_dir, split, **options). data_dir is unused,
# and options meant for other sources are ignored.


@DATASETS.register("ring")
def ring(data_dir: str = "", split: str = "train", n: int = 10000, seed: int = 0,
         modes: int = 8, radius: float = 2.0, std: float = 0.02, **_) -> Dataset:
    """8 Gaussians (std 0.02) on a circle of radius 2: x float32 (n, 2)."""
    return _make("ring", ring_mixture(modes, radius, std), split, n, seed)


@DATASETS.register("grid")
def grid(data_dir: str = "", split: str = "train", n: int = 10000, seed: int = 0,
         side: int = 5, spacing: float = 2.0, std: float = 0.05, **_) -> Dataset:
    """25 Gaussians (std 0.05) on the grid {-4, -2, 0, 2, 4}^2: x float32 (n, 2)."""
    return _make("grid", grid_mixture(side, spacing, std), split, n, seed)


@DATASETS.register("gmm1d")
def gmm1d(data_dir: str = "", split: str = "train", n: int = 10000, seed: int = 0,
          means: Sequence[float] = (-2.0, 2.0), std: Union[float, Sequence[float]] = 0.5,
          weights: Optional[Sequence[float]] = None, **_) -> Dataset:
    """A 1-D Gaussian mixture, by default 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2): x float32 (n, 1)."""
    return _make("gmm1d", gmm1d_mixture(means, std, weights), split, n, seed)
