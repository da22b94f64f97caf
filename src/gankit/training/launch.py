"""Starting and resuming a run: the run directory chosen and checked, the config a resume continues
from, and ``train``, which the API and the CLI call."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import checkpoint, rundir
from .. import config as config_mod
from ..config import Config
from ..errors import ConfigError
from ..run import Run
from . import distributed
from .engine import Trainer


def prepare_run_dir(cfg: Config, overwrite: bool = False) -> Config:
    """Choose and check the run directory: ``out``, or ``runs_dir/name`` kept inside ``runs_dir``."""
    if cfg.out and cfg.name:
        raise ConfigError(f"--name {cfg.name} and --out {cfg.out}: give one of them")
    cfg.out = str(config_mod.run_dir_of(cfg))
    run = Path(cfg.out)
    if run.exists() and not run.is_dir():
        raise ConfigError(f"--out: {run} exists and is not a folder")
    if checkpoint.candidates(rundir.checkpoints_dir(run)) and not overwrite:
        raise ConfigError(f"--out: {run} already holds a run; continue it with --resume {run}, "
                          f"or pass --overwrite to start over")
    if overwrite and run.is_dir():
        rundir.remove_outputs(run)
    return cfg


RESUMABLE = {"epochs", "minutes", "steps", "device", "precision", "progress", "log_every", "checkpoint_steps", "report",
             "checkpoint_every", "tensorboard", "compile", "eval_every", "eval_n"}  # the settings a resumed run may change


def resume_config(run_dir: str | Path, overrides: dict) -> tuple[Config, dict | None]:
    """The config and checkpoint state a resumed run continues from; state is None when the run
    stopped before its first checkpoint (it then starts again from step 0)."""
    run = rundir.require_run_dir(run_dir, "--resume")
    bad = sorted(k for k, v in overrides.items() if v is not None and k not in RESUMABLE)
    if bad:
        raise ConfigError(f"--resume: {bad[0]} cannot change in a resumed run (allowed: {', '.join(sorted(RESUMABLE))})")
    if not checkpoint.candidates(rundir.checkpoints_dir(run)):
        where = str(rundir.config_path(run))
        return config_mod.resolve(config_mod.read_file(where), overrides, {"out": str(run)}, where=where), None
    state, used = checkpoint.load_latest_good(rundir.checkpoints_dir(run))
    return config_mod.resolve(state["config"], overrides, {"out": str(run)}, where=str(used)), state


def train(cfg: Config | dict | None = None, *, resume: str | Path | None = None, overwrite: bool = False,
          **overrides) -> Run:
    """Train a model and return its ``Run``. ``cfg`` may be a Config, a dict of overrides or None.

    ``resume=RUN`` continues that run from its newest good checkpoint; ``overrides`` such as
    ``epochs=`` or ``minutes=`` then extend its budget (``epochs`` is the run's total).
    """

    if resume is not None:
        cfg, state = resume_config(resume, overrides)
        if state is None:
            print(f"gankit: {resume}: no checkpoint saved yet; starting the run from step 0", file=sys.stderr)
        trainer = Trainer(cfg, resume_state=state)
    else:
        if isinstance(cfg, Config):
            cfg = config_mod.resolve(cfg.to_dict(), overrides)
        else:
            cfg = config_mod.resolve(cfg or {}, overrides)
        d = distributed.setup(cfg.device)
        if d.is_main:  # one process checks and prepares the folder; the others wait for it
            cfg = prepare_run_dir(cfg, overwrite)
            Path(cfg.out).mkdir(parents=True, exist_ok=True)
            config_mod.save(cfg, rundir.config_path(cfg.out))
        else:
            cfg.out = str(config_mod.run_dir_of(cfg))
        distributed.barrier(d.world)
        trainer = Trainer(cfg)
    trainer.fit()
    if trainer.dist.enabled:  # leave the process group together: a rank that exits with gloo's threads
        distributed.barrier(trainer.dist.world)  # still alive can abort ("terminate called without an
        distributed.cleanup()  # active exception"), and torchrun would call a finished job failed
    run = Run(trainer.run_dir, nets=trainer.nets, config=trainer.cfg, family=trainer.family,
              data_shape=trainer.data.shape, num_classes=trainer.data.num_classes,
              parent=trainer.data.extra.get("parent"),
              state={"step": trainer.step, "epoch": trainer.epoch, "batch": trainer.batch})  # where training stopped
    run.interrupted = trainer.interrupted
    run.trainer = trainer
    return run
