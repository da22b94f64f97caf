"""Scores from a classifier's class probabilities p(y|x) on generated samples, probs (N, K).

The classifier is the domain judge (e.g. an MNIST digit classifier), so these are the
Inception-score family transplanted to a small domain: how confident the judge is on each sample
(fidelity) and how evenly the samples spread over the classes (diversity). Natural logs (nats).
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError, DataError
from ._common import ArrayLike, as_matrix, int_at_least


def _probs(probs: ArrayLike, fn: str) -> torch.Tensor:
    p = as_matrix(probs, f"{fn}: probs")
    if bool((p < 0).any()) or not torch.allclose(p.sum(dim=1), torch.ones_like(p[:, 0]), atol=1e-3):
        raise DataError(f"{fn}: probs must be non-negative rows that sum to 1 (apply softmax first)")
    return p


def classifier_score(probs: ArrayLike, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))), the Inception Score of Salimans et al. 2016 with our judge.

    probs (N, K) are cut into `splits` contiguous chunks (N >= splits); within a chunk p(y) is the
    chunk's mean prediction. Returns the mean and std (ddof 0) of the chunk scores, as in the
    original code. Ranges from 1 (every sample gets the same prediction) to K (confident and
    evenly spread).
    """
    p = _probs(probs, "classifier_score")
    splits = int_at_least(splits, "classifier_score: splits")
    if p.shape[0] < splits:
        raise ConfigError(
            f"classifier_score: {splits} splits need at least {splits} samples, got {p.shape[0]}")
    scores = []
    for chunk in torch.tensor_split(p, splits):
        p_y = chunk.mean(dim=0, keepdim=True)  # (1, K)
        kl = (torch.special.xlogy(chunk, chunk) - torch.special.xlogy(chunk, p_y)).sum(dim=1)  # (n,)
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(correction=0))


def mean_confidence(probs: ArrayLike) -> float:
    """Mean over samples of max_y p(y|x): how sure the judge is that a sample is some class."""
    return float(_probs(probs, "mean_confidence").max(dim=1).values.mean())


def class_histogram(probs: ArrayLike) -> np.ndarray:
    """Counts (K,) int64 of the judge's predicted class argmax_y p(y|x) over samples (N, K)."""
    p = _probs(probs, "class_histogram")
    return torch.bincount(p.argmax(dim=1), minlength=p.shape[1]).cpu().numpy()


def _histogram(hist: ArrayLike, fn: str) -> np.ndarray:
    h = np.asarray(hist, dtype=np.float64)
    if h.ndim != 1 or h.size == 0 or (h < 0).any() or h.sum() <= 0:
        raise DataError(f"{fn}: expected a 1-D histogram of non-negative counts with a positive total")
    return h


def kl_to_uniform(hist: ArrayLike) -> float:
    """KL(h || uniform) in nats for class counts h (K,): 0 when even, log K when one class only."""
    h = _histogram(hist, "kl_to_uniform")
    q = h / h.sum()
    nz = q > 0
    return float((q[nz] * np.log(q[nz] * h.size)).sum())


def classes_covered(hist: ArrayLike, min_count: int = 1, min_share: float = 0.0) -> int:
    """Number of classes whose count is >= min_count AND whose share of all samples >= min_share.

    The default rule counts every class predicted at least once. For a stricter, sample-size-free
    rule pass e.g. min_share=0.1 / K (a tenth of the uniform share).
    """
    h = _histogram(hist, "classes_covered")
    if min_count < 0 or not 0.0 <= min_share <= 1.0:
        raise ConfigError(
            f"classes_covered: need min_count >= 0 and min_share in [0, 1], got {min_count}, {min_share}")
    return int(((h >= min_count) & (h / h.sum() >= min_share)).sum())
