"""Mode coverage of runs side by side (docs/benchmarks.md, "Mode coverage").

    .venv/bin/python bench/modes_figure.py runs/modes-ring-plain runs/modes-ring --out docs/figures/modes-ring.png
    .venv/bin/python bench/modes_figure.py runs/sm-plain runs/sm-pack2 runs/modes-stacked-mnist \
        --out docs/figures/modes-stacked-mnist.png

Toy mixtures: each run draws 2,500 samples (seed 0) and is scored like `gankit evaluate` scores
it; each panel's title gives the run, its modes covered (a fifth of the fair share) and its
high-quality share. Stacked MNIST: each run's mode histogram from its eval.json (run
`gankit evaluate RUN` first: 26,000 samples, the papers' count), sorted, one line per run, with
modes hit and reverse KL in the legend and the real test images' histogram beside them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import gankit  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.metrics.evaluate import mixture_stats  # noqa: E402
from gankit.rundir import read_config, read_eval  # noqa: E402
from gankit.sampling.grid import save_mode_histogram, save_modes  # noqa: E402


def _named(arg: str) -> tuple:
    """'LABEL=RUN' or 'RUN' (labelled with its folder's name)."""
    label, sep, path = arg.rpartition("=")
    return (label, path) if sep else (Path(arg).name, arg)


def stacked(args: list, out: str) -> None:
    lines, real = [], None
    for name, path in map(_named, args):
        ev = read_eval(Path(path))
        if ev is None or ev.get("kind") != "stacked":
            sys.exit(f"modes_figure.py: {path}: no Stacked MNIST eval.json; run `gankit evaluate {path}` first")
        m = ev["metrics"]
        label = (f"{name}: {m['modes_hit']['value']}/1000 modes hit, "
                 f"reverse KL {m['modes_kl']['value']:.3f}")
        lines.append((label, ev["histogram"]["samples"]))
        real = ev["histogram"]["real"]
        print(label)
    print(f"wrote {save_mode_histogram(lines, out, real=real)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories of one dataset, each RUN or LABEL=RUN")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("-n", type=int, default=2500)
    a = p.parse_args()
    if read_config(_named(a.runs[0])[1]).get("data") == "stacked-mnist":
        return stacked(a.runs, a.out)
    panels, mixture = [], None
    for name, path in map(_named, a.runs):
        run = gankit.load(path)
        mixture = load_dataset(run.config.data, split="test", n=10).extra["mixture"]
        x = run.sample(a.n, seed=0)["images"]
        s = mixture_stats(x, mixture)
        title = f"{name}: {s['modes_covered']}/{s['num_modes']} modes, {s['high_quality']:.0%} high quality"
        panels.append((title, x))
        print(title)
    print(f"wrote {save_modes(panels, mixture.means, mixture.std, a.out)}")


if __name__ == "__main__":
    main()
