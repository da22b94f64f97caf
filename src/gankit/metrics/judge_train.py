"""Training a judge (``metrics/judge.py``) by its dataset's recipe: ``gankit judge train``.

1. The classifier: AdamW with a one-cycle schedule and +-``shift`` pixel random shifts, on the
   recipe's seed and thread count, so the weights are the same bytes on every run of a torch build.
   It is stored in float16, and everything after reads the stored weights.
2. The reject head p(digit | x): on the frozen features of the stored body, the training images
   against as many non-digits made from them (``metrics/nondigits.py``), binary cross-entropy.

The .pt and its .json (name, version, SHA-256 of the .pt, architecture, recipe, test accuracy and
the reject head's report) are written atomically.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import time
from pathlib import Path
from typing import Callable, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from ..data import load_dataset
from ..errors import ConfigError
from ..rundir import atomic_write
from .judge import Judge, JudgeNet, JudgeOutput, net_for, reject_head
from .nondigits import KINDS, make_kind, non_digits
from .scores import mean_confidence, read_as_digit

# The reject head's recipe, shared by both datasets: real training images against as many
# non-digits (``nondigits.KINDS`` in equal shares), binary cross-entropy on the frozen features.
REJECT = {"hidden": 64, "steps": 2400, "batch_size": 256, "optimizer": "Adam", "lr": 1e-3,
          "kinds": list(KINDS), "seed_offset": 1}

# Training recipes, one per dataset; `gankit judge train --data NAME` follows them exactly.
RECIPES = {
    "mnist": {
        "data": "mnist", "name": "mnist-judge", "version": 2, "seed": 0,
        "epochs": 6, "batch_size": 128, "optimizer": "AdamW", "lr": 2e-3, "weight_decay": 5e-4,
        "schedule": "OneCycleLR (pct_start 0.2)", "shift": 2, "width": 32, "feature_dim": 128, "threads": 1, "reject": REJECT,
    },
    "digits": {
        "data": "digits", "name": "digits-judge", "version": 2, "seed": 0,
        "epochs": 60, "batch_size": 64, "optimizer": "AdamW", "lr": 2e-3, "weight_decay": 5e-4,
        "schedule": "OneCycleLR (pct_start 0.2)", "shift": 1, "width": 32, "feature_dim": 128, "threads": 1, "reject": REJECT,
    },
}


def random_shift(x: torch.Tensor, pixels: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image of x (B, C, H, W) by its own random offset in [-pixels, pixels]^2,
    filling with background (-1). Returns (B, C, H, W)."""
    if pixels <= 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4, value=-1.0)  # (B, C, H + 2p, W + 2p)
    dxy = torch.randint(0, 2 * pixels + 1, (2, b), generator=gen)  # (2, B) window offsets
    rows = dxy[0][:, None] + torch.arange(h)  # (B, H)
    cols = dxy[1][:, None] + torch.arange(w)  # (B, W)
    out = padded.permute(0, 2, 3, 1)[torch.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()  # (B, C, H, W)


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    net.eval()
    right = sum(int((net(x[i:i + batch]).argmax(dim=1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))
    return right / max(len(x), 1)


def train_judge(data: str = "mnist", out: Optional[Union[str, Path]] = None, data_dir: str = "",
                epochs: Optional[int] = None, reject_steps: Optional[int] = None,
                log: Callable[[str], None] = print) -> dict:
    """Train a judge by the dataset's recipe (``RECIPES``) and write ``out`` (.pt) and its .json.

    Deterministic for a given torch build: the initialisation, the batch order and the shifts
    all come from the recipe's seed, and training runs on the recipe's thread count (1: float
    sums, hence the weights' bytes, depend on how work is split between threads; a network this
    small gains little from a second thread). ``epochs`` and ``reject_steps`` override the recipe
    (the metadata records them). Returns the metadata written to the .json.
    """
    if data not in RECIPES:
        raise ConfigError(f"--data: judge recipes exist for {', '.join(sorted(RECIPES))}, not {data!r}")
    recipe = dict(RECIPES[data])
    if epochs is not None:
        if epochs < 1:
            raise ConfigError(f"--epochs: must be at least 1, got {epochs}")
        recipe["epochs"] = int(epochs)
    if reject_steps is not None:
        if reject_steps < 1:
            raise ConfigError(f"--reject-steps: must be at least 1, got {reject_steps}")
        recipe["reject"] = {**recipe["reject"], "steps": int(reject_steps)}
    name = f"{recipe['name']}-v{recipe['version']}"
    out = Path(out) if out else Path(f"{name}.pt")
    if out.suffix != ".pt":
        raise ConfigError(f"--out: {out} must end in .pt (the .json is written beside it)")

    train, test = load_dataset(data, data_dir, "train"), load_dataset(data, data_dir, "test")
    if not train.is_image or train.y is None:
        raise ConfigError(f"--data: {data} is not a labelled image dataset")
    c, h, w = train.shape
    if h != w:
        raise ConfigError(f"--data: the judge needs square images, {data} has {h}x{w}")
    arch = {"size": h, "channels": c, "width": recipe["width"], "feature_dim": recipe["feature_dim"],
            "num_classes": train.num_classes, "reject_hidden": recipe["reject"]["hidden"]}

    threads = torch.get_num_threads()
    torch.set_num_threads(recipe["threads"])
    try:
        # 1. The classifier. Stored in float16 (half the bytes); what follows sees the stored weights.
        net, train_seconds = _fit(recipe, arch, train, test, log)
        state = _half(net)
        stored = net_for({**arch, "reject_hidden": 0})
        stored.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        test_acc = accuracy(stored, test.x, test.y)
        # 2. The reject head, on the frozen features of the stored body, so it reads what a user's judge reads.
        t = time.perf_counter()
        stored.reject = _fit_reject(stored, recipe, train.x, log)
        state.update({f"reject.{k}": v for k, v in _half(stored.reject).items()})
        stored.reject.load_state_dict({k: v.half().float() for k, v in stored.reject.state_dict().items()})
        train_seconds += time.perf_counter() - t
        reject = reject_report(stored, test.x, recipe["seed"] + 2)
    finally:
        torch.set_num_threads(threads)

    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write(out, buf.getvalue())
    meta = {
        "name": name,
        "version": recipe["version"],
        "weights": out.name,
        "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
        "dtype": "float16",
        "arch": arch,
        "classes": list((train.extra or {}).get("classes") or [str(i) for i in range(train.num_classes)]),
        "input": "images (N, C, H, W) in [-1, 1], background -1",
        "recipe": recipe,
        "train_size": len(train),
        "test_size": len(test),
        "test_accuracy": test_acc,
        "reject": reject,
        "train_seconds": round(train_seconds, 1),
        "torch": torch.__version__,
    }
    atomic_write(out.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    worst = max(reject["non_digit_confidence"].values())
    log(f"test accuracy {test_acc:.4f} (float16 weights), real test images read as digits "
        f"{reject['test_read_as_digit']:.4f}, worst kind of non-digit {worst:.4f}, {train_seconds:.0f}s; "
        f"wrote {out} and {out.with_suffix('.json')}")
    return meta


def _half(net: nn.Module) -> dict:
    """A state dict in float16, without batch norm's step counters."""
    return {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def _fit(recipe: dict, arch: dict, train, test, log: Callable[[str], None]) -> tuple[JudgeNet, float]:
    """The recipe's training loop: AdamW, one-cycle schedule, random shifts. Returns (net, seconds)."""
    gen = torch.Generator().manual_seed(recipe["seed"])
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
        torch.manual_seed(recipe["seed"])
        net = net_for({**arch, "reject_hidden": 0})
    bs = recipe["batch_size"]
    steps_per_epoch = math.ceil(len(train) / bs)
    opt = torch.optim.AdamW(net.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe["lr"], pct_start=0.2,
                                                total_steps=recipe["epochs"] * steps_per_epoch)
    t0 = time.perf_counter()
    for epoch in range(recipe["epochs"]):
        net.train()
        order = torch.randperm(len(train), generator=gen)
        total = 0.0
        for i in range(0, len(train), bs):
            idx = order[i:i + bs]
            xb = random_shift(train.x[idx], recipe["shift"], gen)  # (B, C, H, W)
            loss = F.cross_entropy(net(xb), train.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{recipe['epochs']}  loss {total / len(train):.4f}  "
            f"test accuracy {accuracy(net, test.x, test.y):.4f}  {time.perf_counter() - t0:.0f}s")
    return net, time.perf_counter() - t0


def _fit_reject(net: JudgeNet, recipe: dict, digits: torch.Tensor, log: Callable[[str], None]) -> nn.Module:
    """Train p(digit | x) on the frozen features of ``net``: the training images (label 1) against
    as many non-digits (label 0) made from them (``nondigits.non_digits``). Returns the head."""
    r = recipe["reject"]
    seed = recipe["seed"] + r["seed_offset"]
    gen = torch.Generator().manual_seed(seed)
    fakes = non_digits(digits, len(digits), gen)  # (N, 1, H, W)
    frozen = Judge(net, {}, Path())
    feats = torch.cat([frozen(digits).features, frozen(fakes).features])  # (2N, F)
    target = torch.cat([torch.ones(len(digits)), torch.zeros(len(fakes))])  # (2N,)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = reject_head(net.head.in_features, r["hidden"])
    opt = torch.optim.Adam(head.parameters(), lr=r["lr"])
    bs, step, total = r["batch_size"], 0, 0.0
    while step < r["steps"]:  # whole passes over a fresh order; a fixed step count serves 1,797 or 60,000 images
        order = torch.randperm(len(feats), generator=gen)
        for i in range(0, len(feats) - bs + 1, bs):
            loss = F.binary_cross_entropy_with_logits(head(feats[order[i:i + bs]]).squeeze(1), target[order[i:i + bs]])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, step = total + loss.item(), step + 1
            if step % 400 == 0:
                log(f"reject head step {step}/{r['steps']}  loss {total / 400:.5f}")
                total = 0.0
            if step == r["steps"]:
                break
    return head


@torch.no_grad()
def reject_report(net: JudgeNet, test_x: torch.Tensor, seed: int, n: int = 1000) -> dict:
    """How the reject head reads held-out images: the share of real test images read as digits
    (p(digit) >= 0.5), and for each kind of non-digit (n fresh images made from test digits) the
    mean confidence, mean of p(digit) * max_y p(y | x, digit)."""
    judge = Judge(net, {}, Path())  # batching and the three outputs, as a loaded judge gives them
    gen = torch.Generator().manual_seed(seed)
    real = judge(test_x)

    def conf(out: JudgeOutput) -> float:
        return mean_confidence(out.probs, out.digit)

    return {"test_read_as_digit": read_as_digit(real.digit),
            "test_confidence": conf(real),
            "non_digit_confidence": {k: conf(judge(make_kind(k, test_x, n, gen))) for k in KINDS},
            "held_out": f"the test split, and {n} images of each kind made from it with seed {seed}"}


__all__ = ["RECIPES", "REJECT", "accuracy", "random_shift", "reject_report", "train_judge"]
