"""Image grids (PIL only, no torchvision) and scatter plots for 1-D/2-D toy data."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image


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


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None, scale: int = 1) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_grid(images, nrow=nrow, scale=scale).save(path)
    return path


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
    fig.savefig(path)
    plt.close(fig)
    return path
