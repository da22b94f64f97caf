"""Fréchet distance between Gaussians fitted to two feature sets (FID, Heusel et al. 2017).

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))

The matrix square root is taken without complex ``scipy.linalg.sqrtm``: S1 S2 is similar to the
symmetric positive semi-definite A = S1^(1/2) S2 S1^(1/2), so tr((S1 S2)^(1/2)) is the sum of
the square roots of A's eigenvalues. Both square roots come from ``eigh`` with negative rounding
noise in the eigenvalues clipped to 0, so rank-deficient covariances (N <= F) are fine too.
Everything is float64.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError
from ._common import ArrayLike, as_matrix


def feature_stats(feats: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean (F,) and unbiased covariance (F, F) of features (N, F), N >= 2, float64 numpy."""
    x = as_matrix(feats, "features", min_rows=2)
    mu = x.mean(dim=0)
    xc = x - mu
    sigma = xc.T @ xc / (x.shape[0] - 1)
    return mu.cpu().numpy(), sigma.cpu().numpy()


def _numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
    return np.asarray(x, dtype=np.float64)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (F, F)."""
    vals, vecs = np.linalg.eigh(s)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    mu: (F,), sigma: (F, F) symmetric PSD. Returns a float >= 0 (clipped at 0 against rounding).
    """
    mu1, mu2 = (_numpy(m).reshape(-1) for m in (mu1, mu2))
    s1, s2 = _numpy(sigma1), _numpy(sigma2)
    f = mu1.shape[0]
    if mu2.shape != (f,) or s1.shape != (f, f) or s2.shape != (f, f):
        raise DataError(
            f"frechet_distance: shapes do not match: mu {mu1.shape} / {mu2.shape}, "
            f"sigma {s1.shape} / {s2.shape}"
        )
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    r1 = _psd_sqrt(s1)
    a = r1 @ s2 @ r1
    eig = np.linalg.eigvalsh((a + a.T) / 2)
    tr_covmean = np.sqrt(np.clip(eig, 0.0, None)).sum()
    diff = mu1 - mu2
    d2 = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean
    return float(max(d2, 0.0))


def fid(feats_a: ArrayLike, feats_b: ArrayLike) -> float:
    """FID between two feature sets (Na, F) and (Nb, F), each with at least 2 rows."""
    return frechet_distance(*feature_stats(feats_a), *feature_stats(feats_b))
