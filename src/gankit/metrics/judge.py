"""The judge: a small CNN digit classifier that stands in for Inception on MNIST-sized images.

FID, KID, precision/recall and the Inception score were defined on the features and class
probabilities of an ImageNet Inception network (Heusel et al. 2017; Salimans et al. 2016). On
28x28 grey digits that network is the wrong yardstick, so gankit scores digits with its own
classifier, as the course's talk does ("have a feed forward network try to classify them", seed
003): its penultimate layer gives the features for every distance, its softmax the class
probabilities for the classifier scores, and a second head on the same features the probability
that an image is a digit at all (``metrics/nondigits.py``: noise, flat grey and checkerboards are
not digits, and a judge without that head reads each of them as a digit with confidence 1.0).

A judge is two files, shipped inside the package (``gankit/judges/``) or written by
``gankit judge train --out FILE.pt``:

* ``<name>.pt``: the network's state dict in float16 (read with ``torch.load(weights_only=True)``);
* ``<name>.json``: name, version, the SHA-256 of the ``.pt`` file, the architecture, the training
  recipe and the measured test accuracy.

The SHA-256 is checked on every load, and every ``eval.json`` names the judge (name, version,
SHA-256): figures computed under different judges are different units and must not be compared.

The network (28x28 input; the 8x8 ``digits`` variant in brackets):

    conv 4x4 s2 (3x3 s1) 1->32, BN, ReLU      # (B, 32, 14, 14)   [(B, 32, 8, 8)]
    conv 4x4 s2 32->64, BN, ReLU              # (B, 64, 7, 7)     [(B, 64, 4, 4)]
    conv 3x3 s2 64->128, BN, ReLU             # (B, 128, 4, 4)    [(B, 128, 2, 2)]
    flatten, linear -> 128, ReLU              # (B, 128)          the features
    linear -> 10                              # (B, 10)           class logits p(y | x, digit)
    linear -> 64, ReLU, linear -> 1           # (B, 1)            the reject head: logit of p(digit | x)

The reject head is trained after the rest, on the frozen features of the stored (float16) body:
the features, and with them FID, KID and precision/recall, are those of the body alone, so
``mnist-judge-v2`` gives the same distances as ``mnist-judge-v1``, whose body it shares.

Strided convolutions instead of max pooling keep it fast on a laptop CPU (about 3 M multiply-adds
per 28x28 image); batch norm and a +-2 pixel random shift let it pass 99.2% on the MNIST test set
in a few epochs.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import time
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, GankitError
from .nondigits import KINDS, make_kind, non_digits
from .scores import mean_confidence, read_as_digit

JUDGES_DIR = Path(__file__).resolve().parent.parent / "judges"

# The judge that scores each dataset (stacked MNIST: the MNIST judge on each colour channel).
JUDGE_FOR_DATA = {
    "mnist": "mnist-judge-v2",
    "stacked-mnist": "mnist-judge-v2",
    "digits": "digits-judge-v2",
}

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


def reject_head(feature_dim: int, hidden: int) -> nn.Module:
    """features (B, F) -> (B, 1), the logit of p(digit | x)."""
    return nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class JudgeNet(nn.Module):
    """The classifier; ``features(x)`` is its penultimate layer. Input (B, channels, size, size) in [-1, 1]."""

    def __init__(self, size: int = 28, channels: int = 1, width: int = 32, feature_dim: int = 128,
                 num_classes: int = 10, reject_hidden: int = 0):
        super().__init__()
        # 28x28 starts with a stride-2 conv; tiny 8x8 images keep their resolution for one layer.
        first = (4, 2, 1) if size >= 16 else (3, 1, 1)  # (kernel, stride, padding)
        s1 = (size + 2 * first[2] - first[0]) // first[1] + 1  # 14 [8]
        s2 = (s1 + 2 - 4) // 2 + 1  # 7 [4]
        s3 = (s2 + 2 - 3) // 2 + 1  # 4 [2]
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, *first, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1, bias=False), nn.BatchNorm2d(4 * width), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * width * s3 * s3, feature_dim), nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, num_classes)
        # p(digit | x) from the same features; absent (every image a digit) in judges without it
        self.reject = reject_head(feature_dim, reject_hidden) if reject_hidden else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, feature_dim)

    def digit_prob(self, features: torch.Tensor) -> torch.Tensor:
        """p(digit | x) (B,) from features (B, F); ones for a judge without a reject head."""
        if self.reject is None:
            return torch.ones(features.shape[0])
        return torch.sigmoid(self.reject(features).squeeze(1).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (B, num_classes) logits


class JudgeOutput(NamedTuple):
    features: torch.Tensor  # (N, F) the penultimate layer
    probs: torch.Tensor  # (N, K) p(y | x, digit): the class, supposing the image is a digit
    digit: torch.Tensor  # (N,) p(digit | x): ones when the judge has no reject head


class Judge:
    """A loaded, verified judge: ``judge(images)`` -> ``JudgeOutput(features, probs, digit)``."""

    def __init__(self, net: JudgeNet, meta: dict, path: Path):
        self.net = net.eval()
        self.meta = meta
        self.path = path  # the .json file

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def version(self) -> int:
        return int(self.meta["version"])

    @property
    def sha256(self) -> str:
        return self.meta["sha256"]

    @property
    def image_shape(self) -> tuple:
        a = self.meta["arch"]
        return (a["channels"], a["size"], a["size"])

    @property
    def num_classes(self) -> int:
        return int(self.meta["arch"]["num_classes"])

    @property
    def feature_dim(self) -> int:
        return int(self.meta["arch"]["feature_dim"])

    def identity(self) -> dict:
        """What an eval.json records about the judge."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "test_accuracy": self.meta.get("test_accuracy")}

    @property
    def rejects(self) -> bool:
        """Whether the judge has a reject head (p(digit | x) is not always 1)."""
        return self.net.reject is not None

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch: int = 1000) -> JudgeOutput:
        """images (N, C, H, W) float in [-1, 1] with the judge's shape -> features (N, F), probs (N, K),
        digit (N,), float32."""
        feats, probs, digit = [], [], []
        for i in range(0, images.shape[0], batch):
            f = self.net.features(images[i:i + batch].float())  # (b, F)
            feats.append(f)
            probs.append(self.net.head(f).softmax(dim=1))  # (b, K)
            digit.append(self.net.digit_prob(f))  # (b,)
        if not feats:
            return JudgeOutput(torch.empty(0, self.feature_dim), torch.empty(0, self.num_classes), torch.empty(0))
        return JudgeOutput(torch.cat(feats), torch.cat(probs), torch.cat(digit))

    def __repr__(self) -> str:
        return f"Judge({self.name} v{self.version}, sha256 {self.sha256[:12]})"


# ----------------------------------------------------------------------------------------------
# Loading


def _meta_path(which: Union[str, Path]) -> Path:
    """A judge name (shipped) or a path to its .json / .pt file -> the .json path."""
    p = Path(which)
    if p.suffix in (".json", ".pt"):
        return p.with_suffix(".json")
    shipped = JUDGES_DIR / f"{which}.json"
    if not shipped.is_file():
        names = sorted(q.stem for q in JUDGES_DIR.glob("*.json"))
        raise ConfigError(f"--judge: unknown judge {str(which)!r}; shipped: {', '.join(names) or 'none'} "
                          f"(or give a .json file written by `gankit judge train`)")
    return shipped


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_judge(which: Union[str, Path] = "mnist-judge-v2") -> Judge:
    """Load a judge by shipped name (``mnist-judge-v2``, ``digits-judge-v2``) or by its .json/.pt path.

    The weights file must match the SHA-256 in the .json, else a one-line ``GankitError``.
    """
    meta_path = _meta_path(which)
    try:
        meta = json.loads(meta_path.read_text())
        weights = meta_path.with_name(meta["weights"])
        arch = meta["arch"]
        expected = meta["sha256"]
    except FileNotFoundError:
        raise GankitError(f"{meta_path}: judge metadata not found") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise GankitError(f"{meta_path}: not a judge metadata file ({type(e).__name__}: {e})") from None
    try:
        blob = weights.read_bytes()
    except OSError as e:
        raise GankitError(f"{weights}: cannot read the judge weights ({e.strerror or e})") from None
    got = hashlib.sha256(blob).hexdigest()
    if got != expected:
        raise GankitError(f"{weights}: SHA-256 {got[:16]}... does not match {expected[:16]}... in "
                          f"{meta_path.name}; the judge file is damaged or was replaced")
    try:
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        net = _net(arch)
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except Exception as e:  # a file that passed the hash but is not this architecture's weights
        raise GankitError(f"{weights}: not loadable as {meta.get('name', 'a judge')} "
                          f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    return Judge(net, meta, meta_path)


def judge_for(data: str, judge: Optional[Union[str, Path]] = None) -> Judge:
    """The judge for a dataset: ``judge`` when given, else the shipped one for ``data``."""
    if judge:
        return load_judge(judge)
    if data not in JUDGE_FOR_DATA:
        raise ConfigError(f"--data: no shipped judge for {data!r} (judges cover {', '.join(sorted(JUDGE_FOR_DATA))}); "
                          f"train one with `gankit judge train` and pass --judge FILE.json")
    return load_judge(JUDGE_FOR_DATA[data])


# ----------------------------------------------------------------------------------------------
# Training


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
    from ..data import load_dataset

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
        stored = _net({**arch, "reject_hidden": 0})
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

    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(state, buf)
    out.write_bytes(buf.getvalue())
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
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    worst = max(reject["non_digit_confidence"].values())
    log(f"test accuracy {test_acc:.4f} (float16 weights), real test images read as digits "
        f"{reject['test_read_as_digit']:.4f}, worst kind of non-digit {worst:.4f}, {train_seconds:.0f}s; "
        f"wrote {out} and {out.with_suffix('.json')}")
    return meta


def _net(arch: dict) -> JudgeNet:
    """An untrained network of this architecture (``reject_hidden`` 0 or absent: no reject head)."""
    return JudgeNet(arch["size"], arch["channels"], arch["width"], arch["feature_dim"], arch["num_classes"],
                    arch.get("reject_hidden", 0))


def _half(net: nn.Module) -> dict:
    """A state dict in float16, without batch norm's step counters."""
    return {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def _fit(recipe: dict, arch: dict, train, test, log: Callable[[str], None]) -> tuple[JudgeNet, float]:
    """The recipe's training loop: AdamW, one-cycle schedule, random shifts. Returns (net, seconds)."""
    gen = torch.Generator().manual_seed(recipe["seed"])
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
        torch.manual_seed(recipe["seed"])
        net = _net({**arch, "reject_hidden": 0})
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


def judge_accuracy(judge: Judge, data: Optional[str] = None, data_dir: str = "", limit: int = 0) -> dict:
    """Accuracy of a judge on the test split of its dataset (``data`` defaults to the recipe's)."""
    from ..data import load_dataset

    data = data or judge.meta.get("recipe", {}).get("data")
    if not data:
        raise ConfigError("--data: this judge names no dataset; pass --data")
    test = load_dataset(data, data_dir, "test", limit)
    if tuple(test.shape) != judge.image_shape:
        raise ConfigError(f"--data: {data} images are {tuple(test.shape)}, the judge takes {judge.image_shape}")
    out = judge(test.x)
    right = int((out.probs.argmax(dim=1) == test.y).sum())
    return {"data": data, "n": len(test), "accuracy": right / max(len(test), 1),
            "read_as_digit": float((out.digit >= 0.5).double().mean()) if len(test) else 0.0}


__all__ = ["JUDGE_FOR_DATA", "RECIPES", "REJECT", "Judge", "JudgeNet", "JudgeOutput", "reject_report", "judge_for", "load_judge", "random_shift",
           "judge_accuracy", "sha256_file", "train_judge"]
