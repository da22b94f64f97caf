"""Explore a 1-D or 2-D toy run: ``discriminator`` draws D's decision surface under the data and the
samples, beside G's mapping of a latent mesh (GAN Lab's picture), and animates it over the kept
checkpoints.
"""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from ... import checkpoint, rundir
from ...errors import GankitError
from ...models.blocks import eval_mode
from ...registry import LOSSES
from ...run import Run
from ..grid import save_figure
from ._common import Exploration, _as_run, _is_image, _out_dir, _plt, _real, _sample, _save_caption, _save_gif


# ---- discriminator (toy data) ----------------------------------------------------------------------
@torch.no_grad()
def _d_values(run: Run, pts: torch.Tensor) -> torch.Tensor:
    """D at points (M, D): sigmoid(logit) for probabilistic losses, the raw critic value otherwise."""
    D = run.nets["D"]
    dev = next(D.parameters()).device
    pack = run.config.pack
    x = pts.repeat(1, pack) if pack > 1 else pts  # a packed D judges k copies of the same point
    with eval_mode(D):
        v = torch.cat([D(x[i:i + 4096].to(dev)).float().cpu() for i in range(0, len(x), 4096)])
    return torch.sigmoid(v) if LOSSES.get(run.config.loss).probabilistic else v


def _latent_mesh(run: Run, lines: int = 11, points: int = 60) -> tuple[torch.Tensor, float]:
    """A square mesh in the plane of latent dims 0 and 1 (others 0): (2 * lines, points, z_dim)."""
    r = 1.0 if run.config.z_dist == "uniform" else 2.0
    zd = run.config.z_dim
    u, s = torch.linspace(-r, r, lines), torch.linspace(-r, r, points)
    polys = []
    for fixed in u:
        for axis in (0, 1):
            z = torch.zeros(points, zd)
            z[:, axis] = s
            if zd > 1:
                z[:, 1 - axis] = fixed
            polys.append(z)
            if zd == 1:
                break
    return torch.stack(polys), r


def _toy_frame(run: Run, real: torch.Tensor, fake: torch.Tensor, title: str, res: int, lims=None):
    """One figure (left: D's surface, real and generated points; right: G's deformed latent mesh)."""
    plt = _plt()

    prob = LOSSES.get(run.config.loss).probabilistic
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), dpi=90)
    mesh, r = _latent_mesh(run)
    mapped = _sample(run, mesh.flatten(0, 1)).view(mesh.shape[0], mesh.shape[1], -1)  # (lines, points, D)
    if real.shape[1] == 2:
        (x0, x1), (y0, y1) = lims
        gx, gy = torch.meshgrid(torch.linspace(x0, x1, res), torch.linspace(y0, y1, res), indexing="xy")
        surf = _d_values(run, torch.stack([gx.flatten(), gy.flatten()], 1)).view(res, res).numpy()
        kw = dict(vmin=0, vmax=1, cmap="RdBu_r") if prob else dict(cmap="RdBu_r")
        im = axes[0].imshow(surf, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", **kw)
        fig.colorbar(im, ax=axes[0], fraction=0.046, pad=0.03).set_label("D(x)" if prob else "critic value")
        axes[0].scatter(real[:, 0], real[:, 1], s=3, c="tab:green", alpha=0.5, label="data")
        axes[0].scatter(fake[:, 0], fake[:, 1], s=3, c="black", alpha=0.5, label="G(z)")
        axes[1].scatter(real[:, 0], real[:, 1], s=3, c="tab:green", alpha=0.25)
        cmap = plt.get_cmap("viridis")
        for k, poly in enumerate(mapped):
            axes[1].plot(poly[:, 0], poly[:, 1], lw=0.8, color=cmap(k / max(len(mapped) - 1, 1)))
        for ax in axes:
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_aspect("equal")
        axes[1].set_title(f"G maps the latent grid [-{r:g}, {r:g}]^2 (dims 1, 2) onto the data plane", fontsize=8)
    else:  # 1-D: the original GAN paper's figure 1
        (x0, x1), _ = lims
        xs = torch.linspace(x0, x1, res)[:, None]
        d = _d_values(run, xs).numpy()
        axes[0].hist(real[:, 0].numpy(), bins=80, range=(x0, x1), density=True, alpha=0.4, color="tab:green",
                     label="data")
        axes[0].hist(fake[:, 0].numpy(), bins=80, range=(x0, x1), density=True, alpha=0.4, color="black",
                     label="G(z)")
        twin = axes[0].twinx()
        twin.plot(xs[:, 0].numpy(), d, color="tab:blue", lw=1.5, label="D(x)" if prob else "critic")
        twin.set_ylabel("D(x)" if prob else "critic value")
        if prob:
            twin.set_ylim(0, 1)
        axes[0].set_xlim(x0, x1)
        line = mesh[0, :, 0].numpy()
        for zk, xk in zip(line[::3], mapped[0, ::3, 0].numpy()):
            axes[1].plot([zk, xk], [0, 1], color="tab:gray", lw=0.6)
        axes[1].set_yticks([0, 1], ["z", "x = G(z)"])
        axes[1].set_title("G maps z (latent dim 1) to x", fontsize=8)
    axes[0].set_title(("D(x) = sigmoid(logit)" if prob else "critic value") + " under data and samples", fontsize=8)
    axes[0].legend(loc="upper right", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def discriminator(run: Run | str | Path, n: int = 2000, resolution: int = 150, seed: int = 0,
                  out_dir: str | Path | None = None) -> Exploration:
    """For 1-D/2-D toy runs (ring, grid, gmm1d), in the spirit of GAN Lab: D's decision surface
    (sigmoid of its logit on a grid; the raw value for a critic) under n real and n generated
    points, and beside it G's mapping of a latent mesh (dims 1 and 2, others 0) drawn as a deformed
    grid. With several kept checkpoints (``checkpoints/epoch-*.pt``) a GIF shows the game over time."""
    import numpy as np

    run = _as_run(run)
    if _is_image(run) or len(run.data_shape) != 1 or run.data_shape[0] not in (1, 2):
        raise GankitError(f"explore discriminator: needs a 1-D or 2-D toy run (--data ring, grid, gmm1d); "
                          f"{run.path} has data of shape {run.data_shape}")
    if "D" not in run.nets:
        raise GankitError(f"explore discriminator: {run.path} (--model {run.config.model}) has no discriminator")
    if resolution < 10:
        raise GankitError(f"--resolution: must be at least 10, got {resolution}")
    real = _real(run, n).x.float()
    fake = run.sample(n, seed=seed)["images"]
    both = torch.cat([real, fake]).numpy()
    lo, hi = np.percentile(both, 0.5, axis=0), np.percentile(both, 99.5, axis=0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    if len(lo) == 2:  # square view: the ring should look round
        c, h = (lo + hi) / 2, (hi - lo).max() / 2
        lo, hi = c - h, c + h
    lims = [(float(lo[i]), float(hi[i])) for i in range(len(lo))]
    if len(lims) == 1:
        lims.append((0.0, 1.0))
    out = _out_dir(run, out_dir)
    step = run.log[-1]["step"] if run.log else "?"
    fig = _toy_frame(run, real, fake, f"{run.config.model} on {run.config.data}, step {step}", resolution, lims)
    png = save_figure(fig, out / "discriminator.png")
    paths = [png]

    kept = rundir.kept_checkpoints(run.path)
    if kept:
        frames, current = [], {k: v.clone() for k, v in run.nets.state_dict().items()}
        try:
            for ck in kept + [None]:
                if ck is not None:
                    state = checkpoint.load(ck)
                    run.nets.load_state_dict(state["nets"])
                    title = f"{run.config.model} on {run.config.data}, epoch {state['epoch']}"
                else:
                    run.nets.load_state_dict(current)
                    title = f"{run.config.model} on {run.config.data}, step {step}"
                f = run.sample(n, seed=seed)["images"]
                fig = _toy_frame(run, real, f, title, max(resolution // 2, 10), lims)
                fig.canvas.draw()
                frames.append(Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()))
                _plt().close(fig)
        finally:
            run.nets.load_state_dict(current)
        paths.append(_save_gif(frames, out / "discriminator.gif", ms=500, hold=3, pingpong=False))
    _save_caption(png, "D's decision surface under data and samples, and G's mapping of a latent grid", plot=True)
    surf_real = _d_values(run, real)
    surf_fake = _d_values(run, fake)
    return Exploration(paths, fake, None, {"d_real": float(surf_real.mean()), "d_fake": float(surf_fake.mean())})
