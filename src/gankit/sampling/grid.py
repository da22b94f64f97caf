"""Image grids (PIL only, no torchvision) and scatter plots for 1-D/2-D toy data."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..metrics.toy import nearest_modes
from ..rundir import atomic_output


def make_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, pad_value: float = 1.0,
              scale: int = 1) -> Image.Image:
    """(N, C, H, W) in [0, 1] -> one PIL image, ``nrow`` images per row (default: square)."""
    images = images.detach().float().clamp(0, 1).cpu()
    n, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    canvas = torch.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), pad_value)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        canvas[:, top:top + h, left:left + w] = images[i]
    arr = (canvas.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    img = Image.fromarray(arr[..., 0] if c == 1 else arr, mode="L" if c == 1 else "RGB")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def save_image(img: Image.Image, path: str | Path, **options) -> Path:
    """Write a PIL image atomically (``rundir.atomic_output``): a reader sees the old file or the
    new one, never half of one. The format follows the suffix; ``options`` go to ``Image.save``
    (e.g. ``save_all=True, append_images=...`` for an animated GIF)."""
    path = Path(path)
    with atomic_output(path) as tmp:
        img.save(tmp, format=Image.registered_extensions().get(path.suffix.lower(), "PNG"), **options)
    return path


def save_figure(fig, path: str | Path, **options) -> Path:
    """Write a matplotlib figure as PNG, atomically, and close it (``options`` go to ``savefig``)."""
    path = Path(path)
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format="png", **options)  # the temporary name has no .png to go by
    finally:
        if getattr(fig.canvas, "manager", None) is not None:  # made by pyplot: let pyplot forget it
            import matplotlib.pyplot as plt

            plt.close(fig)
    return path


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None, scale: int = 1) -> Path:
    return save_image(make_grid(images, nrow=nrow, scale=scale), path)


def save_panels(panels: list, path: str | Path, height: float = 3.7) -> Path:
    """Images side by side in one figure, each under its own title: a list of (title, image), the
    image a PIL image or a path to one. A title may hold "\\n" for more lines. For runs whose grids
    differ in size or come from different tools, so each panel keeps its own pixels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = [(t, img if isinstance(img, Image.Image) else Image.open(img)) for t, img in panels]
    fig, axes = plt.subplots(1, len(images), figsize=(3.2 * len(images), height), layout="constrained",
                             squeeze=False, dpi=110)
    for ax, (title, img) in zip(axes[0], images):
        ax.imshow(img.convert("L"), cmap="gray", interpolation="nearest", vmin=0, vmax=255)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    return save_figure(fig, path)


def save_points(fake: torch.Tensor, real: torch.Tensor | None, path: str | Path, title: str = "") -> Path:
    """Scatter (2-D) or histogram (1-D) of generated points over real ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fake = fake.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    if fake.shape[1] == 1:
        bins = 100
        if real is not None:
            ax.hist(real.cpu().numpy()[:, 0], bins=bins, density=True, alpha=0.5, label="data")
        ax.hist(fake[:, 0], bins=bins, density=True, alpha=0.5, label="G")
    else:
        if real is not None:
            r = real.cpu().numpy()
            ax.scatter(r[:, 0], r[:, 1], s=2, c="tab:blue", alpha=0.3, label="data")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:orange", alpha=0.6, label="G")
        ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def mode_line(stats: dict, n: int, sigmas: float = 3.0) -> str:
    """'41% of 2000 within 3 std of a mode; 8 of 8 modes hit': a caption line from the statistics
    that ``gankit.metrics.toy.mode_stats`` computed for n samples."""
    return (f"{stats['high_quality']:.0%} of {n} within {sigmas:g} std of a mode; "
            f"{stats['modes_hit']} of {stats['num_modes']} modes hit")


def save_modes(panels: list, means: torch.Tensor, std, path: str | Path, sigmas: float = 3.0) -> Path:
    """2-D samples against a mixture's modes, one panel per (title, points (N, 2)): each sample
    coloured by its nearest mode when it lies within ``sigmas`` std of it (high quality), grey
    otherwise; the mode means marked with black crosses and their 3-std circles drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mu = means.detach().double().cpu()
    sd = torch.as_tensor(std, dtype=torch.float64).flatten().expand(len(mu))  # (K,): one std or one per mode
    cmap = plt.get_cmap("tab10" if len(mu) <= 10 else "tab20")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.8), dpi=90, squeeze=False)
    lim = float(mu.abs().max()) * 1.35
    for ax, (title, pts) in zip(axes[0], panels):
        x = pts.detach().double().cpu()
        nearest, good = nearest_modes(x, mu, sd, sigmas)
        ax.scatter(x[~good, 0], x[~good, 1], s=2, c="0.6", alpha=0.5, label="not high quality")
        # the modes' marks first and thin, the high-quality samples over them: a mode's colour shows
        for m, s in zip(mu, sd):
            ax.add_patch(plt.Circle((float(m[0]), float(m[1])), sigmas * float(s), fill=False, lw=0.5, color="k",
                                    zorder=1))
        ax.scatter(mu[:, 0], mu[:, 1], marker="x", c="k", s=40, lw=0.6, label="data means", zorder=1)
        ax.scatter(x[good, 0], x[good, 1], s=3, c=[cmap(int(k) % cmap.N) for k in nearest[good]], alpha=0.8,
                   zorder=2)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(loc="lower left", fontsize=6, markerscale=3)
    fig.tight_layout()
    return save_figure(fig, path)


def save_mode_histogram(panels: list, path: str | Path, real: list | None = None) -> Path:
    """Stacked MNIST's mode histograms, one line per (label, counts (K,)): the counts sorted from
    the fullest mode down on a log scale, so a lost mode shows as the line's drop to zero at the
    right and an uneven spread as its slope. ``real`` adds the held-out data's counts as a dotted
    line; the dashed line is the fair share of every mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    lines = [(label, counts, {"lw": 1.2}) for label, counts in panels]
    if real is not None:
        lines.append(("real test images", real, {"lw": 1, "ls": ":", "c": "k"}))
    k, n = 0, 0
    for label, counts, style in lines:
        c = np.sort(np.asarray(counts, dtype=np.float64))[::-1]  # (K,) fullest first
        k, n = len(c), max(n, c.sum())
        ax.step(np.arange(1, k + 1), np.maximum(c, 0.5), where="mid", label=label, **style)  # 0 drawn at 0.5
    ax.axhline(n / max(k, 1), ls="--", lw=0.8, c="0.4", label="fair share")
    ax.set_yscale("log")
    ax.set_ylim(0.4, None)
    ax.set_xlim(1, k)
    ax.set_xlabel("mode, fullest first")
    ax.set_ylabel("samples (0 drawn at 0.5)")
    ax.legend(fontsize=7, loc="lower left")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
