"""A run directory, loaded: ``gankit.load(RUN).sample(n)``.

A run directory holds config.yaml, checkpoints/, samples/, log.jsonl and the rest (see
DESIGN.md). Loading rebuilds the family's networks from the config and fills them from the
newest good checkpoint, read with ``weights_only=True``.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch

from . import config as config_mod
from .config import Config
from .errors import GankitError, RunDirError
from .models import Family
from .models.blocks import sample_z
from .registry import MODELS
from .training import checkpoint


def _truncated_normal(n: int, d: int, bound: float, g: torch.Generator) -> torch.Tensor:
    """(n, d) standard normal latents truncated to [-bound, bound], by the inverse CDF.

    z = Phi^-1(Phi(-b) + u (1 - 2 Phi(-b))), u ~ U[0, 1), in float64: one draw per entry whatever
    the bound (rejection sampling would loop for ever on a tiny one). Beyond 10 sigma nothing is cut.
    """
    b = min(float(bound), 10.0)
    lo = torch.special.ndtr(torch.tensor(-b, dtype=torch.float64))  # Phi(-b)
    u = torch.rand(n, d, generator=g, dtype=torch.float64)
    return torch.special.ndtri(lo + u * (1 - 2 * lo)).clamp_(-b, b).float()


def latents(cfg: Config, n: int, generator: torch.Generator, truncation: float | None = None) -> torch.Tensor:
    """(n, z_dim) latents on the CPU, drawn as the model was trained (or truncated normal)."""
    if truncation is not None:
        if not truncation > 0:  # also NaN
            raise GankitError(f"--truncation: must be a positive number, got {truncation}")
        return _truncated_normal(n, cfg.z_dim, truncation, generator)
    return sample_z(n, cfg.z_dim, cfg.z_dist, generator)


@torch.no_grad()
def generate(family: Family, nets: torch.nn.ModuleDict, cfg: Config, n: int, generator: torch.Generator,
             device: torch.device | str = "cpu", num_classes: int = 0, labels: torch.Tensor | None = None,
             z: torch.Tensor | None = None, truncation: float | None = None, batch: int = 500) -> dict:
    """Samples from the generator (EMA weights when present), in eval mode.

    Returns {"images": (n, C, H, W) float32 in [0, 1] (or raw (n, D) points), "labels": (n,) or None,
    "z": (n, z_dim)}. Conditional families cycle through the classes unless ``labels`` are given.
    """
    if z is None:
        z = latents(cfg, n, generator, truncation)
    if family.conditional and labels is None:
        labels = torch.arange(n) % max(num_classes, 1)
    gen = family.generate or (lambda nets_, z_, y_: (nets_["G_ema"] if "G_ema" in nets_ else nets_["G"])(z_, y_))
    was_training = nets.training
    nets.eval()
    outs = []
    try:
        for i in range(0, n, batch):
            y = None if labels is None else labels[i:i + batch].to(device)
            outs.append(gen(nets, z[i:i + batch].to(device), y).float().cpu())
    finally:
        nets.train(was_training)
    x = torch.cat(outs) if outs else torch.empty(0)
    if x.dim() == 4:
        x = (x.clamp(-1, 1) + 1) / 2
    return {"images": x, "labels": labels, "z": z}


class Run:
    """A trained (or training) run: its folder, config and networks."""

    def __init__(self, path: str | Path, nets=None, config: Config | None = None, family: Family | None = None,
                 data_shape: tuple = (), num_classes: int = 0, state: dict | None = None):
        self.path = Path(path)
        self.nets, self.config, self.family = nets, config, family
        self.data_shape, self.num_classes = tuple(data_shape), num_classes
        self.state = state
        self.interrupted = False

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, model={self.config.model}, data={self.config.data})"

    def sample(self, n: int = 64, seed: int = 0, labels=None, truncation: float | None = None,
               z: torch.Tensor | None = None) -> dict:
        """n samples: {"images": (n, C, H, W) in [0, 1], "labels": ..., "z": ...}."""
        g = torch.Generator().manual_seed(seed)
        if labels is not None:
            labels = torch.as_tensor(labels, dtype=torch.long)
            if labels.dim() == 0:
                labels = labels.repeat(n)
        device = next(self.nets.parameters()).device
        return generate(self.family, self.nets, self.config, n, g, device, self.num_classes, labels, z, truncation)

    @property
    def log(self) -> list[dict]:
        from .report.plots import read_log

        return read_log(self.path / "log.jsonl")


def load(path: str | Path, device: str = "cpu", checkpoint_name: str | None = None) -> Run:
    """Load a run directory for sampling, exploring and evaluating."""
    run = Path(path)
    if not run.is_dir() or not (run / "config.yaml").is_file():
        raise RunDirError(f"{run}: not a gankit run directory (no config.yaml)")
    if checkpoint_name:
        used = run / "checkpoints" / checkpoint_name
        state = checkpoint.load(used)
    else:
        state, used = checkpoint.load_latest_good(run / "checkpoints")
    try:
        cfg = config_mod.resolve(state["config"], where=str(used))
    except GankitError as e:
        raise RunDirError(f"{used}: bad config inside the checkpoint ({e})") from None
    family = MODELS.get(cfg.model)
    shape = tuple(state.get("data_shape", ()))
    num_classes = int(state.get("num_classes", 0))
    x = torch.zeros((2, *shape))
    fake_data = SimpleNamespace(shape=shape, num_classes=num_classes, is_image=len(shape) == 3, name=cfg.data,
                                x=x, y=None)
    nets = family.build(cfg, fake_data)
    if cfg.ema > 0:
        import copy

        nets["G_ema"] = copy.deepcopy(nets["G"]).requires_grad_(False)
    try:
        nets.load_state_dict(state["nets"])
    except (RuntimeError, KeyError) as e:
        raise RunDirError(f"{used}: weights do not match the config ({str(e).splitlines()[0]})") from None
    nets.to(device).eval()
    return Run(run, nets, cfg, family, shape, num_classes, state)
