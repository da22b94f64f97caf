"""Loss curves and D(x)/D(G(z)) over training, from log.jsonl."""
from __future__ import annotations

import json
from pathlib import Path


def read_log(path: str | Path) -> list[dict]:
    rows = []
    p = Path(path)
    if not p.exists():
        return rows
    for line in p.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def _is_wasserstein(log_path: str | Path) -> bool:
    """True when the run beside ``log_path`` trains with the Wasserstein loss (wgan, wgan-gp)."""
    import yaml

    try:
        cfg = yaml.safe_load((Path(log_path).parent / "config.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(cfg, dict) and cfg.get("loss") == "wasserstein"


QUALITY = {"fid": "FID (judge, lower is better)", "high_quality": "high-quality share of samples (higher is better)"}


def plot_losses(log_path: str | Path, out_path: str | Path) -> Path | None:
    """Two panels: the losses, and mean D(x) vs D(G(z)) (or critic values), against the step;
    a third, the quality checks of training (FID, or the high-quality share on a toy mixture),
    when the log holds them.

    Runs with the Wasserstein loss (``config.yaml`` beside the log says ``loss: wasserstein``) get a
    third panel: the critic's estimate of the Wasserstein-1 distance, -d_loss = E D(x) - E D(G(z))
    (d_loss is logged without the gradient penalty), the curve that tracks sample quality
    (Arjovsky et al. 2017, figure 3)."""
    rows = read_log(log_path)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = dict.fromkeys(k for r in rows for k in r)  # every key, in order of appearance
    loss_keys = [k for k in keys if k.endswith("_loss") or k in ("gp", "r1", "recon", "kl")]
    estimate = [(r["step"], -r["d_loss"]) for r in rows if "d_loss" in r] if _is_wasserstein(log_path) else []
    quality = next((k for k in QUALITY if k in keys), None)
    panels = 2 + bool(estimate) + bool(quality)
    fig, axes = plt.subplots(1, panels, figsize=(4.5 * panels, 3.2), dpi=90)
    for k in loss_keys:
        pts = [(r["step"], r[k]) for r in rows if k in r]
        axes[0].plot(*zip(*pts), label=k, lw=1, marker="o" if len(pts) < 3 else None)
    axes[0].set_xlabel("step")
    axes[0].set_title("losses", fontsize=9)
    axes[0].legend(fontsize=7)
    for k, name in (("d_real", "D(x)"), ("d_fake", "D(G(z))")):
        pts = [(r["step"], r[k]) for r in rows if k in r]
        if pts:
            axes[1].plot(*zip(*pts), label=name, lw=1, marker="o" if len(pts) < 3 else None)
    axes[1].set_xlabel("step")
    axes[1].set_title("D(x) and D(G(z))", fontsize=9)
    if axes[1].lines:
        axes[1].legend(fontsize=7)
    if estimate:
        axes[2].plot(*zip(*estimate), lw=1, color="tab:red", marker="o" if len(estimate) < 3 else None)
        axes[2].set_xlabel("step")
        axes[2].set_title("critic's estimate of W: -d_loss = D(x) - D(G(z))", fontsize=9)
    if quality:
        pts = [(r["step"], r[quality]) for r in rows if quality in r]
        ax = axes[-1]
        ax.plot(*zip(*pts), lw=1, color="tab:green", marker="o")
        if quality == "fid" and min(p[1] for p in pts) > 0:
            ax.set_yscale("log")  # FID falls by orders of magnitude early on
        ax.set_xlabel("step")
        ax.set_title(QUALITY[quality], fontsize=9)
    fig.tight_layout()
    out = Path(out_path)
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(out)
    return out
