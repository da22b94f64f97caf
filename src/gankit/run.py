"""A run directory, loaded: ``gankit.load(RUN).sample(n)``.

A run directory holds config.yaml, checkpoints/, samples/, log.jsonl and the rest (its layout
is ``gankit.rundir``'s). Loading rebuilds the family's networks from the config and fills them
from the newest good checkpoint, read with ``weights_only=True``.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch

from . import checkpoint as checkpoints
from . import config as config_mod
from . import rundir
from .config import Config
from .errors import ConfigError, GankitError, RunDirError
from .models import Family, sampling_generator
from .data import to_unit
from .models.blocks import eval_mode, sample_z
from .registry import MODELS


def latents(cfg: Config, n: int, generator: torch.Generator, truncation: float | None = None) -> torch.Tensor:
    """(n, z_dim) latents on the CPU, drawn as the model was trained (or truncated: ``sample_z``)."""
    if truncation is not None and not truncation > 0:  # also NaN
        raise GankitError(f"--truncation: must be a positive number, got {truncation}")
    return sample_z(n, cfg.z_dim, cfg.z_dist, generator, truncation=truncation)


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
    gen = family.generate or (lambda nets_, z_, y_: sampling_generator(nets_)(z_, y_))
    outs = []
    with eval_mode(nets):
        for i in range(0, n, batch):
            y = None if labels is None else labels[i:i + batch].to(device)
            outs.append(gen(nets, z[i:i + batch].to(device), y).float().cpu())
    x = torch.cat(outs) if outs else torch.empty(0)
    if x.dim() == 4:
        x = to_unit(x)
    return {"images": x, "labels": labels, "z": z}


class Run:
    """A trained (or training) run: its folder, config and networks."""

    def __init__(self, path: str | Path, nets=None, config: Config | None = None, family: Family | None = None,
                 data_shape: tuple = (), num_classes: int = 0, state: dict | None = None,
                 parent: "Run | None" = None):
        self.path = Path(path)
        self.nets, self.config, self.family = nets, config, family
        self.data_shape, self.num_classes = tuple(data_shape), num_classes  # what the networks trained on
        self.parent = parent  # the run this one builds on (``Family.parent``), or None
        self.state = state
        self.interrupted = False

    @property
    def sample_shape(self) -> tuple:
        """What ``sample`` returns per sample: the data's shape, or for a family built on a parent
        run (the latent GAN, trained on codes) the shape of what the parent decodes to."""
        return self.parent.sample_shape if self.parent is not None else self.data_shape

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, model={self.config.model}, data={self.config.data})"

    def _repr_html_(self) -> str:
        """What a notebook shows when a Run ends a cell: the newest sample grid, inline, and the
        headline figures: eval.json's beside their floors, else the last quality check of training."""
        import base64
        import html

        grids = rundir.epoch_grids(self.path)
        final = rundir.final_grid(self.path)
        grid = final if final.is_file() else (grids[-1] if grids else None)
        parts = [f"<b>{html.escape(str(self.path))}</b>: {html.escape(self.config.model)} on "
                 f"{html.escape(self.config.data)}"]
        if self.state:
            parts[0] += f", step {self.state.get('step')}, epoch {self.state.get('epoch')}"
        rows = []
        ev = rundir.read_eval(self.path)
        try:
            for k in ("fid", "classifier_score", "read_as_digit", "classes_covered", "modes_covered", "high_quality"):
                m = ev["metrics"].get(k)
                if m and m.get("value") is not None:
                    of = f"/{m['of']}" if "of" in m else ""
                    rows.append((k.replace("_", " "), f"{_short(m['value'])}{of}", f"{_short(m['floor'])}{of}"))
            head = (rundir.EVAL, f"n={ev.get('n')}", "floor")
        except (KeyError, TypeError, AttributeError):  # no eval.json (None), or not one gankit wrote
            checks = [r for r in self.log if "fid" in r or "modes_covered" in r]
            if checks:
                last = checks[-1]
                rows = [(k.replace("_", " "), _short(last[k]), "") for k in
                        ("fid", "classifier_score", "classes_covered", "modes_covered", "high_quality") if k in last]
            head = ("training check", f"step {checks[-1]['step']}" if checks else "", "")
        if rows:
            cells = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
            parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{cells}</table>")
        if grid is not None:
            data = base64.b64encode(grid.read_bytes()).decode()
            parts.append(f'<img src="data:image/png;base64,{data}" alt="{html.escape(grid.name)}" '
                         f'style="image-rendering: pixelated; max-width: 360px">')
        return "<div>" + "".join(f"<div>{p}</div>" for p in parts) + "</div>"

    def sample(self, n: int = 64, seed: int = 0, labels=None, truncation: float | None = None,
               z: torch.Tensor | None = None) -> dict:
        """n samples: {"images": (n, C, H, W) in [0, 1], "labels": ..., "z": ...}.

        seed: an integer in 0..2**31 - 1. labels (conditional models only): one class in
        0..num_classes - 1 for every sample, or one per sample; default: cycle through the classes.
        """
        if isinstance(seed, bool) or not hasattr(seed, "__index__") or not 0 <= int(seed) <= 2**31 - 1:
            raise GankitError(f"--seed: must be an integer in 0..2147483647, got {seed!r}")
        g = torch.Generator().manual_seed(int(seed))
        if labels is not None:
            if not self.family.conditional:
                raise GankitError(f"--label: {self.path} is not a conditional model")
            labels = torch.as_tensor(labels, dtype=torch.long)
            outside = labels[(labels < 0) | (labels >= self.num_classes)]
            if outside.numel():
                raise GankitError(f"--label: must be in 0..{self.num_classes - 1}, got {int(outside.flatten()[0])}")
            if labels.dim() == 0:
                labels = labels.repeat(n)
        device = next(self.nets.parameters()).device
        return generate(self.family, self.nets, self.config, n, g, device, self.num_classes, labels, z, truncation)

    @property
    def log(self) -> list[dict]:
        return rundir.read_log(self.path)


def _short(v) -> str:
    return str(v) if isinstance(v, int) else f"{v:.4g}"


def checkpoint_file(run: Path, which: str) -> str | None:
    """``--checkpoint`` -> a file name in RUN/checkpoints: ``last`` (None: the newest good one,
    last.pt or, if it is damaged, the newest kept epoch), ``best`` (best.pt, the best quality
    check of training) or ``epoch-N`` (a kept epoch-NNNN.pt)."""
    ckpts = rundir.checkpoints_dir(run)
    have = sorted(p.stem for p in ckpts.glob("*.pt")) if ckpts.is_dir() else []
    if which in (None, "", "last"):
        return None
    name = {"best": rundir.BEST}.get(which)
    if name is None and which.startswith("epoch-") and which[6:].isdigit():
        name = rundir.epoch_checkpoint_name(int(which[6:]))
    if name is None:
        raise ConfigError(f"--checkpoint: {which!r}; valid: last, best, epoch-N")
    if not (ckpts / name).is_file():
        raise RunDirError(f"--checkpoint {which}: {ckpts / name} does not exist; {run} has "
                          f"{', '.join(have) or 'no checkpoints'}")
    return name


def load(path: str | Path, device: str = "cpu", checkpoint_name: str | None = None,
         checkpoint: str | None = None) -> Run:
    """Load a run directory for sampling, exploring and evaluating: from its newest good checkpoint,
    or ``checkpoint`` (``last``, ``best``, ``epoch-N``: see ``checkpoint_file``)."""
    run = rundir.require_run_dir(path)
    checkpoint_name = checkpoint_name or checkpoint_file(run, checkpoint)
    if checkpoint_name:
        used = rundir.checkpoint_path(run, checkpoint_name)
        state = checkpoints.load(used)
    else:
        state, used = checkpoints.load_latest_good(rundir.checkpoints_dir(run))
    try:
        cfg = config_mod.resolve(state["config"], where=str(used))
    except GankitError as e:
        raise RunDirError(f"{used}: bad config inside the checkpoint ({e})") from None
    family = MODELS.get(cfg.model)
    shape = tuple(state.get("data_shape", ()))
    num_classes = int(state.get("num_classes", 0))
    x = torch.zeros((2, *shape))
    parent = load_parent(cfg, family)
    fake_data = SimpleNamespace(shape=shape, num_classes=num_classes, is_image=len(shape) == 3, name=cfg.data,
                                x=x, y=None, extra={"parent": parent})
    nets = family.build(cfg, fake_data)
    if cfg.ema > 0:
        import copy

        nets["G_ema"] = copy.deepcopy(nets["G"]).requires_grad_(False)
    try:
        nets.load_state_dict(state["nets"])
    except (RuntimeError, KeyError) as e:
        raise RunDirError(f"{used}: weights do not match the config ({str(e).splitlines()[0]})") from None
    nets.to(device).eval()
    return Run(run, nets, cfg, family, shape, num_classes, state, parent=parent)


def load_parent(cfg: Config, family: Family) -> Run | None:
    """The run that the family's ``parent`` key names in ``cfg`` (the latent GAN's ``ae_run``),
    loaded; None when the family builds on no run or the key is empty (its build says what it needs)."""
    path = getattr(cfg, family.parent) if family.parent else ""
    if not path:
        return None
    try:
        return load(path)
    except GankitError as e:
        raise ConfigError(f"--set {family.parent}={path}: {e}") from None


# ---- resuming: what a run was trained with, and what a resume may change ------------------------
WHERE_KEYS = ("out", "name", "runs_dir")  # where the run lives: a resume stays in its folder


def trained_config(run_dir: str | Path) -> tuple[Config, Path]:
    """The settings ``run_dir`` was trained with and the file they come from: its newest good
    checkpoint (damaged ones are skipped quietly here; the resume itself reports them), or
    config.yaml when the run stopped before its first checkpoint."""
    run = rundir.require_run_dir(run_dir, "--resume")
    if not checkpoints.candidates(rundir.checkpoints_dir(run)):
        path = rundir.config_path(run)
        return config_mod.resolve(config_mod.read_file(path, "--resume"), where=f"--resume: {path}"), path
    state, used = checkpoints.load_latest_good(rundir.checkpoints_dir(run), warn=lambda message: None)
    try:
        return config_mod.resolve(state["config"], where=str(used)), used
    except (KeyError, TypeError, AttributeError):
        raise RunDirError(f"{used}: not a gankit checkpoint (no config inside)") from None


def check_config_file(run_dir: str | Path, trained: Config, source: Path, resumable) -> None:
    """config.yaml beside the checkpoints must agree with them on every setting a resume cannot
    change: an edit there would otherwise be silently ignored (the checkpoint's settings win)."""
    path = rundir.config_path(run_dir)
    where = f"--resume: {path}"
    on_disk = config_mod.resolve(config_mod.read_file(path, "--resume"), where=where)
    for key in config_mod.field_names():
        if key in resumable or key == "out":  # out: the folder may have moved
            continue
        now, then = getattr(on_disk, key), getattr(trained, key)
        if now != then:
            raise ConfigError(f"{where}: {key}={config_mod.show(now)} but the run was trained with "
                              f"{key}={config_mod.show(then)} ({source.name}); a resumed run keeps its settings: "
                              f"undo the edit, or start a new run with --config {path} --out NEW")


def resume_overrides(run_dir: str | Path, given: dict, resumable) -> dict:
    """The settings that change when ``run_dir`` is resumed with ``given``, ``{key: (value, flag)}``
    (``flag`` names where the value came from, e.g. ``--batch-size`` or ``--set lr_g``).

    A value equal to the run's own is no change. Anything outside ``resumable`` that would change,
    or a folder other than the run's (``out``, ``name``, ``runs_dir``), is a ConfigError naming the
    flag; so is a config.yaml edited away from the checkpoints'. Returns ``{key: new value}``.
    """
    run = Path(run_dir)
    trained, source = trained_config(run)
    if source.name != rundir.CONFIG:
        check_config_file(run, trained, source, resumable)
    where = {k: given[k] for k in WHERE_KEYS if k in given}
    if where:
        values = {k: config_mod.coerce(k, v, flag) for k, (v, flag) in where.items()}
        flag = where.get("out", where.get("name", where.get("runs_dir")))[1]
        placed = Config(out=values.get("out", ""), name=values.get("name", trained.name),
                        runs_dir=values.get("runs_dir", trained.runs_dir), model=trained.model, data=trained.data)
        folder = config_mod.run_dir_of(placed, flag)
        try:
            same = folder.expanduser().resolve() == run.expanduser().resolve()
        except (OSError, ValueError, RuntimeError):
            same = False
        if not same:
            raise ConfigError(f"{flag}: a resumed run stays in its folder {run}; {folder} is another one")
    changed = {}
    for key, (value, flag) in given.items():
        if key in WHERE_KEYS:
            continue
        new, old = config_mod.coerce(key, value, flag), getattr(trained, key)
        if new == old:
            continue
        if key not in resumable:
            raise ConfigError(f"{flag}: {key}={config_mod.show(new)} cannot change in a resumed run ({run} was "
                              f"trained with {key}={config_mod.show(old)}; a resume may change "
                              f"{', '.join(sorted(resumable))})")
        changed[key] = new
    return changed
