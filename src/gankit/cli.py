"""The ``gankit`` command line: it parses flags and calls the Python API, nothing more.

Every user error (a bad flag, file or config value) is one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import GankitError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse would print the usage too)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


# ----------------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    from . import api
    from . import config as config_mod

    flags = {
        "model": args.model, "data": args.data, "data_dir": args.data_dir, "loss": args.loss,
        "epochs": args.epochs, "minutes": args.minutes, "batch_size": args.batch_size, "seed": args.seed,
        "precision": args.precision, "device": args.device, "out": args.out, "name": args.name,
        "runs_dir": args.runs_dir,
    }
    if args.minutes is not None and args.epochs is None:
        flags["epochs"] = 0  # a time budget alone: as many epochs as fit
    if args.no_progress:
        flags["progress"] = False
    sets = config_mod.parse_set(args.set)
    if args.resume:
        overrides = {k: v for k, v in {**flags, **sets}.items() if v is not None}
        overrides.pop("out", None)
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


def cmd_sample(args) -> int:
    from . import api

    out = Path(args.out)
    if out.suffix not in (".png", ".npz"):
        raise GankitError(f"--out: {out} must end in .png (a grid) or .npz (arrays)")
    if args.n <= 0:
        raise GankitError(f"-n: must be positive, got {args.n}")
    run = api.load(args.run)
    labels = None
    if args.label is not None:
        if not run.family.conditional:
            raise GankitError(f"--label: {args.run} is not a conditional model")
        if not 0 <= args.label < run.num_classes:
            raise GankitError(f"--label: must be in 0..{run.num_classes - 1}, got {args.label}")
        labels = args.label
    path = api.save_samples(run, out, n=args.n, seed=args.seed, labels=labels, truncation=args.truncation)
    print(f"wrote {path}")
    return 0


def cmd_data_download(args) -> int:
    from .data.mnist import download

    paths = download(args.name, args.dest, base_url=args.base_url)
    for p in paths:
        print(f"wrote {p}")
    print(f"train with: gankit train --data {args.name} --data-dir {args.dest}")
    return 0


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
    t.set_defaults(fn=cmd_train)

    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run", help="run directory")
    s.add_argument("-n", type=int, default=64, help="number of samples")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", type=int, help="class for conditional models (default: cycle through)")
    s.add_argument("--truncation", type=float, help="sample z from a normal truncated at this bound")
    s.add_argument("--out", required=True, help="FILE.png (grid) or FILE.npz (images, labels)")
    s.set_defaults(fn=cmd_sample)

    d = sub.add_parser("data", help="datasets: download for offline use")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    dd = dsub.add_parser("download", help="fetch the canonical IDX files (SHA-256 checked)")
    dd.add_argument("name", choices=["mnist", "fashion-mnist"])
    dd.add_argument("--dest", required=True, help="folder to write the IDX files into")
    dd.add_argument("--base-url", help="mirror to fetch from (default: the canonical mirrors)")
    dd.set_defaults(fn=cmd_data_download)
    return p


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
    except RuntimeError as e:
        from .training.distributed import describe_failure

        msg = describe_failure(e, getattr(args, "resume", None) or getattr(args, "out", None))
        if msg is None:
            raise
        print(f"gankit: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
