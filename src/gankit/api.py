"""The Python API behind every CLI command.

    import gankit
    run = gankit.train({"model": "dcgan", "data": "mnist", "epochs": 5})
    images = gankit.load("runs/dcgan-mnist").sample(64)["images"]   # (64, 1, 28, 28) in [0, 1]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .config import Config
from .errors import GankitError
from .metrics.evaluate import evaluate
from .metrics.theory import checkerboard, optimal_d
from .report.compare import write_compare
from .report.html import write_report
from .run import Run, load
from .rundir import atomic_output
from .sampling.explore import Exploration, explore
from .sampling.grid import save_grid, save_points
from .sampling.latent import encode, lerp, slerp, walk_latents
from .training.launch import resume_config, train

__all__ = ["train", "load", "save_samples", "resolve_resume_config", "Config", "Run", "evaluate", "optimal_d", "checkerboard", "explore",
           "Exploration", "write_report", "write_compare", "encode", "lerp", "slerp", "walk_latents", "MAX_SAMPLES"]

MAX_SAMPLES = {".png": 10_000, ".npz": 1_000_000}  # a 100 x 100 grid; 1e6 arrays (FID wants 50k)


def save_samples(run: Run, out: str | Path, n: int = 64, seed: int = 0, labels=None,
                 truncation: float | None = None) -> Path:
    """Write n samples: ``.png`` -> a grid; ``.npz`` -> images (N, C, H, W) float32 in [0, 1] and labels.

    n is at most ``MAX_SAMPLES`` of the file's kind; ``seed`` and ``labels`` as ``Run.sample`` takes them.
    """
    out = Path(out)
    if out.suffix not in MAX_SAMPLES:
        raise GankitError(f"--out: {out} must end in .png (a grid) or .npz (arrays)")
    most = MAX_SAMPLES[out.suffix]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 < n <= most:
        raise GankitError(f"-n: must be in 1..{most} for a {out.suffix} file, got {n!r}")
    s = run.sample(n, seed=seed, labels=labels, truncation=truncation)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        arrays = {"images": s["images"].numpy().astype(np.float32)}
        if s["labels"] is not None:
            arrays["labels"] = torch.as_tensor(s["labels"]).numpy().astype(np.int64)
        with atomic_output(out) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    elif s["images"].dim() == 4:
        nrow = run.num_classes if run.family.conditional and labels is None else None
        save_grid(s["images"], out, nrow=nrow)
    else:
        save_points(s["images"], None, out)
    return out


def resolve_resume_config(run_dir: str | Path, overrides: dict) -> Config:
    """The config a resumed run would use (for --dry-run)."""
    return resume_config(run_dir, overrides)[0]
