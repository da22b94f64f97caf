"""Mode coverage on the 2-D mixtures: settings of the fully connected GAN against the papers' measures.

    .venv/bin/python bench/modes.py --data ring --epochs 100 --variants plain,r1,z2-r1-3l [--seeds 0,1]

Each variant trains `configs/course-ring.yaml`'s network (two hidden layers of 128, z = 8, Adam
1e-3, batch 256, EMA 0.99) with its changes, for the given epochs, once per seed, then evaluates
2,500 samples like `gankit evaluate` does (metrics/toy.py): modes covered (a fifth of the fair
share, PacGAN's rule), modes hit (at least one), the high-quality share (within 3 std) and the
reverse KL. One JSON line per run, then a Markdown table (docs/benchmarks.md, "Mode coverage").
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import gankit  # noqa: E402

BASE = {"model": "mlp", "loss": "nonsaturating", "hidden": [128, 128], "z_dim": 8, "dropout": 0.0,
        "batch_size": 256, "lr_g": 1e-3, "lr_d": 1e-3, "ema": 0.99, "progress": False, "report": False,
        "checkpoint_every": 1000, "eval_every": -1}

VARIANTS = {
    "plain": {},
    "r1": {"r1_gamma": 0.1},
    "r1-gamma1": {"r1_gamma": 1.0},
    "pack2": {"pack": 2},
    "r1-pack2": {"r1_gamma": 0.1, "pack": 2},
    "sn": {"spectral_norm": True},
    "r1-ema999": {"r1_gamma": 0.1, "ema": 0.999},
    "r1-lr3e-4": {"r1_gamma": 0.1, "ema": 0.999, "lr_g": 3e-4, "lr_d": 3e-4},
    "r1-batch1024": {"r1_gamma": 0.1, "ema": 0.999, "batch_size": 1024},
    "r1-beta0": {"r1_gamma": 0.1, "ema": 0.999, "beta1": 0.0, "beta2": 0.9},
    "r1-z2-ema999": {"r1_gamma": 0.1, "ema": 0.999, "z_dim": 2},
    "z2-r1": {"r1_gamma": 0.1, "z_dim": 2},
    "z2-r1-w256": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [256, 256]},
    "z2-r1-lsgan": {"r1_gamma": 0.1, "z_dim": 2, "loss": "lsgan"},
    "z2-r1-3l": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 3},
    "z2-r1-3l-linear": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 3, "lr_decay": "linear"},
    "z2-r1.01-3l": {"r1_gamma": 0.01, "z_dim": 2, "hidden": [128] * 3},
    "z2-r1.001-3l": {"r1_gamma": 0.001, "z_dim": 2, "hidden": [128] * 3},
    "z2-r1.03-3l": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3},
    "z2-r1.03-3l-w256": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [256] * 3},
    "z2-r1.03-3l-lr2e-3": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3, "lr_g": 2e-3, "lr_d": 2e-3},
    "z2-r1.03-4l": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 4},
    "z2-r1.03-5l": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 5},
    "z2-r1.03-6l": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 6},
    # the grid's probes: the ring recipe's settings collapse there
    "z2-r1.1-3l": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 3},
    "z2-r1.3-3l": {"r1_gamma": 0.3, "z_dim": 2, "hidden": [128] * 3},
    "z2-r1.03-4l-lr3e-4": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 4, "lr_g": 3e-4, "lr_d": 3e-4},
    "z2-r1.03-6l-lr3e-4": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 6, "lr_g": 3e-4, "lr_d": 3e-4},
    "z2-r1.03-3l-ema999": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3, "ema": 0.999},
    "z2-r1.03-3l-nc2": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3, "n_critic": 2},
    "z2-r1.03-3l-pack2": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3, "pack": 2},
    "z4-r1.03-3l": {"r1_gamma": 0.03, "z_dim": 4, "hidden": [128] * 3},
    "z2-r1.03-3l-b64": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3, "batch_size": 64},
    "z2-r1.03-3l-beta9": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3, "beta1": 0.9},
    "z2-r1.1-3l-w512": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [512] * 3},
    "z2-r1.1-4l": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 4},
    "z2-r1.1-4l-w256": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [256] * 4},
    "z2-r1.1-3l-linear": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 3, "lr_decay": "linear"},
    "z2-r1.1-6l-lr5e-4": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 6, "lr_g": 5e-4, "lr_d": 5e-4},
    "z2-r1.1-3l-relu": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 3, "leak": 0.0},
    "z2-r1.1-3l-b128": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 3, "batch_size": 128},
    # ReLU (leak 0) lets G map whole regions of z onto one point, which a LeakyReLU cannot
    "z2-r1.03-3l-relu": {"r1_gamma": 0.03, "z_dim": 2, "hidden": [128] * 3, "leak": 0.0},
    "z2-r1.3-3l-relu": {"r1_gamma": 0.3, "z_dim": 2, "hidden": [128] * 3, "leak": 0.0},
    "z2-r1.1-4l-relu": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 4, "leak": 0.0},
    "z2-r1.1-6l-relu": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 6, "leak": 0.0},
    "z2-r1.1-3l-relu-w256": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [256] * 3, "leak": 0.0},
    "z2-r1.1-3l-relu-b128": {"r1_gamma": 0.1, "z_dim": 2, "hidden": [128] * 3, "leak": 0.0, "batch_size": 128},
    "z8-r1.1-3l-relu": {"r1_gamma": 0.1, "z_dim": 8, "hidden": [128] * 3, "leak": 0.0},
    "relu-plain-3l": {"z_dim": 2, "hidden": [128] * 3, "leak": 0.0},
    "z2-r1.3-3l-relu-w256": {"r1_gamma": 0.3, "z_dim": 2, "hidden": [256] * 3, "leak": 0.0},
    "z2-r1-3l-relu": {"r1_gamma": 1.0, "z_dim": 2, "hidden": [128] * 3, "leak": 0.0},
    "z2-r1.3-4l-relu": {"r1_gamma": 0.3, "z_dim": 2, "hidden": [128] * 4, "leak": 0.0},
    "z2-r1.3-3l-relu-ema999": {"r1_gamma": 0.3, "z_dim": 2, "hidden": [128] * 3, "leak": 0.0, "ema": 0.999},
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="ring", choices=["ring", "grid"])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--minutes", type=float, default=0.0, help="a time budget instead of --epochs")
    p.add_argument("--variants", default="plain", help="comma-separated, from: " + ", ".join(VARIANTS))
    p.add_argument("--seeds", default="0,1")
    p.add_argument("-n", type=int, default=2500, help="samples per evaluation")
    a = p.parse_args()
    names = [v for v in a.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        p.error(f"--variants: unknown {unknown[0]!r}; valid: {', '.join(VARIANTS)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for seed in (int(s) for s in a.seeds.split(",")):
                out = Path(tmp) / f"{a.data}-{name}-{seed}"
                budget = {"epochs": 0, "minutes": a.minutes} if a.minutes else {"epochs": a.epochs}
                run = gankit.train({**BASE, **VARIANTS[name], **budget, "data": a.data, "seed": seed, "out": str(out)})
                m = gankit.evaluate(out, n=a.n)["metrics"]
                row = {"variant": name, "seed": seed, "steps": run.state["step"], "covered": m["modes_covered"]["value"],
                       "hit": m["modes_hit"]["value"], "of": m["modes_covered"]["of"],
                       "high_quality": round(m["high_quality"]["value"], 3), "reverse_kl": m["reverse_kl"]["value"]}
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(f"\n{a.data}, {f'{a.minutes} minutes' if a.minutes else f'{a.epochs} epochs'}, n={a.n}\n")
    print("| variant | seed | steps | modes covered | modes hit | high quality | reverse KL |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        kl = "-" if r["reverse_kl"] is None else f"{r['reverse_kl']:.3f}"
        print(f"| {r['variant']} | {r['seed']} | {r['steps']} | {r['covered']}/{r['of']} | {r['hit']}/{r['of']} | "
              f"{r['high_quality']:.3f} | {kl} |")


if __name__ == "__main__":
    main()
