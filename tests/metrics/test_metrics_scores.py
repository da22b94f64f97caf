"""Judge-based scores: classifier score (IS analogue), confidence, histograms and coverage."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gankit.errors import ConfigError, DataError
from gankit.metrics import class_histogram, classes_covered, classifier_score, kl_to_uniform, mean_confidence


def test_classifier_score_extremes():
    k = 10
    even = np.tile(np.eye(k), (100, 1))  # every split holds 10 confident predictions of each class
    mean, std = classifier_score(even, splits=10)
    assert mean == pytest.approx(k) and std == pytest.approx(0.0, abs=1e-12)
    assert classifier_score(np.full((1000, k), 1 / k))[0] == pytest.approx(1.0)  # unsure
    assert classifier_score(np.tile(np.eye(k)[3], (1000, 1)))[0] == pytest.approx(1.0)  # collapsed


def test_classifier_score_matches_scipy_entropy():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(5, 0.3), size=600)
    want = [math.exp(np.mean([stats.entropy(p, c.mean(0)) for p in c])) for c in np.array_split(probs, 4)]
    mean, std = classifier_score(probs, splits=4)
    assert mean == pytest.approx(np.mean(want), rel=1e-10) and std == pytest.approx(np.std(want), rel=1e-8)


def test_confidence_histogram_and_coverage():
    probs = np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.2, 0.8, 0.0], [0.7, 0.3, 0.0]])
    assert mean_confidence(probs) == pytest.approx((0.9 + 0.6 + 0.8 + 0.7) / 4)
    hist = class_histogram(probs)
    assert hist.tolist() == [3, 1, 0] and hist.dtype == np.int64
    assert classes_covered(hist) == 2
    assert classes_covered(hist, min_count=2) == 1
    assert classes_covered([50, 5, 45], min_share=0.1) == 2


def test_kl_to_uniform():
    assert kl_to_uniform([10, 10, 10, 10]) == pytest.approx(0.0)
    assert kl_to_uniform([0, 7, 0, 0]) == pytest.approx(math.log(4))
    assert kl_to_uniform([1, 3]) == pytest.approx(stats.entropy([0.25, 0.75], [0.5, 0.5]))


def test_user_errors():
    with pytest.raises(DataError, match="sum to 1"):
        mean_confidence(np.ones((4, 3)))
    with pytest.raises(ConfigError, match="at least 10 samples"):
        classifier_score(np.full((5, 2), 0.5))
    with pytest.raises(DataError, match="histogram"):
        kl_to_uniform([0, 0, 0])
