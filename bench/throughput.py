"""Training throughput: gankit's engine vs a plain fp32 PyTorch loop, in one run.

Both train the same network on the same in-memory MNIST tensor with the same batch size and
optimiser; the plain loop is what a tutorial writes (fp32, sigmoid-free BCE-with-logits, one
G forward reused for both updates). Prints img/s for each and the ratio.

    .venv/bin/python bench/throughput.py                     # seed-000 DCGAN, this machine
    .venv/bin/python bench/throughput.py --model mlp --config configs/seed-004-mlp.yaml
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import torch
import torch.nn.functional as F

import gankit
from gankit import config as config_mod
from gankit.data import load_dataset
from gankit.registry import MODELS
from gankit.training.engine import resolve_precision


def plain_loop(cfg, data, steps: int, device) -> float:
    """img/s of a textbook fp32 loop over the same model and data."""
    torch.manual_seed(0)
    nets = MODELS.get(cfg.model).build(cfg, data).to(device)
    G, D = nets["G"], nets["D"]
    og = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    od = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    x_all = data.x.to(device)
    B = cfg.batch_size

    def step(i):
        idx = torch.randint(0, len(x_all), (B,), device=device)
        x = x_all[idx]
        z = torch.randn(B, cfg.z_dim, device=device)
        fake = G(z)
        r, f = D(x), D(fake.detach())
        d_loss = F.binary_cross_entropy_with_logits(r, torch.ones_like(r)) + \
            F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        od.zero_grad()
        d_loss.backward()
        od.step()
        f = D(fake)
        g_loss = F.binary_cross_entropy_with_logits(f, torch.ones_like(f))
        og.zero_grad()
        g_loss.backward()
        og.step()

    for i in range(3):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * B / (time.perf_counter() - t)


def engine(cfg, steps: int, out: str) -> float:
    """img/s through gankit.train: one epoch of 5 warm-up steps + ``steps``, logged every 5 steps;
    the warm-up interval is left out, as in the plain loop."""
    steps = max(5, steps - steps % 5)
    run = gankit.train(cfg, overwrite=True, out=out, epochs=1, progress=False, report=False,
                       log_every=5, limit=cfg.batch_size * (steps + 5), grid_size=16)
    rates = [r["img_per_s"] for r in run.log[1:] if r["step"] % 5 == 0]
    return sum(rates) / len(rates)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/seed-000-dcgan.yaml")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="auto")
    p.add_argument("--out", default="runs/bench-throughput")
    p.add_argument("--repeats", type=int, default=3, help="alternating plain/engine measurements (median)")
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args()
    cfg = config_mod.resolve(config_mod.read_file(a.config), {"device": a.device, "precision": a.precision})
    from gankit.training.distributed import resolve_device

    device = resolve_device(cfg.device)
    data = load_dataset(cfg.data, cfg.data_dir, "train", cfg.batch_size * (a.steps + 5))
    plains, fasts = [], []
    for _ in range(a.repeats):  # alternated, so a change in machine load hits both alike
        plains.append(plain_loop(cfg, data, a.steps, device))
        fasts.append(engine(cfg, a.steps, a.out))
    plain, fast = sorted(plains)[len(plains) // 2], sorted(fasts)[len(fasts) // 2]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    res = {"config": a.config, "device": str(device), "device_name": name, "threads": torch.get_num_threads(),
           "batch_size": cfg.batch_size, "plain_fp32_img_per_s": round(plain, 1),
           "gankit_img_per_s": round(fast, 1), "ratio": round(fast / plain, 2)}
    print(f"{a.config} on {device} ({name}, {res['threads']} threads), batch {cfg.batch_size}")
    print(f"  plain fp32 PyTorch loop : {plain:8.1f} img/s   (runs: {', '.join(f'{v:.0f}' for v in plains)})")
    print(f"  gankit engine           : {fast:8.1f} img/s   (runs: {', '.join(f'{v:.0f}' for v in fasts)}; "
          f"precision {resolve_precision(cfg.precision, device, data)})")
    print(f"  ratio                   : {fast / plain:8.2f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
