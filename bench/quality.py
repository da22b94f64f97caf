"""Quality per CPU budget: several recipes trained for the same wall-clock minutes on real MNIST,
then judged by gankit's shipped MNIST judge (FID, KID, classifier score, each beside its
real-vs-real floor). Prints one Markdown table, and draws 64 samples of every recipe (same
seed) into one figure, so that what each recipe makes of the same budget can be seen side by side.

    .venv/bin/python bench/quality.py                       # 10 minutes a recipe (the default)
    .venv/bin/python bench/quality.py --minutes 3 --recipes default,peer
    .venv/bin/python bench/quality.py --figure docs/figures/quality-grids.png
    .venv/bin/python bench/quality.py --minutes 3 --recipes default --set d_norm=batch --set dropout=0

``--families`` trains every model family with its own defaults (what ``gankit train --model X``
uses) for the same budget, beside the dcgan default, and adds what each family is for: the share
of samples the judge reads as the requested class (cgan, acgan), the reconstruction error on the
test split (ae, vae; their FID is of decoded codes drawn from the prior N(0, I)). The latent GAN
trains on the codes of the ``vae`` row's run (its posterior means), so ``vae`` runs first; on the
plain ``ae``'s codes it measured far worse (docs/benchmarks.md):

    .venv/bin/python bench/quality.py --families --minutes 5
    .venv/bin/python bench/quality.py --families cgan,acgan --minutes 2 --set lr_g=8e-4 --set lr_d=8e-4
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gankit  # noqa: E402
from gankit import config as config_mod  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.metrics.judge import JUDGE_FOR_DATA  # noqa: E402
from gankit.sampling.grid import save_grid  # noqa: E402
from peer_dcgan import sample_peer, train_peer  # noqa: E402

RECIPES = {
    "default": "configs/default.yaml",
    "seed-000-dcgan": "configs/seed-000-dcgan.yaml",
    "seed-004-mlp": "configs/seed-004-mlp.yaml",
    "seed-001-acgan": "configs/seed-001-acgan.yaml",
    "seed-003-vae2d": "configs/seed-003-vae2d.yaml",
    "peer": None,  # bench/peer_dcgan.py: pytorch/examples' MNIST DCGAN, plain fp32 loop
}


def run_recipe(name: str, minutes: float, n: int, out_root: Path, seed: int, overrides: dict) -> dict:
    t0 = time.perf_counter()
    if RECIPES[name] is None:
        x = load_dataset("mnist", split="train").x
        G, steps = train_peer(x, minutes, seed=seed)
        samples = sample_peer(G, n, seed=seed) * 2 - 1
        res = gankit.evaluate(samples=samples, data="mnist", n=n, seed=seed,
                              out=out_root / name / "eval.json")
        grid = sample_peer(G, 64, seed=seed + 1)
        settings = "pytorch/examples DCGAN, fp32, Adam 2e-4 (0.5, 0.5), batch 64"
    else:
        cfg = config_mod.resolve(config_mod.read_file(RECIPES[name]), overrides,
                                 {"epochs": 0, "minutes": minutes, "seed": seed, "progress": False,
                                  "out": str(out_root / name)})
        run = gankit.train(cfg, overwrite=True)
        steps = run.trainer.step
        res = gankit.evaluate(run.path, n=n, seed=seed)
        grid = run.sample(64, seed=seed + 1)["images"]
        settings = (f"{cfg.model} ({cfg.arch}, width {cfg.width}), {cfg.loss}, batch {cfg.batch_size}, "
                    f"lr {cfg.lr_g:g}/{cfg.lr_d:g}, "
                    + (f"r1 {cfg.r1_gamma:g} every {cfg.r1_every}, " if cfg.r1_gamma else "")
                    + f"ema {cfg.ema:g}, {run.trainer.precision}"
                    + "".join(f", {k}={v}" for k, v in overrides.items()))
    m = res["metrics"]
    save_grid(grid, out_root / name / "samples.png", nrow=8)
    return {"recipe": name, "settings": settings, "steps": steps, "minutes": minutes,
            "wall_s": round(time.perf_counter() - t0, 1),
            **{k: (m[k]["value"], m[k]["floor"]) for k in ("fid", "kid", "classifier_score") if k in m}}


FAMILIES = ("dcgan", "cgan", "acgan", "wgan", "wgan-gp", "mlp", "vae", "ae", "latent-gan")


@torch.no_grad()
def read_as_asked(images: torch.Tensor, labels: torch.Tensor, data: str) -> float:
    """Share of images (N, C, H, W) in [-1, 1] that the judge of ``data`` reads as their label."""
    from gankit.metrics.judge import judge_for

    probs = judge_for(data)(images).probs  # (N, K)
    return float((probs.argmax(1) == labels).double().mean())


def requested_class_share(run, n: int, seed: int) -> float:
    """Share of n samples, class k asked for 1/K of them, that the judge reads as class k."""
    labels = torch.arange(n) % run.num_classes
    images = run.sample(n, seed=seed, labels=labels)["images"]  # (n, C, H, W) in [0, 1]
    return read_as_asked(images * 2 - 1, labels, run.config.data)


@torch.no_grad()
def reconstruction_error(run, n: int) -> float:
    """Mean squared error per pixel, on [0, 1] pixels, of the first n test images and their
    reconstructions (the AE's code, the VAE posterior's mean)."""
    from gankit.models.autoencoder import encode_mean

    x = load_dataset(run.config.data, split="test").x[:n].float()  # (n, C, H, W) in [-1, 1]
    nets = run.nets.eval()
    rec = torch.cat([nets["G"](encode_mean(nets["E"], x[i:i + 1000])) for i in range(0, len(x), 1000)])
    return float((((rec.clamp(-1, 1) - x) / 2) ** 2).mean())


def settings(cfg, run) -> str:
    """The settings that matter to the family, in one line: an autoencoder has one optimiser (lr_g)
    and no adversarial loss; conv networks have a width, fully connected ones hidden widths."""
    fc = cfg.model in ("mlp", "latent-gan", "ae") or (cfg.model == "vae" and cfg.arch == "mlp")
    net = (f"hidden {cfg.hidden}" if cfg.model != "ae" else "one layer") if fc else f"{cfg.arch}, width {cfg.width}"
    if run.family.encoder:
        train = f"{cfg.optimizer} {cfg.lr_g:g} ({cfg.beta1:g}, {cfg.beta2:g})" + (
            f", beta_kl {cfg.beta_kl:g}" if cfg.model == "vae" else "")
    else:
        train = (f"{cfg.loss}, {cfg.optimizer} {cfg.lr_g:g}/{cfg.lr_d:g} ({cfg.beta1:g}, {cfg.beta2:g})"
                 + (f", dropout {cfg.dropout:g}" if fc else "")
                 + (f", n_critic {cfg.n_critic}" if cfg.n_critic > 1 else "")
                 + (f", gp {cfg.gp_lambda:g}" if cfg.gp_lambda else "")
                 + (f", r1 {cfg.r1_gamma:g} every {cfg.r1_every}" if cfg.r1_gamma else "")
                 + (f", clip {cfg.clip:g}" if cfg.clip else ""))
    return f"{net}, z {cfg.z_dim}, {train}, batch {cfg.batch_size}, ema {cfg.ema:g}, {run.trainer.precision}"


def run_family(name: str, minutes: float, n: int, out_root: Path, seed: int, overrides: dict,
               tag: str = "") -> dict:
    t0 = time.perf_counter()
    layers = [{"model": name, "data": "mnist"}, overrides,
              {"epochs": 0, "minutes": minutes, "seed": seed, "progress": False, "report": False,
               "out": str(out_root / (tag or name))}]
    if name == "latent-gan" and "ae_run" not in overrides:
        layers.insert(1, {"ae_run": str(out_root / "vae")})
    cfg = config_mod.resolve(*layers)
    run = gankit.train(cfg, overwrite=True)
    res = gankit.evaluate(run.path, n=n, seed=seed)
    m = res["metrics"]
    row = {"recipe": tag or name, "steps": run.trainer.step, "minutes": minutes,
           "settings": settings(cfg, run) + "".join(f", {k}={v}" for k, v in overrides.items()),
           "wall_s": round(time.perf_counter() - t0, 1),
           **{k: (m[k]["value"], m[k]["floor"]) for k in ("fid", "kid", "classifier_score") if k in m}}
    if run.family.conditional:
        row["requested_class"] = requested_class_share(run, n, seed)
    if cfg.model in ("ae", "vae"):
        row["recon_mse"] = reconstruction_error(run, n)
    save_grid(run.sample(64, seed=seed + 1)["images"], out_root / (tag or name) / "samples.png", nrow=8)
    return row


def family_table(rows: list[dict]) -> str:
    base = next((r["fid"][0] for r in rows if r["recipe"] == "dcgan"), None)
    out = ["| family | settings (its defaults) | steps | FID (floor) | x dcgan | KID (floor) | "
           "classifier score (floor) | requested class | recon. MSE |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cell = lambda k, f: f"{r[k][0]:{f}} ({r[k][1]:{f}})" if k in r else "-"
        ratio = f"{r['fid'][0] / base:.2f}" if base and "fid" in r else "-"
        req = f"{100 * r['requested_class']:.1f}%" if "requested_class" in r else "-"
        mse = f"{r['recon_mse']:.4f}" if "recon_mse" in r else "-"
        out.append(f"| {r['recipe']} | {r['settings']} | {r['steps']} | {cell('fid', '.2f')} | {ratio} | "
                   f"{cell('kid', '.4f')} | {cell('classifier_score', '.2f')} | {req} | {mse} |")
    return "\n".join(out)


def figure(rows: list[dict], out_root: Path, path: str) -> None:
    """One panel per recipe: its 64 samples, titled with the recipe, its steps and its FID."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    cols = min(3, len(rows))
    nrows = -(-len(rows) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 3.7 * nrows), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, rows):
        ax.imshow(Image.open(out_root / r["recipe"] / "samples.png"), cmap="gray", vmin=0, vmax=255)
        fid = f", FID {r['fid'][0]:.1f}" if "fid" in r else ""
        ax.set_title(f"{r['recipe']}\n{r['steps']} steps{fid}", fontsize=9)
    fig.suptitle(f"{rows[0]['minutes']:g} CPU-minutes per recipe", fontsize=10)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    Image.open(path).convert("L").save(path, optimize=True)  # grey pixels only: a quarter of the bytes


def table(rows: list[dict]) -> str:
    out = ["| recipe | settings | steps | FID (floor) | KID (floor) | classifier score (floor) |",
           "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        cell = lambda k, f: f"{r[k][0]:{f}} ({r[k][1]:{f}})" if k in r else "-"
        out.append(f"| {r['recipe']} | {r['settings']} | {r['steps']} | {cell('fid', '.2f')} | "
                   f"{cell('kid', '.4f')} | {cell('classifier_score', '.2f')} |")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0, help="CPU budget per recipe")
    p.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated, from: " + ", ".join(RECIPES))
    p.add_argument("-n", type=int, default=10000, help="samples per evaluation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/quality")
    p.add_argument("--json", help="also write the rows here")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting of every gankit recipe (repeatable)")
    p.add_argument("--figure", help="write every recipe's samples side by side here (PNG)")
    p.add_argument("--families", nargs="?", const=",".join(FAMILIES), default=None,
                   help="train model families with their defaults instead of recipes (all of them, or a "
                        "comma-separated list from: " + ", ".join(FAMILIES) + ")")
    p.add_argument("--tag", default="", help="--families with one family: name its row and folder (a probe)")
    a = p.parse_args()
    # Families (each with its defaults) or recipes (config files): one loop, one report.
    if a.families is not None:
        flag, listed, valid, what, show = "--families", a.families, FAMILIES, "family", family_table
        tag = a.tag if len([f for f in a.families.split(",") if f.strip()]) == 1 else ""
        run_one = lambda name, overrides: run_family(name, a.minutes, a.n, Path(a.out), a.seed, overrides, tag)
    else:
        flag, listed, valid, what, show = "--recipes", a.recipes, RECIPES, "recipe", table
        run_one = lambda name, overrides: run_recipe(name, a.minutes, a.n, Path(a.out), a.seed, overrides)
    names = [r.strip() for r in listed.split(",") if r.strip()]
    unknown = [r for r in names if r not in valid]
    if unknown:
        p.error(f"{flag}: unknown {unknown[0]!r}; valid: {', '.join(valid)}")
    overrides = config_mod.parse_set(a.set)
    rows = []
    for name in names:
        rows.append(run_one(name, overrides))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{a.minutes:g} CPU-minutes per {what}, {torch.get_num_threads()} threads, n={a.n}, "
          f"judge {JUDGE_FOR_DATA['mnist']}; floor = real train vs real test images\n")
    print(show(rows))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    if a.figure:
        figure(rows, Path(a.out), a.figure)
        print(f"\nsamples: {a.figure}")


if __name__ == "__main__":
    main()
