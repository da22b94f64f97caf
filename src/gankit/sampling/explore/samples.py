"""Explore what the generator draws from its prior (and an autoencoder's decoder from its codes):
``grid`` and ``classes`` lay out samples, ``interpolate`` and ``walk`` move through the latent
space, ``arithmetic`` adds and subtracts latent means.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path

import torch

from ...errors import GankitError
from ...metrics.judge import judge_for
from ...models import sampling_generator
from ...models.blocks import latent_centres
from ...run import Run, latents
from .. import latent as L
from ..figures import class_rows
from ..grid import make_grid, save_figure, save_points
from ._common import (Exploration, _as_run, _check_positive, _is_image, _out_dir, _plt, _real, _require_images,
                      _sample, _save_caption, _save_gif, _save_png, _scale)


# ---- helpers of these commands ---------------------------------------------------------------------
def _generator(run: Run) -> torch.nn.Module:
    """The network ``Run.sample`` draws with (EMA weights when present)."""
    return sampling_generator(run.nets)


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
    (about each latent's centre, for z_dist=mixture): less variety, more typical samples.
    Conditional models cycle through the classes by column."""
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
    about = " about its mixture centre" if run.config.z_dist == "mixture" else ""
    _save_caption(path, f"samples with the latent drawn from a normal truncated at ±{truncation:g}{about}"
                  if truncation else "samples from seeded latents", plot=not _is_image(run))
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
    _save_caption(path, "one row per class; every column shares one latent", plot=False)
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
    _save_caption(png, {
        "latents": f"{mode} between pairs of seeded latents (first and last columns: the endpoints)",
        "classes": f"{mode} of the class conditioning from one class to another, latent fixed per row",
        "images": f"{mode} between the codes of two test images, decoded",
    }[source], plot=False)
    info["rows"], info["steps"] = rows, steps
    return Exploration([png, gif], grid_imgs, path_z, info)


# ---- walk ------------------------------------------------------------------------------------------
def walk(run: Run | str | Path, n: int = 100, scale_means: float = 1.0, scale_stds: float = 1.0, seed: int = 0,
         frames: int = 15, out_dir: str | Path | None = None) -> Exploration:
    """The lecture's latent walk (``latent.walk_latents``): n samples whose latents have means
    ``scale_means * t_j`` and spreads ``|scale_stds * t_j|`` along the dimensions j. The PNG is the
    sheet at the given scales; the GIF keeps the same noise and moves the mean scale from
    -scale_means to +scale_means (the notes' "moving around using our means").

    A run trained on ``z_dist: mixture`` walks about each latent's own centre, as truncation cuts
    about it: the centres are drawn once and added to every frame. The notes' walk assumes a
    normal latent centred at 0, where the centres are 0 and the walk is the notes' own."""
    run = _as_run(run)
    _check_positive(n, "-n")
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(n, run.config.z_dim, generator=g)  # (n, z_dim), shared by every frame
    centres = latent_centres(n, run.config.z_dim, run.config.z_dist, g)  # (n, z_dim), zeros but for the mixture
    z = L.walk_latents(n, run.config.z_dim, scale_means, scale_stds, eps=eps) + centres
    out = _out_dir(run, out_dir)
    stem = f"walk-means{_tag(scale_means)}-stds{_tag(scale_stds)}"
    images = _sample(run, z)
    png = out / f"{stem}.png"
    paths = [png]
    about = ", each latent about its mixture centre" if run.config.z_dist == "mixture" else ""
    caption = (f"latent walk: means and spreads scaled along the latent dimensions (means ×{scale_means:g}, "
               f"spreads ×{scale_stds:g}){about}")
    if not _is_image(run):
        save_points(images, _real(run, 2000).x, png, title=f"walk: means x{scale_means:g}, stds x{scale_stds:g}")
        _save_caption(png, caption, plot=True)
        return Exploration(paths, images, z)
    nrow = max(1, math.ceil(math.sqrt(n)))
    _save_png(make_grid(images, nrow=nrow, scale=_scale(run)), png)
    if scale_means != 0 and frames >= 2:
        pics = []
        for m in torch.linspace(-abs(scale_means), abs(scale_means), frames):
            zk = L.walk_latents(n, run.config.z_dim, float(m), scale_stds, eps=eps) + centres
            pics.append(make_grid(_sample(run, zk), nrow=nrow, scale=_scale(run)))
        paths.append(_save_gif(pics, out / f"{stem}.gif", ms=150, hold=3))
    _save_caption(png, caption, plot=False)
    return Exploration(paths, images, z, {"scale_means": scale_means, "scale_stds": scale_stds})


# ---- arithmetic ------------------------------------------------------------------------------------
def _judge_labels(run: Run, images: torch.Tensor, judge=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted class (N,), confidence (N,)) of generated images (N, C, H, W) in [0, 1] by the
    dataset's judge classifier (``gankit.metrics.judge``), or by ``judge`` (a name or .json file)."""
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
        _save_caption(paths[-1], "the numbered sample sheet that the arithmetic's indices refer to", plot=True)
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
    _save_caption(paths[0], "latent arithmetic: mean A - mean B + mean C", plot=True)
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
