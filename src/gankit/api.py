"""The Python API behind every CLI command.

    import gankit
    run = gankit.train({"model": "dcgan", "data": "mnist", "epochs": 5})
    images = gankit.load("runs/dcgan-mnist").sample(64)["images"]   # (64, 1, 28, 28) in [0, 1]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import config as config_mod
from .config import Config
from .report.compare import write_compare
from .report.html import write_report
from .run import Run, load
from .sampling.explore import Exploration, explore
from .sampling.grid import save_grid, save_points
from .sampling.latent import encode, lerp, slerp, walk_latents
from .training.engine import train

__all__ = ["train", "load", "save_samples", "resolve_resume_config", "Config", "Run", "evaluate", "explore", "Exploration",
           "write_report", "write_compare", "encode", "lerp", "slerp", "walk_latents"]


def evaluate(run=None, **kwargs) -> dict:
    """Metrics of a run directory (or ``samples=FILE.npz, data=NAME``) beside their real-vs-real
    floors; writes ``RUN/eval.json``. See ``gankit.metrics.evaluate.evaluate`` for the arguments.

    Imported on first use: the metrics package pulls in scipy, slow to import for every command.
    """
    from .metrics.evaluate import evaluate as _evaluate

    return _evaluate(run, **kwargs)


def save_samples(run: Run, out: str | Path, n: int = 64, seed: int = 0, labels=None,
                 truncation: float | None = None) -> Path:
    """Write n samples: ``.png`` -> a grid; ``.npz`` -> images (N, C, H, W) float32 in [0, 1] and labels."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    s = run.sample(n, seed=seed, labels=labels, truncation=truncation)
    if out.suffix == ".npz":
        arrays = {"images": s["images"].numpy().astype(np.float32)}
        if s["labels"] is not None:
            arrays["labels"] = torch.as_tensor(s["labels"]).numpy().astype(np.int64)
        np.savez_compressed(out, **arrays)
    elif s["images"].dim() == 4:
        nrow = run.num_classes if run.family.conditional and labels is None else None
        save_grid(s["images"], out, nrow=nrow)
    else:
        save_points(s["images"], None, out)
    return out


def resolve_resume_config(run_dir: str | Path, overrides: dict) -> Config:
    """The config a resumed run would use (for --dry-run)."""
    from .training.engine import resume_config

    return resume_config(run_dir, overrides)[0]
