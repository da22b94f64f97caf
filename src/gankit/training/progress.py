"""What a running trainer shows: a progress bar redrawn on a terminal, an HTML bar in a Jupyter
notebook, and one line per epoch. ``self`` is the ``Trainer``."""
from __future__ import annotations

import html
import math
import sys
import time


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), where stderr is no terminal."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_html(epoch: int, of: str, batch: int, steps: int, losses: str, eta: str) -> str:
    """The notebook's progress bar: an HTML <progress> element and the terminal line's words."""
    return (f'<progress value="{batch}" max="{steps}" style="width: 240px"></progress> '
            f"<code>epoch {epoch}{html.escape(of)} {batch}/{steps} {html.escape(losses)} ETA {eta}</code>")


def show_html(markup: str, handle=None):
    """Show ``markup`` in the notebook, replacing what ``handle`` showed; returns the handle."""
    from IPython.display import HTML, display  # IPython: present whenever in_notebook() is True

    if handle is None:
        return display(HTML(markup), display_id=True)
    handle.update(HTML(markup))
    return handle


def draw(self, t0: float) -> None:
    """The trainer's progress bar: a line redrawn on a terminal's stderr, an HTML bar in a Jupyter
    notebook (updated at most 4 times a second), nothing when stderr is a file or a pipe."""
    notebook = in_notebook()
    if not notebook and not sys.stderr.isatty():
        return
    cfg, spe = self.cfg, self.steps_per_epoch
    done = self.epoch * spe + self.batch
    el = self.elapsed_now(t0)
    total = min(cfg.epochs * spe if cfg.epochs else math.inf, cfg.steps or math.inf)
    total = None if math.isinf(total) else total
    eta_steps = (total - done) * (el / max(done, 1)) if total else math.inf
    eta = min(eta_steps, cfg.minutes * 60 - el if cfg.minutes else math.inf)
    row = getattr(self, "last_row", {})
    losses = " ".join(f"{k} {row[k]:.3f}" for k in ("d_loss", "g_loss") if k in row)
    eps = f"/{cfg.epochs}" if cfg.epochs else ""
    eta_s = "?" if math.isinf(eta) else time.strftime("%H:%M:%S", time.gmtime(max(eta, 0)))
    if notebook:
        now = time.perf_counter()
        if now - getattr(self, "_t_html", -math.inf) >= 0.25 or self.batch == spe:
            self._t_html = now
            self._html_bar = show_html(progress_html(self.epoch + 1, eps, self.batch, spe, losses, eta_s),
                                       getattr(self, "_html_bar", None))
        return
    frac = self.batch / spe
    bar = "#" * int(frac * 20) + "." * (20 - int(frac * 20))
    sys.stderr.write(f"\repoch {self.epoch + 1}{eps} [{bar}] {self.batch}/{spe} {losses} ETA {eta_s}   ")
    sys.stderr.flush()

def epoch_line(self) -> None:
    """One line on stderr at the end of an epoch: the last logged losses, speed and quality check."""
    row = getattr(self, "last_row", {})
    parts = [f"{k} {row[k]:.3f}" for k in ("d_loss", "g_loss", "d_real", "d_fake", "recon", "kl", "elbo")
             if k in row]
    if "img_per_s" in row:
        parts.append(f"{row['img_per_s']:.0f} img/s")
    q = getattr(self, "last_quality", None)
    if q and q["step"] == self.step:
        parts += [f"FID {q['fid']:.2f}"] if "fid" in q else [f"modes {q['modes_covered']}/{q['of']}",
                                                              f"high quality {q['high_quality']:.2f}"]
    eps = f"/{self.cfg.epochs}" if self.cfg.epochs else ""
    print(f"epoch {self.epoch}{eps}  step {self.step}  " + "  ".join(parts), file=sys.stderr, flush=True)
