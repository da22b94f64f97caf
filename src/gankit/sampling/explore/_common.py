"""What every explore command shares: the ``Exploration`` it returns, the run it reads (``_as_run``,
``_sample``, ``_real``), the checks of its arguments, and the savers of its figures: PNG, GIF and
the caption sidecar (``RUN/explore/<stem>.json``, which the report shows under the figure).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from ... import rundir
from ...data import load_dataset
from ...errors import GankitError
from ...run import Run, load
from ..grid import save_image


@dataclass
class Exploration:
    """What an explore command wrote (``paths``) and the tensors behind the main figure."""
    paths: list = field(default_factory=list)  # written files, PNG first
    images: torch.Tensor | None = None  # (N, C, H, W) in [0, 1], or (N, D) points
    z: torch.Tensor | None = None  # (N, z_dim) latents or codes of ``images``
    info: dict = field(default_factory=dict)  # command-specific extras (labels, scores, ...)


# ---- helpers ---------------------------------------------------------------------------------------
def _as_run(run: Run | str | Path) -> Run:
    return run if isinstance(run, Run) else load(run)


def _out_dir(run: Run, out_dir: str | Path | None) -> Path:
    d = Path(out_dir) if out_dir is not None else rundir.explore_dir(run.path)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _is_image(run: Run) -> bool:
    """Whether the run samples images (also a latent GAN, which trains on codes) or points."""
    return len(run.sample_shape) == 3


def _require_images(run: Run, what: str) -> None:
    if not _is_image(run):
        raise GankitError(f"explore {what}: {run.path} generates {run.sample_shape[0]}-D points, not images; "
                          f"try `gankit explore {run.path} discriminator` or `grid`")


def _scale(run: Run) -> int:
    """Upscaling for small images so a figure is readable: 8x8 digits -> 4x, MNIST -> 1x."""
    return max(1, 32 // run.sample_shape[-1]) if _is_image(run) else 1


def _check_positive(value: int, flag: str) -> int:
    if value <= 0:
        raise GankitError(f"{flag}: must be positive, got {value}")
    return value


def _sample(run: Run, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    return run.sample(len(z), z=z, labels=labels)["images"]


def _real(run: Run, n: int, split: str = "test"):
    """The first n examples of the run's dataset split (images in [-1, 1] or points)."""
    return load_dataset(run.config.data, run.config.data_dir, split, n)


def _save_png(img: Image.Image, path: Path) -> Path:
    return save_image(img, path)


def _save_gif(frames: list[Image.Image], path: Path, ms: int = 120, hold: int = 6, pingpong: bool = True) -> Path:
    """Frames -> a looping GIF; the ends are held ``hold`` frames long, then it plays back."""
    turn = len(frames) - 1  # the far end
    if pingpong and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    durations = [ms] * len(frames)
    durations[0] = durations[turn] = ms * hold
    return save_image(frames[0], path, save_all=True, append_images=frames[1:], duration=durations, loop=0)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_caption(path: Path, caption: str, plot: bool) -> Path:
    """The caption sidecar of a figure (``rundir.explore_caption``: ``<stem>.json`` beside its PNG
    and GIF), written atomically: the text the report shows under the figure, built from the
    command's own parameters, and whether the figure is a matplotlib plot (True) or an image grid."""
    return rundir.atomic_write(rundir.explore_caption(path),
                               json.dumps({"caption": caption, "plot": bool(plot)}, ensure_ascii=False) + "\n")
