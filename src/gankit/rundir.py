"""The run directory and the one way to write a file: the ground floor every other module asks.

Every path inside a run directory (``config_path``, ``checkpoint_path``, ``epoch_grid``, ...), the
readers of its records (``read_config``, ``read_log``, ``read_eval``, ``read_env``) and the
environment record come from here; no other module spells a file name of a run directory.

Guarantee of ``atomic_output`` / ``atomic_write``: a reader of ``path`` sees either the old file
or the complete new one, never a torn one, even if the process is killed (SIGKILL, power loss
after the rename) at any moment. The data goes to a fresh temporary file in the same folder, is
fsync'ed, renamed over ``path`` (``os.replace`` is atomic within one file system), and the folder
is fsync'ed so that the rename itself survives a crash. On any error the temporary file is removed
and ``path`` is untouched.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import secrets
import shutil
from pathlib import Path
from typing import Iterator, Union

import numpy
import torch
import yaml

from . import __version__
from .errors import RunDirError

PathLike = Union[str, "os.PathLike[str]"]


def fsync_dir(folder: PathLike) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; write it, and on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name opened with "x" (not mkstemp) so the file gets the usual umask permissions.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    open(tmp, "xb").close()
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def atomic_write(path: PathLike, data: Union[bytes, str]) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; returns ``path``."""
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def stale_temps(folder: PathLike, names: str = "*") -> list[Path]:
    """Temporary files that ``atomic_output`` left in ``folder`` when its process was killed
    mid-write, for target names matching the glob ``names`` (e.g. ``"*.pt"``)."""
    return sorted(Path(folder).glob(f".{names}.*.tmp"))


def remove_stale_temps(folder: PathLike, names: str = "*") -> list[Path]:
    """Delete ``stale_temps(folder, names)``; returns the ones removed.

    Only the one writer of ``folder`` may call this, before it writes: a live write's temporary
    file looks the same.
    """
    removed = []
    for p in stale_temps(folder, names):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


# ---- the layout of a run directory ---------------------------------------------------------------
# Every file name inside a run directory is spelled here and nowhere else; changing one changes
# what older runs are read as, so these are part of the on-disk format.
CONFIG = "config.yaml"  # the resolved config, enough to rerun
LOG = "log.jsonl"  # one JSON object per logged step
EVAL = "eval.json"  # the metrics of `gankit evaluate`
ENV = "env.json"  # versions, machine and device of the process that trained the run
REPORT = "report.html"  # the run on one page
LOSSES = "losses.png"  # the curves of log.jsonl
PROGRESS = "progress.gif"  # the fixed-seed grids of every epoch as frames
CHECKPOINTS = "checkpoints"  # last.pt, best.pt and the kept epoch-NNNN.pt
SAMPLES = "samples"  # per-epoch grids and final.png
EXPLORE = "explore"  # the figures of `gankit explore`
TENSORBOARD = "tensorboard"  # event files of --tensorboard
LAST = "last.pt"  # the newest checkpoint, written every epoch
BEST = "best.pt"  # the state of the best quality check of training
KEPT = "epoch-*.pt"  # the kept per-epoch checkpoints (epoch_checkpoint_name)
FINAL_GRID = "final.png"  # the fixed-seed grid at the end of training
CLASS_GRID = "classes"  # kind of samples/classes-epoch-NNNN.png: one row per class
RECON_GRID = "recon"  # kind of samples/recon-epoch-NNNN.png: images and their reconstructions

# What training writes, so what `train --overwrite` removes: every output, nothing else.
OUTPUT_DIRS = (CHECKPOINTS, SAMPLES, EXPLORE, TENSORBOARD)
OUTPUT_FILES = (LOG, PROGRESS, LOSSES, EVAL, REPORT, ENV)

# The fixed-seed grids (samples/epoch-NNNN.png, final.png, the class grids) draw their latents from
# their own generator seeded with seed + FIXED_SEED_OFFSET (the quality checks with one more), so
# every epoch shows the same latents and training's RNG streams stay untouched.
FIXED_SEED_OFFSET = 7919


def config_path(run: PathLike) -> Path:
    return Path(run) / CONFIG


def log_path(run: PathLike) -> Path:
    return Path(run) / LOG


def eval_path(run: PathLike) -> Path:
    return Path(run) / EVAL


def env_path(run: PathLike) -> Path:
    return Path(run) / ENV


def report_path(run: PathLike) -> Path:
    return Path(run) / REPORT


def losses_path(run: PathLike) -> Path:
    return Path(run) / LOSSES


def progress_path(run: PathLike) -> Path:
    return Path(run) / PROGRESS


def checkpoints_dir(run: PathLike) -> Path:
    return Path(run) / CHECKPOINTS


def epoch_checkpoint_name(epoch: int) -> str:
    """The kept checkpoint of ``epoch``: ``epoch-NNNN.pt``."""
    return f"epoch-{epoch:04d}.pt"


def checkpoint_path(run: PathLike, name: str = LAST) -> Path:
    """``RUN/checkpoints/<name>``: ``LAST``, ``BEST`` or an ``epoch_checkpoint_name``."""
    return checkpoints_dir(run) / name


def kept_checkpoints(run: PathLike) -> list[Path]:
    """The kept per-epoch checkpoints, oldest first."""
    return sorted(checkpoints_dir(run).glob(KEPT))


def samples_dir(run: PathLike) -> Path:
    return Path(run) / SAMPLES


def epoch_grid(run: PathLike, epoch: int, kind: str = "") -> Path:
    """``samples/epoch-NNNN.png`` (the fixed-seed grid), or ``samples/<kind>-epoch-NNNN.png`` for a
    family's own grid (``CLASS_GRID``, ``RECON_GRID``)."""
    return samples_dir(run) / f"{kind + '-' if kind else ''}epoch-{epoch:04d}.png"


def epoch_grids(run: PathLike, kind: str = "") -> list[Path]:
    """Every ``epoch_grid`` of ``kind`` on disk, oldest first."""
    return sorted(samples_dir(run).glob(f"{kind + '-' if kind else ''}epoch-*.png"))


def class_grid(run: PathLike, epoch: int) -> Path:
    return epoch_grid(run, epoch, CLASS_GRID)


def recon_grid(run: PathLike, epoch: int) -> Path:
    return epoch_grid(run, epoch, RECON_GRID)


def final_grid(run: PathLike, kind: str = "") -> Path:
    """``samples/final.png`` (the fixed-seed grid at the end of training), or ``samples/<kind>-final.png``
    for a family's own grid at the end (a run stopped by its time budget inside its first epoch
    has no ``epoch_grid`` of that kind, but has this one)."""
    return samples_dir(run) / f"{kind + '-' if kind else ''}{FINAL_GRID}"


def explore_dir(run: PathLike) -> Path:
    return Path(run) / EXPLORE


def explore_caption(figure: PathLike) -> Path:
    """The caption sidecar of an explore figure: ``<stem>.json`` in the figure's folder, one for its
    PNG and its GIF (``explore/walk-means3-stds1.json`` beside ``walk-means3-stds1.png``, ``.gif``)."""
    return Path(figure).with_suffix(".json")


def tensorboard_dir(run: PathLike) -> Path:
    return Path(run) / TENSORBOARD


def is_run_dir(run: PathLike) -> bool:
    """A folder is a run directory once it holds its config.yaml."""
    return Path(run).is_dir() and config_path(run).is_file()


def require_run_dir(run: PathLike, flag: str = "") -> Path:
    """``run`` as a Path; a RunDirError naming it (and ``flag``, e.g. ``--resume``) if it is not a
    run directory."""
    run = Path(run)
    if not is_run_dir(run):
        raise RunDirError(f"{flag}: {run} is not a gankit run directory (no {CONFIG})" if flag else
                          f"{run}: not a gankit run directory (no {CONFIG})")
    return run


def remove_outputs(run: PathLike) -> None:
    """Delete everything training wrote into ``run`` (``OUTPUT_DIRS``, ``OUTPUT_FILES``); the folder,
    its config.yaml and anything else a user put there stay."""
    run = Path(run)
    for sub in OUTPUT_DIRS:
        shutil.rmtree(run / sub, ignore_errors=True)
    for name in OUTPUT_FILES:
        (run / name).unlink(missing_ok=True)


# ---- readers and writers of the run's records ------------------------------------------------------
def read_config(run: PathLike) -> dict:
    """The run's config.yaml as a plain dict, not validated (``gankit.config`` resolves it).

    Raises a RunDirError naming the folder or the file when there is none or it is no mapping."""
    run = require_run_dir(run)
    path = config_path(run)
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RunDirError(f"{path}: cannot read it ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if not isinstance(cfg, dict):
        raise RunDirError(f"{path}: expected a mapping of key: value")
    return cfg


def read_log(run: PathLike) -> list[dict]:
    """The rows of log.jsonl, oldest first; [] when there is none. A line that is not JSON (one
    torn by a crash mid-append) is skipped."""
    path = log_path(run)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def append_log(run: PathLike, row: dict) -> None:
    """Append one row to log.jsonl (appends are not atomic: a crash may tear the last line, which
    ``read_log`` skips and ``trim_log`` drops)."""
    with open(log_path(run), "a") as f:
        f.write(json.dumps(row) + "\n")


def trim_log(run: PathLike, step: int) -> None:
    """Keep the log's rows up to ``step`` (the checkpoint a resumed run continues from), so that the
    log holds each step once; unreadable lines go too. The file is rewritten atomically, and only
    when something is dropped."""
    path = log_path(run)
    if not path.exists():
        return
    lines = path.read_text().splitlines()
    keep = []
    for line in lines:
        try:
            if json.loads(line)["step"] <= step:
                keep.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    if len(keep) != len(lines):
        atomic_write(path, "".join(k + "\n" for k in keep))


def read_eval(run: PathLike) -> dict | None:
    """eval.json as a dict, or None when absent or unreadable."""
    return _read_json(eval_path(run))


def read_env(run: PathLike) -> dict | None:
    """env.json as a dict, or None when absent or unreadable."""
    return _read_json(env_path(run))


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# ---- the environment record ----------------------------------------------------------------------
def versions() -> dict:
    """The versions that decide a result: gankit, torch, numpy, Python."""
    return {"gankit": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__}


def environment(cfg: dict) -> dict:
    """This process's versions, machine and device, for a run with config ``cfg`` (a plain dict)."""
    env = {"recorded": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), **versions(),
           "platform": platform.platform(),
           "cpu_count": os.cpu_count(),
           "torch_threads": torch.get_num_threads(),
           "cuda": torch.version.cuda or "none",
           "cuda_available": torch.cuda.is_available()}
    want = str(cfg.get("device", "auto"))
    if torch.cuda.is_available() and want in ("auto", "cuda") or want.startswith("cuda:"):
        try:
            idx = int(want.split(":")[1]) if ":" in want else 0
            env["device"] = f"{want} ({torch.cuda.get_device_name(idx)})"
        except Exception:  # noqa: BLE001 - a device the driver cannot name is still recorded by its flag
            env["device"] = want
    else:
        env["device"] = "cpu" if want == "auto" else want
    env["precision"] = cfg.get("precision", "auto")
    env["seed"] = cfg.get("seed")
    if "WORLD_SIZE" in os.environ:
        env["world_size"] = int(os.environ["WORLD_SIZE"])
    return env


def recorded_environment(run: PathLike, cfg: dict) -> dict:
    """The run's env.json; when it has none yet, this process's ``environment`` is written there
    first, so the record describes the machine that first asked (``gankit train`` asks when a run
    finishes)."""
    env = read_env(run)
    if env is None:
        env = environment(cfg)
        atomic_write(env_path(run), json.dumps(env, indent=1) + "\n")
    return env
