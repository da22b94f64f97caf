"""Several run directories -> one table of key settings and metrics (Markdown or HTML).

    gankit compare runs/dcgan-mnist runs/wgan-gp-mnist --out compare.html

Columns: the run, its key settings (model, data, loss, budget, batch, latent size, learning
rates, seed, and any other setting that differs between the runs), how far it trained (epochs,
steps, seconds), its last logged D(x)/D(G(z)) or reconstruction loss, and every metric found in
the runs' ``eval.json`` files (a blank where a run lacks one).
"""
from __future__ import annotations

import html
import os
from pathlib import Path

from .. import rundir
from ..errors import GankitError
from .html import TEMPLATE, _fmt, metric_rows

KEY_SETTINGS = ("model", "data", "loss", "batch_size", "z_dim", "lr_g", "lr_d", "seed")
NOT_SETTINGS = {"out", "name", "runs_dir", "progress", "report", "tensorboard", "data_dir", "epochs", "minutes",
                "log_every", "checkpoint_every", "checkpoint_steps", "grid_size"}
PROGRESS = ("epoch", "step", "time")
LAST_LOG = ("d_real", "d_fake", "recon", "kl")


def compare(runs: list[str | Path]) -> tuple[list[str], list[dict]]:
    """(columns, one row dict per run) for ``runs``; a one-line error names a bad run directory."""
    if not runs:
        raise GankitError("compare: give at least one run directory")
    infos = []
    for r in runs:
        p = Path(r)
        cfg = rundir.read_config(p)
        log = rundir.read_log(p)
        infos.append((p, cfg, log[-1] if log else {}, metric_rows(rundir.read_eval(p))))
    differing = []
    for k in infos[0][1]:
        if k in KEY_SETTINGS or k in NOT_SETTINGS:
            continue
        if len({repr(i[1].get(k)) for i in infos}) > 1:
            differing.append(k)
    metrics: list[str] = []
    for *_, mrows in infos:
        for m in mrows:
            if m["name"] not in metrics:
                metrics.append(m["name"])
    last_keys = [k for k in LAST_LOG if any(k in i[2] for i in infos)]
    columns = ["run", *KEY_SETTINGS, *differing, *PROGRESS, *last_keys, *metrics]
    rows = []
    for p, cfg, last, mrows in infos:
        row = {"run": str(p), "_path": p}
        for k in (*KEY_SETTINGS, *differing):
            row[k] = cfg.get(k)
        for k in (*PROGRESS, *last_keys):
            row[k] = last.get(k)
        for m in mrows:
            row[m["name"]] = m["value"]
        rows.append(row)
    return columns, rows


def _cell(v) -> str:
    return _fmt(v).replace("|", "\\|")


def to_markdown(columns: list[str], rows: list[dict]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def to_html(columns: list[str], rows: list[dict], where: Path | None = None) -> str:
    """A whole page; each run name links to its report.html (relative to ``where``, the page's folder)."""
    e = html.escape
    head = "<tr>" + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>"
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            text = e(_fmt(v))
            if c == "run":
                report = rundir.report_path(r["_path"])
                if report.is_file() and where is not None:
                    href = Path(os.path.relpath(report.resolve(), where.resolve())).as_posix()
                    text = f'<a href="{e(href, quote=True)}">{text}</a>'
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = "<table>\n" + head + "\n" + "\n".join(body) + "\n</table>"
    import string

    return string.Template(TEMPLATE.read_text()).substitute(
        title="gankit: comparison of runs", subtitle=e(f"{len(rows)} runs"), nav="",
        body=f'<section><h2>Settings and metrics</h2>\n{table}\n</section>')


def write_compare(runs: list[str | Path], out: str | Path | None = None) -> tuple[str, Path | None]:
    """The Markdown table, and (with ``out``: FILE.md or FILE.html) the file written."""
    columns, rows = compare(runs)
    md = to_markdown(columns, rows)
    if out is None:
        return md, None
    out = Path(out)
    if out.suffix.lower() not in (".md", ".html", ".htm"):
        raise GankitError(f"--out: {out} must end in .md (Markdown) or .html")
    out.parent.mkdir(parents=True, exist_ok=True)  # before to_html, which links relative to it
    text = md if out.suffix.lower() == ".md" else to_html(columns, rows, out.parent)
    return md, rundir.atomic_write(out, text)
