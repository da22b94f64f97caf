"""The one training loop, shared by every family.

    trainer = Trainer(cfg)          # data, networks, optimisers, RNGs; resumes if asked
    trainer.fit()                   # epochs/minutes budget, logs, grids, checkpoints

Each step draws a batch of indices from one in-memory tensor (a fresh permutation per epoch,
derived from the seed and the epoch number, so the position in the run is just (epoch, batch))
and hands it to the family's step function (``gankit.training.steps``). Around the steps the
engine keeps the log, the fixed-seed grid of every epoch, the GIF, checkpoints and Ctrl-C.

Beside it in ``gankit.training``: ``launch`` (``train``: the run directory, resuming),
``precision`` (what ``--precision auto`` picks, and the networks' memory layout), ``quality``
(the quality check and best.pt), ``progress`` (the progress bar and epoch lines), ``steps`` (one
step function per family) and ``distributed`` (torchrun).
"""
from __future__ import annotations

import contextlib
import copy
import math
import signal
import sys
import time
from pathlib import Path

import torch

from .. import checkpoint, rundir
from ..config import Config
from ..data import Dataset, load_dataset
from ..errors import ConfigError, RunDirError, TrainingDiverged
from ..metrics.toy import mode_stats
from ..models import Family, sampling_generator
from ..models.blocks import sample_z
from ..registry import LOSSES, MODELS
from ..report.html import write_report
from ..report.plots import plot_losses
from ..report.tensorboard import TensorBoardWriter
from ..run import generate, load_parent
from ..sampling.figures import save_epoch_figures
from ..sampling.gif import write_gif
from ..sampling.grid import mode_line, save_grid, save_modes, save_points
from ..rundir import FIXED_SEED_OFFSET
from . import distributed, progress
from . import quality as quality_check
from .precision import resolve_precision, use_channels_last
from .steps import STEPS


class Trainer:
    def __init__(self, cfg: Config, resume_state: dict | None = None):
        self.cfg = cfg
        self.dist = distributed.setup(cfg.device, run=cfg.out)
        self.device = self.dist.device
        self.run_dir = Path(cfg.out)
        self.family: Family = MODELS.get(cfg.model)
        self.loss = LOSSES.get(cfg.loss)
        if self.family.step not in STEPS:
            raise ConfigError(f"--model {cfg.model}: no step function {self.family.step!r}")
        self.step_fn = STEPS[self.family.step]

        data = load_dataset(cfg.data, cfg.data_dir, "train", cfg.limit)
        if self.family.parent:  # the run it builds on (the latent GAN's autoencoder), for prepare_data and build
            data = Dataset(data.name, data.x, data.y, data.num_classes,
                           {**data.extra, "parent": load_parent(cfg, self.family)})
        if self.family.prepare_data is not None:  # e.g. the latent GAN's autoencoder codes
            data = self.family.prepare_data(cfg, data)
        if self.family.conditional and not data.num_classes:
            raise ConfigError(f"--model {cfg.model} needs labelled data; --data {cfg.data} has no labels")
        self.data = Dataset(data.name, data.x.to(self.device), None if data.y is None else data.y.to(self.device),
                            data.num_classes, data.extra)
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank
        self.nets = self.family.build(cfg, self.data).to(self.device)
        self.precision = resolve_precision(cfg.precision, self.device, self.data, self.nets)
        if use_channels_last(self.data, self.nets):
            self.nets.to(memory_format=torch.channels_last)
        if self.device.type == "cuda" and self.data.is_image:
            torch.backends.cudnn.benchmark = True
        if cfg.ema > 0:
            self.nets["G_ema"] = copy.deepcopy(self.nets["G"]).requires_grad_(False)
        if cfg.compile:  # in place: parameter names (and so checkpoints) are unchanged
            for name in ("G", "D"):
                if name in self.nets:
                    self.nets[name].compile()
        self.opts = {name: self._optimizer(name, nets) for name, nets in self.family.optimizers.items()}
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.precision == "fp16")
        torch.manual_seed(cfg.seed + 1 + self.dist.rank)  # dropout differs across ranks
        # One noise stream on every rank: each draws the global batch's noise and keeps its slice,
        # so N ranks see exactly the latents of one process with the same global batch.
        self.noise_gen = torch.Generator(self.device).manual_seed(cfg.seed + 2)

        self.global_batch = min(cfg.batch_size, len(self.data))
        if self.global_batch % self.dist.world:
            raise ConfigError(f"--batch-size {cfg.batch_size} must divide evenly across {self.dist.world} ranks")
        self.steps_per_epoch = max(1, len(self.data) // self.global_batch)
        self.step = self.epoch = self.batch = 0
        self.elapsed = 0.0
        self._ema_stats_step: int | None = None  # the step at which G_ema's BN statistics were measured
        self.best: dict | None = None  # the best quality check so far, the one checkpoints/best.pt holds
        self._watch = None  # what quality is measured against (metrics.watch.Watch), built on first use
        self._collapse_warned = False
        self._acc: dict = {}
        self._stop: str | None = None
        self.interrupted = False
        if resume_state is not None:
            self._restore(resume_state)
        self.tb = None  # TensorBoard writer (rank 0, --tensorboard); a missing package fails here, before training
        if cfg.tensorboard and self.dist.is_main:
            self.tb = TensorBoardWriter(self.run_dir)

    # ---- pieces the step functions use -------------------------------------------------------
    def _optimizer(self, name: str, nets: tuple) -> torch.optim.Optimizer:
        params = [p for n in nets for p in self.nets[n].parameters()]
        lr = self.cfg.lr_d if name == "D" else self.cfg.lr_g
        if self.cfg.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        return torch.optim.Adam(params, lr=lr, betas=(self.cfg.beta1, self.cfg.beta2), eps=self.cfg.adam_eps)

    def autocast(self):
        if self.precision in ("bf16", "fp16"):
            dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
            return torch.autocast(self.device.type, dtype=dtype)
        return contextlib.nullcontext()

    def _rank_slice(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.dist.world == 1 else t[self.dist.rank::self.dist.world]

    def noise(self, n: int) -> torch.Tensor:
        """(n, z_dim) latents for this rank's n examples of the global batch."""
        return self._rank_slice(sample_z(n * self.dist.world, self.cfg.z_dim, self.cfg.z_dist, self.noise_gen,
                                         self.device))

    def uniform(self, n: int) -> torch.Tensor:
        """(n,) draws from U(0, 1) for this rank's examples of the global batch (e.g. GP's alpha)."""
        return self._rank_slice(torch.rand(n * self.dist.world, generator=self.noise_gen, device=self.device))

    def fake_labels(self, n: int) -> torch.Tensor:
        y = torch.randint(0, self.data.num_classes, (n * self.dist.world,), generator=self.noise_gen,
                          device=self.device)
        return self._rank_slice(y)

    def update(self, name: str, loss: torch.Tensor) -> None:
        """Phase of a step: zero grads, backward, average across ranks, optimiser step."""
        opt = self.opts[name]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.dist.enabled:
            distributed.all_reduce_grads([p for g in opt.param_groups for p in g["params"]], self.dist.world)
        self.scaler.step(opt)
        self.scaler.update()

    @torch.no_grad()
    def update_ema(self) -> None:
        """G_ema <- d * G_ema + (1 - d) * G, d = min(ema, (1 + step) / (10 + step)); buffers (BN
        statistics) are copied. The warm-up of d (as TensorFlow's ExponentialMovingAverage with
        num_updates) keeps short runs from sampling a G close to its random start."""
        if "G_ema" not in self.nets:
            return
        ema, g = self.nets["G_ema"], self.nets["G"]
        decay = min(self.cfg.ema, (1 + self.step) / (10 + self.step))
        torch._foreach_lerp_(list(ema.parameters()), list(g.parameters()), 1.0 - decay)
        for b_ema, b in zip(ema.buffers(), g.buffers()):
            b_ema.copy_(b)
        self._ema_stats_step = None  # G's statistics again, until refresh_ema_stats

    @torch.no_grad()
    def refresh_ema_stats(self, batches: int = 8) -> None:
        """Batch-norm statistics for G_ema measured on G_ema's own activations.

        ``update_ema`` copies G's running statistics, which describe G's activations, not those of
        the averaged weights; sampling in eval mode with them blurs and shifts the EMA generator's
        images. Before any sampling or saving, G_ema runs ``batches`` batches of >= 256 fresh
        latents in train mode with a cumulative average (momentum None): the "standing statistics"
        of BigGAN.
        Its own RNG stream (seeded by the step) leaves training's streams untouched, and the next
        ``update_ema`` copies G's statistics back, so resume stays exact."""
        ema = self.nets["G_ema"] if "G_ema" in self.nets else None
        bns = [m for m in ema.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)] if ema else []
        if not bns or self._ema_stats_step == self.step:  # none, or already measured at this step
            return
        g = torch.Generator(self.device).manual_seed(self.cfg.seed + 3 + self.step)
        n = max(self.global_batch, 256)  # large batches: per-batch variances average without bias
        momenta = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        was_training = ema.training
        ema.train()
        try:
            for _ in range(batches):
                z = sample_z(n, self.cfg.z_dim, self.cfg.z_dist, g, self.device)
                y = (torch.randint(0, self.data.num_classes, (n,), generator=g, device=self.device)
                     if self.family.conditional else None)
                with self.autocast():
                    ema(z, y)
        finally:
            ema.train(was_training)
            for m, mom in zip(bns, momenta):
                m.momentum = mom
        self._ema_stats_step = self.step

    # ---- state --------------------------------------------------------------------------------
    def rng_state(self) -> dict:
        """Every RNG stream; the per-rank ones gathered from all ranks (a collective call)."""
        rng = {"torch": distributed.gather_tensor(torch.get_rng_state(), self.dist.world),
               "noise": self.noise_gen.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = distributed.gather_tensor(torch.cuda.get_rng_state(self.device), self.dist.world)
        return rng

    def state(self, rng: dict | None = None) -> dict:
        rng = rng if rng is not None else self.rng_state()
        return {
            "nets": self.nets.state_dict(),
            "opts": {k: o.state_dict() for k, o in self.opts.items()},
            "scaler": self.scaler.state_dict(),
            "step": self.step, "epoch": self.epoch, "batch": self.batch, "elapsed": self.elapsed,
            "best": self.best,
            "rng": rng,
            "config": self.cfg.to_dict(),
            "data_shape": list(self.data.shape), "num_classes": self.data.num_classes,
        }

    def _restore(self, state: dict) -> None:
        try:
            self.nets.load_state_dict(state["nets"])
            for k, o in self.opts.items():
                o.load_state_dict(state["opts"][k])
            self.scaler.load_state_dict(state["scaler"])
            self.step, self.epoch, self.batch = int(state["step"]), int(state["epoch"]), int(state["batch"])
            self.elapsed = float(state["elapsed"])
            self.best = state.get("best")  # absent in checkpoints older than the quality checks
            self.noise_gen.set_state(state["rng"]["noise"].to(self.noise_gen.get_state().device))
            # per-rank streams (dropout), one row per rank; restored when the world size is unchanged
            per_rank = state["rng"]["torch"]
            if per_rank.shape[0] == self.dist.world:
                torch.set_rng_state(per_rank[self.dist.rank].clone())
                if "cuda" in state["rng"] and self.device.type == "cuda":
                    torch.cuda.set_rng_state(state["rng"]["cuda"][self.dist.rank].clone(), self.device)
        except (KeyError, RuntimeError, ValueError, TypeError) as e:
            raise RunDirError(f"{rundir.checkpoints_dir(self.run_dir)}: checkpoint does not match this model ({e})") from None

    def save(self, name: str = rundir.LAST) -> None:
        self.refresh_ema_stats()
        distributed.broadcast_buffers(self.nets, self.dist.world)
        rng = self.rng_state()  # every rank takes part
        if self.dist.is_main:
            checkpoint.save_atomic(self.state(rng), rundir.checkpoint_path(self.run_dir, name))
        distributed.barrier(self.dist.world)

    # ---- the loop -------------------------------------------------------------------------------
    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + epoch)
        return torch.randperm(len(self.data), generator=g).to(self.device)

    def _budget_spent(self, t0: float) -> bool:
        """The time or step budget is used up (either can end a run inside an epoch)."""
        cfg = self.cfg
        return bool(cfg.minutes and self.elapsed_now(t0) >= cfg.minutes * 60) or bool(cfg.steps and self.step >= cfg.steps)

    def _budget_left(self, t0: float) -> bool:
        """Another epoch may start. Under torchrun the time budget is voted on (``_should_stop``), as
        inside an epoch: rank 0 draws the epoch's grid after the checkpoint's barrier, so its clock
        runs ahead, and a rank that left the loop alone would meet the others' next step with a
        different collective (a hang, or gloo's size mismatch)."""
        return not (self.cfg.epochs and self.epoch >= self.cfg.epochs) and not self._should_stop(t0)

    def elapsed_now(self, t0: float) -> float:
        """Training seconds of the whole run: earlier invocations' (before a resume) plus this one's since ``t0``."""
        return self._elapsed_before + (time.perf_counter() - t0)

    def fit(self) -> "Trainer":
        cfg, main = self.cfg, self.dist.is_main
        if main:
            rundir.samples_dir(self.run_dir).mkdir(parents=True, exist_ok=True)
            checkpoint.remove_stale_temps(rundir.checkpoints_dir(self.run_dir))  # left by a killed write
            rundir.trim_log(self.run_dir, self.step)  # lines after the checkpoint we continue from
        t0 = time.perf_counter()
        self._elapsed_before = self.elapsed  # from the checkpoint when resuming
        self._t_log, self._n_log = t0, 0
        self._t_plot = t0  # losses.png: at an epoch's end once 15 s have passed since the last drawing
        prev_handler = self._install_sigint()
        try:
            while self._budget_left(t0):
                perm = self._permutation(self.epoch)
                B, r, w = self.global_batch, self.dist.rank, self.dist.world
                while self.batch < self.steps_per_epoch:
                    idx = perm[self.batch * B:(self.batch + 1) * B][r::w]
                    x = self.data.x[idx]
                    y = None if self.data.y is None else self.data.y[idx]
                    if cfg.lr_decay != "none":
                        self._set_lr(t0)
                    out = self.step_fn(self, x, y)
                    self._accumulate(out)
                    self.batch += 1
                    self.step += 1
                    self._n_log += B
                    quality = quality_check.check(self, t0) if quality_check.due(self) else None
                    if self.step % cfg.log_every == 0 or quality:
                        self._log(t0, quality)
                    if cfg.checkpoint_steps and self.step % cfg.checkpoint_steps == 0:
                        self._checkpoint(t0)
                    if main and cfg.progress:
                        progress.draw(self, t0)
                    if self._should_stop(t0):
                        break
                if self.batch >= self.steps_per_epoch:
                    self.epoch += 1
                    self.batch = 0
                    self._end_epoch(t0)
                elif self._stop or cfg.minutes or cfg.steps:  # stopped inside an epoch
                    break
        finally:
            if prev_handler is not None:
                signal.signal(signal.SIGINT, prev_handler)
        quality = None
        check = bool(self._acc) and cfg.eval_every != -1 and not self.interrupted
        if self.dist.enabled:  # rank 0 decides: only its log takes the checks' lines, so only its _acc is current
            check = distributed.main_says(check, self.device)
        if check:
            quality = quality_check.check(self, t0)  # the last, unlogged steps of a --minutes run: their state is checked too
        if self._acc or quality:
            self._log(t0, quality)
        self._checkpoint(t0)
        if main:
            self._finish()
        if self.tb is not None:
            self.tb.close()
        return self

    def _should_stop(self, t0: float) -> bool:
        """Ctrl-C or the time budget; under torchrun every rank must agree, so they vote."""
        stop = bool(self._stop) or self._budget_spent(t0)
        if self.dist.enabled:
            stop = distributed.any_rank(stop, self.device)
            if stop and not self._stop:
                self._stop = "budget"
        return stop

    def _checkpoint(self, t0: float, keep: bool = False) -> None:
        self._check_finite(weights=True)
        self.elapsed = self.elapsed_now(t0)
        if keep:  # the kept copy first: a crash between the two writes then redoes both on resume
            self.save(rundir.epoch_checkpoint_name(self.epoch))
        self.save(rundir.LAST)

    def budget_fraction(self, t0: float) -> float:
        """The share of the run's budget used so far, in [0, 1]: of whichever budget (epochs,
        steps, minutes) is nearest its end, since that one ends the run."""
        cfg, fracs = self.cfg, [0.0]
        if cfg.epochs:
            fracs.append(self.step / (cfg.epochs * self.steps_per_epoch))
        if cfg.steps:
            fracs.append(self.step / cfg.steps)
        if cfg.minutes:
            elapsed = self.elapsed_now(t0)
            if self.dist.enabled:  # one clock for all ranks, or their learning rates (and weights) drift apart
                elapsed = distributed.main_value(elapsed, self.device)
            fracs.append(elapsed / (cfg.minutes * 60))
        return min(max(fracs), 1.0)

    def _set_lr(self, t0: float) -> None:
        """lr_decay: both learning rates fall from their settings to 0 as the budget runs out,
        linearly or on a half cosine. Under an epoch or step budget the factor depends on the step
        alone, so resume is exact; under --minutes it follows the training time (the elapsed time
        of earlier invocations included), as the number of steps itself does."""
        frac = self.budget_fraction(t0)
        factor = 1.0 - frac if self.cfg.lr_decay == "linear" else 0.5 * (1.0 + math.cos(math.pi * frac))
        for name, opt in self.opts.items():
            base = self.cfg.lr_d if name == "D" else self.cfg.lr_g
            for group in opt.param_groups:
                group["lr"] = base * factor

    def _end_epoch(self, t0: float) -> None:
        self._checkpoint(t0, keep=self.epoch % self.cfg.checkpoint_every == 0)
        if self.dist.is_main:
            grid = rundir.epoch_grid(self.run_dir, self.epoch)
            self.save_fixed_grid(grid)
            if self.tb is not None:
                self.tb.image("samples", grid, self.step)
            save_epoch_figures(self, self.epoch)  # the family's own figures (class grid, reconstructions)
            now = time.perf_counter()
            if now - self._t_plot >= 15:  # drawn at most every 15 s (a figure costs ~0.5 s), and at the end
                plot_losses(self.run_dir)
                self._t_plot = now
            if self.cfg.progress:
                sys.stderr.write("\n" if sys.stderr.isatty() else "")
                progress.epoch_line(self)

    def _finish(self) -> None:
        frames = rundir.epoch_grids(self.run_dir)
        final = rundir.final_grid(self.run_dir)
        self.save_fixed_grid(final)
        save_epoch_figures(self, None)  # the family's own figures, at the end
        write_gif(frames or [final], rundir.progress_path(self.run_dir))
        plot_losses(self.run_dir)
        if self.cfg.report and not self.interrupted:
            write_report(self.run_dir)

    # ---- output ---------------------------------------------------------------------------------
    def generator(self) -> torch.nn.Module:
        return sampling_generator(self.nets)

    @torch.no_grad()
    def save_fixed_grid(self, path: Path) -> None:

        n = self.cfg.grid_size
        self.refresh_ema_stats()
        g = torch.Generator().manual_seed(self.cfg.seed + FIXED_SEED_OFFSET)
        out = generate(self.family, self.nets, self.cfg, n, g, self.device, self.data.num_classes)
        if out["images"].dim() == 4:  # images (also a latent GAN's decoded codes)
            save_grid(out["images"], path, nrow=int(math.ceil(math.sqrt(n))) if not self.family.conditional
                      else self.data.num_classes)
        else:
            more = generate(self.family, self.nets, self.cfg, 2000, g, self.device, 0)["images"]
            mixture = self.data.extra.get("mixture")
            if mixture is not None and more.shape[1] == 2:  # modes known: colour each point by its mode
                title = f"epoch {self.epoch}\n{mode_line(mode_stats(more, mixture.means, mixture.std), len(more))}"
                save_modes([(title, more)], mixture.means, mixture.std, path)
            else:
                save_points(more, self.data.x[:2000].float().cpu(), path, title=f"epoch {self.epoch}")

    def _accumulate(self, out: dict) -> None:
        for k, v in out.items():
            s, n = self._acc.get(k, (0.0, 0))
            self._acc[k] = (s + v.detach().float(), n + 1)

    def _check_finite(self, weights: bool = False) -> None:
        """Stop on a NaN/Inf loss, or (``weights``, before a checkpoint) a NaN/Inf weight: a finite
        loss can still come with NaN gradients, and the last good checkpoint must stay good."""
        what = next((f"{k} became {float(s)}" for k, (s, _) in self._acc.items()
                     if not torch.isfinite(torch.as_tensor(s)).all()), None)
        if what is None and weights:
            what = next((f"weight {k} became nan/inf" for k, t in self.nets.state_dict().items()
                         if t.is_floating_point() and not torch.isfinite(t).all()), None)
        if what is not None:
            last = rundir.checkpoint_path(self.run_dir)
            kept = f"the last good checkpoint {last} is kept" if last.exists() else "no checkpoint was saved yet"
            raise TrainingDiverged(
                f"step {self.step}: {what} (non-finite); {kept}. Flags that usually help: "
                f"--precision fp32, lower --set lr_d=/lr_g=, --set r1_gamma=10, --set spectral_norm=true")

    def _log(self, t0: float, quality: dict | None = None) -> None:
        """One log.jsonl line: the mean losses since the last line, and this step's quality check."""
        self._check_finite()
        now = time.perf_counter()
        row = {"step": self.step, "epoch": round(self.epoch + self.batch / self.steps_per_epoch, 4)}
        for k, (s, n) in self._acc.items():
            row[k] = round(float(s) / n, 6)
        row.update(quality or {})
        lrs = {name: opt.param_groups[0]["lr"] for name, opt in self.opts.items()}
        row["lr_g"] = next((lr for name, lr in lrs.items() if name != "D"), self.cfg.lr_g)  # G, or an autoencoder's
        row["lr_d"] = lrs.get("D", self.cfg.lr_d)
        row["img_per_s"] = round(self._n_log / max(now - self._t_log, 1e-9), 1)
        row["time"] = round(self.elapsed_now(t0), 2)
        self.last_row = row
        self._acc, self._t_log, self._n_log = {}, now, 0
        if self.dist.is_main:
            rundir.append_log(self.run_dir, row)
            if self.tb is not None:
                self.tb.scalars(row)

    def _install_sigint(self):
        """Ctrl-C sets a flag the loop checks after each step; returns the previous handler."""
        try:
            def handler(signum, frame):
                if self._stop:  # a second Ctrl-C: stop now
                    raise KeyboardInterrupt
                self._stop = "interrupt"
                self.interrupted = True
                print("\ngankit: interrupted; saving the run (Ctrl-C again to abort)", file=sys.stderr, flush=True)

            return signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread
            return None
