"""Samples of toy-mixture runs against the mixture's modes, side by side (docs/benchmarks.md, "Mode coverage").

    .venv/bin/python bench/modes_figure.py runs/modes-ring-plain runs/modes-ring --out docs/figures/modes-ring.png

Each run draws 2,500 samples (seed 0) and is scored like `gankit evaluate` scores it; each panel's
title gives the run, its modes covered (a fifth of the fair share) and its high-quality share.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import gankit  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.metrics.evaluate import mixture_stats  # noqa: E402
from gankit.sampling.grid import save_modes  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories of one toy mixture")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("-n", type=int, default=2500)
    a = p.parse_args()
    panels, mixture = [], None
    for path in a.runs:
        run = gankit.load(path)
        mixture = load_dataset(run.config.data, split="test", n=10).extra["mixture"]
        x = run.sample(a.n, seed=0)["images"]
        s = mixture_stats(x, mixture)
        title = f"{Path(path).name}: {s['modes_covered']}/{s['num_modes']} modes, {s['high_quality']:.0%} high quality"
        panels.append((title, x))
        print(title)
    print(f"wrote {save_modes(panels, mixture.means, mixture.std, a.out)}")


if __name__ == "__main__":
    main()
