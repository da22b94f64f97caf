"""The optimal discriminator, checked numerically in 1-D (Goodfellow et al. 2014, Prop. 1, Thm. 1),
and the divergences between data and generator that a trained D estimates (the talk 003's question).

For a fixed generator with density p_g, the discriminator that maximises

    V(D, G) = E_{x~p_data} log D(x) + E_{x~p_g} log(1 - D(x))

is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and its value is

    V(D*, G) = -log 4 + 2 JSD(p_data || p_g).

(Seed 001 states the optimum *is* the JSD; the affine map -log 4 + 2 (.) is what the proof in
Goodfellow et al. gives, and what this experiment confirms.) With both densities known exactly
(``gankit.data.toy.Mixture``), we train a small MLP discriminator by binary cross-entropy on
fresh samples and compare it with D*, and compute both sides of the identity by two independent
quadratures: V(D*) on a fine Simpson grid, the JSD with adaptive ``scipy.integrate.quad``.
"""
from __future__ import annotations

import json
import math
import time
from collections import deque
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch import nn

from ..data.toy import Mixture, gmm1d_mixture
from ..errors import ConfigError
from ..models.dcgan import SameConvTranspose2d  # the lecture's layer, exactly as its G builds it
from ..rundir import atomic_write
from ..sampling.grid import save_figure
from ._common import check_seed, int_at_least


def _log_prob(m: Mixture, x: np.ndarray) -> np.ndarray:
    return m.log_prob(torch.from_numpy(x)[:, None]).numpy()


def _grid(p_data: Mixture, p_g: Mixture) -> np.ndarray:
    """An odd number of equally spaced points over both supports, 10 stds beyond every mode,
    with at least 20 points per smallest std (Simpson's rule is then exact to ~1e-12)."""
    means = torch.cat([p_data.means[:, 0], p_g.means[:, 0]])
    stds = torch.cat([p_data.std, p_g.std])
    lo, hi = float((means - 10 * stds).min()), float((means + 10 * stds).max())
    n = max(4001, math.ceil((hi - lo) / (float(stds.min()) / 20)))
    return np.linspace(lo, hi, n | 1)


def _jsd_quad(p_data: Mixture, p_g: Mixture, lo: float, hi: float) -> float:
    """JSD(p_data || p_g) in nats by adaptive quadrature: the mean of KL(p || m), m = (p_data + p_g)/2."""
    from scipy import integrate

    def integrand(t: float, first: bool) -> float:
        lp, lq = (float(_log_prob(d, np.array([t]))[0]) for d in (p_data, p_g))
        lm = np.logaddexp(lp, lq) - math.log(2)
        own = lp if first else lq
        return math.exp(own) * (own - lm)

    points = sorted(float(v) for v in torch.cat([p_data.means[:, 0], p_g.means[:, 0]]))
    kl = [
        integrate.quad(integrand, lo, hi, args=(first,), points=points, limit=500, epsabs=1e-13, epsrel=1e-11)[0]
        for first in (True, False)
    ]
    return 0.5 * (kl[0] + kl[1])


def _train_discriminator(p_data: Mixture, p_g: Mixture, steps: int, batch_size: int, hidden: int,
                         lr: float, seed: int, center: float, scale: float) -> tuple[nn.Module, float]:
    """An MLP 1 -> hidden -> hidden -> 1 (logit), trained by BCE on fresh samples every step
    (real label 1, fake label 0) with Adam and a cosine learning-rate decay to 0."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching global RNG
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                            nn.Linear(hidden, 1))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    labels = torch.cat([torch.ones(batch_size, 1), torch.zeros(batch_size, 1)])  # (2B, 1)
    loss_fn = nn.BCEWithLogitsLoss()
    recent: deque = deque(maxlen=100)
    for _ in range(steps):
        x = torch.cat([p_data.sample(batch_size, gen)[0], p_g.sample(batch_size, gen)[0]])  # (2B, 1)
        loss = loss_fn(net((x - center) / scale), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        recent.append(loss.item())
    return net, float(np.mean(recent))


def optimal_d_experiment(
    p_data: Mixture,
    p_g: Mixture,
    steps: int = 2000,
    batch_size: int = 512,
    hidden: int = 64,
    lr: float = 3e-2,
    seed: int = 0,
    region_mass: float = 0.99,
    out_png: Optional[str] = None,
    mc_samples: int = 100_000,
) -> dict:
    """Train D on p_data vs p_g (both 1-D mixtures), compare it with D*, check V(D*) = -log 4 + 2 JSD.

    Returns a JSON-able dict:
      d_max_abs_err, d_mean_abs_err: max |D - D*| over the smallest region holding `region_mass`
        of the mass of (p_data + p_g) / 2 (its outer bounds in `region`; where the mixture is
        thinner D has seen too few samples to be judged), and E_{x~(p_data+p_g)/2} |D - D*|;
      value_at_optimum: V(D*, G) by quadrature; minus_log4_plus_2jsd: -log 4 + 2 JSD with the JSD
        by separate quadrature (jsd, nats); identity_diff: their difference;
      value_at_trained: V(D, G) for the trained D by quadrature; value_gap = V(D*) - V(D) >= 0;
      final_bce: mean training loss over the last 100 steps (about -V(D)/2); train_seconds;
      kl_data_g, kl_g_data: KL(p_data || p_g) and KL(p_g || p_data) by quadrature, and beside them
        kl_data_g_from_d, kl_g_data_from_d, jsd_from_d: the same divergences estimated from the
        trained D's logit (its log density ratio) on `mc_samples` fresh samples of each density.
    If `out_png` is given, a plot of both densities, D* and D is written there.
    """
    from scipy import integrate  # a third of a second to import: loaded by this experiment only

    if p_data.dim != 1 or p_g.dim != 1:
        raise ConfigError(f"optimal_d_experiment: needs 1-D mixtures, got D={p_data.dim} and D={p_g.dim}")
    steps = int_at_least(steps, "optimal_d_experiment: steps")
    batch_size = int_at_least(batch_size, "optimal_d_experiment: batch_size")
    mc_samples = int_at_least(mc_samples, "optimal_d_experiment: mc_samples")
    hidden = int_at_least(hidden, "optimal_d_experiment: hidden")
    if not 0.0 < region_mass < 1.0:
        raise ConfigError(f"optimal_d_experiment: region_mass must lie in (0, 1), got {region_mass!r}")

    x = _grid(p_data, p_g)  # (G,)
    center, scale = float(x.mean()), float(x.std())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is as fast, and immune to oversubscription
    try:
        t0 = time.perf_counter()
        net, final_bce = _train_discriminator(p_data, p_g, steps, batch_size, hidden, lr, seed, center, scale)
        train_seconds = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)

    lpd, lpg = _log_prob(p_data, x), _log_prob(p_g, x)  # (G,) each
    pd, pg = np.exp(lpd), np.exp(lpg)
    lse = np.logaddexp(lpd, lpg)
    log_d_opt, log_1m_d_opt = lpd - lse, lpg - lse  # log D*, log(1 - D*)
    d_opt = np.exp(log_d_opt)
    with torch.no_grad():
        logit = net(torch.from_numpy((x - center) / scale).float()[:, None]).double()[:, 0]
    d = torch.sigmoid(logit).numpy()
    log_d, log_1m_d = nn.functional.logsigmoid(logit).numpy(), nn.functional.logsigmoid(-logit).numpy()

    mix = (pd + pg) / 2
    dx = x[1] - x[0]
    order = np.argsort(mix)[::-1]
    cut = np.searchsorted(np.cumsum(mix[order]) * dx, region_mass)
    region = mix >= mix[order[min(cut, len(x) - 1)]]  # highest-density region of (p_data + p_g)/2
    err = np.abs(d - d_opt)

    # Divergences from D alone, as a GAN would have to estimate them: it has samples, not densities.
    # D's logit is the log of its density ratio r = D / (1 - D), which tends to p_data / p_g, so
    #   KL(p_data || p_g) = E_{x~p_data} log r(x),   KL(p_g || p_data) = -E_{x~p_g} log r(x),
    #   JSD(p_data || p_g) = (V(D, G) + log 4) / 2   (from below: V(D) <= V(D*)),
    # each a mean over fresh samples. The exact values come from the densities by quadrature.
    gen = torch.Generator().manual_seed(seed + 1)  # samples D never trained on
    with torch.no_grad():
        lr_data, lr_g = (net((m.sample(mc_samples, gen)[0] - center) / scale).double()[:, 0] for m in (p_data, p_g))
    kl_dg_est, kl_gd_est = float(lr_data.mean()), float(-lr_g.mean())
    v_mc = float(nn.functional.logsigmoid(lr_data).mean() + nn.functional.logsigmoid(-lr_g).mean())
    kl_dg, kl_gd = (float(integrate.simpson(np.exp(la) * (la - lb), x=x)) for la, lb in ((lpd, lpg), (lpg, lpd)))

    v_opt = integrate.simpson(pd * log_d_opt + pg * log_1m_d_opt, x=x)
    v_trained = integrate.simpson(pd * log_d + pg * log_1m_d, x=x)
    jsd = _jsd_quad(p_data, p_g, float(x[0]), float(x[-1]))
    rhs = -math.log(4) + 2 * jsd

    if out_png:
        _plot(out_png, x, pd, pg, d_opt, d, region)
    return {
        "steps": steps,
        "batch_size": batch_size,
        "hidden": hidden,
        "lr": lr,
        "seed": seed,
        "train_seconds": train_seconds,
        "final_bce": final_bce,
        "region": [float(x[region].min()), float(x[region].max())],
        "region_mass": region_mass,
        "d_max_abs_err": float(err[region].max()),
        "d_mean_abs_err": float(integrate.simpson(mix * err, x=x)),
        "value_at_optimum": float(v_opt),
        "minus_log4_plus_2jsd": rhs,
        "identity_diff": float(v_opt - rhs),
        "jsd": jsd,
        "value_at_trained": float(v_trained),
        "value_gap": float(v_opt - v_trained),
        "mc_samples": mc_samples,
        "kl_data_g": kl_dg,
        "kl_data_g_from_d": kl_dg_est,
        "kl_g_data": kl_gd,
        "kl_g_data_from_d": kl_gd_est,
        "jsd_from_d": (v_mc + math.log(4)) / 2,
    }


def _plot(path: str, x: np.ndarray, pd: np.ndarray, pg: np.ndarray, d_opt: np.ndarray, d: np.ndarray,
          region: np.ndarray) -> None:
    from matplotlib.figure import Figure  # Agg canvas, no pyplot state

    keep = (x >= x[region].min() - 1) & (x <= x[region].max() + 1)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x[keep], pd[keep], color="tab:blue", label="p_data")
    ax.plot(x[keep], pg[keep], color="tab:orange", label="p_g")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax2 = ax.twinx()
    ax2.plot(x[keep], d_opt[keep], color="black", label="D* = p_data / (p_data + p_g)")
    ax2.plot(x[keep], d[keep], color="tab:red", linestyle="--", label="trained D")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("D(x)")
    fig.legend(loc="outside lower center", ncols=4, fontsize=8)
    ax.set_title("The optimal discriminator (Goodfellow et al. 2014, Prop. 1)")
    save_figure(fig, path, dpi=120)


def optimal_d(out: Optional[Union[str, Path]] = None, steps: int = 2000, seed: int = 0) -> dict:
    """Train D against a fixed generator density in 1-D and compare it with D* (``optimal_d_experiment``),
    as ``gankit theory optimal-d`` runs it.

    p_data is ``gmm1d``'s default, 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2); the fixed generator is
    0.7 N(-1.5, 0.7^2) + 0.3 N(2.5, 0.6^2), one that found the left mode roughly and the right
    mode poorly. With ``out``, writes ``out/optimal-d.png`` and ``out/optimal-d.json``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"--steps: must be an integer >= 1, got {steps!r}")
    seed = check_seed(seed)
    p_data = gmm1d_mixture()
    p_g = Mixture([[-1.5], [2.5]], [0.7, 0.6], [0.7, 0.3])
    png = None
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        png = str(out / "optimal-d.png")
    result = optimal_d_experiment(p_data, p_g, steps=steps, seed=seed, out_png=png)
    result["p_data"] = "0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)"
    result["p_g"] = "0.7 N(-1.5, 0.7^2) + 0.3 N(2.5, 0.6^2)"
    if out is not None:
        atomic_write(out / "optimal-d.json", json.dumps(result, indent=2) + "\n")
        result["png"], result["json"] = png, str(out / "optimal-d.json")
    return result


# ---- the checkerboard of stride-2 transposed convolutions ---------------------------------------
def overlap_counts(layers: list, side: int) -> np.ndarray:
    """How many paths lead from a side x side map of ones through ``layers`` (single-channel
    transposed convolutions, every weight 1, no bias) to each output pixel: the uneven overlap of
    Odena et al. (2016), "Deconvolution and checkerboard artifacts". A kernel that the stride does not
    divide (5 with stride 2) covers some output pixels more often than their neighbours, in a
    pattern that repeats every `stride` pixels; a kernel it divides (4 with stride 2) covers the
    interior evenly."""
    x = torch.ones(1, 1, side, side, dtype=torch.float64)
    with torch.no_grad():
        for layer in layers:
            layer = layer.double()
            layer.weight.fill_(1.0)
            x = layer(x)
    return x[0, 0].numpy()


def checkerboard(out: Optional[Union[str, Path]] = None) -> dict:
    """The overlap counts (``overlap_counts``) of the lecture's generator (000: its two 5x5 stride-2
    transposed convolutions with TensorFlow's 'same' padding, from 7x7 to 28x28; its stride-1 layer
    before them only blurs) against Radford's (4x4, stride 2, padding 1, twice), for one channel,
    from a 7x7 map of ones. Returns each map's
    interior (4 pixels in from the edges) minimum and maximum; with ``out``, writes
    ``out/checkerboard.png`` and ``out/checkerboard.json``."""
    stacks = {
        "the lecture's G: 5x5, stride 2, twice": [SameConvTranspose2d(1, 1, 5, 2) for _ in range(2)],
        "Radford's G: 4x4, stride 2, twice": [nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False) for _ in range(2)],
    }
    maps = {name: overlap_counts(layers, 7) for name, layers in stacks.items()}
    result = {name: {"interior_min": float(m[4:-4, 4:-4].min()), "interior_max": float(m[4:-4, 4:-4].max())}
              for name, m in maps.items()}
    if out is not None:
        from matplotlib.figure import Figure

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        fig = Figure(figsize=(7.5, 3.9), layout="constrained")
        for i, (name, m) in enumerate(maps.items()):
            ax = fig.add_subplot(1, 2, i + 1)
            shown = ax.imshow(m, cmap="magma", interpolation="nearest")
            r = result[name]
            ax.set_title(f"{name}\n{r['interior_min']:.0f} to {r['interior_max']:.0f} paths per pixel, 4 px in from the edges",
                         fontsize=8)
            ax.axis("off")
            fig.colorbar(shown, ax=ax, shrink=0.8)
        fig.suptitle("paths from a 7x7 map to each pixel of 28x28, every weight 1", fontsize=9)
        save_figure(fig, out / "checkerboard.png", dpi=110)
        atomic_write(out / "checkerboard.json", json.dumps(result, indent=2) + "\n")
        result = {**result, "png": str(out / "checkerboard.png"), "json": str(out / "checkerboard.json")}
    return result
