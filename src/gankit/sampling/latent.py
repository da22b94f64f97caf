"""Latent-space tools: interpolation (lerp, slerp), the lecture's latent walks, vector arithmetic
and encoding real images with an autoencoder.

Everything here works on plain latent tensors on the CPU; ``gankit.sampling.explore`` turns them
into figures. Latents are rows: ``(N, z_dim)``.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ..data import to_unit
from ..errors import GankitError
from ..models.autoencoder import encode_mean
from ..models.blocks import eval_mode


# ---- interpolation -------------------------------------------------------------------------------
def fractions(steps: int) -> torch.Tensor:
    """``steps`` evenly spaced fractions from 0 to 1, both ends included: (steps,)."""
    if steps < 2:
        raise GankitError(f"--steps: an interpolation needs at least 2 steps, got {steps}")
    return torch.linspace(0.0, 1.0, steps)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation: (D,), (D,), (T,) -> (T, D), row k = (1 - t_k) a + t_k b.

    Between two Gaussian latents the midpoint's norm shrinks (by cos(omega / 2) for equal norms),
    so it lands in a region the prior almost never produces (White 2016, "Sampling generative
    networks"); ``slerp`` avoids that."""
    a, b, t = a.float(), b.float(), t.float()[:, None]  # t: (T, 1)
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016): (D,), (D,), (T,) -> (T, D).

    Moves along the great circle between the directions of a and b:
        omega = angle(a, b);  z(t) = sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b
    For |a| = |b| every point keeps that norm. Nearly parallel vectors fall back to ``lerp``.
    Computed in float64: the sines of small angles lose digits in float32."""
    a64, b64, t64 = a.double(), b.double(), t.double()[:, None]
    cos = torch.dot(a64, b64) / (a64.norm() * b64.norm()).clamp_min(1e-300)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < eps or (torch.pi - omega).abs() < eps:  # (anti)parallel: the circle is not unique
        return lerp(a, b, t)
    so = torch.sin(omega)
    out = torch.sin((1 - t64) * omega) / so * a64 + torch.sin(t64 * omega) / so * b64
    return out.to(torch.promote_types(a.dtype, torch.float32))


INTERPOLATORS = {"lerp": lerp, "slerp": slerp}


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, mode: str = "lerp") -> torch.Tensor:
    """``steps`` points from a to b, endpoints included: (D,), (D,) -> (steps, D)."""
    if mode not in INTERPOLATORS:
        raise GankitError(f"--mode: {mode!r}; valid: {', '.join(INTERPOLATORS)}")
    return INTERPOLATORS[mode](a, b, fractions(steps))


# ---- the lecture's latent walk -------------------------------------------------------------------
def walk_latents(n: int, z_dim: int, scale_means: float = 1.0, scale_stds: float = 1.0,
                 generator: torch.Generator | None = None, eps: torch.Tensor | None = None) -> torch.Tensor:
    """Latents with means and spreads that change along the latent dimensions: (n, z_dim).

    The lecture notes (000_eb9a6f1966f0c3dc.txt, "Exploring the Latent Space") draw

        means = scale_means * linspace(-1, 1, latent_dim)
        stds  = scale_stds  * linspace(-1, 1, latent_dim)
        tf.random.normal([number, number], means, stds)

    so dimension j of every latent is normal with mean ``scale_means * t_j`` and spread
    ``|scale_stds * t_j|``, t_j = -1 + 2j / (z_dim - 1): the first dimensions are pushed one way,
    the last ones the other, the middle one is left at 0 (a normal with a negative "std" is the
    same distribution as with its absolute value). Scaling the means moves from digit to digit;
    scaling the spreads widens the variety.

    What this function does differently from the notes' code (whose shape and indexing bugs are):
    - the shape is (n, z_dim): the notes ask for (number, number), which only works when the
      number of images happens to equal the latent size (100) and fails to broadcast otherwise;
    - the spreads are |scale_stds * t_j| explicitly, not a negative standard deviation;
    - ``generate_images(latent_points)`` in the notes ignores its argument and reads a global;
      ``plot_result`` shows ``images[i*j]`` (row 0 and column 0 repeat image 0, most images are
      never shown) where image ``i * side + j`` is meant; the explore command draws every latent
      once, in order, and needs no square count.

    ``eps`` (n, z_dim) standard normal noise may be passed to reuse the same draw across scales
    (the walk's GIF moves the means while the noise stays put)."""
    if n <= 0:
        raise GankitError(f"-n: must be positive, got {n}")
    t = torch.linspace(-1.0, 1.0, z_dim) if z_dim > 1 else torch.zeros(1)  # (z_dim,)
    means = scale_means * t  # (z_dim,)
    stds = (scale_stds * t).abs()  # (z_dim,)
    if eps is None:
        eps = torch.randn(n, z_dim, generator=generator)
    if tuple(eps.shape) != (n, z_dim):
        raise ValueError(f"eps must have shape {(n, z_dim)}, got {tuple(eps.shape)}")
    return means + stds * eps  # (n, z_dim): broadcast over the rows


# ---- vector arithmetic ---------------------------------------------------------------------------
def parse_indices(text: str, flag: str, upper: int) -> list[int]:
    """``"1,5,9"`` -> [1, 5, 9], each in [0, upper); a one-line error naming ``flag`` otherwise."""
    try:
        idx = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise GankitError(f"{flag}: expected comma-separated integers like 1,5,9, got {text!r}") from None
    if not idx:
        raise GankitError(f"{flag}: give at least one index, got {text!r}")
    bad = [i for i in idx if not 0 <= i < upper]
    if bad:
        raise GankitError(f"{flag}: index {bad[0]} is outside 0..{upper - 1}")
    return idx


def arithmetic(z: torch.Tensor, a: Sequence[int], b: Sequence[int] = (), c: Sequence[int] = ()) -> dict:
    """mean(z[a]) - mean(z[b]) + mean(z[c]) (Radford et al. 2016, DCGAN section 6.3: smiling woman
    - neutral woman + neutral man = smiling man). z: (N, D). Averaging several latents per operand
    is what makes the result stable; an empty operand contributes nothing.

    Returns {"a": (D,), "b": (D,) or None, "c": (D,) or None, "result": (D,)}."""
    means = {k: (z[list(idx)].float().mean(0) if len(idx) else None) for k, idx in (("a", a), ("b", b), ("c", c))}
    if means["a"] is None:
        raise GankitError("--a: the first operand needs at least one latent")
    result = means["a"].clone()
    if means["b"] is not None:
        result -= means["b"]
    if means["c"] is not None:
        result += means["c"]
    return {**means, "result": result}


# ---- encoding ------------------------------------------------------------------------------------
def check_encoder(run, what: str) -> None:
    if not run.family.encoder:
        raise GankitError(f"explore {what}: needs an autoencoder run (--model ae or vae); "
                          f"{run.path} is a --model {run.config.model} run")


@torch.no_grad()
def encode(run, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Codes of data-space images x (N, C, H, W) in [-1, 1]: the AE's code, or the VAE posterior's
    mean mu (its E returns (mu, logvar)). Returns (N, z_dim) on the CPU."""
    check_encoder(run, "encode")
    E = run.nets["E"]
    device = next(E.parameters()).device
    with eval_mode(E):
        out = [encode_mean(E, x[i:i + batch].to(device)).float().cpu() for i in range(0, len(x), batch)]
    return torch.cat(out) if out else torch.empty(0, run.config.z_dim)


@torch.no_grad()
def decode(run, z: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Images in [0, 1] (N, C, H, W) decoded from codes z (N, z_dim) by the decoder ``G`` that was
    trained together with ``E`` (not its EMA copy, which only sampling uses)."""
    G = run.nets["G"]
    device = next(G.parameters()).device
    with eval_mode(G):
        out = [G(z[i:i + batch].to(device)).float().cpu() for i in range(0, len(z), batch)]
    return to_unit(torch.cat(out) if out else torch.empty(0, *run.data_shape))
