"""The ``gankit`` command line: it parses flags and calls the Python API, nothing more.

Every user error (a bad flag, file or config value) is one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import errno
import inspect
import os
import sys

from . import api
from . import config as config_mod
from .data.download import DOWNLOADS, download
from .errors import GankitError
from .metrics.evaluate import DEFAULT_N, DEFAULT_N_FOR, format_table
from .metrics.judge import judge_accuracy, load_judge
from .metrics.judge_train import RECIPES, train_judge
from .run import resume_overrides
from .sampling.explore import COMMANDS
from .training.distributed import describe_failure
from .training.launch import RESUMABLE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse would print the usage too)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


# ----------------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    flags = {
        "model": args.model, "data": args.data, "data_dir": args.data_dir, "loss": args.loss,
        "epochs": args.epochs, "minutes": args.minutes, "steps": args.steps, "batch_size": args.batch_size, "seed": args.seed,
        "precision": args.precision, "device": args.device, "out": args.out, "name": args.name,
        "runs_dir": args.runs_dir,
    }
    if (args.minutes is not None or args.steps is not None) and args.epochs is None:
        flags["epochs"] = 0  # a time or step budget alone: as many epochs as fit
    if args.no_progress:
        flags["progress"] = False
    if args.tensorboard:
        flags["tensorboard"] = True
    if args.compile:
        flags["compile"] = True
    sets = config_mod.parse_set(args.set)
    if args.resume:
        overrides = _resume_overrides(args, flags, sets)
        if args.dry_run:
            print(config_mod.dump(api.resolve_resume_config(args.resume, overrides)), end="")
            return 0
        run = api.train(resume=args.resume, **overrides)
    else:
        base = config_mod.read_file(args.config) if args.config else {}
        cfg = config_mod.resolve(base, flags, sets, where=args.config or "config")
        if args.dry_run:
            print(config_mod.dump(cfg), end="")
            return 0
        run = api.train(cfg, overwrite=args.overwrite)
    print(f"run: {run.path}")
    for name in ("samples/final.png", "progress.gif", "losses.png", "log.jsonl", "report.html"):
        if (run.path / name).exists():
            print(f"  {name:18s} {run.path / name}")
    if run.interrupted:
        print(f"interrupted; saved {run.path / 'checkpoints' / 'last.pt'}. Continue with: "
              f"gankit train --resume {run.path}")
    return 0


FLAG_OF = {"data_dir": "--data-dir", "batch_size": "--batch-size", "runs_dir": "--runs-dir", "progress": "--no-progress"}


def _resume_overrides(args, flags: dict, sets: dict) -> dict:
    """The settings ``--resume`` changes, from --config FILE, the flags and --set (later wins).

    A value equal to the run's own is no change; one that would change a setting a resumed run
    keeps (the model, its data, the optimiser, the batch size...) is an error naming its flag.
    """
    if args.overwrite:
        raise GankitError(f"--overwrite: cannot be combined with --resume (it would erase {args.resume})")
    given = {}
    if args.config:
        given.update({k: (v, f"--config {args.config}") for k, v in config_mod.read_file(args.config).items()
                      if v is not None})
    implicit = "--minutes" if args.minutes is not None else "--steps"  # what set epochs to 0
    given.update({k: (v, implicit if k == "epochs" and args.epochs is None else FLAG_OF.get(k, f"--{k}"))
                  for k, v in flags.items() if v is not None})
    given.update({k: (v, f"--set {k}") for k, v in sets.items()})
    return resume_overrides(args.resume, given, RESUMABLE)


CHECKPOINT_HELP = ("last (default: the newest good checkpoint), best (the best quality check of training) "
                   "or epoch-N (a kept epoch)")


def _given(**flags) -> dict:
    """The flags the user gave; a flag left out (None) is not passed, so the API's default applies."""
    return {k: v for k, v in flags.items() if v is not None}


def _default(fn, name: str):
    """The default of parameter ``name`` of the API function ``fn``, for a flag's help."""
    return inspect.signature(fn).parameters[name].default


def cmd_sample(args) -> int:

    run = api.load(args.run, checkpoint=args.checkpoint)
    path = api.save_samples(run, args.out, **_given(n=args.n, seed=args.seed, labels=args.label,
                                                     truncation=args.truncation))
    print(f"wrote {path}")
    return 0


def cmd_data_download(args) -> int:
    paths = download(args.name, args.dest, base_url=args.base_url)
    for p in paths:
        print(f"wrote {p}")
    print(f"train with: gankit train --data {args.name} --data-dir {args.dest}")
    return 0


def cmd_explore(args) -> int:

    options = {k: v for k, v in vars(args).items()
               if k not in ("command", "fn", "run", "what", "checkpoint") and v is not None}
    result = api.explore(api.load(args.run, checkpoint=args.checkpoint), args.what, **options)
    for path in result.paths:
        print(f"wrote {path}")
    return 0


def cmd_report(args) -> int:

    print(f"wrote {api.write_report(args.run, out=args.out)}")
    return 0


def cmd_compare(args) -> int:

    md, path = api.write_compare(args.runs, out=args.out)
    print(md, end="")
    if path is not None:
        print(f"wrote {path}")
    return 0


def cmd_evaluate(args) -> int:
    result = api.evaluate(args.run, **_given(samples=args.samples, data=args.data, n=args.n, seed=args.seed,
                                             out=args.out, judge=args.judge, data_dir=args.data_dir,
                                             limit=args.limit, checkpoint=args.checkpoint))
    print(format_table(result))
    if "path" in result:
        print(f"wrote {result['path']}")
    return 0


def cmd_judge_train(args) -> int:
    train_judge(**_given(data=args.data, out=args.out, data_dir=args.data_dir, epochs=args.epochs,
                         reject_steps=args.reject_steps))
    return 0


def cmd_judge_check(args) -> int:
    j = load_judge(**_given(which=args.judge))
    print(f"{j.name} v{j.version}: {j.path} (sha256 {j.sha256} verified)")
    print(f"  recorded test accuracy {j.meta.get('test_accuracy')}")
    if args.limit is None or args.limit >= 0:
        acc = judge_accuracy(j, **_given(data=args.data, data_dir=args.data_dir, limit=args.limit))
        print(f"  measured test accuracy {acc['accuracy']:.4f} on {acc['n']} {acc['data']} test images, "
              f"{acc['read_as_digit']:.4f} of them read as digits")
    return 0


def cmd_theory_optimal_d(args) -> int:

    r = api.optimal_d(args.out, **_given(steps=args.steps, seed=args.seed))
    print(f"p_data = {r['p_data']};  p_g = {r['p_g']} (fixed)")
    print(f"D vs D* = p_data / (p_data + p_g): max |D - D*| {r['d_max_abs_err']:.4f}, "
          f"mean {r['d_mean_abs_err']:.4f} (over [{r['region'][0]:.2f}, {r['region'][1]:.2f}], "
          f"{r['steps']} steps)")
    print(f"V(D*, G) = {r['value_at_optimum']:.6f};  -log 4 + 2 JSD = {r['minus_log4_plus_2jsd']:.6f} "
          f"(JSD {r['jsd']:.6f} nats; difference {r['identity_diff']:.2e})")
    print(f"V(D, G) of the trained D = {r['value_at_trained']:.6f} (gap to the optimum {r['value_gap']:.2e})")
    print(f"divergences from D's log density ratio on {r['mc_samples']:,} fresh samples of each (exact in brackets):")
    print(f"  KL(p_data || p_g) {r['kl_data_g_from_d']:.4f} ({r['kl_data_g']:.4f}), "
          f"KL(p_g || p_data) {r['kl_g_data_from_d']:.4f} ({r['kl_g_data']:.4f}), "
          f"JSD {r['jsd_from_d']:.4f} ({r['jsd']:.4f}) nats")
    for k in ("png", "json"):
        if k in r:
            print(f"wrote {r[k]}")
    return 0


def cmd_theory_checkerboard(args) -> int:

    r = api.checkerboard(args.out)
    for name in [k for k in r if k not in ("png", "json")]:
        print(f"{name}: {r[name]['interior_min']:.0f} to {r[name]['interior_max']:.0f} paths per output pixel "
              f"(4 pixels in from the edges)")
    for k in ("png", "json"):
        if k in r:
            print(f"wrote {r[k]}")
    return 0


def _add_explore_parser(sub) -> None:
    e = sub.add_parser("explore", help="latent-space figures of a run, written to RUN/explore/")
    e.add_argument("run", metavar="RUN", help="run directory")
    e.add_argument("--checkpoint", metavar="WHICH", help=CHECKPOINT_HELP)
    what = e.add_subparsers(dest="what", required=True, parser_class=_Parser, metavar="WHAT")

    def cmd(name: str, help: str):
        """A subcommand; each flag's help ends with its default, read from the explore function."""
        c = what.add_parser(name, help=help)
        c.add_argument("--out-dir", help="where to write (default RUN/explore)")
        c.set_defaults(fn=cmd_explore)
        params = inspect.signature(COMMANDS[name]).parameters

        def arg(*flags, help: str = "", **kw):
            action = c.add_argument(*flags, **kw)
            default = params[action.dest].default  # a flag the function does not take is a KeyError here
            shown = f"(default {default})" if default is not None else ""
            action.help = " ".join(x for x in (help, shown) if x) or None

        return arg

    arg = cmd("grid", "N samples")
    arg("-n", type=int, help="number of samples")
    arg("--seed", type=int)
    arg("--truncation", type=float, help="draw z from a normal truncated at this bound")
    arg = cmd("classes", "one row per class (conditional models)")
    arg("-n", type=int, help="samples per class")
    arg("--seed", type=int)
    arg("--truncation", type=float)
    arg = cmd("interpolate", "a path between two latents, classes or encoded images: strip PNG and GIF")
    arg("--mode", choices=["lerp", "slerp"], help="linear or spherical")
    arg("--steps", type=int, help="images along each path, ends included")
    arg("--rows", type=int, help="seeded pairs, one per row")
    arg("--seed", type=int)
    arg("--classes", metavar="A,B", help="conditional models: move the class from A to B")
    arg("--images", metavar="I,J", action="append", help="ae/vae: between test images I and J (repeatable)")
    arg("--truncation", type=float)
    arg = cmd("walk", "the lecture's latent walk: means and spreads scaled along the latent dimensions")
    arg("-n", type=int, help="number of samples")
    arg("--scale-means", type=float)
    arg("--scale-stds", type=float)
    arg("--frames", type=int, help="GIF frames moving the means from -M to M")
    arg("--seed", type=int)
    arg = cmd("arithmetic", "mean(A) - mean(B) + mean(C) of latents")
    arg("--a", required=True, help="indices into the sample sheet (1,5,9), or a class with --by class")
    arg("--b", help="subtracted operand")
    arg("--c", help="added operand")
    arg("--by", choices=["index", "class"], help="operands are sheet indices or classes")
    arg("-n", type=int, help="samples on the sheet")
    arg("--per-class", type=int, help="latents averaged per class with --by class")
    arg("--label", type=int, help="conditional models: the class to draw the results with")
    arg("--judge", help="--by class on a GAN: the classifier that labels samples (default: the data's)")
    arg("--seed", type=int)
    arg = cmd("manifold", "a 2-D latent space decoded over a regular grid")
    arg("--side", type=int, help="images per side")
    arg("--extent", type=float, help="grid over [-E, E]^2 (default 3; 1 for uniform z)")
    arg = cmd("scatter", "ae/vae codes of test images coloured by label (PCA above 2-D)")
    arg("-n", type=int, help="test images")
    arg = cmd("reconstruct", "ae/vae: test images beside their reconstructions")
    arg("-n", type=int, help="images")
    arg("--seed", type=int)
    arg = cmd("prior", "ae/vae: codes from N(0, I) and from two normals fitted to the training codes, decoded")
    arg("-n", type=int, help="codes from each prior")
    arg("--seed", type=int)
    arg = cmd("discriminator", "toy 1-D/2-D runs: D's decision surface and G's mapping")
    arg("-n", type=int, help="real and generated points")
    arg("--resolution", type=int, help="grid points per side")
    arg("--seed", type=int)


# ----------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gankit", description="Train, explore and evaluate GANs and their autoencoder relatives.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a model (or --resume a run)")
    t.add_argument("--config", help="YAML/JSON recipe, e.g. configs/seed-000-dcgan.yaml")
    t.add_argument("--model", help="model family (dcgan, mlp, ...)")
    t.add_argument("--data", help="dataset (mnist, fashion-mnist, idx, folder, digits, ring, grid, gmm1d, ...)")
    t.add_argument("--data-dir", help="folder with IDX files, mnist.npz or images")
    t.add_argument("--loss", help="minimax | nonsaturating | wasserstein | hinge | lsgan")
    t.add_argument("--epochs", type=int, help="total epochs of the run")
    t.add_argument("--minutes", type=float, help="wall-clock budget in minutes")
    t.add_argument("--steps", type=int, help="budget in training steps (D and G updates), all epochs together")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--precision", help="auto | fp32 | bf16 | fp16")
    t.add_argument("--device", help="auto | cpu | cuda | cuda:N")
    where = t.add_mutually_exclusive_group()
    where.add_argument("--out", help="run directory, any path (default <runs-dir>/<model>-<data>)")
    where.add_argument("--name", help="run name: a folder inside --runs-dir that cannot lead out of it")
    t.add_argument("--runs-dir", help="folder that holds named runs (default runs)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any config key, repeatable")
    t.add_argument("--resume", metavar="RUN", help="continue this run (up to --epochs total)")
    t.add_argument("--overwrite", action="store_true", help="start over in an existing run directory")
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--compile", action="store_true",
                   help="torch.compile G and D (opt-in; no faster on the CPUs measured, see docs/benchmarks.md)")
    t.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard scalars and grids to RUN/tensorboard (needs the tensorboard package)")
    t.set_defaults(fn=cmd_train)

    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run", help="run directory")
    s.add_argument("--checkpoint", metavar="WHICH", help=CHECKPOINT_HELP)
    s.add_argument("-n", type=int, help=f"number of samples (default {_default(api.save_samples, 'n')}; at most "
                   + ", ".join(f"{most} for {kind}" for kind, most in api.MAX_SAMPLES.items()) + ")")
    s.add_argument("--seed", type=int, help=f"0..2147483647 (default {_default(api.save_samples, 'seed')})")
    s.add_argument("--label", type=int, help="class for conditional models (default: cycle through)")
    s.add_argument("--truncation", type=float, help="sample z from a normal truncated at this bound")
    s.add_argument("--out", required=True, help="FILE.png (grid) or FILE.npz (images, labels)")
    s.set_defaults(fn=cmd_sample)

    d = sub.add_parser("data", help="datasets: download for offline use")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    dd = dsub.add_parser("download", help="fetch the canonical IDX files (SHA-256 checked)")
    dd.add_argument("name", choices=list(DOWNLOADS))
    dd.add_argument("--dest", required=True, help="folder to write the IDX files into")
    dd.add_argument("--base-url", help="mirror to fetch from (default: the canonical mirrors)")
    dd.set_defaults(fn=cmd_data_download)
    _add_explore_parser(sub)

    r = sub.add_parser("report", help="write RUN/report.html: config, curves, samples, explore figures, metrics")
    r.add_argument("run", metavar="RUN", help="run directory")
    r.add_argument("--out", help="file name inside the run directory (default report.html)")
    r.set_defaults(fn=cmd_report)

    c = sub.add_parser("compare", help="a table of key settings and metrics of several runs")
    c.add_argument("runs", nargs="+", metavar="RUN", help="run directories")
    c.add_argument("--out", help="also write the table to FILE.md or FILE.html")
    c.set_defaults(fn=cmd_compare)

    ev = sub.add_parser("evaluate", help="metrics of a run (or of samples) beside their real-vs-real floors")
    ev.add_argument("run", nargs="?", help="run directory (writes RUN/eval.json)")
    ev.add_argument("--checkpoint", metavar="WHICH", help=CHECKPOINT_HELP)
    ev.add_argument("--samples", metavar="FILE.npz", help="evaluate these samples instead (gankit sample --out FILE.npz)")
    ev.add_argument("--data", help="with --samples: the dataset they imitate (mnist, digits, stacked-mnist, ring, ...)")
    ev.add_argument("--data-dir", help="folder with the real data (default: the run's)")
    ev.add_argument("--limit", type=int, help="the training set is its first N images (default: the run's; all)")
    ev.add_argument("-n", type=int, help=f"samples, and train and test images for the floors (default {DEFAULT_N}; "
                    + "; ".join(f"{n} for {data}" for data, n in DEFAULT_N_FOR.items()) + ", the papers' count)")
    ev.add_argument("--seed", type=int, help=f"seeds the samples and the KID subsets (default {_default(api.evaluate, 'seed')})")
    ev.add_argument("--judge", help="judge name or FILE.json (default: the dataset's shipped judge)")
    ev.add_argument("--out", help="FILE.json to write (default RUN/eval.json; --samples: none)")
    ev.set_defaults(fn=cmd_evaluate)

    j = sub.add_parser("judge", help="the classifier behind the metrics: train or check one")
    jsub = j.add_subparsers(dest="judge_command", required=True, parser_class=_Parser)
    jt = jsub.add_parser("train", help="train a judge by the fixed recipe (writes FILE.pt and FILE.json)")
    jt.add_argument("--data", help=f"the recipe's dataset: {', '.join(RECIPES)} (default {_default(train_judge, 'data')})")
    jt.add_argument("--data-dir", help="folder with the dataset files")
    jt.add_argument("--out", help="FILE.pt (default <name>.pt in this folder)")
    jt.add_argument("--epochs", type=int, help="override the recipe's epochs")
    jt.add_argument("--reject-steps", type=int, help="override the recipe's steps of the reject head (p(digit | x))")
    jt.set_defaults(fn=cmd_judge_train)
    jc = jsub.add_parser("check", help="verify a judge's SHA-256 and measure its test accuracy")
    jc.add_argument("judge", nargs="?", help=f"judge name or FILE.json (default {_default(load_judge, 'which')})")
    jc.add_argument("--data", help="dataset to test on (default the judge's)")
    jc.add_argument("--data-dir", help="folder with the dataset files")
    jc.add_argument("--limit", type=int, help=f"first N test images (0 = all; -1 = verify only; "
                    f"default {_default(judge_accuracy, 'limit')})")
    jc.set_defaults(fn=cmd_judge_check)

    th = sub.add_parser("theory", help="numerical checks of the theory")
    thsub = th.add_subparsers(dest="theory_command", required=True, parser_class=_Parser)
    od = thsub.add_parser("optimal-d", help="a trained D against D* = p_data/(p_data+p_g), and V(D*) = -log 4 + 2 JSD")
    od.add_argument("--out", help="folder for optimal-d.png and optimal-d.json")
    od.add_argument("--steps", type=int, help=f"discriminator training steps (default {_default(api.optimal_d, 'steps')})")
    od.add_argument("--seed", type=int, help=f"(default {_default(api.optimal_d, 'seed')})")
    od.set_defaults(fn=cmd_theory_optimal_d)
    cb = thsub.add_parser("checkerboard", help="why stride-2 transposed convolutions draw checkerboards: "
                          "the paths to each pixel, the lecture's G against Radford's")
    cb.add_argument("--out", help="folder for checkerboard.png and checkerboard.json")
    cb.set_defaults(fn=cmd_theory_checkerboard)
    return p


ENVIRONMENT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.fn(args) or 0
    except GankitError as e:
        print(f"gankit: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("gankit: aborted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gankit evaluate RUN | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141
    except OSError as e:  # a full disk, a read-only folder: the machine, not a bug (checkpoints survive)
        if e.errno not in ENVIRONMENT_ERRNOS:
            raise
        print(f"gankit: error: {e.filename or 'a file'}: {e.strerror}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        msg = describe_failure(e, getattr(args, "resume", None) or getattr(args, "out", None))
        if msg is None:
            raise
        print(f"gankit: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
