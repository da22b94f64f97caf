"""Scores from a classifier's class probabilities p(y|x) on generated samples, probs (N, K).

The classifier is the domain judge (e.g. an MNIST digit classifier), so these are the
Inception-score family transplanted to a small domain: how confident the judge is on each sample
(fidelity) and how evenly the samples spread over the classes (diversity). Natural logs (nats).

A judge with a reject head also gives ``digit`` (N,), p(digit | x): the probability that a sample
is a digit at all. ``probs`` are then p(y | x, digit), and every score reads a sample the judge
does not take for a digit as a sample with no class: noise, flat grey and checkerboards score as
nothing, not as confident digits. Without ``digit`` (a judge with no reject head) every sample
counts as a digit and the scores are the classic ones.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ..errors import ConfigError, DataError
from ._common import ArrayLike, as_matrix, int_at_least

# A sample is read as a digit when p(digit | x) >= this.
DIGIT_THRESHOLD = 0.5
# A class is covered when it holds at least this share of its fair share n / K of the samples.
COVERAGE_SHARE = 0.1


def _probs(probs: ArrayLike, fn: str) -> torch.Tensor:
    p = as_matrix(probs, f"{fn}: probs")
    if bool((p < 0).any()) or not torch.allclose(p.sum(dim=1), torch.ones_like(p[:, 0]), atol=1e-3):
        raise DataError(f"{fn}: probs must be non-negative rows that sum to 1 (apply softmax first)")
    return p


def _digit(digit: Optional[ArrayLike], n: int, fn: str) -> torch.Tensor:
    """p(digit | x) (n,) float64: ones when not given."""
    if digit is None:
        return torch.ones(n, dtype=torch.float64)
    d = as_matrix(torch.as_tensor(np.asarray(digit, dtype=np.float64)).reshape(-1, 1), f"{fn}: digit")[:, 0]
    if d.shape[0] != n or bool((d < 0).any()) or bool((d > 1).any()):
        raise DataError(f"{fn}: digit must hold {n} probabilities in [0, 1], one per row of probs")
    return d


def classifier_score(probs: ArrayLike, splits: int = 10, digit: Optional[ArrayLike] = None) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))), the Inception Score of Salimans et al. 2016 with our judge.

    probs (N, K) are cut into `splits` contiguous chunks (N >= splits); within a chunk p(y) is the
    chunk's mean prediction. Returns the mean and std (ddof 0) of the chunk scores, as in the
    original code. Ranges from 1 (every sample gets the same prediction) to K (confident and
    evenly spread). With ``digit`` (N,), each row is first d p(y|x, digit) + (1 - d) / K: what
    the judge does not read as a digit says nothing about the class, and adds nothing to the score.
    """
    p = class_readings(probs, digit, "classifier_score")
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


def mean_confidence(probs: ArrayLike, digit: Optional[ArrayLike] = None) -> float:
    """Mean over samples of p(digit | x) max_y p(y | x, digit): how sure the judge is that a sample
    is some digit in particular (about 0.99 for real MNIST test digits, near 0 for noise)."""
    return float(confidences(probs, digit, "mean_confidence").mean())


def class_readings(probs: ArrayLike, digit: Optional[ArrayLike] = None, fn: str = "class_readings") -> torch.Tensor:
    """(N, K) float64, each row d p(y|x, digit) + (1 - d) / K with d = p(digit | x): the class
    reading that ``classifier_score`` scores, where what is not read as a digit says nothing."""
    p = _probs(probs, fn)
    d = _digit(digit, p.shape[0], fn)[:, None]  # (N, 1)
    return d * p + (1 - d) / p.shape[1]


def confidences(probs: ArrayLike, digit: Optional[ArrayLike] = None, fn: str = "confidences") -> torch.Tensor:
    """(N,) float64: p(digit | x) max_y p(y | x, digit) per sample; ``mean_confidence`` is their mean."""
    p = _probs(probs, fn)
    return _digit(digit, p.shape[0], fn) * p.max(dim=1).values


def read_as_digit(digit: ArrayLike) -> float:
    """Share of samples the judge reads as a digit, p(digit | x) >= 0.5."""
    d = np.asarray(digit, dtype=np.float64).reshape(-1)
    if d.size == 0:
        raise DataError("read_as_digit: no samples")
    return float((d >= DIGIT_THRESHOLD).mean())


def class_histogram(probs: ArrayLike, digit: Optional[ArrayLike] = None) -> np.ndarray:
    """Counts (K,) int64 of the judge's predicted class argmax_y p(y|x) over the samples (N, K)
    that it reads as digits (all of them when ``digit`` is not given)."""
    p = _probs(probs, "class_histogram")
    keep = _digit(digit, p.shape[0], "class_histogram") >= DIGIT_THRESHOLD
    return torch.bincount(p[keep].argmax(dim=1), minlength=p.shape[1]).cpu().numpy()


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


def classes_covered(hist: ArrayLike, n: Optional[int] = None, share: float = COVERAGE_SHARE) -> int:
    """Number of classes that hold at least ``share`` of their fair share n / K of the samples.

    hist (K,) counts the samples read as each class; n is the number of samples drawn (default
    the histogram's total; pass it when some samples were read as no class). With the default
    share 0.1 and n = 10,000, a class needs 100 samples: a generator that never draws a class
    does not get it back from the judge's few errors, as it does under "predicted at least once".
    Real test digits cover 10 of 10.
    """
    h = np.asarray(hist, dtype=np.float64)
    if h.ndim != 1 or h.size == 0 or (h < 0).any():
        raise DataError("classes_covered: expected a 1-D histogram of non-negative counts")
    total = h.sum() if n is None else n
    if isinstance(total, bool) or total < h.sum() or total <= 0 or not 0.0 < share <= 1.0:
        raise ConfigError(f"classes_covered: need n >= the histogram's total (> 0) and share in (0, 1], "
                          f"got n={n}, share={share}")
    return int((h >= share * total / h.size).sum())


def modes_hit(hist: ArrayLike) -> int:
    """Number of classes (modes) that hold at least one sample: the rule of the Stacked MNIST
    papers (Metz et al. 2017; Srivastava et al. 2017; Lin et al. 2018), kept for comparison with
    their tables. It counts the judge's errors as modes, so it says little at small K."""
    h = np.asarray(hist)
    if h.ndim != 1 or h.size == 0 or (h < 0).any():
        raise DataError("modes_hit: expected a 1-D histogram of non-negative counts")
    return int((h >= 1).sum())
