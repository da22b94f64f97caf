"""Does bf16 spoil the samples? The same recipe, seed and number of steps in fp32 and in bf16,
judged by the same metrics, with both final grids saved side by side.

    .venv/bin/python bench/precision.py                          # default recipe, 2 epochs of 12,800 MNIST images
    .venv/bin/python bench/precision.py --epochs 3 --limit 60000 -n 10000    # the figure in docs/benchmarks.md
"""
from __future__ import annotations

import argparse
import time
from PIL import Image

import gankit
from gankit import config as config_mod
from gankit.sampling.grid import save_panels


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/default.yaml")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int, default=12800)
    p.add_argument("-n", type=int, default=5000)
    p.add_argument("--out", default="runs/bench-precision")
    p.add_argument("--figure", default="docs/figures/bf16-vs-fp32.png")
    a = p.parse_args()
    base = config_mod.read_file(a.config)
    rows, grids = [], []
    for precision in ("fp32", "bf16"):
        t = time.perf_counter()
        run = gankit.train(base, overwrite=True, precision=precision, epochs=a.epochs, minutes=0, limit=a.limit,
                           progress=False, report=False, out=f"{a.out}/{precision}")
        seconds = time.perf_counter() - t
        m = gankit.evaluate(run.path, n=a.n)["metrics"]
        rows.append((precision, run.trainer.step, seconds, m["fid"]["value"], m["kid"]["value"],
                     m["classifier_score"]["value"], m["fid"]["floor"]))
        grids.append(Image.open(run.path / "samples" / "final.png").convert("L"))
    print(f"{a.config}, {a.epochs} epochs of {a.limit} MNIST images, n={a.n}")
    print("| precision | steps | train s | FID | KID | classifier score |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]:.2f} | {r[4]:.4f} | {r[5]:.2f} |")
    print(f"FID floor (real vs real): {rows[0][6]:.2f}")
    save_panels([(f"{r[0]}: {r[1]:,} steps, FID {r[3]:.1f}", g) for r, g in zip(rows, grids)], a.figure)
    print(f"wrote {a.figure} (left fp32, right bf16)")

if __name__ == "__main__":
    main()
