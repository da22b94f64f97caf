"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs").

KID is the unbiased estimate of the squared MMD between two feature sets under the cubic
polynomial kernel k(x, y) = (x.y / F + 1)^3, averaged over random subsets as in the paper's
code and torch-fidelity. Unlike FID it has an unbiased estimator, so it can be slightly negative
when both sets come from the same distribution.
"""
from __future__ import annotations

import torch

from ._common import ArrayLike, as_matrix, int_at_least, same_width


def _mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD^2 between x (m, F) and y (m, F) under the cubic polynomial kernel."""
    m, f = x.shape
    k_xx = (x @ x.T / f + 1) ** 3  # (m, m)
    k_yy = (y @ y.T / f + 1) ** 3
    k_xy = (x @ y.T / f + 1) ** 3
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return within - 2 * k_xy.sum() / (m * m)


def kid(
    feats_a: ArrayLike, feats_b: ArrayLike, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID between features (Na, F) and (Nb, F): mean and std (ddof 0) over `subsets` estimates.

    Each estimate uses `subset_size` rows drawn without replacement from each set; the size is
    capped at min(Na, Nb); each set needs at least 2 rows. `seed` fixes the subsets.
    """
    a = as_matrix(feats_a, "kid: feats_a", min_rows=2)
    b = as_matrix(feats_b, "kid: feats_b", min_rows=2).to(a.device)
    same_width(a, b, "kid")
    subsets = int_at_least(subsets, "kid: subsets")
    m = min(int_at_least(subset_size, "kid: subset_size", 2), a.shape[0], b.shape[0])
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        ia = torch.randperm(a.shape[0], generator=gen)[:m].to(a.device)
        ib = torch.randperm(b.shape[0], generator=gen)[:m].to(a.device)
        values.append(_mmd2_unbiased(a[ia], b[ib]))
    v = torch.stack(values)  # (subsets,)
    return float(v.mean()), float(v.std(correction=0))
