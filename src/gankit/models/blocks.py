"""Small pieces shared by several families."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Inside the block ``module`` runs in eval mode (batch norm on its running statistics, no
    dropout); afterwards it is back in the mode it had, also when the block raises."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def maybe_sn(layer: nn.Module, on: bool) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of a D layer when ``on``."""
    return nn.utils.parametrizations.spectral_norm(layer) if on else layer


MIXTURE_COMPONENTS = 10  # z_dist=mixture: this many unit normals, one per axis of the first ten (fewer if z_dim is)
MIXTURE_SHIFT = 6.0  # ... each centred this far along its axis (two centres 8.5 standard deviations apart)


def sample_z(n: int, z_dim: int, dist: str, generator: torch.Generator | None = None,
             device: torch.device | str = "cpu", truncation: float | None = None) -> torch.Tensor:
    """Latent noise (n, z_dim): standard normal, uniform on [-1, 1] (the chapter's 'uniform'), or
    a mixture of ``MIXTURE_COMPONENTS`` unit normals with separated centres, picked with equal
    odds (Ben-Yosef and Weinshall 2018): low density between the centres gives G room to map them
    to separate modes without drawing the shapes between them.

    ``truncation`` (> 0) draws the normal noise truncated at that bound (``truncated_normal``),
    about each latent's centre for the mixture; a uniform latent is then drawn as a truncated
    normal too."""
    if truncation is not None:
        z = truncated_normal(n, z_dim, truncation, generator).to(device)
    elif dist == "uniform":
        return torch.rand(n, z_dim, generator=generator, device=device) * 2 - 1
    else:
        z = torch.randn(n, z_dim, generator=generator, device=device)
    return z + latent_centres(n, z_dim, dist, generator, device) if dist == "mixture" else z


def truncated_normal(n: int, d: int, bound: float, g: torch.Generator | None = None) -> torch.Tensor:
    """(n, d) standard normal latents truncated to [-bound, bound], by the inverse CDF, on the CPU.

    z = Phi^-1(Phi(-b) + u (1 - 2 Phi(-b))), u ~ U[0, 1), in float64: one draw per entry whatever
    the bound (rejection sampling would loop for ever on a tiny one). Beyond 10 sigma nothing is cut.
    """
    b = min(float(bound), 10.0)
    lo = torch.special.ndtr(torch.tensor(-b, dtype=torch.float64))  # Phi(-b)
    u = torch.rand(n, d, generator=g, dtype=torch.float64)
    return torch.special.ndtri(lo + u * (1 - 2 * lo)).clamp_(-b, b).float()


def latent_centres(n: int, z_dim: int, dist: str, generator: torch.Generator | None = None,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, z_dim) centres about which ``sample_z`` draws its noise: zeros, except for
    z_dist=mixture, where one component is drawn per row with equal odds: ``MIXTURE_SHIFT`` on that
    component's axis, 0 elsewhere. A latent of fewer than ``MIXTURE_COMPONENTS`` dimensions has one
    component per axis. Only the mixture draws from ``generator``."""
    if dist != "mixture":
        return torch.zeros(n, z_dim, device=device)
    c = torch.randint(0, min(MIXTURE_COMPONENTS, z_dim), (n,), generator=generator, device=device)
    centres = torch.zeros(n, z_dim, device=device)
    centres[torch.arange(n, device=device), c] = MIXTURE_SHIFT
    return centres


def upsample_plan(size: int) -> tuple[int, int]:
    """(start size, number of stride-2 upsamplings) for a square image side, e.g. 28 -> (7, 2)."""
    k = 0
    while size % 2 == 0 and size > 7:
        size //= 2
        k += 1
    return size, k
