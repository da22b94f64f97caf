"""The course, runnable: every figure of docs/tutorial.md, remade by the gankit commands it shows.

    make course            # the full budgets (hours on a laptop CPU)
    make course QUICK=1    # small budgets: every figure in minutes
    .venv/bin/python docs/course.py [--quick] [--only CHAPTER ...] [--list]

``STEPS`` is the course: an ordered list of gankit commands, each with the figures it copies into
docs/figures/. The tutorial shows exactly these commands, in this order, in its ``console``
blocks (tests/docs/test_tutorial_commands.py checks that). ``--quick`` changes budgets only, by
flags (``Step.quick``): epochs, minutes, --set limit=, -n, --steps. Every step runs in this
process through ``gankit.cli.main``, as the command line would run it.

The runs live under runs/course/ (cleared at the start of a run of the course, so every figure
is remade from scratch); the measured numbers that the tutorial quotes are collected into
docs/course-results.md at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
RESULTS = ROOT / "docs" / "course-results.md"
QUICK_OUT = ROOT / "runs" / "course-quick"  # --quick's figures and results: a smoke run never touches docs/
RUNS = "runs/course"
MAX_FIGURE_BYTES = 300_000  # each figure
MAX_TOTAL_BYTES = 5_000_000  # all of docs/figures

MLP_EPOCHS = (1, 2, 4, 10, 50, 100)  # chapter 2: the fixed-noise samples, epoch by epoch
RING_SEEDS = (0, 1, 2)
# The ring study of chapter 5: the plain GAN and four fixes, each a few flags on configs/course-ring.yaml.
RING_VARIANTS = {
    "plain": "",
    "wgan-gp": " --model wgan-gp --set lr_g=1e-4 --set lr_d=1e-4 --set n_critic=5",
    "r1": " --set r1_gamma=1",
    "sn": " --set spectral_norm=true",
    "pack2": " --set pack=2",
}
# Chapter 5 on MNIST: the dcgan default with D made the stronger player (G's rate a tenth of D's),
# under the minimax loss and under the non-saturating one, beside the default itself.
# The dcgan default's networks at batch 64, Adam 1.5e-3 and no R1, the default when these runs were
# chosen and measured (it is now batch 256, 3e-3 and a lazy R1); G's rate a tenth of D's in the first two.
ISSUES = {
    "minimax-slow-g": " --batch-size 64 --set r1_gamma=0 --set z_dist=normal --set lr_d=1.5e-3 --set loss=minimax --set lr_g=1.5e-4",
    "slow-g": " --batch-size 64 --set r1_gamma=0 --set z_dist=normal --set lr_d=1.5e-3 --set lr_g=1.5e-4",
    "default": " --batch-size 64 --set r1_gamma=0 --set z_dist=normal --set lr_d=1.5e-3 --set lr_g=1.5e-3",
}
RING_EVAL_N = 2500  # PacGAN's protocol: 2,500 samples, a mode is covered with >= 20 high-quality ones
PACGAN_MIN_COUNT = 20


@dataclass
class Step:
    chapter: str  # the tutorial chapter (``--only`` picks chapters by this name)
    cmd: str  # the command exactly as the tutorial shows it
    figures: dict = field(default_factory=dict)  # docs/figures/NAME -> source (a glob: its last match)
    quick: tuple = ()  # (flag, value) pairs for --quick: the flag's value is replaced, or the pair added

    def argv(self, quick: bool) -> list[str]:
        """The command's arguments after ``gankit``, with the quick budget applied."""
        args = shlex.split(self.cmd)[1:]
        if quick:
            for flag, value in self.quick:
                if flag != "--set" and flag in args:
                    args[args.index(flag) + 1] = value
                else:
                    args += [flag, value]
        return args

    def shown(self, quick: bool) -> str:
        """The command as it runs, one line (the key of its row in the timings)."""
        return " ".join(["gankit", *self.argv(quick)])


@dataclass
class Panels:
    """A figure of several runs' grids side by side, made once the runs are evaluated: each panel
    titled with its label, the run's steps and its judge's FID (and classes covered)."""
    chapter: str
    name: str  # docs/figures/NAME
    panels: tuple  # (label, run, grid inside the run: a glob, its last match)
    quick: tuple = ()  # the panels under --quick, where the full budget's epochs do not exist
    top: float = 1.0  # the share of each grid kept, from the top (0.5: the first 4 of 8 rows), to keep wide figures small

    @property
    def figures(self) -> dict:
        return {self.name: None}

    def title(self, label: str, run: str, grid: str) -> str:
        """The label, then the run's steps, FID and classes: from its eval.json for the final grid,
        from the quality check logged at that epoch's end for an epoch's grid (samples/epoch-N.png)."""
        m = re.fullmatch(r"samples/epoch-(\d+)\.png", grid)
        if m:
            check = _epoch_check(run, int(m.group(1)))
            if check is None:
                return label
            return (f"{label}\n{check['step']:,} steps, FID {check['fid']:.1f} (n={check['n']:,}), "
                    f"{check['classes_covered']}/{check['of']} classes")
        ev = _eval(run)
        if ev is None:
            return label
        step, fid = ev["source"].get("step"), _value(ev, "fid")
        classes = _value(ev, "classes_covered")
        of = ev["metrics"]["classes_covered"].get("of", 10) if classes is not None else None
        line = ", ".join(x for x in (f"{step:,} steps" if step else "", f"FID {fid:.1f}" if fid is not None else "",
                                     f"{classes}/{of} classes" if classes is not None else "") if x)
        return f"{label}\n{line}"

    def make(self, figures: Path, quick: bool = False) -> Path:
        from gankit.sampling.grid import save_panels
        from PIL import Image

        panels = []
        for label, run, grid in (self.quick if quick and self.quick else self.panels):
            src = _source(f"{run}/{grid}")
            if src is None:
                raise SystemExit(f"course: {run} has no {grid} for {self.name}")
            img = Image.open(src)
            if self.top < 1:
                img = img.crop((0, 0, img.width, round(img.height * self.top)))
            panels.append((self.title(label, run, grid), img))
        return save_panels(panels, figures / self.name, height=1.0 + 2.7 * self.top)


def _epoch_panels(run: str, epochs: tuple) -> tuple:
    """Panels of one run's fixed-noise grids at the end of the given epochs."""
    return tuple((f"epoch {e}", run, f"samples/epoch-{e:04d}.png") for e in epochs)


def _ring_steps() -> list[Step]:
    steps = []
    for name, extra in RING_VARIANTS.items():
        for seed in RING_SEEDS:
            out = f"{RUNS}/ring/{name}-{seed}"
            figs = {f"ring-{name}.png": f"{out}/samples/final.png"} if seed == RING_SEEDS[0] else {}
            steps.append(Step("ring", f"gankit train --config configs/course-ring.yaml{extra} --seed {seed} --out {out}",
                              figs))
            steps.append(Step("ring", f"gankit evaluate {out} -n {RING_EVAL_N}"))
    first = f"{RUNS}/ring/plain-{RING_SEEDS[0]}"
    steps.append(Step("ring", f"gankit explore {first} discriminator",
                      {"ring-plain-discriminator.png": f"{first}/explore/discriminator.png"}))
    return steps


STEPS: list[Step] = [
    # 1. The game
    Step("game", "gankit theory optimal-d --out runs/course/theory",
         {"optimal-d.png": "runs/course/theory/optimal-d.png"}),
    # 2. The fully connected GAN (004)
    Step("mlp", "gankit train --config configs/seed-004-mlp.yaml --out runs/course/mlp-uniform",
         {"mlp-uniform-losses.png": "runs/course/mlp-uniform/losses.png",
          "mlp-uniform-samples.png": "runs/course/mlp-uniform/samples/final.png"},
         quick=(("--epochs", "3"),)),
    Step("mlp", "gankit train --config configs/seed-004-mlp.yaml --set z_dist=normal --out runs/course/mlp-normal",
         {"mlp-normal-losses.png": "runs/course/mlp-normal/losses.png",
          "mlp-normal-samples.png": "runs/course/mlp-normal/samples/final.png"},
         quick=(("--epochs", "3"),)),
    Step("mlp", "gankit evaluate runs/course/mlp-uniform", quick=(("-n", "2000"),)),
    Step("mlp", "gankit evaluate runs/course/mlp-normal", quick=(("-n", "2000"),)),
    Panels("mlp", "mlp-epochs.png", _epoch_panels("runs/course/mlp-uniform", MLP_EPOCHS),
           quick=_epoch_panels("runs/course/mlp-uniform", (1, 2, 3)), top=0.5),
    # 3. DCGAN on MNIST (000): the lecture's recipe, stopped and resumed, beside the tuned default
    Step("dcgan", "gankit theory checkerboard --out runs/course/theory",
         {"checkerboard.png": "runs/course/theory/checkerboard.png"}),
    Step("dcgan", "gankit train --config configs/seed-000-dcgan.yaml --epochs 15 --out runs/course/dcgan",
         quick=(("--set", "limit=10000"), ("--minutes", "1"))),
    Step("dcgan", "gankit train --resume runs/course/dcgan --epochs 30",
         {"dcgan-progress.gif": "runs/course/dcgan/progress.gif"},
         quick=(("--minutes", "1"),)),
    Step("dcgan", "gankit train --minutes 10 --out runs/course/dcgan-default",
         quick=(("--minutes", "1"),)),
    Step("dcgan", "gankit evaluate runs/course/dcgan", quick=(("-n", "2000"),)),
    Step("dcgan", "gankit evaluate runs/course/dcgan-default", quick=(("-n", "2000"),)),
    Panels("dcgan", "dcgan-samples.png",
           (("the lecture's recipe", "runs/course/dcgan", "samples/final.png"),
            ("gankit's default", "runs/course/dcgan-default", "samples/final.png"))),
    Step("dcgan", "gankit explore runs/course/dcgan-default walk --scale-means 5 -n 16 --frames 7",
         {"dcgan-walk-means.gif": "runs/course/dcgan-default/explore/walk-means5-stds1.gif"}),
    Step("dcgan", "gankit explore runs/course/dcgan-default walk --scale-stds 5 -n 100 --frames 1",
         {"dcgan-walk-stds.png": "runs/course/dcgan-default/explore/walk-means1-stds5.png"}),
    Step("dcgan", "gankit explore runs/course/dcgan-default interpolate --mode slerp",
         {"dcgan-interpolate.png": "runs/course/dcgan-default/explore/interpolate-latents-slerp.png",
          "dcgan-interpolate.gif": "runs/course/dcgan-default/explore/interpolate-latents-slerp.gif"}),
    # 4. AC-GAN (001): the notebook's recipe on a budget, beside the tuned default
    Step("acgan", "gankit train --config configs/seed-001-acgan.yaml --steps 1500 --out runs/course/acgan",
         quick=(("--set", "limit=6000"), ("--steps", "40"))),
    Step("acgan", "gankit train --model acgan --minutes 5 --out runs/course/acgan-default",
         quick=(("--minutes", "1"),)),
    Step("acgan", "gankit evaluate runs/course/acgan", quick=(("-n", "2000"),)),
    Step("acgan", "gankit evaluate runs/course/acgan-default", quick=(("-n", "2000"),)),
    Panels("acgan", "acgan-classes.png",
           (("the notebook's recipe", "runs/course/acgan", "samples/classes-final.png"),
            ("gankit's default", "runs/course/acgan-default", "samples/classes-final.png"))),
    # 5. Training issues and solutions: the ring
    *_ring_steps(),
    # 5, on MNIST: D overpowering G, with the minimax loss and with the non-saturating one
    *[Step("issues", f"gankit train{extra} --minutes 2 --out runs/course/issues/{name}",
           {f"issues-{name}-losses.png": f"runs/course/issues/{name}/losses.png"}, quick=(("--minutes", "0.5"),))
      for name, extra in ISSUES.items()],
    *[Step("issues", f"gankit evaluate runs/course/issues/{name}", quick=(("-n", "2000"),)) for name in ISSUES],
    Panels("issues", "issues-d-wins.png",
           (("minimax loss, G's rate / 10", "runs/course/issues/minimax-slow-g", "samples/final.png"),
            ("non-saturating loss, G's rate / 10", "runs/course/issues/slow-g", "samples/final.png"),
            ("gankit's default", "runs/course/issues/default", "samples/final.png"))),
    # 6. Metrics
    Step("metrics", "gankit compare runs/course/dcgan runs/course/dcgan-default runs/course/acgan runs/course/acgan-default"),
    # 7. The Wasserstein GAN: the paper's settings on a budget, beside the tuned defaults
    Step("wgan", "gankit train --model wgan --set arch=conv --set width=64 --set lr_g=5e-5 --set lr_d=5e-5 --set n_critic=5 --set clip=0.01 --minutes 5 --out runs/course/wgan-paper",
         quick=(("--set", "limit=6000"), ("--minutes", "1"))),
    Step("wgan", "gankit train --model wgan --minutes 5 --out runs/course/wgan",
         {"wgan-losses.png": "runs/course/wgan/losses.png"},
         quick=(("--minutes", "1"),)),
    Step("wgan", "gankit train --model wgan-gp --minutes 5 --out runs/course/wgan-gp",
         {"wgan-gp-losses.png": "runs/course/wgan-gp/losses.png"},
         quick=(("--minutes", "1"),)),
    Step("wgan", "gankit evaluate runs/course/wgan-paper", quick=(("-n", "2000"),)),
    Step("wgan", "gankit evaluate runs/course/wgan", quick=(("-n", "2000"),)),
    Step("wgan", "gankit evaluate runs/course/wgan-gp", quick=(("-n", "2000"),)),
    Panels("wgan", "wgan-samples.png",
           (("WGAN, the paper's settings", "runs/course/wgan-paper", "samples/final.png"),
            ("WGAN, gankit's default", "runs/course/wgan", "samples/final.png"),
            ("WGAN-GP, gankit's default", "runs/course/wgan-gp", "samples/final.png"))),
    # 8. Autoencoders, VAEs and the latent GAN (003)
    Step("latent", "gankit train --model ae --data mnist --epochs 10 --out runs/course/ae",
         {"ae-random-codes.png": "runs/course/ae/samples/final.png"},
         quick=(("--epochs", "1"), ("--set", "limit=20000"))),
    Step("latent", "gankit explore runs/course/ae reconstruct",
         {"ae-reconstruct.png": "runs/course/ae/explore/reconstruct.png"}),
    Step("latent", "gankit explore runs/course/ae prior",
         {"ae-priors.png": "runs/course/ae/explore/prior.png"}),
    Step("latent", "gankit train --config configs/seed-003-vae2d.yaml --epochs 10 --out runs/course/vae2d",
         quick=(("--epochs", "1"), ("--set", "limit=20000"))),
    Step("latent", "gankit explore runs/course/vae2d manifold --side 16",
         {"vae-manifold.png": "runs/course/vae2d/explore/manifold.png"}),
    Step("latent", "gankit explore runs/course/vae2d scatter",
         {"vae-scatter.png": "runs/course/vae2d/explore/scatter.png"}),
    Step("latent", "gankit train --model latent-gan --data mnist --set ae_run=runs/course/ae --epochs 30 "
                   "--out runs/course/latent-gan",
         {"latent-gan-samples.png": "runs/course/latent-gan/samples/final.png"},
         quick=(("--epochs", "3"),)),
    Step("latent", "gankit evaluate runs/course/ae", quick=(("-n", "2000"),)),
    Step("latent", "gankit evaluate runs/course/vae2d", quick=(("-n", "2000"),)),
    Step("latent", "gankit evaluate runs/course/latent-gan", quick=(("-n", "2000"),)),
    Step("latent", "gankit compare runs/course/dcgan-default runs/course/ae runs/course/vae2d runs/course/latent-gan"),
]

CHAPTERS = list(dict.fromkeys(s.chapter for s in STEPS))


def commands() -> list[str]:
    """The course's commands, in order, as the tutorial shows them."""
    return [s.cmd for s in STEPS if isinstance(s, Step)]


# ----------------------------------------------------------------------------------------------
def _source(pattern: str) -> Path | None:
    """The file a figure comes from: the path itself, or the last match of a glob."""
    matches = sorted(ROOT.glob(pattern)) if any(c in pattern for c in "*?[") else [ROOT / pattern]
    matches = [m for m in matches if m.is_file()]
    return matches[-1] if matches else None


def outputs(quick: bool) -> tuple[Path, Path]:
    """Where the figures and the results go: docs/ for the full budgets, a scratch folder for --quick."""
    if quick:
        return QUICK_OUT / "figures", QUICK_OUT / "course-results.md"
    return FIGURES, RESULTS


def check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FIGURE_BYTES:
        raise SystemExit(f"course: {path} is {size / 1e3:.0f} KB; figures must stay under {MAX_FIGURE_BYTES / 1e3:.0f} KB")


def copy_figures(step: Step, figures: Path) -> list[Path]:
    copied = []
    for name, pattern in step.figures.items():
        src = _source(pattern)
        if src is None:
            raise SystemExit(f"course: {step.cmd!r} did not write {pattern}")
        check_size(src)
        shutil.copyfile(src, figures / name)
        copied.append(figures / name)
    return copied


def run_step(step, quick: bool, figures: Path) -> float:
    if isinstance(step, Panels):
        path = step.make(figures, quick)
        check_size(path)
        print(f"  figure {path.relative_to(ROOT)}")
        return 0.0
    from gankit.cli import main  # imported after the thread count is set (see main())

    argv = step.argv(quick)
    print(f"\n$ gankit {shlex.join(argv)}", flush=True)
    t = time.perf_counter()
    code = main(argv)
    if code:
        raise SystemExit(f"course: step failed (exit {code}): gankit {shlex.join(argv)}")
    seconds = time.perf_counter() - t
    print(f"  ({seconds:.0f} s)")
    for path in copy_figures(step, figures):
        print(f"  figure {path.relative_to(ROOT)}")
    return seconds


# ----------------------------------------------------------------------------------------------
def _eval(run: str) -> dict | None:
    try:
        return json.loads((ROOT / run / "eval.json").read_text())
    except (OSError, ValueError):
        return None


def _epoch_check(run: str, epoch: int) -> dict | None:
    """The quality check that training logged at the end of ``epoch`` (log.jsonl), with its sample
    count (the run's eval_n), or None."""
    from gankit import rundir

    for row in rundir.read_log(ROOT / run):
        if "fid" in row and row.get("epoch") == float(epoch):
            return {**row, "n": rundir.read_config(ROOT / run)["eval_n"]}
    return None


def _value(ev: dict | None, name: str):
    m = (ev or {}).get("metrics", {}).get(name)
    return None if m is None else m.get("value")


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return str(v)
    return f"{v:.{digits}f}"


def ring_table() -> list[str]:
    """Markdown rows: per variant, the modes covered (gankit's count and PacGAN's) per seed."""
    lines = ["| run | modes covered (gankit's rule) | modes with >= 20 of 2,500 | "
             "high-quality share | reverse KL |", "|---|---|---|---|---|"]
    for name in RING_VARIANTS:
        cov, pac, hq, rkl = [], [], [], []
        for seed in RING_SEEDS:
            ev = _eval(f"{RUNS}/ring/{name}-{seed}")
            if ev is None:
                continue
            cov.append(_value(ev, "modes_covered"))
            per_mode = ev.get("histogram", {}).get("samples", [])
            pac.append(sum(c >= PACGAN_MIN_COUNT for c in per_mode))
            hq.append(_value(ev, "high_quality"))
            rkl.append(_value(ev, "reverse_kl"))
        if not cov:
            continue
        mean = lambda xs: sum(x for x in xs if x is not None) / max(1, sum(x is not None for x in xs))  # noqa: E731
        lines.append(f"| {name} | {' / '.join(map(str, cov))} | {' / '.join(map(str, pac))} (mean {mean(pac):.1f}) | "
                     f"{' / '.join(_fmt(x, 2) for x in hq)} | {' / '.join(_fmt(x, 2) for x in rkl)} |")
    return lines


def image_table(runs: list[str]) -> list[str]:
    names = ("fid", "kid", "precision", "recall", "classifier_score", "mean_confidence", "classes_covered")
    lines = ["| run | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    floors = None
    for run in runs:
        ev = _eval(run)
        if ev is None:
            continue
        floors = floors or ev
        lines.append(f"| {run} | {ev['n']} | " + " | ".join(_fmt(_value(ev, k), 4) for k in names) + " |")
    if floors is not None:
        row = [_fmt(floors["metrics"][k].get("floor"), 4) if k in floors["metrics"] else "-" for k in names]
        lines.append(f"| floor (real test images), n={floors['n']} | {floors['n']} | " + " | ".join(row) + " |")
    return lines


def result_sections() -> list[tuple[str, tuple[str, ...], list[str]]]:
    """docs/course-results.md's sections: (heading, the chapters whose runs it reads, its lines)."""
    out = []
    theory = ROOT / RUNS / "theory" / "optimal-d.json"
    if theory.is_file():
        r = json.loads(theory.read_text())
        lines = [f"- max |D - D*| = {r['d_max_abs_err']:.4f}, mean {r['d_mean_abs_err']:.4f} ({r['steps']} steps)",
                 f"- V(D*, G) = {r['value_at_optimum']:.6f}; -log 4 + 2 JSD = {r['minus_log4_plus_2jsd']:.6f} "
                 f"(JSD {r['jsd']:.6f} nats)",
                 f"- V(D, G) of the trained D = {r['value_at_trained']:.6f}"]
        if "kl_data_g" in r:
            lines += [f"- from D's log density ratio on {r['mc_samples']:,} fresh samples of each (exact in brackets): "
                      f"KL(p_data || p_g) {r['kl_data_g_from_d']:.4f} ({r['kl_data_g']:.4f}), "
                      f"KL(p_g || p_data) {r['kl_g_data_from_d']:.4f} ({r['kl_g_data']:.4f}), "
                      f"JSD {r['jsd_from_d']:.4f} ({r['jsd']:.4f}) nats"]
        out.append(("Chapter 1: the optimal discriminator", ("game",), lines))
    out += [
        ("Chapter 2: uniform vs normal noise", ("mlp",), image_table([f"{RUNS}/mlp-uniform", f"{RUNS}/mlp-normal"])),
        ("Chapter 5: modes of the ring (seeds " + ", ".join(map(str, RING_SEEDS)) + ")", ("ring",), ring_table()),
        ("Chapter 5 on MNIST: D overpowering G", ("issues",), image_table([f"{RUNS}/issues/{n}" for n in ISSUES])),
        ("Chapters 3, 4 and 6: the seed recipes and the tuned defaults", ("dcgan", "acgan"),
         image_table([f"{RUNS}/dcgan", f"{RUNS}/dcgan-default", f"{RUNS}/acgan", f"{RUNS}/acgan-default"])),
        ("Chapter 7: the Wasserstein GANs", ("wgan",),
         image_table([f"{RUNS}/wgan-paper", f"{RUNS}/wgan", f"{RUNS}/wgan-gp"])),
        ("Chapter 8: GAN vs VAE", ("latent",),
         image_table([f"{RUNS}/ae", f"{RUNS}/vae2d", f"{RUNS}/latent-gan", f"{RUNS}/dcgan-default"])),
    ]
    return out


def read_sections(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    """An earlier results file: the lines before its first section, and each section's lines by heading."""
    if not path.is_file():
        return [], {}
    head, sections, current = [], {}, None
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:], [])
        elif current is None:
            head.append(line)
        else:
            current.append(line)
    return _trim(head[1:]), {k: _trim(v) for k, v in sections.items()}


def _trim(lines: list[str]) -> list[str]:
    """The lines without leading and trailing blank ones."""
    text = "\n".join(lines).strip("\n")
    return text.split("\n") if text else []


TIMES = "Time per step"


def write_results(quick: bool, timings: list[tuple[str, float]], total: float, path: Path,
                  only: list[str] | None = None) -> None:
    """Collect the measured numbers into ``path``. With ``only`` (a few chapters rerun), the other
    chapters' sections, the earlier runs' notes and their steps' timings are kept from the file as
    it was, so that rerunning one chapter never drops another's numbers."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    line = (f"Measured by `docs/course.py{' --quick' if quick else ''}` "
            f"({'QUICK budgets' if quick else 'full budgets'}"
            + (f", chapters {', '.join(only)} (`--only`)" if only else "")
            + f"): {len(timings)} steps in {total / 60:.1f} minutes"
            + (f"; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) on "
               f"{os.cpu_count()} CPUs" if load else "") + ".")
    old_head, old = read_sections(path) if only else ([], {})
    out = ["# Course results", "", line, ""] + ([*old_head, ""] if old_head else [])
    for heading, chapters, lines in result_sections():
        if only and not set(chapters) & set(only) and heading in old:
            lines = old[heading]
        out += [f"## {heading}", "", *lines, ""]
    seconds = {}
    for row in old.get(TIMES, [])[2:]:  # | seconds | `command` |
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) == 2 and cells[0].isdigit():
            seconds[cells[1].strip("`")] = float(cells[0])
    seconds.update(dict(timings))
    order = {c: i for i, c in enumerate(s.shown(False) for s in STEPS if isinstance(s, Step))}
    rows = sorted(((c, s) for c, s in seconds.items() if c in order or quick), key=lambda cs: order.get(cs[0], 0))
    out += [f"## {TIMES}", "", "| seconds | command |", "|---|---|"]
    out += [f"| {s:.0f} | `{c}` |" for c, s in rows]
    path.write_text("\n".join(out) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")


def check_sizes(figures: Path) -> None:
    total = sum(p.stat().st_size for p in figures.iterdir() if p.is_file())
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"course: docs/figures holds {total / 1e6:.1f} MB; keep it under {MAX_TOTAL_BYTES / 1e6:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Rerun the course: every figure of docs/tutorial.md.")
    p.add_argument("--quick", action="store_true", help="small budgets (make course QUICK=1)")
    p.add_argument("--only", action="append", choices=CHAPTERS, help="run only these chapters (repeatable); "
                   "their runs are cleared, the others kept")
    p.add_argument("--list", action="store_true", help="print the commands (with --quick: as they will run) and stop")
    args = p.parse_args(argv)
    steps = [s for s in STEPS if not args.only or s.chapter in args.only]
    if args.list:
        for s in steps:
            if isinstance(s, Step):
                print("gankit " + shlex.join(s.argv(args.quick)) if args.quick else s.cmd)
        return 0
    os.chdir(ROOT)
    # Every core by default: the chapters with a time budget (--minutes) take as many steps as the
    # machine gives them. On a machine shared with other work, OMP_NUM_THREADS=1 keeps two spinning
    # OpenMP thread pools from slowing each other several times over.
    import torch

    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))
    figures, results = outputs(args.quick)
    figures.mkdir(parents=True, exist_ok=True)
    if args.only:  # clear only the runs these chapters write
        for s in steps:
            if isinstance(s, Step) and "--out" in (a := shlex.split(s.cmd)) and "--resume" not in a:
                shutil.rmtree(ROOT / a[a.index("--out") + 1], ignore_errors=True)
    else:
        shutil.rmtree(ROOT / RUNS, ignore_errors=True)
    timings, t0 = [], time.perf_counter()
    for s in steps:
        seconds = run_step(s, args.quick, figures)
        if isinstance(s, Step):
            timings.append((s.shown(args.quick), seconds))
    check_sizes(figures)
    total = time.perf_counter() - t0
    write_results(args.quick, timings, total, results, args.only)
    print(f"course: {len(steps)} steps in {total / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
