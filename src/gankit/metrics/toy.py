"""Mode coverage on toy mixtures (the 2-D ring and grid), after VEEGAN and PacGAN.

Definitions (Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN):

* a generated sample is *high quality* when it lies within `sigmas` (3) standard deviations of
  its nearest mode mean (Euclidean distance, the std of that mode);
* a mode is *covered* when it receives at least `min_count` high-quality samples. Our default
  is 1; PacGAN counts a mode as lost with fewer than 20 of 2,500 samples, so pass
  ``min_count=20`` (for 2,500 samples) to reproduce its tables;
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


def mode_stats(
    samples: ArrayLike,
    means: ArrayLike,
    std: Union[float, Sequence[float], torch.Tensor],
    sigmas: float = 3.0,
    min_count: int = 1,
    weights: Optional[Union[Sequence[float], torch.Tensor]] = None,
) -> dict:
    """Mode statistics of samples (N, D) against mode means (K, D) with per-mode std (or one).

    Returns a JSON-able dict: modes_covered (int), num_modes (K), high_quality (the share of
    samples that are high quality, in [0, 1]), reverse_kl (nats) and per_mode (K counts of
    high-quality samples). See the module docstring for the definitions.
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
    if sigmas <= 0 or min_count < 1:
        raise ConfigError(f"mode_stats: need sigmas > 0 and min_count >= 1, got {sigmas}, {min_count}")
    p = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else (
        torch.as_tensor(weights, dtype=torch.float64).flatten().cpu())
    if p.numel() != k or not bool((p >= 0).all()) or float(p.sum()) <= 0:
        raise ConfigError(f"mode_stats: weights must be {k} non-negative numbers, not all zero")
    p = p / p.sum()

    dist, nearest = torch.cdist(x, mu).min(dim=1)  # (N,), (N,)
    good = dist <= sigmas * s[nearest]  # (N,)
    per_mode = torch.bincount(nearest[good], minlength=k).cpu()  # (K,)
    total = int(per_mode.sum())
    if total:
        q = per_mode.double() / total
        reverse_kl = float((torch.special.xlogy(q, q) - torch.special.xlogy(q, p)).sum())
    else:
        reverse_kl = math.nan
    return {
        "modes_covered": int((per_mode >= min_count).sum()),
        "num_modes": k,
        "high_quality": total / x.shape[0],
        "reverse_kl": reverse_kl,
        "per_mode": per_mode.tolist(),
    }
