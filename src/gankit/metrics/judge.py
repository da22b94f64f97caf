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
``gankit judge train --out FILE.pt`` (``metrics/judge_train.py``, the recipes):

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
from pathlib import Path
from typing import NamedTuple, Optional, Union

import torch
from torch import nn

from ..data import load_dataset
from ..errors import ConfigError, GankitError

JUDGES_DIR = Path(__file__).resolve().parent.parent / "judges"

# The judge that scores each dataset (stacked MNIST: the MNIST judge on each colour channel).
JUDGE_FOR_DATA = {
    "mnist": "mnist-judge-v2",
    "stacked-mnist": "mnist-judge-v2",
    "digits": "digits-judge-v2",
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
        net = net_for(arch)
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


def net_for(arch: dict) -> JudgeNet:
    """An untrained network of this architecture (``reject_hidden`` 0 or absent: no reject head)."""
    return JudgeNet(arch["size"], arch["channels"], arch["width"], arch["feature_dim"], arch["num_classes"],
                    arch.get("reject_hidden", 0))


def judge_accuracy(judge: Judge, data: Optional[str] = None, data_dir: str = "", limit: int = 0) -> dict:
    """Accuracy of a judge on the test split of its dataset (``data`` defaults to the recipe's)."""
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


__all__ = ["JUDGE_FOR_DATA", "Judge", "JudgeNet", "JudgeOutput", "judge_accuracy", "judge_for", "load_judge", "net_for",
           "reject_head", "sha256_file"]
