"""Quality during training: a small, fixed evaluation the engine runs every ``eval_every`` steps.

    watch = Watch.for_data("mnist", data_dir="", limit=0, n=2000)   # None: no judge, no mixture
    figures = watch(images)        # {"fid": ..., "classifier_score": ..., "classes_covered": ...}

Images are judged like ``gankit evaluate`` judges them, at a smaller n and against the test
split's judge features (cached once per machine, ``metrics/features.py``): FID against n test
images, the classifier score and the classes covered (a tenth of a fair share, ``scores.py``).
The figures are for watching a run and keeping its best checkpoint; at n = 2,000 FID sits higher
than at ``gankit evaluate``'s 10,000 (its floor too), so compare them only with each other.

Toy mixtures get their mode statistics instead (``toy.py``): modes covered, high-quality share.

``collapsed(figures)`` says when some but fewer than half of the classes hold their share: mode
collapse (none at all is a generator that draws no digits yet, early in every run).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from .evaluate import reference_subset
from .features import judge_outputs, reference_features
from .fid import feature_stats, frechet_distance
from .judge import JUDGE_FOR_DATA, Judge, judge_for
from .registry import SETTINGS, mixture_stats
from .scores import class_histogram, classes_covered, classifier_score


@dataclass
class Watch:
    """What a run is measured against: a judge and the real features' statistics, or a mixture."""

    n: int  # samples per evaluation
    judge: Optional[Judge] = None
    mu: Optional[np.ndarray] = None  # (F,) mean of the real features
    sigma: Optional[np.ndarray] = None  # (F, F) their covariance
    mixture: object = None  # a toy mixture (data.toy.Mixture)

    @classmethod
    def for_data(cls, data: str, data_dir: str = "", mixture=None, n: int = 2000) -> Optional["Watch"]:
        """The watch for a dataset, or None when it has neither a shipped judge nor a mixture."""
        if mixture is not None:
            return cls(n=n, mixture=mixture)
        if data not in JUDGE_FOR_DATA:
            return None
        judge = judge_for(data)
        test = reference_features(judge, data, "test", 0, data_dir)
        feats = test.features[reference_subset(len(test), min(n, len(test)))]  # (n, F)
        mu, sigma = feature_stats(feats)
        return cls(n=min(n, len(test)), judge=judge, mu=mu, sigma=sigma)

    def __call__(self, samples: torch.Tensor) -> dict:
        """Figures of samples: images (n, C, H, W) in [-1, 1], or points (n, D)."""
        if self.mixture is not None:
            s = mixture_stats(samples.double().cpu(), self.mixture)
            return {"modes_covered": s["modes_covered"], "high_quality": round(s["high_quality"], 4),
                    "of": s["num_modes"]}
        out = judge_outputs(self.judge, samples.float().cpu(), where="samples")
        mu, sigma = feature_stats(out["features"])
        hist = class_histogram(out["probs"], out["digit"])
        return {"fid": round(frechet_distance(mu, sigma, self.mu, self.sigma), 4),
                "classifier_score": round(classifier_score(out["probs"], digit=out["digit"])[0], 4),
                "classes_covered": classes_covered(hist, n=len(samples), share=SETTINGS["class_share"]),
                "of": out["probs"].shape[1]}


def collapsed(figures: dict) -> bool:
    """Some, but fewer than half, of the classes (or modes) hold their share of the samples."""
    covered = figures.get("classes_covered", figures.get("modes_covered"))
    return covered is not None and 0 < covered < figures["of"] / 2


__all__ = ["Watch", "collapsed"]
