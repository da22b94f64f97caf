"""Can the metrics be fooled? Garbage and a half-collapsed set of real digits, scored by `gankit evaluate`.

    .venv/bin/python bench/metric_honesty.py [-n 4000]

Each row is a set of n "samples" given to ``gankit.evaluate(samples=..., data="mnist")``:

* real test digits (held out from the floor's images), the reference;
* real test digits of the classes 0-4 only (a generator that dropped half the classes; the issue
  that coverage by "predicted at least once" reported as 10 of 10);
* uniform noise, a flat grey image per sample (random level), checkerboards of period 1-7,
  and real test digits with their pixels shuffled.

It prints one Markdown table (docs/benchmarks.md, "Metrics that cannot be fooled").
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import gankit  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.metrics import modes_hit  # noqa: E402
from gankit.metrics.evaluate import reference_subset  # noqa: E402


def sample_sets(n: int, seed: int) -> dict:
    """name -> images (n, 1, 28, 28) in [-1, 1]."""
    test = load_dataset("mnist", split="test")
    gen = torch.Generator().manual_seed(seed)
    others = np.setdiff1d(np.arange(len(test)), reference_subset(len(test), n))  # not the floor's own images
    real = test.x[torch.as_tensor(np.random.default_rng(seed).permutation(others))]  # the file is ordered
    low = test.x[test.y < 5]  # 5,139 images
    period = torch.randint(1, 8, (n,), generator=gen)  # (n,)
    idx = torch.arange(28)
    boards = ((idx[None, :, None] // period[:, None, None] + idx[None, None, :] // period[:, None, None]) % 2)
    return {
        "real test digits": real[:n],
        "real digits 0-4 only": low[:n],
        "uniform noise": torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1,
        "flat grey": (torch.rand(n, generator=gen) * 2 - 1)[:, None, None, None].expand(n, 1, 28, 28).contiguous(),
        "checkerboards": boards[:, None].float() * 2 - 1,
        "shuffled digits": real[:n].reshape(n, -1)[:, torch.randperm(784, generator=gen)].reshape(n, 1, 28, 28),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=4000, help="images per set (the digits 0-4 of the test split: at most ~4,000)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rows, floor = [], None
    for name, x in sample_sets(a.n, a.seed).items():
        ev = gankit.evaluate(samples=x, data="mnist", n=len(x), seed=a.seed)
        m = ev["metrics"]
        floor = floor or (ev["n"], ev["judge"]["name"], m)
        m["classes_hit"] = {"value": modes_hit(ev["histogram"]["samples"]), "floor": modes_hit(ev["histogram"]["real"])}
        rows.append((name, ev["n"], m))
    n, judge, fm = floor
    print(f"judge {judge}; floor: real test images against real training images at n={n}\n")
    cols = ("read_as_digit", "mean_confidence", "classifier_score", "classes_covered", "classes_hit", "fid",
            "precision")
    print("| samples | n | read as digits | mean confidence | classifier score | classes covered | "
          "classes hit once | FID | precision |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    def fmt(name, v):
        if v is None:
            return "-"
        if name in ("classes_covered", "classes_hit"):
            return f"{v}/10"
        return f"{v:.1f}" if name == "fid" else f"{v:.3f}"

    for name, count, m in rows:
        print(f"| {name} | {count} | " + " | ".join(fmt(c, m[c]["value"]) for c in cols) + " |")
    print(f"| floor (n={n}) | {n} | " + " | ".join(fmt(c, fm[c]["floor"]) for c in cols) + " |")


if __name__ == "__main__":
    main()
