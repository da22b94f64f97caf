"""Sample-based fidelity and diversity: precision/recall, density/coverage, memorisation.

Each set of features is turned into a manifold estimate: the union of balls around its samples,
the radius of a ball being the distance to the sample's k-th nearest neighbour in its own set
(the sample itself excluded). A point "lies in" a manifold when its distance to some sample is
<= that sample's radius.

Pairwise distances are computed in float64 with ``torch.cdist`` in row blocks of at most
``BLOCK_ENTRIES`` entries, so 10k x 10k sets need ~64 MiB at a time.
"""
from __future__ import annotations

import torch

from ..errors import ConfigError
from ._common import ArrayLike, as_matrix, int_at_least, row_blocks, same_width


def _kth_distance(x: torch.Tensor, ref: torch.Tensor, k: int) -> torch.Tensor:
    """(N,): distance from each row of x (N, F) to its k-th nearest row of ref (M, F)."""
    out = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    for rows in row_blocks(x.shape[0], ref.shape[0]):
        d = torch.cdist(x[rows], ref)  # (b, M)
        out[rows] = d.topk(k, dim=1, largest=False).values[:, k - 1]
    return out


def _radii(x: torch.Tensor, k: int, name: str) -> torch.Tensor:
    """(N,): distance from each row of x to its k-th nearest neighbour in x, itself excluded."""
    if x.shape[0] <= k:
        raise ConfigError(f"{name}: k={k} needs more than {k} samples, got {x.shape[0]}")
    return _kth_distance(x, x, k + 1)  # the nearest row is the sample itself, at distance 0


def _pair(real: ArrayLike, fake: ArrayLike, fn: str) -> tuple[torch.Tensor, torch.Tensor]:
    r = as_matrix(real, f"{fn}: real")
    f = as_matrix(fake, f"{fn}: fake").to(r.device)
    same_width(r, f, fn)
    return r, f


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019), k = 3 as in the paper.

    real (N, F), fake (M, F), both with more than k rows.
    precision: share of fake samples that lie in the real manifold (fidelity);
    recall: share of real samples that lie in the fake manifold (diversity).
    """
    r, f = _pair(real, fake, "precision_recall")
    k = int_at_least(k, "precision_recall: k")
    radius_r = _radii(r, k, "precision_recall: real")  # (N,)
    radius_f = _radii(f, k, "precision_recall: fake")  # (M,)
    fake_in_real = torch.zeros(f.shape[0], dtype=torch.bool, device=r.device)
    real_in_fake = torch.zeros(r.shape[0], dtype=torch.bool, device=r.device)
    for rows in row_blocks(f.shape[0], r.shape[0]):
        d = torch.cdist(f[rows], r)  # (b, N)
        fake_in_real[rows] = (d <= radius_r[None, :]).any(dim=1)
        real_in_fake |= (d <= radius_f[rows, None]).any(dim=0)
    return {
        "precision": float(fake_in_real.double().mean()),
        "recall": float(real_in_fake.double().mean()),
    }


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> dict:
    """Density and coverage (Naeem et al. 2020), k = 5 as in the paper; only real balls are used.

    real (N, F) with more than k rows, fake (M, F).
    density = (1 / kM) sum_j #{real balls containing fake_j}: about 1 when fake matches real,
    above 1 when fakes crowd dense real regions, below when they stray;
    coverage = share of real samples whose ball contains at least one fake sample, in [0, 1].
    """
    r, f = _pair(real, fake, "density_coverage")
    k = int_at_least(k, "density_coverage: k")
    radius_r = _radii(r, k, "density_coverage: real")  # (N,)
    balls_hit = 0
    nearest_fake = torch.full((r.shape[0],), float("inf"), dtype=r.dtype, device=r.device)  # (N,)
    for rows in row_blocks(f.shape[0], r.shape[0]):
        d = torch.cdist(f[rows], r)  # (b, N)
        balls_hit += int((d <= radius_r[None, :]).sum())
        nearest_fake = torch.minimum(nearest_fake, d.min(dim=0).values)
    return {
        "density": balls_hit / (k * f.shape[0]),
        "coverage": float((nearest_fake <= radius_r).double().mean()),
    }


def memorization(train_feats: ArrayLike, test_feats: ArrayLike, fake_feats: ArrayLike,
                 quantile: float = 0.5) -> dict:
    """How much closer generated samples sit to the training set than held-out real samples do.

    threshold = the `quantile` (default: the median) of the distances from each test sample to
    its nearest training sample; memorized = the share of fake samples whose nearest training
    sample is strictly closer than that threshold.

    A generator that draws fresh samples from the data distribution scores about `quantile`
    (its samples are as far from the training set as unseen real data); one that copies
    training examples scores up to 1. Crowding the densest regions also raises the score, so
    read it together with recall/coverage.

    train (Ntr, F), test (Nte, F), fake (M, F). Returns {memorized, threshold, quantile}.
    """
    train = as_matrix(train_feats, "memorization: train")
    test = as_matrix(test_feats, "memorization: test").to(train.device)
    fake = as_matrix(fake_feats, "memorization: fake").to(train.device)
    same_width(train, test, "memorization: train/test")
    same_width(train, fake, "memorization: train/fake")
    if not 0.0 < quantile < 1.0:
        raise ConfigError(f"memorization: quantile must lie in (0, 1), got {quantile!r}")
    threshold = float(torch.quantile(_kth_distance(test, train, 1), quantile))
    fake_nn = _kth_distance(fake, train, 1)  # (M,)
    return {
        "memorized": float((fake_nn < threshold).double().mean()),
        "threshold": threshold,
        "quantile": float(quantile),
    }
