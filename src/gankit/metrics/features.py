"""Judge features: extract once, cache on disk, share across every metric.

``judge_outputs`` runs a judge over images; ``reference_features`` does it for a real split and
caches the result under

    $GANKIT_CACHE/features/<judge name>-v<version>-<sha256[:12]>/<dataset>[-<data dir hash>]-<split>-<limit|all>.npz

so the second evaluation against the same data reads 10k-60k feature rows from disk instead of
running the judge again (``gankit evaluate`` keeps its real-vs-real floors beside them, in
``floors/``). The key holds the judge's SHA-256: a retrained judge never meets stale features.
Writes are atomic (temp file, then rename), so a crash leaves no half file.

Images with a multiple of the judge's channels (Stacked MNIST: 3 channels, a 1-channel MNIST
judge) are judged channel by channel: the features are concatenated, (N, C * F), and the class
probabilities combined into the joint over channel classes, (N, K^C), so that a Stacked MNIST
mode 100 * r + 10 * g + b is one class of 1000 (Metz et al. 2017, Unrolled GANs). The judge's
p(digit | x) of each channel is kept too, (N, C); an image is read as digits with the product.
"""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..data import cache_dir, load_dataset
from ..errors import DataError
from ..rundir import atomic_output
from .judge import Judge


def features_dir() -> Path:
    """``$GANKIT_CACHE/features`` (``GANKIT_CACHE`` defaults to ``~/.cache/gankit``)."""
    return cache_dir() / "features"


def judge_cache_dir(judge: Judge) -> Path:
    """``features/<name>-<sha256[:12]>``; the version joins the name unless the name ends in it."""
    name = judge.name if judge.name.endswith(f"-v{judge.version}") else f"{judge.name}-v{judge.version}"
    return features_dir() / f"{name}-{judge.sha256[:12]}"


def check_images(images: torch.Tensor, judge: Judge, where: str) -> int:
    """Validate images (N, C, H, W) for ``judge``; returns how many judge passes one image needs."""
    c, h, w = judge.image_shape
    if images.dim() != 4 or tuple(images.shape[2:]) != (h, w) or images.shape[1] % c or images.shape[1] == 0:
        raise DataError(f"{where}: images of shape {tuple(images.shape)} do not fit the judge {judge.name}, "
                        f"which takes (N, {c}, {h}, {w})")
    return images.shape[1] // c


def joint_probs(channel_probs: np.ndarray) -> np.ndarray:
    """Per-channel class probabilities (N, m, K) -> the joint over channels (N, K^m), the first
    channel most significant (Stacked MNIST's mode 100 r + 10 g + b); (N, K) when m = 1."""
    n, m, _ = channel_probs.shape
    probs = channel_probs[:, 0]
    for j in range(1, m):
        probs = (probs[:, :, None] * channel_probs[:, j, None, :]).reshape(n, -1)  # (N, K^(j+1))
    return probs


def judge_outputs(judge: Judge, images: torch.Tensor, batch: int = 1000, where: str = "images") -> dict:
    """Features and probabilities of images (N, C, H, W) in [-1, 1], as float32 numpy arrays.

    Returns {"features": (N, m F), "channel_probs": (N, m, K), "probs": (N, K^m),
    "channel_digit": (N, m), "digit": (N,)}, where m is the number of judge-sized channel groups in
    an image: 1 for images the judge takes as they are, 3 for Stacked MNIST (judged channel by
    channel, see the module docstring); ``digit`` is p(digit | x), the product over the channels.
    """
    m = check_images(images, judge, where)
    if judge.num_classes ** m > 100_000:
        raise DataError(f"{where}: {images.shape[1]} channels would make {judge.num_classes}^{m} joint classes "
                        f"for the judge {judge.name}; it takes {judge.image_shape[0]} channel(s) (Stacked MNIST: 3)")
    n, c = images.shape[0], judge.image_shape[0]
    per = images.reshape(n * m, c, *images.shape[2:])  # (N*m, c, H, W): channel groups in order
    f, p, d = judge(per, batch)  # (N*m, F), (N*m, K), (N*m,)
    channel_probs = p.reshape(n, m, -1).numpy().astype(np.float32)  # (N, m, K)
    channel_digit = d.reshape(n, m).numpy().astype(np.float32)  # (N, m)
    return {"features": f.reshape(n, m * f.shape[1]).numpy().astype(np.float32),  # (N, m*F)
            "channel_probs": channel_probs, "probs": joint_probs(channel_probs),
            "channel_digit": channel_digit, "digit": channel_digit.prod(axis=1)}


@dataclass
class Reference:
    """Judge outputs of a real split: features (N, F), channel_probs (N, m, K), channel_digit (N, m),
    labels (N,) or None.

    Only per-channel probabilities are stored: Stacked MNIST's joint over 1000 classes would be
    240 MB for its 60,000 training images. ``probs_at(idx)`` gives the joint for some rows."""

    features: np.ndarray
    channel_probs: np.ndarray
    channel_digit: np.ndarray
    labels: Optional[np.ndarray]
    path: Path  # the cache file
    cached: bool  # True when read from the cache, False when just extracted

    def __len__(self) -> int:
        return self.features.shape[0]

    def probs_at(self, idx) -> np.ndarray:
        """(len(idx), K^m) joint class probabilities of the rows ``idx``."""
        return joint_probs(self.channel_probs[idx])

    def digit_at(self, idx) -> np.ndarray:
        """(len(idx),) p(digit | x) of the rows ``idx``, every channel read as a digit."""
        return self.channel_digit[idx].prod(axis=1)


def reference_path(judge: Judge, data: str, split: str, limit: int = 0, data_dir: str = "") -> Path:
    """The cache file of a split's features; ``limit`` = first N examples (0 = all)."""
    tag = data
    if data_dir:
        tag += "-" + hashlib.sha256(str(Path(data_dir).expanduser().resolve()).encode()).hexdigest()[:8]
    return judge_cache_dir(judge) / f"{tag}-{split}-{limit or 'all'}.npz"


def _read(path: Path) -> Optional[dict]:
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # missing, truncated, not an npz: extract again
        return None
    feats, probs, digit = out.get("features"), out.get("channel_probs"), out.get("channel_digit")
    if feats is None or probs is None or digit is None or probs.ndim != 3 or len(feats) != len(probs) \
            or digit.shape != probs.shape[:2]:
        return None
    return out


def _write(path: Path, arrays: dict) -> None:
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def reference_features(judge: Judge, data: str, split: str, limit: int = 0, data_dir: str = "") -> Reference:
    """Judge outputs of the first ``limit`` examples (0 = all) of a real split, cached on disk."""
    path = reference_path(judge, data, split, limit, data_dir)
    got = _read(path)
    if got is not None:
        return Reference(got["features"], got["channel_probs"], got["channel_digit"], got.get("labels"), path,
                         cached=True)
    ds = load_dataset(data, data_dir, split, limit)
    out = judge_outputs(judge, ds.x, where=f"--data {data} ({split})")
    keep = {k: out[k] for k in ("features", "channel_probs", "channel_digit")}
    if ds.y is not None:
        keep["labels"] = ds.y.numpy().astype(np.int64)
    _write(path, keep)
    return Reference(keep["features"], keep["channel_probs"], keep["channel_digit"], keep.get("labels"), path,
                     cached=False)


__all__ = ["Reference", "check_images", "features_dir", "joint_probs", "judge_cache_dir", "judge_outputs",
           "reference_features", "reference_path"]
