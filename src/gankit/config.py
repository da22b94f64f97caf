"""Typed configuration: one dataclass owns every default; the CLI and the API read the same one.

Resolution order (later wins): the dataclass defaults, the model family's defaults (e.g. WGAN's
RMSprop 5e-5), a YAML/JSON file (``--config``), explicit flags, then ``--set key=value``.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError
from .registry import DATASETS, LOSSES, MODELS
from .rundir import atomic_write


@dataclass
class Config:
    # --- run -------------------------------------------------------------------------------
    out: str = ""  # run directory, an explicit path; empty -> <runs_dir>/<name>
    name: str = ""  # run name: a folder inside runs_dir (default <model>-<data>); cannot lead out of it
    runs_dir: str = "runs"  # the folder that holds named runs
    seed: int = 0  # seeds weights, noise, shuffling and dropout
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto (bf16 where it pays) | fp32 | bf16 | fp16
    compile: bool = False  # torch.compile the networks (where it measures faster)
    # --- data ------------------------------------------------------------------------------
    data: str = "mnist"  # dataset name (see `gankit train --data help`)
    data_dir: str = ""  # folder with IDX files / mnist.npz / images
    limit: int = 0  # use only the first N training examples (0 = all)
    # --- model -----------------------------------------------------------------------------
    model: str = "dcgan"  # model family
    z_dim: int = 100  # latent size (the VAE/AE code size too)
    z_dist: str = "normal"  # normal | uniform (uniform on [-1, 1]) | mixture (10 separated unit normals, fewer if z_dim is)
    hidden: list = field(default_factory=lambda: [256, 256])  # MLP hidden widths (G; D mirrors)
    width: int = 64  # base channel count of conv nets
    dropout: float = 0.3  # dropout in D
    leak: float = 0.2  # LeakyReLU slope (Keras' default 0.3 in seed 000; PyTorch's 0.01 in seed 004)
    spectral_norm: bool = False  # spectral normalisation on every D layer
    arch: str = "conv"  # the family's network: dcgan conv | radford, vae conv | mlp
    # --- loss and regularisers -------------------------------------------------------------
    loss: str = "nonsaturating"  # minimax | nonsaturating | wasserstein | hinge | lsgan
    real_label: float = 1.0  # one-sided label smoothing target for real images (seed 001: 0.95)
    g_label: float = 1.0  # G's target for D's verdict on its fakes, nonsaturating loss only (seed 001: 0.95)
    cls_weight: float = 1.0  # acgan: weight of D's class loss against its adversarial loss (seed 001: 2)
    gp_lambda: float = 0.0  # WGAN-GP gradient penalty weight
    r1_gamma: float = 0.0  # R1 penalty weight on real data
    r1_every: int = 1  # lazy R1: the penalty every N steps, weighted N times (StyleGAN2: 16)
    augment: str = ""  # DiffAugment of D's inputs, real and fake: translation, cutout or translation,cutout
    clip: float = 0.0  # weight clipping bound for the critic (WGAN: 0.01); 0 = off
    n_critic: int = 1  # D updates per G update
    update: str = "alternating"  # alternating: D steps, then G against the new D | simultaneous: both from one pass (seed 000)
    fake_bn: str = "train"  # acgan: G's batch norm when it draws D's fakes: train (batch statistics) | eval (moving averages: Keras' generator.predict, seed 001)
    beta_kl: float = 1.0  # VAE: weight of the KL term
    ae_run: str = ""  # latent-gan: run directory of a trained autoencoder
    pack: int = 1  # PacGAN: D judges this many samples at once
    # --- optimisation ----------------------------------------------------------------------
    optimizer: str = "adam"  # adam | rmsprop
    lr_g: float = 2e-4  # generator learning rate
    lr_d: float = 2e-4  # discriminator learning rate (TTUR: set apart from lr_g)
    beta1: float = 0.5  # Adam beta1
    beta2: float = 0.999  # Adam beta2
    adam_eps: float = 1e-8  # Adam epsilon, added to the root of the second moment (Keras' default 1e-7 in seeds 000-002)
    batch_size: int = 64  # global batch size (split across ranks under torchrun)
    ema: float = 0.999  # EMA decay of G's weights, used for sampling when > 0 (0 = off)
    # --- budget ----------------------------------------------------------------------------
    epochs: int = 5  # total epochs of the run (resume continues up to this)
    minutes: float = 0.0  # wall-clock budget; 0 = none
    steps: int = 0  # budget in training steps, all epochs together; 0 = none (the first budget reached ends the run)
    lr_decay: str = "none"  # none | linear | cosine: both learning rates fall to 0 as the budget (epochs, steps or minutes) runs out
    # --- output ----------------------------------------------------------------------------
    log_every: int = 20  # steps between log.jsonl lines
    checkpoint_every: int = 15  # epochs between kept checkpoints (last.pt is written every epoch)
    checkpoint_steps: int = 0  # also refresh last.pt every N steps (0 = only at epoch ends)
    grid_size: int = 64  # images in the fixed-seed grid
    eval_every: int = 0  # steps between quality checks in log.jsonl (FID by the judge, or mode stats); 0: every epoch; -1: never
    eval_n: int = 2000  # samples per quality check; the best check's state is checkpoints/best.pt
    report: bool = True  # write report.html at the end of training
    tensorboard: bool = False  # also write TensorBoard scalars and images
    progress: bool = True  # progress bar with ETA on stderr

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


CHOICES = {
    "device": None,  # checked when resolved
    "precision": ("auto", "fp32", "bf16", "fp16"),
    "z_dist": ("normal", "uniform", "mixture"),
    "optimizer": ("adam", "rmsprop"),
    "lr_decay": ("none", "linear", "cosine"),
    "update": ("alternating", "simultaneous"),
    "fake_bn": ("train", "eval"),
}
POSITIVE = ("batch_size", "z_dim", "width", "n_critic", "log_every", "checkpoint_every", "grid_size", "pack", "eval_n",
            "r1_every")
NON_NEGATIVE = ("epochs", "minutes", "steps", "limit", "gp_lambda", "r1_gamma", "clip", "checkpoint_steps", "beta_kl",
                "cls_weight")


AUGMENTS = ("translation", "cutout")  # DiffAugment's transforms of D's inputs (augment.py)


@functools.lru_cache(maxsize=None)  # read by gan_step at every step: parsed once per setting
def augment_policy(value: str) -> tuple[str, ...]:
    """The ``augment`` setting as a tuple: 'translation,cutout' -> ('translation', 'cutout'); '' -> ()."""
    return tuple(p.strip() for p in value.split(",") if p.strip())


def field_names() -> list[str]:
    return [f.name for f in fields(Config)]


def _show(value: Any) -> str:
    """repr(value) cut to 60 characters, for error lines (an int of > 4300 digits has no repr)."""
    try:
        shown = repr(value)
    except ValueError:
        return "a huge number"
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _coerce(key: str, value: Any, where: str) -> Any:
    """Convert ``value`` to the type of field ``key``; strings from the CLI are parsed."""
    hint = typing.get_type_hints(Config)[key]
    bad = ConfigError(f"{where}: {key}={_show(value)} is not a valid {getattr(hint, '__name__', hint)}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise bad
    if hint is int:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value))
        except (ValueError, OverflowError):
            raise bad from None
    if hint is float:
        if isinstance(value, bool):
            raise bad
        try:
            out = float(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond float range
            raise bad from None
        if out != out or out in (float("inf"), float("-inf")):
            raise bad
        return out
    if hint is list:
        if isinstance(value, str):
            value = [v for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
        elif isinstance(value, int) and not isinstance(value, bool):
            value = [value]  # --set hidden=64: one layer
        if not isinstance(value, (list, tuple)):
            raise bad
        try:
            return [int(v) for v in value]
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
            raise bad from None
    if hint is str:
        if isinstance(value, (dict, list)):
            raise bad
        return "" if value is None else str(value)
    return value


def validate(cfg: Config, where: str = "config") -> Config:
    for registry, name in ((MODELS, cfg.model), (DATASETS, cfg.data), (LOSSES, cfg.loss)):
        registry.get(name)  # an unknown name lists the valid ones
    for key, choices in CHOICES.items():
        if choices and getattr(cfg, key) not in choices:
            raise ConfigError(f"{where}: {key}={getattr(cfg, key)!r}; valid: {', '.join(choices)}")
    archs = MODELS.get(cfg.model).archs
    if cfg.arch not in archs:
        raise ConfigError(f"{where}: arch={cfg.arch!r} for --model {cfg.model}; valid: {', '.join(archs)}")
    for key in POSITIVE:
        if getattr(cfg, key) <= 0:
            raise ConfigError(f"{where}: {key} must be positive, got {getattr(cfg, key)}")
    for key in NON_NEGATIVE:
        if getattr(cfg, key) < 0:
            raise ConfigError(f"{where}: {key} must be >= 0, got {getattr(cfg, key)}")
    if any(h <= 0 for h in cfg.hidden):
        raise ConfigError(f"{where}: hidden widths must be positive, got {cfg.hidden}")
    if not 0.0 <= cfg.ema < 1.0:
        raise ConfigError(f"{where}: ema must be in [0, 1), got {cfg.ema}")
    if not 0.0 < cfg.real_label <= 1.0:
        raise ConfigError(f"{where}: real_label must be in (0, 1], got {cfg.real_label}")
    if not 0.0 < cfg.g_label <= 1.0:
        raise ConfigError(f"{where}: g_label must be in (0, 1], got {cfg.g_label}")
    if cfg.g_label != 1.0 and cfg.loss != "nonsaturating":
        raise ConfigError(f"{where}: g_label is for --loss nonsaturating, got loss {cfg.loss}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"{where}: dropout must be in [0, 1), got {cfg.dropout}")
    step = MODELS.get(cfg.model).step  # the family's step function: gan, acgan, ae, vae
    if cfg.fake_bn == "eval" and step != "acgan":
        # gan_step reuses D's fake batch for G's update, which needs G in training mode
        raise ConfigError(f"{where}: fake_bn=eval is for --model acgan (its G draws a fresh batch for its own update)")
    policy = augment_policy(cfg.augment)
    unknown = [p for p in policy if p not in AUGMENTS]
    if unknown:
        raise ConfigError(f"{where}: augment takes {', '.join(AUGMENTS)} (comma-separated), got {unknown[0]!r}")
    if policy and step != "gan":
        raise ConfigError(f"{where}: augment is for the families trained by the GAN step (dcgan, mlp, cgan, wgan, ...), "
                          f"not --model {cfg.model}")
    if cfg.cls_weight != 1.0 and step != "acgan":
        raise ConfigError(f"{where}: cls_weight is for --model acgan (the only D with a class head)")
    if cfg.epochs == 0 and cfg.minutes == 0 and cfg.steps == 0:
        raise ConfigError(f"{where}: give a budget: --epochs N, --minutes M or --steps S")
    if cfg.eval_every < -1:
        raise ConfigError(f"{where}: eval_every must be -1 (never), 0 (every epoch) or a step count, got {cfg.eval_every}")
    for key, hint in typing.get_type_hints(Config).items():  # beyond int32 only ends in an overflow in torch
        value = getattr(cfg, key)
        if hint in (int, list) and any(abs(v) > 2**31 - 1 for v in (value if hint is list else [value])):
            raise ConfigError(f"{where}: {key} must be at most 2147483647, got {_show(value)}")
    if cfg.seed < 0:
        raise ConfigError(f"{where}: seed must be in 0..2147483647, got {cfg.seed}")
    for key in ("lr_g", "lr_d"):  # Adam's step, lr / (1 - beta1), must stay within float32
        if not 0.0 <= getattr(cfg, key) <= 1e30:
            raise ConfigError(f"{where}: {key} must be in [0, 1e30], got {getattr(cfg, key)}")
    for key in ("beta1", "beta2"):
        if not 0.0 <= getattr(cfg, key) <= 1.0 - 1e-8:
            raise ConfigError(f"{where}: {key} must be in [0, 1), got {getattr(cfg, key)}")
    if not 0.0 < cfg.adam_eps <= 1.0:  # 0 divides by zero where a weight has had no gradient yet
        raise ConfigError(f"{where}: adam_eps must be in (0, 1], got {cfg.adam_eps}")
    if cfg.name and not cfg.out:
        run_dir_of(cfg, where)
    return cfg


def run_dir_of(cfg: Config, where: str = "config") -> Path:
    """The run directory: ``out`` when given (the user's explicit path), else ``runs_dir/name``.

    ``name`` (default ``<model>-<data>``) must stay inside ``runs_dir`` once resolved: an absolute
    path, a ``..`` or a symlink that leads out of the runs folder is a ConfigError.
    """
    if cfg.out:
        return Path(cfg.out)
    name = cfg.name or f"{cfg.model}-{cfg.data}"
    runs = Path(cfg.runs_dir or "runs").expanduser()
    bad = ConfigError(f"{where}: name={name!r} (--name) must be a folder inside the runs folder {runs} "
                      f"(no absolute path, '..' or link leading out of it)")
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise bad
    try:
        root = runs.resolve()
        target = (root / name).resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a symlink loop, a name too long
        raise bad from None
    if target == root or root not in target.parents:
        raise bad
    return runs / name


def read_file(path: str | Path, flag: str = "--config") -> dict:
    """Read a YAML or JSON config file into a plain dict (keys checked later); errors name ``flag``."""
    p = Path(path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{flag}: cannot read {p}: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as e:  # ValueError: JSON, ints of > 4300 digits
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"{flag}: {p} is not valid YAML/JSON: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{flag}: {p} must hold a mapping of key: value")
    return data


def parse_set(items: list[str]) -> dict:
    """``["lr_g=1e-4", "hidden=128,128"]`` -> dict; values are coerced later by field type."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set: expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = yaml.safe_load(v) if v.strip() else ""
    return out


def _unknown(key: Any, names, where: str) -> ConfigError:
    return ConfigError(f"{where}: unknown key {key!r}; valid keys: {', '.join(sorted(names))}")


def coerce(key: Any, value: Any, where: str = "config") -> Any:
    """One setting converted to its field's type (strings from the CLI parsed), unvalidated;
    an unknown key is a ConfigError naming ``where``."""
    names = set(field_names())
    if key not in names:
        raise _unknown(key, names, where)
    return _coerce(key, value, where)


def show(value: Any) -> str:
    """A setting's value as error lines show it: repr, cut to 60 characters."""
    return _show(value)


def resolve(*layers: Mapping[str, Any], where: str = "config") -> Config:
    """Merge override layers over the defaults (and the chosen model's defaults), then validate."""
    merged: dict = {}
    for layer in layers:
        for k, v in (layer or {}).items():
            if v is not None:
                merged[k] = v
    names = set(field_names())
    unknown = sorted((k for k in merged if k not in names), key=str)  # YAML keys may be ints, None, ...
    if unknown:
        raise _unknown(unknown[0], names, where)
    model = _coerce("model", merged.get("model", Config.model), where)
    family_defaults = getattr(MODELS.get(model), "defaults", {})
    values = {**family_defaults, **merged}
    cfg = Config(**{k: _coerce(k, v, where) for k, v in values.items()})
    return validate(cfg, where)


def dump(cfg: Config) -> str:
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)


def save(cfg: Config, path: str | Path) -> None:
    """Write cfg as YAML, atomically (a killed process leaves the old file or the new one)."""
    atomic_write(path, dump(cfg))


def load(path: str | Path) -> Config:
    return resolve(read_file(path), where=str(path))
