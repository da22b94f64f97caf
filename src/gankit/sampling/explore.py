"""Exploring a trained run: each command writes PNG (and a GIF where something moves) into
``RUN/explore/`` and returns an ``Exploration`` (the files, and the tensors behind them).

    import gankit
    run = gankit.load("runs/dcgan-mnist")
    gankit.explore(run, "interpolate", mode="slerp")     # RUN/explore/interpolate-latents-slerp.{png,gif}

Commands (``COMMANDS``): grid, classes, interpolate, walk, arithmetic, manifold, scatter,
reconstruct, discriminator. They follow the course: the lecture notes' latent walks and digit
interpolation (000_eb9a6f1966f0c3dc.txt), the talk's VAE latent scatter and 20x20 manifold
(003_4cc37f4be662be15.txt), DCGAN's vector arithmetic (Radford et al. 2016), and GAN Lab's picture
of D's decision surface under G's deformed latent grid (Kahng et al. 2018) for the 2-D toy data.

Prior samples (grid, walk, manifold, latent interpolation) are drawn as ``gankit sample`` draws
them (``Run.sample``: the EMA generator when there is one); whatever goes through the encoder
(reconstruct, image interpolation, class arithmetic of autoencoders) is decoded by the decoder
``G`` trained with that encoder.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from PIL import Image

from .. import checkpoint, rundir
from ..errors import GankitError
from ..models import sampling_generator
from ..run import Run, latents, load
from . import latent as L
from .figures import class_rows, side_by_side
from .grid import make_grid, save_figure, save_image, save_points


@dataclass
class Exploration:
    """What an explore command wrote (``paths``) and the tensors behind the main figure."""
    paths: list = field(default_factory=list)  # written files, PNG first
    images: torch.Tensor | None = None  # (N, C, H, W) in [0, 1], or (N, D) points
    z: torch.Tensor | None = None  # (N, z_dim) latents or codes of ``images``
    info: dict = field(default_factory=dict)  # command-specific extras (labels, scores, ...)


# ---- helpers ---------------------------------------------------------------------------------------
def _as_run(run: Run | str | Path) -> Run:
    return run if isinstance(run, Run) else load(run)


def _out_dir(run: Run, out_dir: str | Path | None) -> Path:
    d = Path(out_dir) if out_dir is not None else rundir.explore_dir(run.path)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _sample_shape(run: Run) -> tuple:
    """The shape of one generated sample: (C, H, W) for images (also a latent GAN's decoded codes,
    whose training data are codes), (D,) for points."""
    if not hasattr(run, "_sample_shape"):
        labels = torch.zeros(1, dtype=torch.long) if run.family.conditional else None
        run._sample_shape = tuple(run.sample(1, labels=labels)["images"].shape[1:])
    return run._sample_shape


def _is_image(run: Run) -> bool:
    return len(_sample_shape(run)) == 3


def _require_images(run: Run, what: str) -> None:
    if not _is_image(run):
        raise GankitError(f"explore {what}: {run.path} generates {_sample_shape(run)[0]}-D points, not images; "
                          f"try `gankit explore {run.path} discriminator` or `grid`")


def _scale(run: Run) -> int:
    """Upscaling for small images so a figure is readable: 8x8 digits -> 4x, MNIST -> 1x."""
    return max(1, 32 // _sample_shape(run)[-1]) if _is_image(run) else 1


def _check_positive(value: int, flag: str) -> int:
    if value <= 0:
        raise GankitError(f"{flag}: must be positive, got {value}")
    return value


def _generator(run: Run) -> torch.nn.Module:
    """The network ``Run.sample`` draws with (EMA weights when present)."""
    return sampling_generator(run.nets)


def _sample(run: Run, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    return run.sample(len(z), z=z, labels=labels)["images"]


def _real(run: Run, n: int, split: str = "test"):
    """The first n examples of the run's dataset split (images in [-1, 1] or points)."""
    from ..data import load_dataset

    return load_dataset(run.config.data, run.config.data_dir, split, n)


def _save_png(img: Image.Image, path: Path) -> Path:
    return save_image(img, path)


def _save_gif(frames: list[Image.Image], path: Path, ms: int = 120, hold: int = 6, pingpong: bool = True) -> Path:
    """Frames -> a looping GIF; the ends are held ``hold`` frames long, then it plays back."""
    turn = len(frames) - 1  # the far end
    if pingpong and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    durations = [ms] * len(frames)
    durations[0] = durations[turn] = ms * hold
    return save_image(frames[0], path, save_all=True, append_images=frames[1:], duration=durations, loop=0)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _imshow(ax, img: torch.Tensor) -> None:
    """One image (C, H, W) in [0, 1] on a matplotlib axis, no ticks."""
    arr = img.detach().float().clamp(0, 1).permute(1, 2, 0).numpy()
    ax.imshow(arr[..., 0] if arr.shape[2] == 1 else arr, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _tag(x: float) -> str:
    return f"{x:g}".replace("-", "m")


def _parse_pair(text, flag: str) -> tuple[int, int]:
    if isinstance(text, (tuple, list)):
        parts = list(text)
    else:
        parts = [p for p in str(text).split(",") if p.strip()]
    try:
        a, b = (int(p) for p in parts)
    except ValueError:
        raise GankitError(f"{flag}: expected two integers like 3,8, got {text!r}") from None
    return a, b


# ---- grid ------------------------------------------------------------------------------------------
def grid(run: Run | str | Path, n: int = 64, seed: int = 0, truncation: float | None = None,
         out_dir: str | Path | None = None) -> Exploration:
    """n samples in a square grid; ``truncation`` draws z from a normal truncated at +-truncation
    (less variety, more typical samples). Conditional models cycle through the classes by column."""
    run = _as_run(run)
    _check_positive(n, "-n")
    if truncation is not None and truncation <= 0:
        raise GankitError(f"--truncation: must be positive, got {truncation}")
    out = _out_dir(run, out_dir)
    name = "grid" if not truncation else f"grid-truncation{_tag(truncation)}"
    s = run.sample(n, seed=seed, truncation=truncation)
    path = out / f"{name}.png"
    if _is_image(run):
        nrow = min(run.num_classes, n) if run.family.conditional else None
        _save_png(make_grid(s["images"], nrow=nrow, scale=_scale(run)), path)
    else:
        save_points(s["images"], _real(run, 2000).x, path, title=f"{n} samples" + (
            f", truncation {truncation:g}" if truncation else ""))
    return Exploration([path], s["images"], s["z"], {"labels": s["labels"]})


# ---- classes ---------------------------------------------------------------------------------------
def classes(run: Run | str | Path, n: int = 10, seed: int = 0, truncation: float | None = None,
            out_dir: str | Path | None = None) -> Exploration:
    """One row per class, the same n latents in every row (so a column shows one "style" across
    the classes), as the AC-GAN notebook's ``gen_pic`` (001_885837f1aa895cae.txt)."""
    run = _as_run(run)
    if not run.family.conditional:
        raise GankitError(f"explore classes: {run.path} is a --model {run.config.model} run, not a conditional "
                          f"model (cgan, acgan)")
    _require_images(run, "classes")
    _check_positive(n, "-n")
    g = torch.Generator().manual_seed(seed)
    z, labels = class_rows(latents(run.config, n, g, truncation), run.num_classes)  # every row the same latents
    images = _sample(run, z, labels)
    path = _save_png(make_grid(images, nrow=n, scale=_scale(run)), _out_dir(run, out_dir) / "classes.png")
    return Exploration([path], images, z, {"labels": labels})


# ---- interpolate -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _class_blend(G: torch.nn.Module, a: int, b: int, mode: str):
    """Inside the block, every ``nn.Embedding`` of G returns a blend of class a's and class b's rows:
    ``set_t(t)`` picks the fraction (0: class a exactly, 1: class b). cGAN and AC-GAN feed the label
    to G only through such embeddings, so this interpolates the conditioning itself."""
    embeds = [m for m in G.modules() if isinstance(m, torch.nn.Embedding)]
    if not embeds:
        raise GankitError("--classes: this generator has no class embedding to interpolate")
    with torch.no_grad():
        dev = embeds[0].weight.device
        rows = [(m(torch.tensor([a], device=dev))[0], m(torch.tensor([b], device=dev))[0]) for m in embeds]
    state = {"t": 0.0}

    def make_hook(ea, eb):
        def hook(module, inputs, output):
            t = torch.tensor([state["t"]])
            mixed = L.INTERPOLATORS[mode](ea.cpu(), eb.cpu(), t)[0].to(output.device, output.dtype)  # (E,)
            return mixed.expand_as(output)

        return hook

    handles = [m.register_forward_hook(make_hook(ea, eb)) for m, (ea, eb) in zip(embeds, rows)]
    try:
        yield lambda t: state.update(t=float(t))
    finally:
        for h in handles:
            h.remove()


def interpolate(run: Run | str | Path, mode: str = "lerp", steps: int = 10, rows: int = 4, seed: int = 0,
                classes: tuple[int, int] | str | None = None, images: list | None = None,
                truncation: float | None = None, out_dir: str | Path | None = None) -> Exploration:
    """Walk a straight (``lerp``) or great-circle (``slerp``) path between two points, ``steps``
    images from end to end, one row per pair: a strip PNG and a GIF that moves along the rows.

    - between two latents (default for generators): each row a seeded pair of latents (a
      conditional model keeps one class per row, class r in row r);
    - ``classes=(a, b)`` (conditional models): the same latent per row, the class conditioning
      (G's label embeddings) moved from class a to class b;
    - ``images=[(i, j), ...]`` or, by default, seeded pairs for autoencoders (ae, vae): test images
      i and j are encoded and the path between their codes is decoded.

    The first and last columns are exactly the endpoints' own samples (or reconstructions)."""
    run = _as_run(run)
    _require_images(run, "interpolate")
    if mode not in L.INTERPOLATORS:
        raise GankitError(f"--mode: {mode!r}; valid: {', '.join(L.INTERPOLATORS)}")
    L.fractions(steps)  # checks steps >= 2
    _check_positive(rows, "--rows")
    g = torch.Generator().manual_seed(seed)
    is_ae = run.family.encoder
    info: dict = {}
    if classes is not None:
        if not run.family.conditional:
            raise GankitError(f"--classes: {run.path} is a --model {run.config.model} run, not a conditional model")
        ca, cb = _parse_pair(classes, "--classes")
        for c in (ca, cb):
            if not 0 <= c < run.num_classes:
                raise GankitError(f"--classes: {c} is outside 0..{run.num_classes - 1}")
        source = "classes"
        z = latents(run.config, rows, g, truncation)  # (rows, z_dim)
        frames = []
        with _class_blend(_generator(run), ca, cb, mode) as set_t:
            for t in L.fractions(steps):
                set_t(t)
                frames.append(_sample(run, z, torch.full((rows,), ca)))  # (rows, C, H, W)
        grid_imgs = torch.stack(frames, 1).flatten(0, 1)  # (rows * steps, C, H, W), row-major
        path_z = z
        info["classes"] = (ca, cb)
    elif images is not None or is_ae:
        L.check_encoder(run, "interpolate --images")
        source = "images"
        data = _real(run, 0)
        if images is None:
            perm = torch.randperm(len(data), generator=g)[:2 * rows]
            pairs = [(int(perm[2 * r]), int(perm[2 * r + 1])) for r in range(rows)]
        else:
            pairs = [_parse_pair(p, "--images") for p in images]
        for i, j in pairs:
            for k in (i, j):
                if not 0 <= k < len(data):
                    raise GankitError(f"--images: {k} is outside 0..{len(data) - 1} (the {run.config.data} test split)")
        idx = torch.tensor(pairs)  # (pairs, 2)
        codes = L.encode(run, data.x[idx.flatten()]).view(len(pairs), 2, -1)  # (pairs, 2, z_dim)
        path_z = torch.cat([L.interpolate(c[0], c[1], steps, mode) for c in codes])  # (pairs * steps, z_dim)
        grid_imgs = L.decode(run, path_z)
        rows = len(pairs)
        info["pairs"] = pairs
    else:
        source = "latents"
        ends = latents(run.config, 2 * rows, g, truncation)  # (2 rows, z_dim): a_0, b_0, a_1, b_1, ...
        path_z = torch.cat([L.interpolate(ends[2 * r], ends[2 * r + 1], steps, mode) for r in range(rows)])
        labels = (torch.arange(rows) % run.num_classes).repeat_interleave(steps) if run.family.conditional else None
        grid_imgs = _sample(run, path_z, labels)
        info["ends"] = ends
    out = _out_dir(run, out_dir)
    stem = f"interpolate-{source}-{mode}"
    scale = _scale(run)
    png = _save_png(make_grid(grid_imgs, nrow=steps, scale=scale), out / f"{stem}.png")
    per_row = grid_imgs.view(rows, steps, *grid_imgs.shape[1:])
    frames = [make_grid(per_row[:, k], nrow=min(rows, 8), scale=2 * scale) for k in range(steps)]
    gif = _save_gif(frames, out / f"{stem}.gif")
    info["rows"], info["steps"] = rows, steps
    return Exploration([png, gif], grid_imgs, path_z, info)


# ---- walk ------------------------------------------------------------------------------------------
def walk(run: Run | str | Path, n: int = 100, scale_means: float = 1.0, scale_stds: float = 1.0, seed: int = 0,
         frames: int = 15, out_dir: str | Path | None = None) -> Exploration:
    """The lecture's latent walk (``latent.walk_latents``): n samples whose latents have means
    ``scale_means * t_j`` and spreads ``|scale_stds * t_j|`` along the dimensions j. The PNG is the
    sheet at the given scales; the GIF keeps the same noise and moves the mean scale from
    -scale_means to +scale_means (the notes' "moving around using our means")."""
    run = _as_run(run)
    _check_positive(n, "-n")
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(n, run.config.z_dim, generator=g)  # (n, z_dim), shared by every frame
    z = L.walk_latents(n, run.config.z_dim, scale_means, scale_stds, eps=eps)
    out = _out_dir(run, out_dir)
    stem = f"walk-means{_tag(scale_means)}-stds{_tag(scale_stds)}"
    images = _sample(run, z)
    png = out / f"{stem}.png"
    paths = [png]
    if not _is_image(run):
        save_points(images, _real(run, 2000).x, png, title=f"walk: means x{scale_means:g}, stds x{scale_stds:g}")
        return Exploration(paths, images, z)
    nrow = max(1, math.ceil(math.sqrt(n)))
    _save_png(make_grid(images, nrow=nrow, scale=_scale(run)), png)
    if scale_means != 0 and frames >= 2:
        pics = []
        for m in torch.linspace(-abs(scale_means), abs(scale_means), frames):
            zk = L.walk_latents(n, run.config.z_dim, float(m), scale_stds, eps=eps)
            pics.append(make_grid(_sample(run, zk), nrow=nrow, scale=_scale(run)))
        paths.append(_save_gif(pics, out / f"{stem}.gif", ms=150, hold=3))
    return Exploration(paths, images, z, {"scale_means": scale_means, "scale_stds": scale_stds})


# ---- arithmetic ------------------------------------------------------------------------------------
def _judge_labels(run: Run, images: torch.Tensor, judge=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted class (N,), confidence (N,)) of generated images (N, C, H, W) in [0, 1] by the
    dataset's judge classifier (``gankit.metrics.judge``), or by ``judge`` (a name or .json file)."""
    from ..metrics.judge import judge_for

    j = judge_for(run.config.data, judge)
    if tuple(images.shape[1:]) != j.image_shape:
        raise GankitError(f"--judge: {j.name} takes images of shape {j.image_shape}; {run.path} makes "
                          f"{tuple(images.shape[1:])}")
    out = j(images * 2 - 1)  # the judge reads [-1, 1]
    conf, pred = (out.digit[:, None] * out.probs).max(1)  # confidence: p(digit) p(y | x, digit)
    return pred, conf


def arithmetic(run: Run | str | Path, a, b=None, c=None, by: str = "index", n: int = 64, seed: int = 0,
               per_class: int = 8, label: int | None = None, judge: str | None = None,
               out_dir: str | Path | None = None) -> Exploration:
    """Latent vector arithmetic: mean(A) - mean(B) + mean(C) (DCGAN's smiling woman - neutral
    woman + neutral man = smiling man, done with digits).

    ``by="index"``: a, b, c are indices ("1,5,9") into a seeded sheet of n samples
    (``explore/arithmetic-sheet.png`` numbers them). ``by="class"``: a, b, c are class numbers; an
    autoencoder averages the codes of ``per_class`` test images with that label, a GAN the
    latents of the ``per_class`` samples the judge (``judge``: default the dataset's shipped one)
    classifies into that class most confidently, out of ``max(n, 50 * per_class)`` seeded samples.
    Conditional models take the class as an input: their means and result are drawn with ``label``
    (default: the class of the first sample in A). Writes ``arithmetic.png``: each operand's
    samples and the image of their mean latent, then the equation and its result."""
    run = _as_run(run)
    _require_images(run, "arithmetic")
    if by not in ("index", "class"):
        raise GankitError(f"--by: {by!r}; valid: index, class")
    if a is None or str(a).strip() == "":
        raise GankitError("--a: give the first operand (indices like 1,5,9, or a class with --by class)")
    _check_positive(n, "-n")
    is_ae = run.family.encoder
    out = _out_dir(run, out_dir)
    paths = []
    labels = None
    if by == "index":
        if is_ae:  # an autoencoder's sheet is test images and their codes (random codes decode to noise)
            data = _real(run, n)
            n = len(data)
            z, shown = L.encode(run, data.x), L.decode(run, L.encode(run, data.x))
        else:
            s = run.sample(n, seed=seed)
            z, shown, labels = s["z"], s["images"], s["labels"]
        ops = {k: L.parse_indices(v, f"--{k}", n) if v not in (None, "") else [] for k, v in
               (("a", a), ("b", b), ("c", c))}
        paths.append(_sheet(shown, out / "arithmetic-sheet.png", run))
        members = {k: shown[idx] if idx else None for k, idx in ops.items()}
    else:
        if run.family.conditional:
            raise GankitError(f"--by class: a --model {run.config.model} run takes the class as an input; its "
                              f"latents carry no class to average (use --by index)")
        k_max = run.num_classes
        ops_cls = {}
        for k, v in (("a", a), ("b", b), ("c", c)):
            if v in (None, ""):
                continue
            try:
                ops_cls[k] = int(v)
            except ValueError:
                raise GankitError(f"--{k}: with --by class give one class number, got {v!r}") from None
            if not 0 <= ops_cls[k] < max(k_max, 1):
                raise GankitError(f"--{k}: class {v} is outside 0..{k_max - 1}")
        if is_ae:  # the codes of labelled test images
            data = _real(run, 0)
            if data.y is None:
                raise GankitError(f"--by class: --data {run.config.data} has no labels")
            pools = {k: (data.y == cls).nonzero().flatten()[:per_class] for k, cls in ops_cls.items()}
            z, shown = L.encode(run, data.x), (data.x.clamp(-1, 1) + 1) / 2
        else:  # the latents of generated samples, labelled by the judge
            s = run.sample(max(n, 50 * per_class), seed=seed)
            pred, conf = _judge_labels(run, s["images"], judge)
            z, shown = s["z"], s["images"]
            pools = {}
            for k, cls in ops_cls.items():
                idx = (pred == cls).nonzero().flatten()
                pools[k] = idx[conf[idx].argsort(descending=True)][:per_class]
        for k, cls in ops_cls.items():
            if len(pools[k]) == 0:
                raise GankitError(f"--{k}: no sample of class {cls} found to average")
        ops = {k: pools[k].tolist() if k in pools else [] for k in ("a", "b", "c")}
        members = {k: shown[idx] if idx else None for k, idx in ops.items()}
    res = L.arithmetic(z, ops["a"], ops["b"], ops["c"])
    names = [k for k in ("a", "b", "c") if res[k] is not None]
    vecs = torch.stack([res[k] for k in names] + [res["result"]])  # (operands + 1, z_dim)
    if is_ae:
        decoded = L.decode(run, vecs)
    else:
        if run.family.conditional:
            label = int(labels[ops["a"][0]]) if label is None else label
            decoded = _sample(run, vecs, torch.full((len(vecs),), label))
        else:
            decoded = _sample(run, vecs)
    captions = {"a": a, "b": b, "c": c}
    paths.insert(0, _arithmetic_figure(members, decoded, names, captions, by, out / "arithmetic.png"))
    return Exploration(paths, decoded, vecs, {"operands": ops, "names": names + ["result"]})


def _sheet(images: torch.Tensor, path: Path, run: Run) -> Path:
    """A numbered sheet of images so that indices can be picked for --a/--b/--c."""
    plt = _plt()
    n = len(images)
    cols = min(n, 16)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.8, rows * 0.9), dpi=90, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            _imshow(ax, images[i])
            ax.set_title(str(i), fontsize=7, pad=1)
        else:
            ax.axis("off")
    fig.tight_layout(pad=0.2)
    return save_figure(fig, path)


def _arithmetic_figure(members: dict, decoded: torch.Tensor, names: list, captions: dict, by: str,
                       path: Path, shown: int = 8) -> Path:
    plt = _plt()
    shown = min(shown, max(len(members[k]) for k in names))
    cols = max(shown + 1, 2 * len(names) + 1)  # members then their mean; the equation row below
    rows = len(names) + 1
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.05), dpi=90, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    what = "samples" if by == "index" else "class"
    for r, k in enumerate(names):
        imgs = members[k]
        for i in range(min(shown, len(imgs))):
            _imshow(axes[r, i], imgs[i])
            axes[r, i].axis("on")
        axes[r, 0].set_ylabel(f"{k.upper()}", rotation=0, labelpad=12, fontsize=9)
        axes[r, 0].set_title(f"{k.upper()}: {what} {captions[k]}", fontsize=7, loc="left")
        _imshow(axes[r, shown], decoded[r])
        axes[r, shown].axis("on")
        axes[r, shown].set_title(f"mean {k.upper()}", fontsize=7, color="tab:blue")
    # last row: mean A - mean B + mean C = result
    signs = {"a": "", "b": "-", "c": "+"}
    for i, k in enumerate(names):
        ax = axes[-1, i * 2]
        _imshow(ax, decoded[i])
        ax.axis("on")
        ax.set_title(f"{signs[k]} {k.upper()}".strip(), fontsize=8)
    ax = axes[-1, len(names) * 2]
    _imshow(ax, decoded[-1])
    ax.axis("on")
    expr = " ".join(f"{signs[k]} {k.upper()}" for k in names).strip()
    ax.set_title(f"= {expr}", fontsize=8, color="tab:red")
    fig.tight_layout(pad=0.3)
    return save_figure(fig, path)


# ---- manifold --------------------------------------------------------------------------------------
def manifold(run: Run | str | Path, side: int = 20, extent: float | None = None,
             out_dir: str | Path | None = None) -> Exploration:
    """For a 2-D latent space: decode a side x side grid over [-extent, extent]^2 (3 for a normal
    prior, 1 for a uniform one), as the talk's VAE manifold (003_4cc37f4be662be15.txt): the top row
    is z2 = +extent, the bottom row z2 = -extent, z1 grows from left to right. A conditional model
    draws class 0."""
    run = _as_run(run)
    _require_images(run, "manifold")
    if run.config.z_dim != 2:
        raise GankitError(f"explore manifold: needs a 2-D latent space; {run.path} has z_dim={run.config.z_dim} "
                          f"(train with --set z_dim=2)")
    if run.config.model == "ae":
        raise GankitError("explore manifold: an ae's codes have no prior to span; use a vae (--model vae)")
    if side < 2:
        raise GankitError(f"--side: must be at least 2, got {side}")
    if extent is None:
        extent = 1.0 if run.config.z_dist == "uniform" else 3.0
    if extent <= 0:
        raise GankitError(f"--extent: must be positive, got {extent}")
    v = torch.linspace(-extent, extent, side)
    z2, z1 = torch.meshgrid(v.flip(0), v, indexing="ij")  # row i: z2 = v[side - 1 - i]; column j: z1 = v[j]
    z = torch.stack([z1.flatten(), z2.flatten()], 1)  # (side * side, 2), row-major
    labels = torch.zeros(len(z), dtype=torch.long) if run.family.conditional else None
    images = _sample(run, z, labels)
    canvas = make_grid(images, nrow=side, pad=0)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 7), dpi=100)
    import numpy as np

    ax.imshow(np.asarray(canvas), cmap="gray", vmin=0, vmax=255, interpolation="nearest",
              extent=(-extent, extent, -extent, extent))
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title(f"decoded {side}x{side} grid over [-{extent:g}, {extent:g}]^2", fontsize=9)
    fig.tight_layout()
    path = save_figure(fig, _out_dir(run, out_dir) / "manifold.png")
    return Exploration([path], images, z, {"side": side, "extent": extent})


# ---- scatter ---------------------------------------------------------------------------------------
def pca_2d(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Project (N, D) onto its first two principal components: ((N, 2), explained variance ratios (2,))."""
    x = codes.double() - codes.double().mean(0)
    _, s, vh = torch.linalg.svd(x, full_matrices=False)
    var = s ** 2
    ratio = var[:2] / var.sum().clamp_min(1e-300)
    return (x @ vh[:2].T).float(), ratio.float()


def scatter(run: Run | str | Path, n: int = 2000, out_dir: str | Path | None = None) -> Exploration:
    """Encode up to n test images and plot their codes coloured by label (the talk's "Latent
    Space" panel). Codes with more than 2 dimensions are projected on their first two principal
    components; the axis labels say how much variance each keeps."""
    run = _as_run(run)
    L.check_encoder(run, "scatter")
    _check_positive(n, "-n")
    data = _real(run, n)
    codes = L.encode(run, data.x)  # (N, z_dim)
    if codes.shape[1] > 2:
        xy, ratio = pca_2d(codes)
        axes = [f"PC{i + 1} ({100 * float(r):.0f}% of variance)" for i, r in enumerate(ratio)]
    elif codes.shape[1] == 2:
        xy, axes = codes, ["z1", "z2"]
    else:
        xy, axes = torch.cat([codes, torch.zeros_like(codes)], 1), ["z1", ""]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    if data.y is not None:
        pts = ax.scatter(xy[:, 0], xy[:, 1], c=data.y.numpy(), cmap="tab10" if data.num_classes <= 10 else "nipy_spectral",
                         s=6, alpha=0.8, vmin=-0.5, vmax=max(data.num_classes, 1) - 0.5)
        bar = fig.colorbar(pts, ax=ax, ticks=range(min(data.num_classes, 20)))
        bar.set_label("label")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.8)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(f"{run.config.model} codes of {len(codes)} {run.config.data} test images", fontsize=9)
    fig.tight_layout()
    path = save_figure(fig, _out_dir(run, out_dir) / "scatter.png")
    return Exploration([path], None, codes, {"xy": xy, "labels": data.y})


# ---- reconstruct -----------------------------------------------------------------------------------
def reconstruct(run: Run | str | Path, n: int = 32, cols: int = 8, seed: int = 0,
                out_dir: str | Path | None = None) -> Exploration:
    """n seeded test images (left) beside their reconstructions G(E(x)) (right)."""
    run = _as_run(run)
    L.check_encoder(run, "reconstruct")
    _check_positive(n, "-n")
    data = _real(run, 0)
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    x = data.x[idx]
    x_hat = L.decode(run, L.encode(run, x))  # (n, C, H, W) in [0, 1]
    x01 = (x.clamp(-1, 1) + 1) / 2
    imgs, nrow = side_by_side(x01, x_hat, min(cols, n))
    path = _save_png(make_grid(imgs, nrow=nrow, scale=_scale(run)), _out_dir(run, out_dir) / "reconstruct.png")
    mse = float(((x_hat - x01) ** 2).mean())
    return Exploration([path], x_hat, None, {"inputs": x01, "mse": mse, "indices": idx})


# ---- discriminator (toy data) ----------------------------------------------------------------------
@torch.no_grad()
def _d_values(run: Run, pts: torch.Tensor) -> torch.Tensor:
    """D at points (M, D): sigmoid(logit) for probabilistic losses, the raw critic value otherwise."""
    from ..registry import LOSSES

    D = run.nets["D"]
    dev = next(D.parameters()).device
    pack = run.config.pack
    x = pts.repeat(1, pack) if pack > 1 else pts  # a packed D judges k copies of the same point
    was = D.training
    D.eval()
    try:
        v = torch.cat([D(x[i:i + 4096].to(dev)).float().cpu() for i in range(0, len(x), 4096)])
    finally:
        D.train(was)
    return torch.sigmoid(v) if LOSSES.get(run.config.loss).probabilistic else v


def _latent_mesh(run: Run, lines: int = 11, points: int = 60) -> tuple[torch.Tensor, float]:
    """A square mesh in the plane of latent dims 0 and 1 (others 0): (2 * lines, points, z_dim)."""
    r = 1.0 if run.config.z_dist == "uniform" else 2.0
    zd = run.config.z_dim
    u, s = torch.linspace(-r, r, lines), torch.linspace(-r, r, points)
    polys = []
    for fixed in u:
        for axis in (0, 1):
            z = torch.zeros(points, zd)
            z[:, axis] = s
            if zd > 1:
                z[:, 1 - axis] = fixed
            polys.append(z)
            if zd == 1:
                break
    return torch.stack(polys), r


def _toy_frame(run: Run, real: torch.Tensor, fake: torch.Tensor, title: str, res: int, lims=None):
    """One figure (left: D's surface, real and generated points; right: G's deformed latent mesh)."""
    from ..registry import LOSSES

    plt = _plt()

    prob = LOSSES.get(run.config.loss).probabilistic
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), dpi=90)
    mesh, r = _latent_mesh(run)
    mapped = _sample(run, mesh.flatten(0, 1)).view(mesh.shape[0], mesh.shape[1], -1)  # (lines, points, D)
    if real.shape[1] == 2:
        (x0, x1), (y0, y1) = lims
        gx, gy = torch.meshgrid(torch.linspace(x0, x1, res), torch.linspace(y0, y1, res), indexing="xy")
        surf = _d_values(run, torch.stack([gx.flatten(), gy.flatten()], 1)).view(res, res).numpy()
        kw = dict(vmin=0, vmax=1, cmap="RdBu_r") if prob else dict(cmap="RdBu_r")
        im = axes[0].imshow(surf, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", **kw)
        fig.colorbar(im, ax=axes[0], fraction=0.046, pad=0.03).set_label("D(x)" if prob else "critic value")
        axes[0].scatter(real[:, 0], real[:, 1], s=3, c="tab:green", alpha=0.5, label="data")
        axes[0].scatter(fake[:, 0], fake[:, 1], s=3, c="black", alpha=0.5, label="G(z)")
        axes[1].scatter(real[:, 0], real[:, 1], s=3, c="tab:green", alpha=0.25)
        cmap = plt.get_cmap("viridis")
        for k, poly in enumerate(mapped):
            axes[1].plot(poly[:, 0], poly[:, 1], lw=0.8, color=cmap(k / max(len(mapped) - 1, 1)))
        for ax in axes:
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_aspect("equal")
        axes[1].set_title(f"G maps the latent grid [-{r:g}, {r:g}]^2 (dims 1, 2) onto the data plane", fontsize=8)
    else:  # 1-D: the original GAN paper's figure 1
        (x0, x1), _ = lims
        xs = torch.linspace(x0, x1, res)[:, None]
        d = _d_values(run, xs).numpy()
        axes[0].hist(real[:, 0].numpy(), bins=80, range=(x0, x1), density=True, alpha=0.4, color="tab:green",
                     label="data")
        axes[0].hist(fake[:, 0].numpy(), bins=80, range=(x0, x1), density=True, alpha=0.4, color="black",
                     label="G(z)")
        twin = axes[0].twinx()
        twin.plot(xs[:, 0].numpy(), d, color="tab:blue", lw=1.5, label="D(x)" if prob else "critic")
        twin.set_ylabel("D(x)" if prob else "critic value")
        if prob:
            twin.set_ylim(0, 1)
        axes[0].set_xlim(x0, x1)
        line = mesh[0, :, 0].numpy()
        for zk, xk in zip(line[::3], mapped[0, ::3, 0].numpy()):
            axes[1].plot([zk, xk], [0, 1], color="tab:gray", lw=0.6)
        axes[1].set_yticks([0, 1], ["z", "x = G(z)"])
        axes[1].set_title("G maps z (latent dim 1) to x", fontsize=8)
    axes[0].set_title(("D(x) = sigmoid(logit)" if prob else "critic value") + " under data and samples", fontsize=8)
    axes[0].legend(loc="upper right", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def discriminator(run: Run | str | Path, n: int = 2000, resolution: int = 150, seed: int = 0,
                  out_dir: str | Path | None = None) -> Exploration:
    """For 1-D/2-D toy runs (ring, grid, gmm1d), in the spirit of GAN Lab: D's decision surface
    (sigmoid of its logit on a grid; the raw value for a critic) under n real and n generated
    points, and beside it G's mapping of a latent mesh (dims 1 and 2, others 0) drawn as a deformed
    grid. With several kept checkpoints (``checkpoints/epoch-*.pt``) a GIF shows the game over time."""
    import numpy as np

    run = _as_run(run)
    if _is_image(run) or len(run.data_shape) != 1 or run.data_shape[0] not in (1, 2):
        raise GankitError(f"explore discriminator: needs a 1-D or 2-D toy run (--data ring, grid, gmm1d); "
                          f"{run.path} has data of shape {run.data_shape}")
    if "D" not in run.nets:
        raise GankitError(f"explore discriminator: {run.path} (--model {run.config.model}) has no discriminator")
    if resolution < 10:
        raise GankitError(f"--resolution: must be at least 10, got {resolution}")
    real = _real(run, n).x.float()
    fake = run.sample(n, seed=seed)["images"]
    both = torch.cat([real, fake]).numpy()
    lo, hi = np.percentile(both, 0.5, axis=0), np.percentile(both, 99.5, axis=0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    if len(lo) == 2:  # square view: the ring should look round
        c, h = (lo + hi) / 2, (hi - lo).max() / 2
        lo, hi = c - h, c + h
    lims = [(float(lo[i]), float(hi[i])) for i in range(len(lo))]
    if len(lims) == 1:
        lims.append((0.0, 1.0))
    out = _out_dir(run, out_dir)
    step = run.log[-1]["step"] if run.log else "?"
    fig = _toy_frame(run, real, fake, f"{run.config.model} on {run.config.data}, step {step}", resolution, lims)
    png = save_figure(fig, out / "discriminator.png")
    paths = [png]

    kept = rundir.kept_checkpoints(run.path)
    if kept:
        frames, current = [], {k: v.clone() for k, v in run.nets.state_dict().items()}
        try:
            for ck in kept + [None]:
                if ck is not None:
                    state = checkpoint.load(ck)
                    run.nets.load_state_dict(state["nets"])
                    title = f"{run.config.model} on {run.config.data}, epoch {state['epoch']}"
                else:
                    run.nets.load_state_dict(current)
                    title = f"{run.config.model} on {run.config.data}, step {step}"
                f = run.sample(n, seed=seed)["images"]
                fig = _toy_frame(run, real, f, title, max(resolution // 2, 10), lims)
                fig.canvas.draw()
                frames.append(Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()))
                _plt().close(fig)
        finally:
            run.nets.load_state_dict(current)
        paths.append(_save_gif(frames, out / "discriminator.gif", ms=500, hold=3, pingpong=False))
    surf_real = _d_values(run, real)
    surf_fake = _d_values(run, fake)
    return Exploration(paths, fake, None, {"d_real": float(surf_real.mean()), "d_fake": float(surf_fake.mean())})


# ---- dispatch --------------------------------------------------------------------------------------
COMMANDS: dict[str, Callable[..., Exploration]] = {
    "grid": grid, "classes": classes, "interpolate": interpolate, "walk": walk, "arithmetic": arithmetic,
    "manifold": manifold, "scatter": scatter, "reconstruct": reconstruct, "discriminator": discriminator,
}


def explore(run: Run | str | Path, what: str, **options) -> Exploration:
    """Run one explore command by name: ``explore(run, "walk", scale_means=5)``."""
    if what not in COMMANDS:
        raise GankitError(f"explore: unknown command {what!r}; valid: {', '.join(COMMANDS)}")
    return COMMANDS[what](_as_run(run), **options)
