"""The full evaluation suite on 10,000 vs 10,000 MNIST images: cold, then with the real features cached.

One ``gankit.evaluate`` call computes FID, KID, precision/recall, density/coverage, the classifier
scores and memorisation, and their real-vs-real floors. The samples are 10,000 real MNIST
training images outside the 10,000 reference training images, or a run's samples with ``--run``. The first call starts from an
empty feature cache (the judge reads 60,000 train and 10,000 test images, and the floors are
computed); the second finds the features and floors cached and only judges the samples.

    .venv/bin/python bench/metrics.py                  # real images stand in for samples
    .venv/bin/python bench/metrics.py --run runs/demo  # a trained run's samples
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np
import torch

import gankit
from gankit.data import load_dataset
from gankit.metrics.evaluate import format_table, reference_subset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--run", help="evaluate this run's samples instead of real training images")
    ap.add_argument("--repeats", type=int, default=2, help="cached calls after the cold one (best is kept)")
    args = ap.parse_args()

    os.environ["GANKIT_CACHE"] = tempfile.mkdtemp(prefix="gankit-bench-")  # a cold feature cache
    kw = {"n": args.n}
    if args.run:
        target = {"run": args.run}
        what = f"{args.n} samples of {args.run}"
    else:
        train = load_dataset("mnist", split="train")  # fills the dataset cache before timing
        others = np.setdiff1d(np.arange(len(train)), reference_subset(len(train), args.n))
        images = train.x[np.random.default_rng(1).permutation(others)[:args.n]]  # (n, 1, 28, 28) in [-1, 1]
        target = {"samples": images, "data": "mnist"}
        what = f"{args.n} MNIST training images outside the reference set as samples"

    def once():
        t = time.perf_counter()
        if "run" in target:
            r = gankit.evaluate(target["run"], out=os.path.join(os.environ["GANKIT_CACHE"], "eval.json"), **kw)
        else:
            r = gankit.evaluate(samples=target["samples"], data="mnist", **kw)
        return time.perf_counter() - t, r

    cold, result = once()
    cached = []
    for _ in range(max(1, args.repeats)):
        dt, result = once()
        cached.append(dt)
    print(format_table(result))
    print(json.dumps({
        "what": what, "n": result["n"], "n_train": result["n_train"],
        "cold_s": round(cold, 2), "cached_s": [round(c, 2) for c in cached], "cached_best_s": round(min(cached), 2),
        "cached_parts_s": result["seconds"],
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
        "torch": torch.__version__,
    }, indent=1))


if __name__ == "__main__":
    main()
