"""The metric registry: every figure ``gankit evaluate`` reports comes from one entry here.

An entry is a function decorated with ``register_metric``. The decorator says

* ``figures``: the figures the function reports, each with its eval.json key, the table's label,
  which way is better ("lower", "higher" or "one") and a one-line note;
* ``needs``: the inputs it takes, fields of ``Evidence``: the judge's ``features`` of the samples,
  their class probabilities ``probs`` and p(digit) ``digit``, the reference ``train`` and ``test``
  features, the ``seed``, toy ``points`` and their ``mixture``;
* ``settings``: its settings with their defaults (they join ``SETTINGS``: written into eval.json,
  part of the key of the cached floors);
* ``kinds``: the evaluations it takes part in: "images", "stacked" (Stacked MNIST, the joint
  classes of three channels) and "toy" (points against an exact mixture);
* ``floor``: its floor rule (below).

The function receives its needs and settings as keyword arguments and returns
``{figure: value}`` or ``{figure: {"value": v, **extras}}``. An extra "std" is reported beside
the floor's as "floor_std"; other extras (the "of" of a count, KID's "subsets") are the samples'.
It may also return "histogram", a list that eval.json shows beside the real data's. The formula
lives in the metric's own file (fid.py, kid.py, ...); an entry only wires it up. Adding a metric
is one file in metrics/ and one entry:

    @register_metric("sharpness", needs=("features",), settings={"sharpness_k": 3},
                     figures=[Figure("sharpness", "sharpness", "higher", "one line for eval.json")])
    def _sharpness(features, sharpness_k):
        return {"sharpness": sharpness(features, k=sharpness_k)}

Entries run, and their figures are listed, in the order they are registered.

The floor of a figure is what the same function gives for held-out real data in place of the
samples: the evaluation builds a second ``Evidence`` with the test split's outputs as the samples'
(``features``, ``probs``, ``digit`` or ``points``). An entry whose figure would be meaningless so
(memorisation would score the test images against themselves) gives ``floor``: a function from
that floor evidence to the evidence its function should see.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .fid import fid
from .kid import kid
from .precision_recall import density_coverage, memorization, precision_recall
from .scores import (COVERAGE_SHARE, class_histogram, classes_covered, classifier_score, kl_to_uniform, mean_confidence,
                     modes_hit, read_as_digit)
from .toy import mode_stats

KINDS = ("images", "stacked", "toy")


@dataclass(frozen=True)
class Evidence:
    """What the metrics of one evaluation may ask for; ``needs`` names these fields."""

    kind: str  # one of KINDS
    seed: int = 0  # seeds anything random in a metric (KID's subsets)
    features: Any = None  # (n, F) judge features of the samples
    probs: Any = None  # (n, K) class probabilities p(y | x, digit) of the samples
    digit: Any = None  # (n,) p(digit | x) of the samples
    train: Any = None  # (n, F) judge features of the n reference training images
    test: Any = None  # (n, F) judge features of n held-out test images
    points: Any = None  # (n, D) toy samples
    mixture: Any = None  # the exact toy mixture (data.toy.Mixture): means, std, weights


INPUTS = tuple(f.name for f in dataclasses.fields(Evidence) if f.name != "kind")


@dataclass(frozen=True)
class Figure:
    """One line of eval.json's "metrics" and of the printed table."""

    name: str  # the key in eval.json
    label: str  # the table's label
    better: str  # "lower", "higher" or "one" (about 1 for real data)
    note: str  # one line for eval.json


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., dict]
    figures: tuple  # (Figure, ...)
    needs: tuple  # Evidence fields
    settings: dict = field(default_factory=dict)
    kinds: tuple = ("images", "stacked")
    floor: Optional[Callable[[Evidence], Evidence]] = None  # None: the floor evidence as it is


METRICS: dict[str, Metric] = {}  # name -> entry, in registration (and table) order
FIGURES: dict[str, Figure] = {}  # figure name -> its display
SETTINGS: dict[str, Any] = {}  # every entry's settings, at their defaults


def register_metric(name: str, *, figures, needs, settings: Optional[dict] = None,
                    kinds=("images", "stacked"), floor=None):
    """Decorator: register ``fn`` as the metric ``name`` (see the module docstring)."""
    settings = dict(settings or {})

    def deco(fn: Callable[..., dict]) -> Callable[..., dict]:
        if name in METRICS:
            raise ValueError(f"metric {name!r} registered twice")
        unknown = [k for k in needs if k not in INPUTS] + [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"metric {name!r}: unknown needs or kinds {unknown}; needs: {INPUTS}, kinds: {KINDS}")
        if sorted(inspect.signature(fn).parameters) != sorted([*needs, *settings]):
            raise ValueError(f"metric {name!r}: the function must take exactly its needs and settings")
        for fig in figures:
            if FIGURES.get(fig.name, fig) != fig:
                raise ValueError(f"metric {name!r}: figure {fig.name!r} is already shown differently")
        for key, value in settings.items():
            if key in INPUTS or SETTINGS.get(key, value) != value:
                raise ValueError(f"metric {name!r}: setting {key!r} clashes with an input or another default")
        METRICS[name] = Metric(name, fn, tuple(figures), tuple(needs), settings, tuple(kinds), floor)
        FIGURES.update({fig.name: fig for fig in figures})
        SETTINGS.update(settings)
        return fn

    return deco


def compute(ev: Evidence, floor: bool = False) -> dict:
    """Every registered figure of this kind of evaluation: {figure: {"value", extras...}, "histogram"}.

    ``floor``: ``ev`` holds the real test data in place of the samples; each entry's floor rule
    applies."""
    out: dict = {}
    for m in METRICS.values():
        if ev.kind not in m.kinds:
            continue
        seen = m.floor(ev) if floor and m.floor is not None else ev
        missing = [k for k in m.needs if getattr(seen, k) is None]
        if missing:
            raise ValueError(f"metric {m.name!r} needs {missing}, which this {ev.kind} evaluation lacks")
        got = m.fn(**{k: getattr(seen, k) for k in m.needs}, **{k: SETTINGS[k] for k in m.settings})
        for key, value in got.items():
            if key == "histogram":
                out[key] = value
            elif key in {fig.name for fig in m.figures}:
                out[key] = dict(value) if isinstance(value, dict) else {"value": value}
            else:
                raise ValueError(f"metric {m.name!r} returned {key!r}, which it does not declare")
    return out


def report(got: dict, floor: dict) -> dict:
    """eval.json's "metrics": each figure of ``got`` beside its floor, with its display."""
    out = {}
    for name, g in got.items():
        if name == "histogram":
            continue
        fig, f = FIGURES[name], floor[name]
        entry = {"value": g["value"], "floor": f["value"], "better": fig.better}
        for key, value in g.items():
            if key != "value":
                entry[key] = value
                if key == "std":
                    entry["floor_std"] = f.get("std")
        entry["note"] = fig.note
        out[name] = entry
    return out


# ----------------------------------------------------------------------------------------------
# The metrics, in table order. Distances of judge features to the n training images:


@register_metric("fid", needs=("train", "features"),
                 figures=[Figure("fid", "FID", "lower", "Frechet distance of judge features to n training images")])
def _fid(train, features):
    return {"fid": fid(train, features)}


@register_metric("kid", needs=("train", "features", "seed"), settings={"kid_subsets": 100, "kid_subset_size": 1000},
                 figures=[Figure("kid", "KID", "lower", "unbiased squared MMD, cubic kernel, 100 subsets")])
def _kid(train, features, seed, kid_subsets, kid_subset_size):
    # At n <= subset_size every subset is the whole set (the unbiased estimate does not depend on
    # the order of rows): one computation gives the same figure.
    n = len(features)
    subsets = kid_subsets if n > kid_subset_size else 1
    mean, std = kid(train, features, subsets=subsets, subset_size=kid_subset_size, seed=seed)
    return {"kid": {"value": mean, "std": std, "subsets": subsets, "subset_size": min(n, kid_subset_size)}}


@register_metric("precision_recall", needs=("train", "features"), settings={"precision_recall_k": 3}, figures=[
    Figure("precision", "precision", "higher", "share of samples inside the real manifold (k=3)"),
    Figure("recall", "recall", "higher", "share of real images inside the sample manifold (k=3)")])
def _precision_recall(train, features, precision_recall_k):
    return precision_recall(train, features, k=precision_recall_k)


@register_metric("density_coverage", needs=("train", "features"), settings={"density_coverage_k": 5}, figures=[
    Figure("density", "density", "one", "real k-NN balls per sample, /k (about 1 for real data)"),
    Figure("coverage", "coverage", "higher", "share of real balls holding a sample (k=5)")])
def _density_coverage(train, features, density_coverage_k):
    return density_coverage(train, features, k=density_coverage_k)


# What the judge reads in the samples: p(y | x, digit) and p(digit | x).


@register_metric("classifier_score", needs=("probs", "digit"), settings={"classifier_splits": 10}, figures=[
    Figure("classifier_score", "classifier score", "higher", "Inception score with the judge (1..K)")])
def _classifier_score(probs, digit, classifier_splits):
    mean, std = classifier_score(probs, splits=classifier_splits, digit=digit)
    return {"classifier_score": {"value": mean, "std": std}}


@register_metric("read_as_digit", needs=("digit",), figures=[
    Figure("read_as_digit", "read as digits", "higher", "share of samples the judge reads as a digit, p(digit) >= 0.5")])
def _read_as_digit(digit):
    return {"read_as_digit": read_as_digit(digit)}


@register_metric("mean_confidence", needs=("probs", "digit"), figures=[
    Figure("mean_confidence", "mean confidence", "higher", "mean p(digit) max p(y|x, digit) of the judge")])
def _mean_confidence(probs, digit):
    return {"mean_confidence": mean_confidence(probs, digit)}


MODES_COVERED = Figure("modes_covered", "modes covered", "higher",
                       "modes holding a set share of their fair share (20% toy, 10% stacked)")
MODES_HIT = Figure("modes_hit", "modes hit", "higher", "modes holding at least one sample (the papers' 'modes covered')")


@register_metric("classes", needs=("probs", "digit"), settings={"class_share": COVERAGE_SHARE}, kinds=("images",),
                 figures=[Figure("class_kl", "class KL", "lower", "KL(class histogram || uniform), nats"),
                          Figure("classes_covered", "classes covered", "higher",
                                 "classes holding at least 10% of their fair share n/K")])
def _classes(probs, digit, class_share):
    """The histogram holds the samples read as digits; a class is covered by a share of n/K."""
    hist = class_histogram(probs, digit)
    return {"class_kl": kl_to_uniform(hist) if hist.sum() else math.nan,  # undefined when no sample is a digit
            "classes_covered": {"value": classes_covered(hist, n=len(probs), share=class_share), "of": len(hist)},
            "histogram": hist.tolist()}


@register_metric("modes", needs=("probs",), settings={"class_share": COVERAGE_SHARE}, kinds=("stacked",),
                 figures=[Figure("modes_kl", "modes KL", "lower", "KL(mode histogram || uniform), nats"),
                          MODES_COVERED, MODES_HIT])
def _modes(probs, class_share):
    """Stacked MNIST, as the papers read it: every sample's joint class is a mode."""
    hist = class_histogram(probs)
    return {"modes_kl": kl_to_uniform(hist) if hist.sum() else math.nan,
            "modes_covered": {"value": classes_covered(hist, n=len(probs), share=class_share), "of": len(hist)},
            "modes_hit": {"value": modes_hit(hist), "of": len(hist)},
            "histogram": hist.tolist()}


def _halves(ev: Evidence) -> Evidence:
    """Memorisation's floor: one half of the test images scored against a threshold set by the other."""
    return dataclasses.replace(ev, test=ev.test[0::2], features=ev.test[1::2])


@register_metric("memorized", needs=("train", "test", "features"), settings={"memorization_quantile": 0.5},
                 floor=_halves, figures=[Figure("memorized", "memorized", "lower",
                                                "share of samples nearer to the training set than the median test image")])
def _memorized(train, test, features, memorization_quantile):
    m = memorization(train, test, features, quantile=memorization_quantile)
    return {"memorized": {"value": m["memorized"], "threshold": m["threshold"]}}


# Toy mixtures: points against the exact mixture.


def mixture_stats(points, mixture, sigmas: Optional[float] = None, share: Optional[float] = None) -> dict:
    """``mode_stats`` of points (N, D) against a toy mixture, by the settings every figure uses
    unless given."""
    sigmas = SETTINGS["mode_sigmas"] if sigmas is None else sigmas
    share = SETTINGS["mode_share"] if share is None else share
    return mode_stats(points, mixture.means, mixture.std, sigmas=sigmas, share=share, weights=mixture.weights)


@register_metric("mode_stats", needs=("points", "mixture"), kinds=("toy",),
                 # a mode is covered with a fifth of its fair share (PacGAN)
                 settings={"mode_sigmas": 3.0, "mode_share": 0.2},
                 figures=[MODES_COVERED, MODES_HIT,
                          Figure("high_quality", "high quality", "higher", "share of samples within 3 std of a mode"),
                          Figure("reverse_kl", "reverse KL", "lower", "KL(high-quality histogram || mode weights), nats")])
def _mode_stats(points, mixture, mode_sigmas, mode_share):
    s = mixture_stats(points, mixture, sigmas=mode_sigmas, share=mode_share)
    k = s["num_modes"]
    return {"modes_covered": {"value": s["modes_covered"], "of": k}, "modes_hit": {"value": s["modes_hit"], "of": k},
            "high_quality": s["high_quality"], "reverse_kl": s["reverse_kl"], "histogram": s["per_mode"]}


__all__ = ["Evidence", "FIGURES", "Figure", "METRICS", "Metric", "SETTINGS", "compute", "mixture_stats",
           "register_metric", "report"]
