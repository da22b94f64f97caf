"""Training throughput of every model family: gankit's engine vs a plain fp32 PyTorch loop of the
same model, in one run.

For each family, both sides train the same networks (built by the family, same initial weights)
on the same in-memory real data, with the same batch size, optimisers and updates per step
(n_critic, gradient penalty, lazy R1, clipping, AC-GAN's class heads, the VAE's ELBO). The plain loop is
what a tutorial writes: fp32, no autocast, a random batch per step, one G forward reused for the
D and G updates. The engine side is ``gankit.train`` itself (logging, progress, EMA, the
precision it picks), timed from its log after a warm-up; no checkpoints or grids fall inside the
timed window. img/s counts the real images of each step, so WGAN's G updates once in 5 steps on
both sides.

    .venv/bin/python bench/throughput.py                               # every family, MNIST, batch 64
    .venv/bin/python bench/throughput.py --models dcgan --config configs/seed-000-dcgan.yaml
    .venv/bin/python bench/throughput.py --models dcgan mlp --compile  # also time --compile
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import gankit
from gankit import config as config_mod
from gankit.models.autoencoder import kl_normal, to_pixels
from gankit.registry import MODELS
from gankit.training.distributed import resolve_device
from gankit.training.engine import Trainer

LOG_EVERY = 5


# ---- the plain loops: one textbook step per kind of family ------------------------------------------
def _optim(cfg, modules, lr: float) -> torch.optim.Optimizer:
    params = [p for m in modules for p in m.parameters()]
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))


def _d_loss(cfg, r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    if cfg.loss == "wasserstein":
        return f.mean() - r.mean()
    return F.binary_cross_entropy_with_logits(r, torch.full_like(r, cfg.real_label)) + \
        F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))


def _g_loss(cfg, f: torch.Tensor) -> torch.Tensor:
    return -f.mean() if cfg.loss == "wasserstein" else F.binary_cross_entropy_with_logits(f, torch.ones_like(f))


def plain_gan(cfg, nets, num_classes: int):
    """GAN, cGAN, WGAN (clipping), WGAN-GP (per-example alpha) and the latent GAN."""
    G, D = nets["G"], nets["D"]
    og, od = _optim(cfg, [G], cfg.lr_g), _optim(cfg, [D], cfg.lr_d)
    cond, step = num_classes > 0, [0]

    def run(x, y):
        yf = torch.randint(0, num_classes, (x.shape[0],), device=x.device) if cond else None
        yr = y if cond else None
        fake = G(torch.randn(x.shape[0], cfg.z_dim, device=x.device), yf)
        d_loss = _d_loss(cfg, D(x, yr), D(fake.detach(), yf))
        if cfg.gp_lambda > 0:
            alpha = torch.rand(x.shape[0], *[1] * (x.dim() - 1), device=x.device)
            mix = (alpha * x + (1 - alpha) * fake.detach()).requires_grad_(True)
            grad, = torch.autograd.grad(D(mix, yr).sum(), mix, create_graph=True)
            d_loss = d_loss + cfg.gp_lambda * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        if cfg.r1_gamma > 0 and step[0] % cfg.r1_every == 0:  # lazy R1, as the engine's steps (the dcgan default)
            real = x.detach().requires_grad_(True)
            grad, = torch.autograd.grad(D(real, yr).sum(), real, create_graph=True)
            d_loss = d_loss + 0.5 * cfg.r1_gamma * cfg.r1_every * grad.flatten(1).pow(2).sum(1).mean()
        od.zero_grad()
        d_loss.backward()
        od.step()
        if cfg.clip > 0:
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-cfg.clip, cfg.clip)
        step[0] += 1
        if step[0] % cfg.n_critic == 0:
            g_loss = _g_loss(cfg, D(fake, yf))
            og.zero_grad()
            g_loss.backward()
            og.step()

    return run


def plain_acgan(cfg, nets, num_classes: int):
    G, D = nets["G"], nets["D"]
    og, od = _optim(cfg, [G], cfg.lr_g), _optim(cfg, [D], cfg.lr_d)
    step = [0]

    def run(x, y):
        B = x.shape[0]
        with torch.no_grad():
            fake = G(torch.randn(B, cfg.z_dim, device=x.device), torch.randint(0, num_classes, (B,), device=x.device))
        adv, cls = D.both(torch.cat([x, fake]))
        d_loss = _d_loss(cfg, adv[:B], adv[B:]) + F.cross_entropy(cls[:B], y)
        od.zero_grad()
        d_loss.backward()
        od.step()
        step[0] += 1
        if step[0] % cfg.n_critic == 0:
            yg = torch.randint(0, num_classes, (2 * B,), device=x.device)
            adv_g, cls_g = D.both(G(torch.randn(2 * B, cfg.z_dim, device=x.device), yg))
            g_loss = _g_loss(cfg, adv_g) + F.cross_entropy(cls_g, yg)
            og.zero_grad()
            g_loss.backward()
            og.step()

    return run


def _plain_autoencoder(cfg, nets, loss_of):
    """One Adam over encoder and decoder, minimising ``loss_of(E, G, x)``."""
    E, G = nets["E"], nets["G"]
    opt = _optim(cfg, [E, G], cfg.lr_g)

    def run(x, y):
        loss = loss_of(E, G, x)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return run


def plain_ae(cfg, nets, num_classes: int):
    return _plain_autoencoder(cfg, nets, lambda E, G, x: F.mse_loss(to_pixels(G(E(x))), to_pixels(x)))


def plain_vae(cfg, nets, num_classes: int):
    def elbo_loss(E, G, x):
        mu, logvar = E(x)
        logits = G.logits(mu + (0.5 * logvar).exp() * torch.randn_like(mu))
        recon = F.binary_cross_entropy_with_logits(logits, to_pixels(x), reduction="none").flatten(1).sum(1).mean()
        return recon + cfg.beta_kl * kl_normal(mu, logvar).mean()

    return _plain_autoencoder(cfg, nets, elbo_loss)


PLAIN = {"gan": plain_gan, "acgan": plain_acgan, "ae": plain_ae, "vae": plain_vae}


def plain_loop(cfg, steps: int) -> float:
    """img/s of the textbook fp32 loop over the family's own networks and data."""
    tr = Trainer(dataclasses.replace(cfg, precision="fp32", ema=0.0, compile=False))
    x_all, y_all, B = tr.data.x, tr.data.y, tr.global_batch
    run = PLAIN[tr.family.step](tr.cfg, tr.nets, tr.data.num_classes if tr.family.conditional else 0)
    tr.nets.train()

    def go(n: int) -> None:
        for _ in range(n):
            idx = torch.randint(0, len(x_all), (B,), device=x_all.device)
            run(x_all[idx], None if y_all is None else y_all[idx])
        if tr.device.type == "cuda":
            torch.cuda.synchronize(tr.device)

    go(LOG_EVERY)
    t = time.perf_counter()
    go(steps)
    return steps * B / (time.perf_counter() - t)


def engine(cfg, steps: int, warmup: int) -> tuple[float, str]:
    """img/s through gankit.train: one epoch of ``warmup + steps`` steps, logged every 5; the
    log intervals inside the warm-up are left out."""
    run = gankit.train(cfg, overwrite=True, epochs=1, progress=False, report=False, log_every=LOG_EVERY,
                       limit=cfg.batch_size * (warmup + steps), grid_size=16)
    rates = [r["img_per_s"] for r in run.log if "img_per_s" in r and r["step"] > warmup]
    return sum(rates) / len(rates), run.trainer.precision


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=MODELS.names(), help="families (default: every one)")
    p.add_argument("--config", help="a recipe to start from (default: each family's own defaults)")
    p.add_argument("--data", default="mnist")
    p.add_argument("--data-dir", default="")
    p.add_argument("--batch-size", type=int, help="default: the recipe's, else 64")
    p.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    p.add_argument("--repeats", type=int, default=3, help="alternating plain/engine measurements (median)")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="auto", help="the engine's precision")
    p.add_argument("--compile", action="store_true", help="also time the engine with --compile")
    p.add_argument("--json", help="also write the rows here")
    a = p.parse_args()
    steps = max(LOG_EVERY, a.steps - a.steps % LOG_EVERY)
    base = config_mod.read_file(a.config) if a.config else {"data": a.data, "batch_size": 64}
    if a.batch_size:
        base["batch_size"] = a.batch_size
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in a.models:
            layer = {**base, "model": model, "device": a.device, "precision": a.precision, "progress": False,
                     "out": f"{tmp}/{model}"}
            if a.data_dir:
                layer["data_dir"] = a.data_dir
            if model == "latent-gan":  # codes of a small autoencoder trained first
                ae = gankit.train({**layer, "model": "ae", "epochs": 1, "limit": 2048, "report": False,
                                   "out": f"{tmp}/ae-for-latent-gan"})
                layer["ae_run"] = str(ae.path)
            cfg = config_mod.resolve(layer)
            plains, fasts, compiled = [], [], []
            for _ in range(a.repeats):  # alternated, so a change in machine load hits both alike
                plains.append(plain_loop(cfg, steps))
                rate, precision = engine(cfg, steps, LOG_EVERY)
                fasts.append(rate)
                if a.compile:  # compilation happens in the first steps: a longer warm-up
                    compiled.append(engine(dataclasses.replace(cfg, compile=True), steps, 3 * LOG_EVERY)[0])
            med = lambda v: sorted(v)[len(v) // 2]
            row = {"model": model, "batch": cfg.batch_size, "precision": precision,
                   "plain_fp32_img_per_s": round(med(plains), 1), "gankit_img_per_s": round(med(fasts), 1),
                   "ratio": round(med(fasts) / med(plains), 2)}
            if compiled:
                row["gankit_compile_img_per_s"] = round(med(compiled), 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    device = resolve_device(a.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    print(f"\n{a.config or 'family defaults'} on {a.data}, {device} ({name}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {a.repeats}, {steps} timed steps\n")
    cols = "| family | batch | plain fp32 img/s | gankit img/s | ratio | gankit precision |"
    print(cols + (" gankit --compile img/s |" if a.compile else ""))
    print("|---|---:|---:|---:|---:|---|" + ("---:|" if a.compile else ""))
    for r in rows:
        extra = f" {r['gankit_compile_img_per_s']:.0f} |" if a.compile else ""
        print(f"| {r['model']} | {r['batch']} | {r['plain_fp32_img_per_s']:.0f} | {r['gankit_img_per_s']:.0f} | "
              f"{r['ratio']:.2f}x | {r['precision']} |{extra}")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
