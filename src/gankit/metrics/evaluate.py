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

Each metric is one entry of ``registry.py`` (what it needs, its settings, its floor rule, how the
table shows it) over its own file of formulas; this module gathers the inputs, runs the registry
on the samples and on the floor's real data, and writes eval.json.

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

import dataclasses
import datetime
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

from ..data import load_dataset
from ..errors import ConfigError, DataError
from ..registry import DATASETS
from ..run import Run, load
from ..rundir import atomic_write, eval_path, versions
from ._common import check_seed
from .features import check_images, judge_cache_dir, judge_outputs, reference_features
from .judge import JUDGE_FOR_DATA, Judge, judge_for
from .registry import FIGURES, METRICS, SETTINGS, Evidence, compute, mixture_stats, report

FORMAT = "gankit-eval/1"
FLOORS_VERSION = 6  # part of the floor cache key: bump when the floors are computed or stored differently
MIN_N = 20  # the fewest samples every metric is defined for (10 classifier-score splits, k = 5 balls)


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
    atomic_write(path, json.dumps(_clean(obj), indent=2) + "\n")


def reference_subset(size: int, n: int) -> np.ndarray:
    """Indices of the n reference images out of a split of ``size``: a fixed random subset.

    Not the first n: files are often ordered (MNIST's test set holds its 5,000 cleaner digits
    first; folders sort by class). The permutation is seeded with 0, independent of ``seed``, so
    every evaluation at this n compares against the same images.
    """
    return np.random.default_rng(0).permutation(size)[:n]


# ----------------------------------------------------------------------------------------------
# Images: every registered metric on the judge's outputs (``registry.py``)


def _floors(judge: Judge, train_ref, test_ref, kind: str, n: int, seed: int) -> dict:
    """Real-vs-real figures at this n (test images in place of samples), cached as JSON."""
    key = hashlib.sha256(json.dumps([FLOORS_VERSION, train_ref.path.name, test_ref.path.name, n, seed, SETTINGS,
                                     list(METRICS)], sort_keys=True).encode()).hexdigest()[:16]
    path = judge_cache_dir(judge) / "floors" / f"{train_ref.path.stem}-n{n}-seed{seed}-{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    pick = reference_subset(len(test_ref), n)
    test = test_ref.features[pick]  # (n, F)
    floors = compute(Evidence(kind, seed, features=test, probs=test_ref.probs_at(pick), digit=test_ref.digit_at(pick),
                              train=train_ref.features[reference_subset(len(train_ref), n)], test=test), floor=True)
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
    kind = "stacked" if out["probs"].shape[1] != judge.num_classes else "images"  # joint classes over channels
    timings["judge"] = time.perf_counter() - t
    t = time.perf_counter()
    got = compute(Evidence(kind, seed, features=out["features"], probs=out["probs"], digit=out["digit"],
                           train=train_ref.features[reference_subset(len(train_ref), n)],  # the reference of every distance
                           test=test_ref.features[reference_subset(len(test_ref), n)]))
    timings["metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    fl = _floors(judge, train_ref, test_ref, kind, n, seed)
    timings["floors"] = time.perf_counter() - t
    return {
        "kind": kind,
        "n": n,
        "n_train": len(train_ref),
        "evaluator": f"{judge.name} (sha256 {judge.sha256[:12]})",
        "judge": judge.identity(),
        "metrics": report(got, fl),
        "histogram": {"samples": got["histogram"], "real": fl["histogram"]},
    }


# ----------------------------------------------------------------------------------------------
# Toy mixtures


def _evaluate_toy(points: torch.Tensor, test, n: int) -> dict:
    mixture = test.extra["mixture"]
    n = min(n, len(points), len(test))
    if points.dim() != 2 or points.shape[1] != mixture.dim:
        raise DataError(f"samples: expected points (N, {mixture.dim}) for {test.name}, got shape {tuple(points.shape)}")
    ev = Evidence("toy", points=points[:n], mixture=mixture)
    got, fl = compute(ev), compute(dataclasses.replace(ev, points=test.x[:n]), floor=True)
    return {
        "kind": "toy",
        "n": n,
        "evaluator": f"mode_stats against the exact {test.name} mixture",
        "metrics": report(got, fl),
        "histogram": {"samples": got["histogram"], "real": fl["histogram"]},
    }


DEFAULT_N = 10000  # samples an evaluation draws unless told
DEFAULT_N_FOR = {"stacked-mnist": 26000}  # the papers count Stacked MNIST's 1000 modes among 26,000 samples


def default_n(data: str) -> int:
    """Samples an evaluation of ``data`` draws unless told: ``DEFAULT_N``, or ``DEFAULT_N_FOR[data]``."""
    return DEFAULT_N_FOR.get(data, DEFAULT_N)


def _toy_test_split(data: str, data_dir: str, n: int):
    """The test split of a toy mixture with n points, or None when ``data`` is no mixture."""
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
             data_dir: Optional[str] = None, limit: Optional[int] = None, checkpoint: Optional[str] = None) -> dict:
    """Evaluate a run directory (or ``Run``) or a set of samples; return the eval dict and write it.

    run: a run directory or a loaded ``Run``; n samples are drawn with ``seed`` (0..2**31 - 1, it
      also seeds KID's subsets) and the result is written to ``RUN/eval.json`` (or ``out``).
    checkpoint: which checkpoint of a run directory to load (``last``, ``best``, ``epoch-N``: see
      ``gankit.run.checkpoint_file``); default the newest good one.
    n: samples (and real images for each reference); default ``default_n(data)``: 10,000, and
      26,000 for Stacked MNIST, the papers' count of its modes.
    samples: instead of a run, an .npz file (see ``read_samples``) or a tensor (images in [-1, 1]
      or points), with ``data`` naming the dataset; written to ``out`` only when given.
    judge: a judge name or .json file instead of the dataset's shipped judge.
    limit: the training set is the first ``limit`` training images (0 = all); a run's default is
      its own ``limit``, so the reference is what the run trained on.
    """
    t0 = time.perf_counter()
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_N):
        raise ConfigError(f"-n: must be an integer >= {MIN_N}, got {n!r}")
    seed = check_seed(seed)
    if (run is None) == (samples is None):
        raise ConfigError("evaluate: give a run directory or --samples FILE.npz (with --data), not both")
    if checkpoint and not (run is None or isinstance(run, (str, Path))):
        raise ConfigError("--checkpoint: only with a run directory; a loaded Run holds its checkpoint")
    if checkpoint and run is None:
        raise ConfigError("--checkpoint: only with a run directory, not --samples")
    timings: dict = {}
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0):
        raise ConfigError(f"--limit: must be an integer >= 0, got {limit!r}")
    if run is not None:
        run = run if isinstance(run, Run) else load(run, checkpoint=checkpoint)
        cfg = run.config
        if data and data != cfg.data:
            raise ConfigError(f"--data: {run.path} was trained on {cfg.data!r}, not {data!r}")
        data = cfg.data
        limit = cfg.limit if limit is None else limit
        data_dir = cfg.data_dir if data_dir is None else data_dir
        ckpt_state = run.state or {}
        source = {"run": str(run.path), "model": cfg.model, "step": ckpt_state.get("step"),
                  "epoch": ckpt_state.get("epoch")}
        out = Path(out) if out else eval_path(run.path)
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
        if count == 0:
            return torch.empty(0, *run.sample_shape)
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
        "versions": versions(),
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
        label = FIGURES[name].label if name in FIGURES else name
        value, floor = fmt(m["value"]), fmt(m["floor"])
        if "of" in m:
            value, floor = f"{value}/{m['of']}", f"{floor}/{m['of']}"
        better = {"one": "near 1"}.get(m.get("better"), m.get("better", ""))
        lines.append(f"  {label:<18}{value:>11}{floor:>11}   {better}")
    lines.append("  floor: the same figure for held-out real data (the test split) in place of the samples")
    return "\n".join(lines)


__all__ = ["DEFAULT_N", "DEFAULT_N_FOR", "FORMAT", "FIGURES", "METRICS", "SETTINGS", "default_n", "evaluate", "format_table", "mixture_stats",
           "read_samples", "reference_subset"]

