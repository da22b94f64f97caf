"""Mode coverage on toy mixtures (the 2-D ring and grid), after VEEGAN and PacGAN.

Definitions (Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN):

* a generated sample is *high quality* when it lies within `sigmas` (3) standard deviations of
  its nearest mode mean (Euclidean distance, the std of that mode);
* a mode is *covered* when it receives at least `share` (0.2) of its fair share of the samples,
  N w_k high-quality samples for a mode of weight w_k. That is PacGAN's rule (a mode of the 5x5
  grid is lost with fewer than 20 of 2,500 samples: a fifth of its 100), at any N;
* a mode is *hit* when it receives at least one high-quality sample, the rule of the Stacked
  MNIST tables; reported beside, as ``modes_hit``, to compare with them, though it counts a
  mode that got one stray point;
* *reverse KL* is KL(q || p) in nats, q the histogram of high-quality samples over modes
  (normalised), p the true mode weights (uniform unless given). Missing modes add nothing
  (0 log 0 = 0), so it measures how unevenly the covered modes are filled; read it with
  modes_covered. It is NaN when there is no high-quality sample at all.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import torch

from ..errors import ConfigError
from ._common import ArrayLike, as_matrix, same_width


def nearest_modes(x: torch.Tensor, mu: torch.Tensor, std: torch.Tensor, sigmas: float = 3.0):
    """Each sample's nearest mode and whether it is high quality: x (N, D), mu (K, D), std (K,)
    -> nearest (N,) mode indices, good (N,) booleans (within ``sigmas`` std of that mode)."""
    dist, nearest = torch.cdist(x, mu).min(dim=1)  # (N,), (N,)
    return nearest, dist <= sigmas * std[nearest]


def mode_stats(
    samples: ArrayLike,
    means: ArrayLike,
    std: Union[float, Sequence[float], torch.Tensor],
    sigmas: float = 3.0,
    share: float = 0.2,
    weights: Optional[Union[Sequence[float], torch.Tensor]] = None,
) -> dict:
    """Mode statistics of samples (N, D) against mode means (K, D) with per-mode std (or one).

    Returns a JSON-able dict: modes_covered (int, by ``share`` of the fair share), modes_hit
    (int, at least one), num_modes (K), high_quality (the share of samples that are high quality,
    in [0, 1]), reverse_kl (nats) and per_mode (K counts of high-quality samples). See the module
    docstring for the definitions.
    """
    x = as_matrix(samples, "mode_stats: samples")
    mu = as_matrix(means, "mode_stats: means").to(x.device)
    same_width(x, mu, "mode_stats: samples/means")
    k = mu.shape[0]
    s = torch.as_tensor(std, dtype=torch.float64).flatten().to(x.device)
    if s.numel() == 1:
        s = s.expand(k)
    if s.numel() != k or not bool((s > 0).all()):
        raise ConfigError(f"mode_stats: std must be one positive number or {k} of them")
    if sigmas <= 0 or not 0 < share <= 1:
        raise ConfigError(f"mode_stats: need sigmas > 0 and share in (0, 1], got {sigmas}, {share}")
    p = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else (
        torch.as_tensor(weights, dtype=torch.float64).flatten().cpu())
    if p.numel() != k or not bool((p >= 0).all()) or float(p.sum()) <= 0:
        raise ConfigError(f"mode_stats: weights must be {k} non-negative numbers, not all zero")
    p = p / p.sum()

    nearest, good = nearest_modes(x, mu, s, sigmas)
    per_mode = torch.bincount(nearest[good], minlength=k).cpu()  # (K,)
    total = int(per_mode.sum())
    if total:
        q = per_mode.double() / total
        reverse_kl = float((torch.special.xlogy(q, q) - torch.special.xlogy(q, p)).sum())
    else:
        reverse_kl = math.nan
    return {
        "modes_covered": int((per_mode.double() >= share * x.shape[0] * p).sum()),
        "modes_hit": int((per_mode >= 1).sum()),
        "num_modes": k,
        "high_quality": total / x.shape[0],
        "reverse_kl": reverse_kl,
        "per_mode": per_mode.tolist(),
    }
