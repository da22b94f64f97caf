"""Where a run's classifier score is lost: how the judge's doubt spreads over the samples.

The classifier score is exp(H(y) - E_x H(y|x)) (metrics/scores.py): with balanced classes, what
keeps it under its floor is the mean entropy of the judge's reading of each sample. This prints,
for n samples of a run and for n real test images, the quantiles of the judge's confidence
(p(digit | x) max_y p(y | x, digit), as ``mean_confidence``), the count of images it reads with
confidence under 0.9, and the share of the total entropy held by the least sure 1%, 5%, 10% and
20%. It saves the least sure 64 samples beside the 64 at the median of the entropy, so the doubt
can be seen.

    .venv/bin/python bench/judge_doubt.py RUN --figure doubt.png [-n 10000] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys

import torch

import gankit
from gankit.data import load_dataset
from gankit.errors import GankitError
from gankit.metrics.judge import judge_for
from gankit.metrics.scores import class_readings, confidences
from gankit.sampling.grid import make_grid, save_panels

SHARES = (0.01, 0.05, 0.10, 0.20)
QUANTILES = (0.01, 0.05, 0.10, 0.25, 0.50)


def doubt(judge, images: torch.Tensor) -> dict:
    """images (N, C, H, W) in [-1, 1] -> the entropy of each reading (N,) float64, and the summary."""
    out = judge(images)
    entropy = torch.special.entr(class_readings(out.probs, out.digit)).sum(dim=1)  # what classifier_score reads
    confidence = confidences(out.probs, out.digit)  # per sample, as mean_confidence averages them
    ranked = entropy.sort(descending=True).values
    n = entropy.numel()
    return {
        "entropy": entropy,
        "mean_entropy": float(entropy.mean()),
        "quantiles": [float(q) for q in torch.quantile(confidence, torch.tensor(QUANTILES, dtype=torch.float64))],
        "under_0.9": int((confidence < 0.9).sum()),
        "shares": [float(ranked[: max(1, int(f * n))].sum() / ranked.sum()) for f in SHARES],
    }


def show(name: str, r: dict, n: int) -> None:
    qs = " ".join(f"{q:.3f}" for q in r["quantiles"])
    shares = " ".join(f"{s:.1%}" for s in r["shares"])
    print(f"| {name} | {r['mean_entropy']:.4f} | {qs} | {r['under_0.9']:,} of {n:,} | {shares} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a run directory of an image GAN")
    p.add_argument("-n", type=int, default=10000, help="samples, and real test images")
    p.add_argument("--seed", type=int, default=0, help="seeds the samples")
    p.add_argument("--figure", help="save the least sure 64 samples beside 64 at the median here (PNG)")
    a = p.parse_args(argv)
    try:
        run = gankit.load(a.run)
        judge = judge_for(run.config.data)
        real = load_dataset(run.config.data, split="test").x
        if not 64 <= a.n <= real.shape[0]:
            raise GankitError(f"-n: must be in 64..{real.shape[0]}, got {a.n}")
        fake = run.sample(a.n, seed=a.seed)["images"] * 2 - 1
    except GankitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"judge {judge.name}, n = {a.n:,}; confidence quantiles at {', '.join(map(str, QUANTILES))}; "
          f"entropy held by the least sure {', '.join(f'{s:.0%}' for s in SHARES)}")
    print("\n| images | mean entropy (nats) | confidence quantiles | confidence < 0.9 | entropy share |")
    print("|---|---:|---|---:|---|")
    show("real test images", doubt(judge, real[: a.n]), a.n)
    r = doubt(judge, fake)
    show(a.run, r, a.n)
    if a.figure:
        order = r["entropy"].argsort(descending=True)
        mid = a.n // 2
        grids = [make_grid((fake[idx] + 1) / 2, nrow=8, scale=2) for idx in (order[:64], order[mid - 32:mid + 32])]
        save_panels([("the 64 samples the judge is least sure of", grids[0]),
                     ("64 samples at the median of its doubt", grids[1])], a.figure)
        print(f"\nwrote {a.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
