"""Metrics: sample statistics (FID, KID, precision/recall, density/coverage, memorisation),
judge-based scores, toy mode coverage and the optimal-discriminator experiment. One file per
metric; ``registry.py`` lists what ``gankit evaluate`` reports and how.

Feature-based metrics take numpy arrays or torch tensors (N, F) and compute in float64.
"""
from .fid import feature_stats, fid, frechet_distance
from .kid import kid
from .precision_recall import density_coverage, memorization, precision_recall
from .scores import (class_histogram, classes_covered, classifier_score, kl_to_uniform, mean_confidence, modes_hit,
                     read_as_digit)
from .theory import checkerboard, optimal_d, optimal_d_experiment
from .toy import mode_stats

__all__ = [
    "class_histogram",
    "classes_covered",
    "classifier_score",
    "density_coverage",
    "feature_stats",
    "fid",
    "frechet_distance",
    "kid",
    "kl_to_uniform",
    "mean_confidence",
    "memorization",
    "mode_stats",
    "modes_hit",
    "optimal_d",
    "checkerboard",
    "optimal_d_experiment",
    "precision_recall",
    "read_as_digit",
]

