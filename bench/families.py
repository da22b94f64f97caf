"""Training throughput of every model family on this machine: images per second over short runs.

    .venv/bin/python bench/families.py                            # 8x8 digits, batch 64, 30 timed steps
    .venv/bin/python bench/families.py --data mnist --steps 20    # 28x28 MNIST (needs the data)
    .venv/bin/python bench/families.py --models acgan vae --precision fp32 --threads 1

Each family is built by the engine's ``Trainer`` with its own defaults (plus --width and
--batch-size), then its step function runs on real batches: a few warm-up steps, then --steps
timed ones. Only the steps are timed: no checkpoints, grids or logs. img/s counts the real images
of each batch (a D update and, every n_critic steps, a G update; WGAN's G updates 1 step in 5).
The latent GAN first trains a small autoencoder for one epoch, to have codes to train on.
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

import gankit
from gankit import config as config_mod
from gankit.registry import MODELS
from gankit.training.engine import Trainer

WARMUP = 5


def bench(model: str, args, workdir: Path) -> dict:
    settings = {"model": model, "data": args.data, "data_dir": args.data_dir, "batch_size": args.batch_size,
                "width": args.width, "precision": args.precision, "device": args.device,
                "out": str(workdir / model), "progress": False}
    if model == "latent-gan":
        ae = gankit.train({**settings, "model": "ae", "epochs": 1, "limit": 2048, "report": False,
                           "out": str(workdir / "ae-for-latent-gan")})
        settings["ae_run"] = str(ae.path)
    tr = Trainer(config_mod.resolve(settings))
    B = tr.global_batch
    perm = torch.randperm(len(tr.data), generator=torch.Generator().manual_seed(0)).to(tr.device)

    def run(steps: int) -> None:
        for _ in range(steps):
            i = (tr.step * B) % (len(tr.data) - B + 1)
            idx = perm[i:i + B]
            tr.step_fn(tr, tr.data.x[idx], None if tr.data.y is None else tr.data.y[idx])
            tr.step += 1
        if tr.device.type == "cuda":
            torch.cuda.synchronize(tr.device)

    run(WARMUP)
    t0 = time.perf_counter()
    run(args.steps)
    dt = time.perf_counter() - t0
    return {"model": model, "img_per_s": B * args.steps / dt, "ms_per_step": 1000 * dt / args.steps,
            "batch": B, "precision": tr.precision, "params": sum(p.numel() for p in tr.nets.parameters())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=[m for m in MODELS.names()])
    p.add_argument("--data", default="digits")
    p.add_argument("--data-dir", default="")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--precision", default="auto")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; data {args.data}, batch {args.batch_size}, width {args.width}, "
          f"{args.steps} timed steps")
    print(f"{'model':12s} {'img/s':>9s} {'ms/step':>8s} {'params':>10s}  precision")
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            r = bench(model, args, Path(tmp))
            print(f"{r['model']:12s} {r['img_per_s']:9.0f} {r['ms_per_step']:8.1f} {r['params']:10d}  "
                  f"{r['precision']}", flush=True)


if __name__ == "__main__":
    main()
