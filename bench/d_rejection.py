"""Discriminator rejection sampling (Azadi et al. 2019) as a probe: does D's opinion of a sample
pick the ones the judge reads surely?

D of a non-saturating GAN estimates log(p_data(x) / p_g(x)) by its logit. Rejection sampling keeps
a sample x of G with probability min(1, exp(logit(x) - M)): with M the largest logit it draws
from p_data where D is exact; a lower M (a quantile of the logits, here) keeps more samples and
corrects less. This draws a pool of samples from the run's sampling generator, reads D's logit on
each (D in training mode, batches of 256 fakes as it saw them, or in eval mode with its running
statistics), keeps samples by that rule, and judges the first n kept as ``gankit evaluate`` does.

    .venv/bin/python bench/d_rejection.py RUN [--pool 40000] [--quantiles 0.5 0.9] [--d-mode train]
"""
from __future__ import annotations

import argparse
import sys

import torch

import gankit
from gankit.errors import GankitError

SHOWN = ("fid", "classifier_score", "classes_covered", "precision", "recall", "mean_confidence")


@torch.no_grad()
def logits_of(D: torch.nn.Module, x: torch.Tensor, train_mode: bool) -> torch.Tensor:
    D.train(train_mode)
    return torch.cat([D(x[i:i + 256]).float().flatten() for i in range(0, len(x), 256)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--pool", type=int, default=40_000, help="samples drawn before rejection")
    p.add_argument("--quantiles", type=float, nargs="+", default=[0.5, 0.9],
                   help="M as these quantiles of the pool's logits (0: keep every sample)")
    p.add_argument("--d-mode", choices=("train", "eval"), default="train")
    p.add_argument("-n", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        run = gankit.load(args.run)
    except GankitError as e:
        print(f"d_rejection: {e}", file=sys.stderr)
        return 2
    if "D" not in run.nets:
        print(f"d_rejection: {args.run} has no discriminator D", file=sys.stderr)
        return 2
    x = run.sample(args.pool, seed=args.seed)["images"] * 2 - 1  # the range D was trained on
    logit = logits_of(run.nets["D"], x, args.d_mode == "train")
    print("logit at the 1st, 10th, 50th, 90th, 99th percentile:",
          ", ".join(f"{float(q):.3f}" for q in torch.quantile(logit, torch.tensor([0.01, 0.1, 0.5, 0.9, 0.99]))))
    g = torch.Generator().manual_seed(args.seed + 1)
    for q in args.quantiles:
        if q <= 0:
            keep = torch.arange(len(logit))
        else:
            accept = torch.exp(logit - torch.quantile(logit, q)).clamp(max=1.0)
            keep = torch.nonzero(torch.rand(len(logit), generator=g) < accept).flatten()
        line = f"M at quantile {q:g}: kept {len(keep)} of {len(logit)} ({len(keep) / len(logit):.1%})"
        if len(keep) < args.n:
            print(f"{line}; too few to judge {args.n}")
            continue
        m = gankit.evaluate(samples=x[keep[:args.n]], data=run.config.data, n=args.n, seed=args.seed)["metrics"]
        figures = {k: m[k]["value"] for k in SHOWN if isinstance(m.get(k), dict) and m[k].get("value") is not None}
        print(line + "; " + ", ".join(f"{k} {v:.4g}" for k, v in figures.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
