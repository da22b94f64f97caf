"""Explore an autoencoder's codes and a 2-D latent space: ``manifold`` decodes a regular grid of the
latent plane, ``scatter`` plots the codes of test images, ``reconstruct`` shows images beside their
reconstructions, ``prior`` decodes codes drawn from three priors, two of them fitted to the codes.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ...errors import GankitError
from ...run import Run
from .. import latent as L
from ..figures import side_by_side
from ..grid import make_grid, save_figure, save_panels
from ._common import (Exploration, _as_run, _check_positive, _out_dir, _plt, _real, _require_images, _sample,
                      _save_caption, _save_png, _scale)


# ---- manifold --------------------------------------------------------------------------------------
def manifold(run: Run | str | Path, side: int = 20, extent: float | None = None,
             out_dir: str | Path | None = None) -> Exploration:
    """For a 2-D latent space: decode a side x side grid over [-extent, extent]^2 (3 for a normal
    prior, 1 for a uniform one), as the talk's VAE manifold (003_4cc37f4be662be15.txt): the top row
    is z2 = +extent, the bottom row z2 = -extent, z1 grows from left to right. A conditional model
    draws class 0."""
    run = _as_run(run)
    _require_images(run, "manifold")
    if run.config.z_dim != 2:
        raise GankitError(f"explore manifold: needs a 2-D latent space; {run.path} has z_dim={run.config.z_dim} "
                          f"(train with --set z_dim=2)")
    if not run.family.prior:
        raise GankitError(f"explore manifold: a --model {run.config.model} run's codes have no prior to span; "
                          f"use a vae (--model vae)")
    if side < 2:
        raise GankitError(f"--side: must be at least 2, got {side}")
    if extent is None:
        extent = 1.0 if run.config.z_dist == "uniform" else 3.0
    if extent <= 0:
        raise GankitError(f"--extent: must be positive, got {extent}")
    v = torch.linspace(-extent, extent, side)
    z2, z1 = torch.meshgrid(v.flip(0), v, indexing="ij")  # row i: z2 = v[side - 1 - i]; column j: z1 = v[j]
    z = torch.stack([z1.flatten(), z2.flatten()], 1)  # (side * side, 2), row-major
    labels = torch.zeros(len(z), dtype=torch.long) if run.family.conditional else None
    images = _sample(run, z, labels)
    canvas = make_grid(images, nrow=side, pad=0)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 7), dpi=100)
    import numpy as np

    ax.imshow(np.asarray(canvas), cmap="gray", vmin=0, vmax=255, interpolation="nearest",
              extent=(-extent, extent, -extent, extent))
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title(f"decoded {side}x{side} grid over [-{extent:g}, {extent:g}]^2", fontsize=9)
    fig.tight_layout()
    path = save_figure(fig, _out_dir(run, out_dir) / "manifold.png")
    _save_caption(path, "the decoder over a regular grid of the 2-D latent space", plot=True)
    return Exploration([path], images, z, {"side": side, "extent": extent})


# ---- scatter ---------------------------------------------------------------------------------------
def pca_2d(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Project (N, D) onto its first two principal components: ((N, 2), explained variance ratios (2,))."""
    x = codes.double() - codes.double().mean(0)
    _, s, vh = torch.linalg.svd(x, full_matrices=False)
    var = s ** 2
    ratio = var[:2] / var.sum().clamp_min(1e-300)
    return (x @ vh[:2].T).float(), ratio.float()


def scatter(run: Run | str | Path, n: int = 2000, out_dir: str | Path | None = None) -> Exploration:
    """Encode up to n test images and plot their codes coloured by label (the talk's "Latent
    Space" panel). Codes with more than 2 dimensions are projected on their first two principal
    components; the axis labels say how much variance each keeps."""
    run = _as_run(run)
    L.check_encoder(run, "scatter")
    _check_positive(n, "-n")
    data = _real(run, n)
    codes = L.encode(run, data.x)  # (N, z_dim)
    if codes.shape[1] > 2:
        xy, ratio = pca_2d(codes)
        axes = [f"PC{i + 1} ({100 * float(r):.0f}% of variance)" for i, r in enumerate(ratio)]
    elif codes.shape[1] == 2:
        xy, axes = codes, ["z1", "z2"]
    else:
        xy, axes = torch.cat([codes, torch.zeros_like(codes)], 1), ["z1", ""]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    if data.y is not None:
        pts = ax.scatter(xy[:, 0], xy[:, 1], c=data.y.numpy(), cmap="tab10" if data.num_classes <= 10 else "nipy_spectral",
                         s=6, alpha=0.8, vmin=-0.5, vmax=max(data.num_classes, 1) - 0.5)
        bar = fig.colorbar(pts, ax=ax, ticks=range(min(data.num_classes, 20)))
        bar.set_label("label")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.8)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(f"{run.config.model} codes of {len(codes)} {run.config.data} test images", fontsize=9)
    fig.tight_layout()
    path = save_figure(fig, _out_dir(run, out_dir) / "scatter.png")
    _save_caption(path, "codes of test images, coloured by label", plot=True)
    return Exploration([path], None, codes, {"xy": xy, "labels": data.y})


# ---- reconstruct -----------------------------------------------------------------------------------
def reconstruct(run: Run | str | Path, n: int = 32, cols: int = 8, seed: int = 0,
                out_dir: str | Path | None = None) -> Exploration:
    """n seeded test images (left) beside their reconstructions G(E(x)) (right)."""
    run = _as_run(run)
    L.check_encoder(run, "reconstruct")
    _check_positive(n, "-n")
    data = _real(run, 0)
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    x = data.x[idx]
    x_hat = L.decode(run, L.encode(run, x))  # (n, C, H, W) in [0, 1]
    x01 = (x.clamp(-1, 1) + 1) / 2
    imgs, nrow = side_by_side(x01, x_hat, min(cols, n))
    path = _save_png(make_grid(imgs, nrow=nrow, scale=_scale(run)), _out_dir(run, out_dir) / "reconstruct.png")
    _save_caption(path, "test images (left) and their reconstructions (right)", plot=False)
    mse = float(((x_hat - x01) ** 2).mean())
    return Exploration([path], x_hat, None, {"inputs": x01, "mse": mse, "indices": idx})


# ---- prior -----------------------------------------------------------------------------------------
PRIORS = ("N(0, I)", "N(m, s^2): the talk's", "N(mu, Sigma) of the codes")


def fit_code_priors(codes: torch.Tensor) -> dict:
    """The two priors fitted to codes (N, D), in float64: the talk's one mean m and one variance s^2
    over every entry, and the mean vector mu with the covariance matrix Sigma (its Cholesky factor;
    a jitter of 1e-6 keeps it defined when a code dimension never varies, as a dead ReLU unit)."""
    c = codes.double()
    cov = torch.cov(c.T).reshape(c.shape[1], c.shape[1]) + 1e-6 * torch.eye(c.shape[1], dtype=torch.float64)
    return {"m": c.mean(), "s": c.std(), "mu": c.mean(0), "chol": torch.linalg.cholesky(cov)}


def prior_codes(priors: dict, eps: torch.Tensor) -> dict:
    """Codes from each prior of ``PRIORS`` for the same standard normal draws eps (n, D)."""
    eps = eps.double()
    return {PRIORS[0]: eps, PRIORS[1]: priors["m"] + priors["s"] * eps,
            PRIORS[2]: priors["mu"] + eps @ priors["chol"].T}


def prior(run: Run | str | Path, n: int = 64, seed: int = 0, out_dir: str | Path | None = None) -> Exploration:
    """Decode n codes from each of three priors, side by side, the same noise in each panel (the
    talk 003's experiment): N(0, I); the talk's N(m, s^2), one mean and one variance over every entry
    of the training set's codes; and N(mu, Sigma), their mean vector and covariance matrix. The codes
    are the AE's, or the VAE's posterior means. Fitting a density to the codes after training is
    what Ghosh et al. (2020) call ex-post density estimation."""
    run = _as_run(run)
    L.check_encoder(run, "prior")
    _require_images(run, "prior")
    _check_positive(n, "-n")
    codes = L.encode(run, _real(run, 0, split="train").x)  # (60000, z_dim) for MNIST
    priors = fit_code_priors(codes)
    eps = torch.randn(n, codes.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    zs = prior_codes(priors, eps)
    images = {name: L.decode(run, z.float()) for name, z in zs.items()}
    nrow = max(1, int(n ** 0.5))
    panels = [(name, make_grid(img, nrow=nrow, scale=_scale(run))) for name, img in images.items()]
    path = save_panels(panels, _out_dir(run, out_dir) / "prior.png")
    _save_caption(path, f"codes from three priors, decoded (m = {float(priors['m']):.3f}, "
                        f"s = {float(priors['s']):.3f} over {len(codes)} training codes)", plot=True)
    return Exploration([path], images[PRIORS[2]], zs[PRIORS[2]].float(),
                       {"images": images, "codes": {k: v.float() for k, v in zs.items()}, **priors})
