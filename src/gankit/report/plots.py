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


def plot_losses(log_path: str | Path, out_path: str | Path) -> Path | None:
    """Two panels: the losses, and mean D(x) vs D(G(z)) (or critic values), against the step."""
    rows = read_log(log_path)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loss_keys = [k for k in rows[-1] if k.endswith("_loss") or k in ("gp", "r1", "recon", "kl")]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=90)
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
    fig.tight_layout()
    out = Path(out_path)
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(out)
    return out
