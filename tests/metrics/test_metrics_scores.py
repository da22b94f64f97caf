"""Judge-based scores: classifier score (IS analogue), confidence, histograms and coverage."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gankit.errors import ConfigError, DataError
from gankit.metrics import (class_histogram, classes_covered, classifier_score, kl_to_uniform, mean_confidence,
                            modes_hit, read_as_digit)


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
    assert classes_covered(hist) == 2 and modes_hit(hist) == 2


def test_not_a_digit_counts_as_no_class():
    """p(digit | x) scales the confidence, drops rows from the histogram and spreads their class
    mass evenly in the classifier score."""
    probs = np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.2, 0.8, 0.0], [0.7, 0.3, 0.0]])
    digit = np.array([1.0, 0.5, 0.25, 0.0])
    assert mean_confidence(probs, digit) == pytest.approx((0.9 + 0.3 + 0.2 + 0.0) / 4)
    assert class_histogram(probs, digit).tolist() == [2, 0, 0]  # 0.25 and 0.0 are below the 0.5 threshold
    assert read_as_digit(digit) == 0.5
    # a row the judge does not read as a digit is the uniform row in the score
    even = np.tile(np.eye(4), (25, 1))  # (100, 4) confident, evenly spread
    assert classifier_score(even, splits=1, digit=np.zeros(100))[0] == pytest.approx(1.0)
    half = np.tile([1.0, 0.0], 50)  # every other row rejected
    mixed = np.where(half[:, None] == 1, even, np.full((100, 4), 0.25))
    assert classifier_score(even, splits=1, digit=half)[0] == pytest.approx(classifier_score(mixed, splits=1)[0])


def test_coverage_needs_a_tenth_of_the_fair_share():
    # n = 1000 over 10 classes: a fair share is 100, a class is covered from 10 samples up
    hist = [300, 300, 300, 80, 10, 9, 1, 0, 0, 0]
    assert classes_covered(hist) == 5
    assert modes_hit(hist) == 7  # "hit at least once" also counts the stray 9 and 1
    # samples read as no class still count in n: 100 samples, 4 classes, a fair share of 25
    assert classes_covered([3, 3, 2, 0], n=100) == 2 and classes_covered([3, 3, 2, 0]) == 3
    assert classes_covered([50, 5, 45], share=0.5) == 2
    with pytest.raises(ConfigError, match="n >= the histogram's total"):
        classes_covered([5, 5], n=3)


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
    with pytest.raises(DataError, match="digit must hold 4 probabilities"):
        mean_confidence(np.full((4, 2), 0.5), digit=[1.0, 2.0, 0.0, 0.0])
