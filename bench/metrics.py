"""The full evaluation suite on 10,000 vs 10,000 MNIST images: cold, then with the real features cached.

One ``gankit.evaluate`` call computes FID, KID, precision/recall, density/coverage, the classifier
scores and memorisation, and their real-vs-real floors. The samples are 10,000 real MNIST
training images outside the 10,000 reference training images, or a run's samples with ``--run``.
The first call starts from an empty feature cache (the judge reads 60,000 train and 10,000 test
images, and the floors are computed); the next ones find features and floors cached and only
judge the samples and compute the figures.

    .venv/bin/python bench/metrics.py                  # real images stand in for samples
    .venv/bin/python bench/metrics.py --run runs/demo  # a trained run's samples
    .venv/bin/python bench/metrics.py --threads 1      # one torch thread (faster on a busy machine)
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
    ap.add_argument("--repeats", type=int, default=2, help="cached calls after the first one")
    ap.add_argument("--cache", help="GANKIT_CACHE to use (default: a new empty folder, so the first call is cold)")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ["GANKIT_CACHE"] = args.cache or tempfile.mkdtemp(prefix="gankit-bench-")

    if args.run:
        what = f"{args.n} samples of {args.run}"

        def once():
            return gankit.evaluate(args.run, n=args.n, out=os.path.join(os.environ["GANKIT_CACHE"], "eval.json"))
    else:
        train = load_dataset("mnist", split="train")  # fills the dataset cache before timing
        others = np.setdiff1d(np.arange(len(train)), reference_subset(len(train), args.n))
        images = train.x[np.random.default_rng(1).permutation(others)[:args.n]]  # (n, 1, 28, 28) in [-1, 1]
        what = f"{args.n} MNIST training images outside the reference set as samples"

        def once():
            return gankit.evaluate(samples=images, data="mnist", n=args.n)

    times = []
    for _ in range(1 + max(1, args.repeats)):
        t = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - t)
    print(format_table(result))
    print(json.dumps({
        "what": what, "n": result["n"], "n_train": result["n_train"], "cache": os.environ["GANKIT_CACHE"],
        "first_s": round(times[0], 2), "first_was_cold": not args.cache,
        "cached_s": [round(t, 2) for t in times[1:]], "cached_best_s": round(min(times[1:]), 2),
        "cached_parts_s": result["seconds"],
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
        "torch": torch.__version__,
    }, indent=1))


if __name__ == "__main__":
    main()
