"""The quality check of training: every epoch (or ``eval_every`` steps) ``eval_n`` samples of a fixed
seed are judged (FID by the data's judge, or modes on a toy mixture), the best check's state is
kept as ``checkpoints/best.pt``, and a collapse of the classes is reported once. ``self`` is the
``Trainer``."""
from __future__ import annotations

import sys
import time

import torch

from .. import rundir
from ..rundir import FIXED_SEED_OFFSET
from ..metrics.watch import Watch, collapsed
from ..run import generate
from . import distributed


def due(self) -> bool:
    """eval_every steps, or (eval_every 0) the last step of every epoch."""
    every = self.cfg.eval_every
    if every == 0:
        return self.batch == self.steps_per_epoch
    return every > 0 and self.step % every == 0

def check(self, t0: float) -> dict | None:
    """The quality check (``metrics.watch``): eval_n samples of the fixed seed judged on rank 0,
    checkpoints/best.pt when the check beats the best so far, and one warning when the classes
    collapse. Returns the figures for this step's log.jsonl line (rank 0; None elsewhere, or
    for data with neither a judge nor a mixture). Its own RNG streams: training's stay untouched."""
    # Diverged weights give NaN samples, which the judge would refuse as a user's bad input:
    # stop here with the divergence message instead (every rank holds the same weights).
    self._check_finite(weights=True)
    better, row = False, None
    if self.dist.is_main:
        if self._watch is None:
            self._watch = make_watch(self)
        if self._watch:
            t = time.perf_counter()
            self.refresh_ema_stats()
            g = torch.Generator().manual_seed(self.cfg.seed + FIXED_SEED_OFFSET + 1)
            x = generate(self.family, self.nets, self.cfg, self._watch.n, g, self.device,
                         self.data.num_classes)["images"]
            got = self._watch(x * 2 - 1 if x.dim() == 4 else x)
            row = {**got, "eval_seconds": round(time.perf_counter() - t, 3)}
            self._t_log += time.perf_counter() - t  # img/s counts training, not the check
            self.last_quality = {"step": self.step, **row}
            # lower is better: FID, or minus (modes covered + high-quality share) on a toy mixture
            score = got["fid"] if "fid" in got else -(got["modes_covered"] + got["high_quality"])
            better = self.best is None or score < self.best["score"]
            if better:
                self.best = {"score": score, "step": self.step, **got}
            if collapsed(got) and not self._collapse_warned:
                what = "classes" if "classes_covered" in got else "modes"
                print(f"\ngankit: step {self.step}: mode collapse: only {got.get('classes_covered', got.get('modes_covered'))} "
                      f"of {got['of']} {what} hold a tenth of their share of the samples", file=sys.stderr, flush=True)
                self._collapse_warned = True
    if self.dist.enabled:  # every rank writes best.pt together (the save is collective); rank 0 holds self.best
        better = distributed.any_rank(better, self.device)
    if better:
        self.elapsed = self.elapsed_now(t0)
        self.save(rundir.BEST)
    return row if self.dist.is_main and self._watch else None

def make_watch(self):
    """The Watch for this run's data, or False when it has neither a judge nor a mixture."""
    mixture = self.data.extra.get("mixture") if isinstance(self.data.extra, dict) else None
    return Watch.for_data(self.cfg.data, self.cfg.data_dir, mixture=mixture, n=self.cfg.eval_n) or False
