"""A run directory -> ``RUN/report.html``: one page with everything the run wrote.

    gankit report runs/dcgan-mnist          # or gankit.write_report("runs/dcgan-mnist")

The page shows the config (settings that differ from the defaults in bold) and the environment
(versions, device, seed); the loss curves and D(x) vs D(G(z)) (``losses.png``); the progress GIF,
the final fixed-seed grid and the family's extra grids (classes, reconstructions); every figure
under ``explore/`` with the caption its explore command wrote beside it (``<stem>.json``); and the
metrics of ``eval.json`` beside their floors. Every image is a relative link inside the run
directory and the page loads nothing from elsewhere (styles inline, no scripts), so the folder can
be zipped and sent as it is.

The environment is recorded in ``env.json`` the first time a report is written, which ``gankit
train`` does when a run finishes, so it describes the machine that trained the run.
"""
from __future__ import annotations

import datetime
import html
import json
import re
import string
import sys
from pathlib import Path
from urllib.parse import quote

from .. import rundir
from ..config import Config
from ..errors import RunDirError
from .plots import plot_losses

TEMPLATE = Path(__file__).with_name("template.html")
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".svg")

LOG_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "gp", "r1", "g_cls", "d_cls", "acc_fake", "recon", "kl", "elbo")


def _number(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def metric_rows(ev: dict | None) -> list[dict]:
    """Rows {name, value, floor, better, note, std, floor_std, of} from eval.json.

    ``gankit evaluate`` writes {"metrics": {name: {"value", "floor", "better": "lower" | "higher" |
    "one", "note", optional "std", "floor_std", "of"}}} (format gankit-eval/1); a plain
    {"metrics": {name: number}} (with floors in a "floors" mapping) or numbers at the top level are
    read too."""
    if not ev:
        return []
    metrics = ev.get("metrics") if isinstance(ev.get("metrics"), dict) else {
        k: v for k, v in ev.items() if _number(v) is not None or (isinstance(v, dict) and "value" in v)}
    floors = ev.get("floors") if isinstance(ev.get("floors"), dict) else {}
    rows = []
    for name, m in metrics.items():
        row = {"name": name, "value": None, "floor": None, "better": None, "note": "", "std": None,
               "floor_std": None, "of": None}
        if isinstance(m, dict):
            for k in ("value", "floor", "better", "std", "floor_std", "of"):
                row[k] = m.get(k)
            row["note"] = str(m.get("note", "") or "")
        else:
            row["value"] = m
        f = floors.get(name)
        if row["floor"] is None and f is not None:
            row["floor"] = f.get("value") if isinstance(f, dict) else f
        rows.append(row)
    return rows


def shortfall(value, floor, better) -> float | None:
    """How far a figure is from its floor, in the bad direction (<= 0: as good as real data)."""
    v, f = _number(value), _number(floor)
    if v is None or f is None:
        return None
    if better == "lower":
        return v - f
    if better == "higher":
        return f - v
    if better == "one":  # density: about 1 for real data
        return abs(v - 1) - abs(f - 1)
    return None


# ---- HTML pieces ---------------------------------------------------------------------------------------
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if v != v:
            return "nan"
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def _src(run_dir: Path, path: Path) -> str:
    """A relative, URL-quoted link from report.html to a file inside the run directory."""
    return quote(path.relative_to(run_dir).as_posix())


def _display_width(path: Path, at_least: int = 240) -> int | None:
    """A width that shows a small pixel grid (8x8 digits) at a readable size: an integer zoom."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            w = im.size[0]
    except Exception:  # unreadable: let the browser decide (and the browser test will notice)
        return None
    return w * -(-at_least // w) if 0 < w < at_least else None


def _figure(run_dir: Path, path: Path, caption: str, plot: bool = False) -> str:
    width = None if plot else _display_width(path)
    style = f' style="width:{width}px"' if width else ""
    cls = ' class="plot"' if plot else ""
    alt = _e(html.unescape(re.sub(r"<[^>]+>", "", caption)))
    return (f'<figure{cls}><a href="{_src(run_dir, path)}"><img src="{_src(run_dir, path)}" alt="{alt}"'
            f'{style}></a><figcaption>{caption}<br><code>{_e(path.relative_to(run_dir).as_posix())}</code>'
            f'</figcaption></figure>')


def _table(rows: list[tuple], header: tuple | None = None, classes: list[str] | None = None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = "".join(f'<td class="num">{_e(_fmt(c))}</td>' if _number(c) is not None else f"<td>{_e(_fmt(c))}</td>"
                        for c in row)
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _latest(run_dir: Path, kind: str) -> Path | None:
    """The newest of the family's per-epoch grids of ``kind`` (``rundir.CLASS_GRID``, ...)."""
    files = rundir.epoch_grids(run_dir, kind)
    return files[-1] if files else None


def _sidecar_caption(figure: Path) -> tuple[str, bool]:
    """(caption as HTML, whether the figure is a plot) from the figure's sidecar
    (``rundir.explore_caption``), which the explore command wrote from its own parameters. A figure
    without a readable sidecar (a run explored by an older gankit) is captioned with its file stem."""
    try:
        side = json.loads(rundir.explore_caption(figure).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        side = None
    if isinstance(side, dict) and isinstance(side.get("caption"), str):
        return _e(side["caption"]), side.get("plot") is True
    return _e(figure.stem), False


def _explore_section(run_dir: Path) -> str:
    d = rundir.explore_dir(run_dir)
    files = sorted((p for p in d.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES and ".tmp." not in p.name),
                   key=lambda p: (p.stem, p.suffix.lower() != ".png")) if d.is_dir() else []  # a PNG, then its GIF
    if not files:
        return (f'<p class="muted">No explore outputs yet: try <code>gankit explore {_e(run_dir)} grid</code>, '
                f'<code>interpolate</code>, <code>walk</code>, ... and run <code>gankit report</code> again.</p>')
    figs = []
    for p in files:
        kind = "animation" if p.suffix.lower() == ".gif" else "figure"
        caption, plot = _sidecar_caption(p)
        figs.append(_figure(run_dir, p, f"{caption} <span class=\"muted\">({kind})</span>", plot=plot))
    return '<div class="figs">' + "\n".join(figs) + "</div>"


def _metrics_section(run_dir: Path, ev: dict | None) -> str:
    rows = metric_rows(ev)
    if not rows:
        return (f'<p class="muted">No <code>{rundir.EVAL}</code> yet: run <code>gankit evaluate {_e(run_dir)}</code>, '
                f'then <code>gankit report {_e(run_dir)}</code>.</p>')

    def show(v, std=None, of=None):
        text = _fmt(v) + (f" ± {_fmt(std)}" if _number(std) is not None else "")
        return text + (f" / {of}" if of is not None else "")

    out = ["<table>", "<tr><th>metric</th><th>value</th><th>floor (real data)</th><th>better</th>"
                      "<th>vs floor</th><th>what it is</th></tr>"]
    for r in rows:
        gap = shortfall(r["value"], r["floor"], r["better"])
        if gap is None:
            verdict = "<td></td>"
        elif gap <= 1e-12:
            verdict = '<td class="ok">at the floor</td>'
        else:
            verdict = f'<td class="warn">{_e(_fmt(gap))} short</td>'
        better = {"one": "near 1"}.get(r["better"], r["better"] or "")
        out.append(f'<tr><td>{_e(r["name"])}</td><td class="num">{_e(show(r["value"], r["std"], r["of"]))}</td>'
                   f'<td class="num">{_e(show(r["floor"], r["floor_std"], r["of"]))}</td><td>{_e(better)}</td>'
                   f'{verdict}<td>{_e(r["note"])}</td></tr>')
    out.append("</table>")
    meta = []
    for k in ("evaluator", "data", "n", "seed", "created"):
        if k in ev and not isinstance(ev[k], (dict, list)):
            meta.append(f"{_e(k)}: <code>{_e(ev[k])}</code>")
    out.append('<p class="muted">The floor is the same figure for real test images in place of the samples: what a '
               'perfect generator would score at this n. '
               f'From <a href="{rundir.EVAL}"><code>{rundir.EVAL}</code></a>'
               + (" — " + ", ".join(meta) if meta else "") + ".</p>")
    return "\n".join(out)


def _config_section(cfg: dict) -> str:
    try:
        defaults = Config().to_dict()
    except Exception:
        defaults = {}
    rows, classes = [], []
    for k, v in cfg.items():
        rows.append((k, v))
        classes.append("changed" if k in defaults and defaults[k] != v else "")
    return (_table(rows, ("key", "value"), classes) +
            '<p class="muted">Bold: differs from the default. Rerun with '
            f'<a href="{rundir.CONFIG}"><code>{rundir.CONFIG}</code></a>.</p>')


def _summary(cfg: dict, log: list[dict], ev: dict | None) -> str:
    last = log[-1] if log else {}
    rows = [("model", cfg.get("model")), ("data", cfg.get("data")), ("loss", cfg.get("loss")),
            ("epochs", last.get("epoch")), ("steps", last.get("step")),
            ("training time (s)", last.get("time")), ("throughput (img/s)", last.get("img_per_s"))]
    for k in LOG_KEYS:
        if k in last:
            rows.append((f"last {k}", last[k]))
    checks = [r for r in log if "fid" in r]  # the quality checks of training (FID at eval_n samples)
    if checks:
        best = min(checks, key=lambda r: r["fid"])
        rows += [("last training FID", f"{checks[-1]['fid']:.2f} (step {checks[-1]['step']})"),
                 ("best training FID", f"{best['fid']:.2f} (step {best['step']}, {rundir.CHECKPOINTS}/{rundir.BEST})")]
    return _table([r for r in rows if r[1] is not None], ("", "value"))


# ---- the page ------------------------------------------------------------------------------------------
def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``RUN/report.html`` (or ``out``, which must lie inside the run directory so that the
    relative image links hold) and return its path."""
    run_dir = Path(run_dir)
    cfg = rundir.read_config(run_dir)
    out = Path(out) if out else rundir.report_path(run_dir)
    try:
        out.resolve().relative_to(run_dir.resolve())
    except ValueError:
        raise RunDirError(f"--out: {out} must be inside the run directory {run_dir} (the page links its images "
                          f"relatively)") from None
    if out.resolve().parent != run_dir.resolve():
        raise RunDirError(f"--out: {out} must be a file directly in {run_dir}")
    log = rundir.read_log(run_dir)
    losses = rundir.losses_path(run_dir)
    if log and (not losses.exists() or losses.stat().st_mtime < rundir.log_path(run_dir).stat().st_mtime):
        plot_losses(run_dir)
    ev = rundir.read_eval(run_dir)
    env = rundir.recorded_environment(run_dir, cfg)

    sections: list[tuple[str, str, str]] = []  # (id, title, html)
    # Summary and samples
    figs = []
    final = rundir.final_grid(run_dir)
    if final.is_file():
        figs.append(_figure(run_dir, final, "the fixed-seed grid at the end of training"))
    progress = rundir.progress_path(run_dir)
    if progress.is_file():
        figs.append(_figure(run_dir, progress, "the same latents after every epoch (animation)"))
    cls = _latest(run_dir, rundir.CLASS_GRID)
    if cls is not None:
        figs.append(_figure(run_dir, cls, "one row per class from the same latents; real images of each class below "
                                          "the white row"))
    rec = _latest(run_dir, rundir.RECON_GRID)
    if rec is not None:
        figs.append(_figure(run_dir, rec, "fixed training images (left) and their reconstructions (right)"))
    samples = '<div class="figs">' + "\n".join(figs) + "</div>" if figs else \
        '<p class="muted">No sample grids yet (the run has not finished an epoch).</p>'
    sections.append(("samples", "Samples", '<div class="cols"><div>' + _summary(cfg, log, ev) + "</div>" + samples
                     + "</div>"))
    # Training curves
    if losses.is_file():
        curves = '<div class="figs">' + _figure(
            run_dir, losses, "losses per logged step; D(x) and D(G(z)) (probabilities for BCE losses, critic values "
                             f"otherwise). Raw numbers: <a href=\"{rundir.LOG}\"><code>{rundir.LOG}</code></a>",
            plot=True) + "</div>"
    else:
        curves = '<p class="muted">No log lines yet.</p>'
    sections.append(("training", "Training", curves))
    sections.append(("metrics", "Metrics", _metrics_section(run_dir, ev)))
    sections.append(("explore", "Explore", _explore_section(run_dir)))
    env_rows = [(k, v) for k, v in env.items()]
    sections.append(("setup", "Config and environment", '<div class="cols"><div>' + _config_section(cfg) +
                     '</div><div>' + _table(env_rows, ("environment", "")) +
                     f'<p class="muted">From <a href="{rundir.ENV}"><code>{rundir.ENV}</code></a>.</p></div></div>'))

    title = f"{run_dir.resolve().name}: {cfg.get('model', '?')} on {cfg.get('data', '?')}"
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    subtitle = f"gankit run report · written {now} · seed {cfg.get('seed', '?')}"
    nav = "".join(f'<a href="#{sid}">{_e(t)}</a>' for sid, t, _ in sections)
    body = "\n".join(f'<section id="{sid}"><h2>{_e(t)}</h2>\n{h}\n</section>' for sid, t, h in sections)
    page = string.Template(TEMPLATE.read_text()).substitute(title=_e(title), subtitle=_e(subtitle), nav=nav, body=body)
    return rundir.atomic_write(out, page)


if __name__ == "__main__":  # python -m gankit.report.html RUN
    print(write_report(sys.argv[1]))
