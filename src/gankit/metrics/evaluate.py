"""Evaluation of a run (or of a file of samples): every figure beside its real-vs-real floor.

    gankit evaluate RUN [-n 10000]                     -> RUN/eval.json
    gankit evaluate --samples S.npz --data mnist --out E.json

Images are scored in the feature space of the dataset's judge (``metrics/judge.py``):

* distances to n training images: FID, KID (unbiased, cubic kernel, 100 subsets of 1000),
  precision/recall (k = 3), density/coverage (k = 5);
* classifier scores of the samples (``metrics/scores.py``): the classifier score (the Inception
  score with the judge), the share of samples the judge reads as a digit at all and the mean
  confidence (the talk's test of GAN against VAE samples, seed 003; both near 0 for noise, flat
  grey or checkerboards, about 0.99 for real digits), the predicted class histogram of the samples
  read as digits, its KL to uniform, and the classes covered: a class is covered when it holds at
  least 10% of its fair share n/K of the samples (real test digits: 10 of 10; the digits 0-4
  alone: 5 of 10, where "predicted at least once" says 10, from the judge's few errors);
* memorisation: the share of samples nearer to one of the n training images than the median
  test image is (about 0.5 for fresh draws, up to 1 for copies). It is measured against the same
  n training images as the distances, not every training image: a generator that copies from
  the whole of MNIST's 60,000 shows 0.5 + 0.5 n / 60000 (0.58 at n = 10,000), a clear signal at
  a sixth of the cost of searching all 60,000 for every sample.

The n training and n test images are fixed random subsets of the splits (``reference_subset``).
Every figure has a *floor*: the same figure for the n held-out real test images in place of the
samples, against the same n training images (for memorisation: one half of those test images
scored against a threshold set by the other half, about 0.5). The floor is what a perfect
generator would get at this n; FID in particular is biased upwards at small n, so a figure means
something only beside its floor. Floors depend on the data, the judge, n and the seed only, and
are cached beside the reference features.

Stacked MNIST (3 channels) is judged channel by channel with the MNIST judge: its 1000 modes are
the classes: ``modes_kl`` = KL(mode histogram || uniform), the papers' reverse KL, and
``modes_hit``, the modes that hold at least one sample, the papers' "modes covered" (Metz et al.
2017; Srivastava et al. 2017; Lin et al. 2018 count it among 26,000 samples: ``-n 26000``), both
over every sample as the papers read them; ``modes_covered`` holds the modes with at least 10% of
their fair share n/1000, the stricter rule of the images. Toy mixtures (ring, grid, gmm1d)
have no judge: they get ``mode_stats`` (modes covered, high-quality share, reverse KL) against
the exact mixture, with n test points as the floor.

eval.json (``format: gankit-eval/1``)::

    {"format", "kind": "images" | "stacked" | "toy", "data", "source": {"run" | "samples", ...},
     "n", "n_train", "seed", "judge": {"name", "version", "sha256", "test_accuracy"} (images only),
     "evaluator": one line naming the judge, "versions": {"gankit", "torch", "numpy", "python"},
     "settings": {...}, "metrics": {name: {"value", "floor", "better": "lower" | "higher" | "one",
     "note", and per metric "std", "floor_std", "subsets", "subset_size", "of", "threshold"}},
     "histogram": {"samples": [...], "real": [...]}, "seconds": {...}, "created"}
"""
from __future__ import annotations

import datetime
import hashlib
import json
import math
import platform
import time
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

from ..data.idx import atomic_output
from ..errors import ConfigError, DataError
from .features import check_images, judge_cache_dir, judge_outputs, reference_features
from .fid import fid
from .judge import JUDGE_FOR_DATA, Judge, judge_for
from .kid import kid
from .precision_recall import density_coverage, memorization, precision_recall
from .scores import (COVERAGE_SHARE, class_histogram, classes_covered, classifier_score, kl_to_uniform, mean_confidence, modes_hit,
                     read_as_digit)
from .toy import mode_stats

FORMAT = "gankit-eval/1"
FLOORS_VERSION = 5  # part of the floor cache key: bump when the floors are computed differently
MIN_N = 20  # the fewest samples every metric is defined for (10 classifier-score splits, k = 5 balls)

# Metric settings; they are written into eval.json and key the cached floors.
SETTINGS = {
    "kid_subsets": 100,
    "kid_subset_size": 1000,
    "precision_recall_k": 3,
    "density_coverage_k": 5,
    "classifier_splits": 10,
    "memorization_quantile": 0.5,
    "mode_sigmas": 3.0,
    "mode_share": 0.2,  # toy mixtures: a mode is covered with a fifth of its fair share (PacGAN)
    "class_share": COVERAGE_SHARE,  # images: a class is covered with a tenth of its fair share
}

# Label, better (how to read it) and a one-line note per metric, in table order.
METRICS = {
    "fid": ("FID", "lower", "Frechet distance of judge features to n training images"),
    "kid": ("KID", "lower", "unbiased squared MMD, cubic kernel, 100 subsets"),
    "precision": ("precision", "higher", "share of samples inside the real manifold (k=3)"),
    "recall": ("recall", "higher", "share of real images inside the sample manifold (k=3)"),
    "density": ("density", "one", "real k-NN balls per sample, /k (about 1 for real data)"),
    "coverage": ("coverage", "higher", "share of real balls holding a sample (k=5)"),
    "classifier_score": ("classifier score", "higher", "Inception score with the judge (1..K)"),
    "read_as_digit": ("read as digits", "higher", "share of samples the judge reads as a digit, p(digit) >= 0.5"),
    "mean_confidence": ("mean confidence", "higher", "mean p(digit) max p(y|x, digit) of the judge"),
    "class_kl": ("class KL", "lower", "KL(class histogram || uniform), nats"),
    "classes_covered": ("classes covered", "higher", "classes holding at least 10% of their fair share n/K"),
    "modes_kl": ("modes KL", "lower", "KL(mode histogram || uniform), nats"),
    "modes_covered": ("modes covered", "higher", "modes holding a set share of their fair share (20% toy, 10% stacked)"),
    "modes_hit": ("modes hit", "higher", "modes holding at least one sample (the papers' 'modes covered')"),
    "memorized": ("memorized", "lower", "share of samples nearer to the training set than the median test image"),
    "high_quality": ("high quality", "higher", "share of samples within 3 std of a mode"),
    "reverse_kl": ("reverse KL", "lower", "KL(high-quality histogram || mode weights), nats"),
}


# ----------------------------------------------------------------------------------------------
# Inputs


def read_samples(path: Union[str, Path]) -> torch.Tensor:
    """Samples from an .npz file (``gankit sample --out S.npz``): the ``images`` array, or the only
    array. Images (N, C, H, W) or (N, H, W), uint8 0..255 or floats in [0, 1]; points (N, D) of
    integers or floats. Returns float32: images in [-1, 1], points as they are.

    Anything else (not an .npz, no array to take, object/bool/complex/string data, NaN or Inf, no
    samples at all) is a DataError: one line naming --samples and the file."""
    def first_line(e: BaseException) -> str:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__

    p = Path(path)
    where = f"--samples: {p}"
    # What numpy and zipfile raise on damaged bytes goes beyond OSError/ValueError (zlib.error, a
    # tokenize.TokenError from a mangled .npy header, MemoryError for a huge declared shape...): any
    # failure to parse the file is the file's fault.
    unreadable = (Exception,)
    try:
        loaded = np.load(p, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{where} not found") from None
    except unreadable as e:
        if "pickled" in str(e):  # neither a zip nor an .npy file: numpy took it for a pickle
            raise DataError(f"{where} is not an .npz file (a zip of .npy arrays, as numpy.savez writes)") from None
        raise DataError(f"{where} is not a readable .npz file ({first_line(e)})") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # a bare .npy array
        raise DataError(f"{where} is a single .npy array, not an .npz file; save it with numpy.savez(FILE, images=x)")
    key = None
    with loaded as z:
        try:
            names = list(z.files)
            if "images" in names:
                key = "images"
            elif len(names) == 1:
                key = names[0]
            else:
                held = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
                raise DataError(f"{where} holds {held or 'no arrays'}; expected an 'images' array")
            arr = z[key]
        except DataError:
            raise
        except unreadable as e:
            if "allow_pickle" in str(e):
                raise DataError(f"{where}: {key!r} holds Python objects, which are never loaded; "
                                f"images must be uint8 or float") from None
            raise DataError(f"{where} is not a readable .npz file ({first_line(e)})") from None
    if not isinstance(arr, np.ndarray):  # a zip member that is not an .npy file: raw bytes
        raise DataError(f"{where}: {key!r} is not a numpy array")
    if arr.size == 0:
        raise DataError(f"{where}: {key!r} holds no samples (shape {arr.shape})")
    if arr.ndim == 2:  # toy points
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise DataError(f"{where}: points must be integer or float numbers, got {arr.dtype}")
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: Inf, refused below
            points = arr.astype(np.float32)
        if not np.isfinite(points).all():
            raise DataError(f"{where}: points must be finite numbers (NaN, Inf or beyond float32)")
        return torch.from_numpy(points)
    if arr.ndim == 3:
        arr = arr[:, None]  # (N, 1, H, W)
    if arr.ndim != 4:
        raise DataError(f"{where}: images must be (N, C, H, W) or (N, H, W), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        x = torch.from_numpy(arr.astype(np.float32) / 255.0)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise DataError(f"{where}: images contain NaN or Inf")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise DataError(f"{where}: float images must lie in [0, 1] (as `gankit sample` writes them), "
                            f"got [{lo:.3g}, {hi:.3g}]")
        x = torch.from_numpy(arr.astype(np.float32)).clamp(0, 1)
    else:
        raise DataError(f"{where}: images must be uint8 or float, got {arr.dtype}")
    return x * 2 - 1  # [0, 1] -> [-1, 1], the judge's input range


def _versions() -> dict:
    from .. import __version__

    return {"gankit": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def _clean(obj):
    """JSON-safe: numpy scalars to Python, NaN/Inf to None."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _write_json(path: Path, obj: dict) -> None:
    """Atomic: readers see the old file or the whole new one."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(_clean(obj), indent=2) + "\n")


def _entry(name: str, value, floor, **extra) -> dict:
    return {"value": value, "floor": floor, "better": METRICS[name][1], **extra, "note": METRICS[name][2]}


# ----------------------------------------------------------------------------------------------
# Image metrics


def _kid_subsets(n: int) -> int:
    """100 subsets of 1000; at n <= 1000 every subset is the whole set (the unbiased estimate does
    not depend on the order of rows), so one computation gives the same figure."""
    return SETTINGS["kid_subsets"] if n > SETTINGS["kid_subset_size"] else 1


def _distances(real: np.ndarray, fake: np.ndarray, seed: int) -> dict:
    """Feature-space figures of fake (n, F) against real (n, F)."""
    s = SETTINGS
    k_mean, k_std = kid(real, fake, subsets=_kid_subsets(len(fake)), subset_size=s["kid_subset_size"], seed=seed)
    return {"fid": fid(real, fake), "kid": k_mean, "kid_std": k_std,
            **precision_recall(real, fake, k=s["precision_recall_k"]),
            **density_coverage(real, fake, k=s["density_coverage_k"])}


def _scores(probs: np.ndarray, digit: np.ndarray, stacked: bool) -> dict:
    """Classifier figures of class probabilities p(y | x, digit) (n, K) and p(digit | x) (n,).

    Images: the histogram holds the samples read as digits, coverage is by fair share. Stacked
    MNIST: the papers' rule, every sample's modes, covered when hit once."""
    cs_mean, cs_std = classifier_score(probs, splits=SETTINGS["classifier_splits"], digit=digit)
    hist = class_histogram(probs) if stacked else class_histogram(probs, digit)
    covered = classes_covered(hist, n=len(probs), share=SETTINGS["class_share"])
    return {"classifier_score": cs_mean, "classifier_score_std": cs_std, "read_as_digit": read_as_digit(digit),
            "mean_confidence": mean_confidence(probs, digit),
            "class_kl": kl_to_uniform(hist) if hist.sum() else math.nan,  # undefined when no sample is a digit
            "classes_covered": covered, "modes_hit": modes_hit(hist), "histogram": hist.tolist()}


def reference_subset(size: int, n: int) -> np.ndarray:
    """Indices of the n reference images out of a split of ``size``: a fixed random subset.

    Not the first n: files are often ordered (MNIST's test set holds its 5,000 cleaner digits
    first; folders sort by class). The permutation is seeded with 0, independent of ``seed``, so
    every evaluation at this n compares against the same images.
    """
    return np.random.default_rng(0).permutation(size)[:n]


def _floors(judge: Judge, train_ref, test_ref, n: int, seed: int, stacked: bool) -> dict:
    """Real-vs-real figures at this n (test images in place of samples), cached as JSON."""
    key = hashlib.sha256(json.dumps([FLOORS_VERSION, train_ref.path.name, test_ref.path.name, n, seed, SETTINGS],
                                    sort_keys=True).encode()).hexdigest()[:16]
    path = judge_cache_dir(judge) / "floors" / f"{train_ref.path.stem}-n{n}-seed{seed}-{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    train = train_ref.features[reference_subset(len(train_ref), n)]  # (n, F)
    pick = reference_subset(len(test_ref), n)
    test = test_ref.features[pick]  # (n, F)
    floors = {**_distances(train, test, seed), **_scores(test_ref.probs_at(pick), test_ref.digit_at(pick), stacked)}
    floors["memorized"] = memorization(train, test[0::2], test[1::2],  # threshold from one half, score the other
                                       quantile=SETTINGS["memorization_quantile"])["memorized"]
    _write_json(path, floors)
    return floors


def _evaluate_images(draw, judge: Judge, data: str, data_dir: str, limit: int, n: int, seed: int,
                     timings: dict) -> dict:
    """Judge figures of ``draw(n)`` -> images (n, C, H, W) in [-1, 1], against the data's splits."""
    check_images(draw(0), judge, "samples")  # before any reference features are extracted
    t = time.perf_counter()
    train_ref = reference_features(judge, data, "train", limit, data_dir)
    test_ref = reference_features(judge, data, "test", 0, data_dir)
    timings["references"] = time.perf_counter() - t
    n = min(n, len(train_ref), len(test_ref))  # samples, train and test images: the same n
    t = time.perf_counter()
    images = draw(n)
    timings["samples"] = time.perf_counter() - t
    n = min(n, len(images))
    if n < MIN_N:
        raise ConfigError(f"-n: the metrics need at least {MIN_N} samples and as many train and test images; "
                          f"have {len(images)} samples, {len(train_ref)} train, {len(test_ref)} test")

    t = time.perf_counter()
    out = judge_outputs(judge, images[:n], where="samples")
    fake, probs = out["features"], out["probs"]  # (n, F), (n, K)
    stacked = probs.shape[1] != judge.num_classes  # joint classes over channels (Stacked MNIST)
    timings["judge"] = time.perf_counter() - t
    t = time.perf_counter()
    train = train_ref.features[reference_subset(len(train_ref), n)]  # (n, F): the reference for every distance
    test = test_ref.features[reference_subset(len(test_ref), n)]  # (n, F)
    got = {**_distances(train, fake, seed), **_scores(probs, out["digit"], stacked)}
    mem = memorization(train, test, fake, quantile=SETTINGS["memorization_quantile"])
    timings["metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    fl = _floors(judge, train_ref, test_ref, n, seed, stacked)
    timings["floors"] = time.perf_counter() - t

    cov, kl = ("modes_covered", "modes_kl") if stacked else ("classes_covered", "class_kl")
    metrics = {
        "fid": _entry("fid", got["fid"], fl["fid"]),
        "kid": _entry("kid", got["kid"], fl["kid"], std=got["kid_std"], floor_std=fl["kid_std"],
                      subsets=_kid_subsets(n), subset_size=min(n, SETTINGS["kid_subset_size"])),
        **{k: _entry(k, got[k], fl[k]) for k in ("precision", "recall", "density", "coverage")},
        "classifier_score": _entry("classifier_score", got["classifier_score"], fl["classifier_score"],
                                   std=got["classifier_score_std"], floor_std=fl["classifier_score_std"]),
        "read_as_digit": _entry("read_as_digit", got["read_as_digit"], fl["read_as_digit"]),
        "mean_confidence": _entry("mean_confidence", got["mean_confidence"], fl["mean_confidence"]),
        kl: _entry(kl, got["class_kl"], fl["class_kl"]),
        cov: _entry(cov, got["classes_covered"], fl["classes_covered"], of=probs.shape[1]),
        **({"modes_hit": _entry("modes_hit", got["modes_hit"], fl["modes_hit"], of=probs.shape[1])} if stacked else {}),
        "memorized": _entry("memorized", mem["memorized"], fl["memorized"], threshold=mem["threshold"]),
    }
    return {
        "kind": "stacked" if stacked else "images",
        "n": n,
        "n_train": len(train_ref),
        "evaluator": f"{judge.name} (sha256 {judge.sha256[:12]})",
        "judge": judge.identity(),
        "metrics": metrics,
        "histogram": {"samples": got["histogram"], "real": fl["histogram"]},
    }


# ----------------------------------------------------------------------------------------------
# Toy mixtures


def mixture_stats(points, mixture) -> dict:
    """``mode_stats`` of points (N, D) against a toy mixture, by the settings every figure uses."""
    return mode_stats(points, mixture.means, mixture.std, sigmas=SETTINGS["mode_sigmas"],
                      share=SETTINGS["mode_share"], weights=mixture.weights)


def _evaluate_toy(points: torch.Tensor, test, n: int) -> dict:
    mixture = test.extra["mixture"]
    n = min(n, len(points), len(test))
    if points.dim() != 2 or points.shape[1] != mixture.dim:
        raise DataError(f"samples: expected points (N, {mixture.dim}) for {test.name}, got shape {tuple(points.shape)}")
    got, fl = mixture_stats(points[:n], mixture), mixture_stats(test.x[:n], mixture)
    k = got["num_modes"]
    return {
        "kind": "toy",
        "n": n,
        "evaluator": f"mode_stats against the exact {test.name} mixture",
        "metrics": {
            "modes_covered": _entry("modes_covered", got["modes_covered"], fl["modes_covered"], of=k),
            "modes_hit": _entry("modes_hit", got["modes_hit"], fl["modes_hit"], of=k),
            "high_quality": _entry("high_quality", got["high_quality"], fl["high_quality"]),
            "reverse_kl": _entry("reverse_kl", got["reverse_kl"], fl["reverse_kl"]),
        },
        "histogram": {"samples": got["per_mode"], "real": fl["per_mode"]},
    }


def default_n(data: str) -> int:
    """Samples an evaluation draws unless told: 26,000 for Stacked MNIST (the papers count its
    1000 modes among 26,000 samples), 10,000 for everything else."""
    return 26000 if data == "stacked-mnist" else 10000


def _toy_test_split(data: str, data_dir: str, n: int):
    """The test split of a toy mixture with n points, or None when ``data`` is no mixture."""
    from ..data import load_dataset
    from ..registry import DATASETS

    DATASETS.get(data)  # an unknown name lists the valid ones
    if data in JUDGE_FOR_DATA:
        return None
    try:
        ds = load_dataset(data, data_dir, "test", n=n)
    except (TypeError, DataError, ConfigError):
        return None
    return ds if isinstance(ds.extra, dict) and "mixture" in ds.extra else None


# ----------------------------------------------------------------------------------------------
# The entry point


def evaluate(run=None, *, samples=None, data: Optional[str] = None, n: Optional[int] = None, seed: int = 0,
             out: Optional[Union[str, Path]] = None, judge: Optional[Union[str, Path]] = None,
             data_dir: Optional[str] = None, limit: Optional[int] = None) -> dict:
    """Evaluate a run directory (or ``Run``) or a set of samples; return the eval dict and write it.

    run: a run directory or a loaded ``Run``; n samples are drawn with ``seed`` and the result is
      written to ``RUN/eval.json`` (or ``out``).
    n: samples (and real images for each reference); default ``default_n(data)``: 10,000, and
      26,000 for Stacked MNIST, the papers' count of its modes.
    samples: instead of a run, an .npz file (see ``read_samples``) or a tensor (images in [-1, 1]
      or points), with ``data`` naming the dataset; written to ``out`` only when given.
    judge: a judge name or .json file instead of the dataset's shipped judge.
    limit: the training set is the first ``limit`` training images (0 = all); a run's default is
      its own ``limit``, so the reference is what the run trained on.
    """
    from ..run import Run, load

    t0 = time.perf_counter()
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_N):
        raise ConfigError(f"-n: must be an integer >= {MIN_N}, got {n!r}")
    if (run is None) == (samples is None):
        raise ConfigError("evaluate: give a run directory or --samples FILE.npz (with --data), not both")
    timings: dict = {}
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0):
        raise ConfigError(f"--limit: must be an integer >= 0, got {limit!r}")
    if run is not None:
        run = run if isinstance(run, Run) else load(run)
        cfg = run.config
        if data and data != cfg.data:
            raise ConfigError(f"--data: {run.path} was trained on {cfg.data!r}, not {data!r}")
        data = cfg.data
        limit = cfg.limit if limit is None else limit
        data_dir = cfg.data_dir if data_dir is None else data_dir
        ckpt_state = run.state or {}
        source = {"run": str(run.path), "model": cfg.model, "step": ckpt_state.get("step"),
                  "epoch": ckpt_state.get("epoch")}
        out = Path(out) if out else run.path / "eval.json"
    else:
        if not data:
            raise ConfigError("--data: name the dataset the samples imitate (e.g. --data mnist)")
        source = {"samples": str(samples) if isinstance(samples, (str, Path)) else "array"}
        out = Path(out) if out else None
    data_dir, limit = data_dir or "", limit or 0
    n = default_n(data) if n is None else n

    if run is None:  # read (and check) the file before any work
        is_file = isinstance(samples, (str, Path))
        given = read_samples(samples) if is_file else torch.as_tensor(samples, dtype=torch.float32)

    def draw(count: int) -> torch.Tensor:
        """count samples: images (count, C, H, W) in [-1, 1], or points (count, D)."""
        if run is None:
            return given[:count]
        if count == 0:  # the shape of a sample; not data_shape, which is the codes' for a latent GAN
            return draw(1)[:0]
        x = run.sample(count, seed=seed)["images"]  # images in [0, 1], or points
        return x * 2 - 1 if x.dim() == 4 else x

    toy = None if judge else _toy_test_split(data, data_dir, n)
    if toy is not None:
        t = time.perf_counter()
        x = draw(n)
        timings["samples"] = time.perf_counter() - t
        result = _evaluate_toy(x, toy, n)
    else:
        result = _evaluate_images(draw, judge_for(data, judge), data, data_dir, limit, n, seed, timings)
    timings["total"] = time.perf_counter() - t0
    result = {
        "format": FORMAT,
        "kind": result.pop("kind"),
        "data": data,
        "source": source,
        **result,
        "seed": seed,
        "versions": _versions(),
        "settings": dict(SETTINGS),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    result = _clean(result)
    if out is not None:
        _write_json(out, result)
        result["path"] = str(out)
    return result


def format_table(result: dict) -> str:
    """The main figures of an eval dict beside their floors, as a small text table."""
    what = result["source"].get("run") or result["source"].get("samples")
    head = f"{what}: {result['data']}, n={result['n']}"
    if "judge" in result:
        j = result["judge"]
        head += f", judge {j['name']} (sha256 {j['sha256'][:12]})"
    lines = [head, f"  {'metric':<18}{'value':>11}{'floor':>11}   better"]

    def fmt(v):
        if v is None:
            return "nan"
        if isinstance(v, int):
            return str(v)
        return f"{v:.4f}" if abs(v) < 1000 else f"{v:.1f}"

    for name, m in result["metrics"].items():
        label = METRICS.get(name, (name,))[0]
        value, floor = fmt(m["value"]), fmt(m["floor"])
        if "of" in m:
            value, floor = f"{value}/{m['of']}", f"{floor}/{m['of']}"
        better = {"one": "near 1"}.get(m.get("better"), m.get("better", ""))
        lines.append(f"  {label:<18}{value:>11}{floor:>11}   {better}")
    lines.append("  floor: the same figure for held-out real data (the test split) in place of the samples")
    return "\n".join(lines)


__all__ = ["FORMAT", "METRICS", "SETTINGS", "default_n", "evaluate", "mixture_stats", "format_table", "optimal_d", "read_samples", "reference_subset"]


# ----------------------------------------------------------------------------------------------
# The optimal-discriminator experiment, as ``gankit theory optimal-d`` runs it


def optimal_d(out: Optional[Union[str, Path]] = None, steps: int = 2000, seed: int = 0) -> dict:
    """Train D against a fixed generator density in 1-D and compare it with D* (``optimal_d_experiment``).

    p_data is ``gmm1d``'s default, 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2); the fixed generator is
    0.7 N(-1.5, 0.7^2) + 0.3 N(2.5, 0.6^2), one that found the left mode roughly and the right
    mode poorly. With ``out``, writes ``out/optimal-d.png`` and ``out/optimal-d.json``.
    """
    from ..data.toy import Mixture, gmm1d_mixture
    from .theory import optimal_d_experiment

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"--steps: must be an integer >= 1, got {steps!r}")
    p_data = gmm1d_mixture()
    p_g = Mixture([[-1.5], [2.5]], [0.7, 0.6], [0.7, 0.3])
    png = None
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        png = str(out / "optimal-d.png")
    result = optimal_d_experiment(p_data, p_g, steps=steps, seed=seed, out_png=png)
    result["p_data"] = "0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)"
    result["p_g"] = "0.7 N(-1.5, 0.7^2) + 0.3 N(2.5, 0.6^2)"
    if out is not None:
        _write_json(out / "optimal-d.json", result)
        result["png"], result["json"] = png, str(out / "optimal-d.json")
    return result
