"""The figures a family adds to every epoch, beside the fixed-seed grid: ``Family.figures`` names
them, the engine calls ``save_epoch_figures`` on rank 0, and ``gankit explore`` lays out its class
sheet and reconstructions with the same helpers.

- ``rundir.CLASS_GRID`` (conditional families): one row per class, every row from the same
  latents, so that a column shows one "style" across the classes; then a white row and real
  images of each class, to compare with.
- ``rundir.RECON_GRID`` (autoencoders): fixed training images beside their reconstructions
  G(E(x)), the talk's "real images vs reconstructed images".

Both draw from their own seeded generator, never the global RNG, so that a resumed run writes the
same figures as one that never stopped.
"""
from __future__ import annotations

import math

import torch

from .. import rundir
from ..data import to_unit
from ..models.autoencoder import encode_mean
from ..models.blocks import eval_mode
from ..run import generate, latents
from .grid import save_grid

CLASS_GRID_COLS = 10  # class grid: samples per class row
MAX_CLASS_ROWS = 20  # class grids and sheets show at most this many classes (stacked MNIST has 1000)
RECON_GRID_SIDE = 8  # the reconstruction grid shows 8 x 8 inputs beside their 8 x 8 reconstructions


def class_rows(z: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The latents and labels of a class sheet: z (cols, z_dim) repeated once per class row.

    Returns (k * cols, z_dim) latents and (k * cols,) labels 0,0,..,1,1,.., with k the number of
    classes shown (at most ``MAX_CLASS_ROWS``)."""
    k = min(num_classes, MAX_CLASS_ROWS)
    return z.repeat(k, 1), torch.arange(k).repeat_interleave(len(z))


def side_by_side(a: torch.Tensor, b: torch.Tensor, cols: int) -> tuple[torch.Tensor, int]:
    """Rows of [cols of a | a white column | cols of b]: ((rows * (2 cols + 1), C, H, W), 2 cols + 1)."""
    blank = torch.ones_like(a[:1])
    parts = []
    for r in range(math.ceil(len(a) / cols)):
        x, y = a[r * cols:(r + 1) * cols], b[r * cols:(r + 1) * cols]
        pad = blank.repeat(cols - len(x), 1, 1, 1)
        parts += [x, pad, blank, y, pad]
    return torch.cat(parts), 2 * cols + 1


@torch.no_grad()
def class_grid(tr, cols: int = CLASS_GRID_COLS) -> tuple[torch.Tensor, int]:
    """(images in [0, 1], images per row): generated rows (class k from the same ``cols`` latents),
    a white row, then ``cols`` real images of each class (white where a class has fewer)."""
    data = tr.data
    g = torch.Generator().manual_seed(tr.cfg.seed + rundir.FIXED_SEED_OFFSET)
    z, labels = class_rows(latents(tr.cfg, cols, g), data.num_classes)
    fake = generate(tr.family, tr.nets, tr.cfg, len(z), g, tr.device, data.num_classes, labels=labels, z=z)
    blank = torch.ones((cols, *data.shape))
    real = []
    for c in range(int(labels.max()) + 1):
        imgs = to_unit(data.x[data.y == c][:cols]).float().cpu()
        real.append(torch.cat([imgs, blank[:cols - len(imgs)]]))
    return torch.cat([fake["images"], blank, *real]), cols


@torch.no_grad()
def recon_grid(tr, side: int = RECON_GRID_SIDE) -> tuple[torch.Tensor, int]:
    """(images in [0, 1], images per row): ``side`` rows of [inputs | white | reconstructions], the
    first side * side training images through the decoder trained with E (not its EMA)."""
    nets, n = tr.nets, min(side * side, len(tr.data))
    x = tr.data.x[:n]
    with eval_mode(nets):
        x_hat = nets["G"](encode_mean(nets["E"], x))
    return side_by_side(to_unit(x).float().cpu(), to_unit(x_hat).float().cpu(), side)


EPOCH_FIGURES = {rundir.CLASS_GRID: class_grid, rundir.RECON_GRID: recon_grid}  # kind -> (trainer) -> grid


def save_epoch_figures(tr, epoch: int | None) -> list:
    """Write each figure that ``tr.family.figures`` names, for ``epoch`` (None: the end of training,
    ``rundir.final_grid``); returns the paths."""
    paths = []
    for kind in tr.family.figures:
        images, nrow = EPOCH_FIGURES[kind](tr)
        path = rundir.final_grid(tr.run_dir, kind) if epoch is None else rundir.epoch_grid(tr.run_dir, epoch, kind)
        paths.append(save_grid(images, path, nrow=nrow))
    return paths
