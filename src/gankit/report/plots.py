"""Loss curves and D(x)/D(G(z)) over training, from log.jsonl."""
from __future__ import annotations

from pathlib import Path

from .. import rundir
from ..errors import RunDirError
from ..sampling.grid import save_figure


def _is_wasserstein(run_dir: Path) -> bool:
    """True when the run trains with the Wasserstein loss (wgan, wgan-gp)."""
    try:
        return rundir.read_config(run_dir).get("loss") == "wasserstein"
    except RunDirError:  # no readable config.yaml: plain curves
        return False


QUALITY = {"fid": "FID (judge, lower is better)", "high_quality": "high-quality share of samples (higher is better)"}


def value_names(wasserstein: bool) -> dict:
    """The second panel's title and line labels: D's probabilities for a GAN, the critic's raw
    values (unbounded, no sigmoid) for a Wasserstein run."""
    if wasserstein:
        return {"title": "critic values f(x) and f(G(z))", "d_real": "f(x)", "d_fake": "f(G(z))"}
    return {"title": "D(x) and D(G(z))", "d_real": "D(x)", "d_fake": "D(G(z))"}


def plot_losses(run_dir: str | Path, out: str | Path | None = None) -> Path | None:
    """Two panels: the losses, and mean D(x) vs D(G(z)) (a critic's f(x) vs f(G(z))), against the step;
    a third, the quality checks of training (FID, or the high-quality share on a toy mixture),
    when the log holds them. Drawn from RUN/log.jsonl into ``out`` (default RUN/losses.png); None
    when the log is empty.

    Runs with the Wasserstein loss (``config.yaml`` beside the log says ``loss: wasserstein``) get a
    third panel: the critic's estimate of the Wasserstein-1 distance, -d_loss = E f(x) - E f(G(z))
    (d_loss is logged without the gradient penalty), the curve that tracks sample quality
    (Arjovsky et al. 2017, figure 3)."""
    rows = rundir.read_log(run_dir)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = dict.fromkeys(k for r in rows for k in r)  # every key, in order of appearance
    loss_keys = [k for k in keys if k.endswith("_loss") or k in ("gp", "r1", "recon", "kl")]
    wasserstein = _is_wasserstein(Path(run_dir))
    names = value_names(wasserstein)
    estimate = [(r["step"], -r["d_loss"]) for r in rows if "d_loss" in r] if wasserstein else []
    quality = next((k for k in QUALITY if k in keys), None)
    panels = 2 + bool(estimate) + bool(quality)
    fig, axes = plt.subplots(1, panels, figsize=(4.5 * panels, 3.2), dpi=90)
    for k in loss_keys:
        pts = [(r["step"], r[k]) for r in rows if k in r]
        axes[0].plot(*zip(*pts), label=k, lw=1, marker="o" if len(pts) < 3 else None)
    axes[0].set_xlabel("step")
    axes[0].set_title("losses", fontsize=9)
    axes[0].legend(fontsize=7)
    for k in ("d_real", "d_fake"):
        pts = [(r["step"], r[k]) for r in rows if k in r]
        if pts:
            axes[1].plot(*zip(*pts), label=names[k], lw=1, marker="o" if len(pts) < 3 else None)
    axes[1].set_xlabel("step")
    axes[1].set_title(names["title"], fontsize=9)
    if axes[1].lines:
        axes[1].legend(fontsize=7)
    if estimate:
        axes[2].plot(*zip(*estimate), lw=1, color="tab:red", marker="o" if len(estimate) < 3 else None)
        axes[2].set_xlabel("step")
        axes[2].set_title("critic's estimate of W: -d_loss = f(x) - f(G(z))", fontsize=9)
    if quality:
        pts = [(r["step"], r[quality]) for r in rows if quality in r]
        ax = axes[-1]
        ax.plot(*zip(*pts), lw=1, color="tab:green", marker="o")
        if quality == "fid" and min(p[1] for p in pts) > 0:
            ax.set_yscale("log")  # FID falls by orders of magnitude early on
        ax.set_xlabel("step")
        ax.set_title(QUALITY[quality], fontsize=9)
    # Fixed margins instead of tight_layout, which lays the figure out by drawing it once more than
    # savefig does: 0.9 s a figure on a 2-core CPU, drawn at every epoch's end.
    width = 4.5 * panels  # inches: 0.6 on the left for the tick labels, 0.15 on the right
    fig.subplots_adjust(left=0.6 / width, right=1 - 0.15 / width, bottom=0.15, top=0.91, wspace=0.28)
    out = Path(out) if out is not None else rundir.losses_path(run_dir)
    return save_figure(fig, out)
