"""Any IDX image set in a folder (EMNIST, Kaggle's MNIST copies, ...): the ``idx`` source.

``data_dir`` holds ``<stem>train-images-idx3-ubyte[.gz]`` for train and ``<stem>t10k-`` (or
``<stem>test-``) for test, each with its ``-labels-idx1-ubyte[.gz]`` when labelled; Kaggle's
``.idx3-ubyte`` spelling works too. x float32 (N, 1, H, W) in [-1, 1], y = its labels (None
without a labels file), num_classes = 1 + the largest label of both splits.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import torch

from ..errors import DataError
from ..registry import DATASETS
from . import SPLITS, Dataset, check_split, images_from_uint8
from .idx import find_raw_or_gz, read_idx, read_idx_pair

_IDX_IMAGES_RE = re.compile(r"^(?P<stem>.*?)(?P<part>train|t10k|test)-images[-.]idx3-ubyte(?:\.gz)?$")


@DATASETS.register("idx")
def idx_folder(data_dir: str = "", split: str = "train", prefix: str = "", **kw: Any) -> Dataset:
    """Any IDX image set in ``data_dir``: ``<stem>train-images-idx3-ubyte[.gz]`` for train and
    ``<stem>t10k-`` (or ``<stem>test-``) for test, each with its ``-labels-idx1-ubyte[.gz]``.

    ``prefix`` picks a stem when the folder holds several sets (e.g. ``emnist-letters-``). x float32
    (N, 1, H, W) in [-1, 1]; y int64 (N,) when a labels file exists, else None;
    num_classes = 1 + the largest label of both splits' label files (0 without labels).
    """
    check_split(split)
    if not data_dir:
        raise DataError("--data idx needs --data-dir: a folder with *-images-idx3-ubyte[.gz] files")
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise DataError(f"--data-dir {data_dir}: no such folder")
    sets: Dict[Tuple[str, str], Path] = {}  # (stem, split) -> images file (raw preferred)
    for path in sorted(folder.iterdir()):
        m = _IDX_IMAGES_RE.match(path.name)
        if not (m and path.is_file() and m["stem"].startswith(prefix)):
            continue
        key = (m["stem"], "train" if m["part"] == "train" else "test")
        if key not in sets or sets[key].name.endswith(".gz"):
            sets[key] = path
    stems = sorted({stem for stem, s in sets if s == split})
    if not stems:
        want = "train-images-idx3-ubyte" if split == "train" else "t10k-images-idx3-ubyte"
        raise DataError(f"--data-dir {data_dir}: no {prefix}*{want}[.gz] file for the {split} split")
    if len(stems) > 1:
        raise DataError(
            f"--data-dir {data_dir}: several IDX sets ({', '.join(s or '(none)' for s in stems)}); "
            "pick one with the prefix option"
        )
    stem = stems[0]
    labels = {s: _labels_for(sets[(stem, s)]) for s in SPLITS if (stem, s) in sets}
    x, y = read_idx_pair(sets[(stem, split)], labels[split], image_shape=None, num_classes=None)
    num_classes = 0
    if y is not None:
        others = [read_idx(p) for s, p in labels.items() if s != split and p is not None]
        num_classes = 1 + max([int(y.max()) if len(y) else -1] + [int(o.max()) for o in others if o.size])
    return Dataset("idx", images_from_uint8(x), None if y is None else torch.from_numpy(y), num_classes,
                   {"source": str(sets[(stem, split)]), "set": stem})


def _labels_for(images: Path) -> Optional[Path]:
    """The labels file that goes with an images file, or None."""
    base = images.name[:-3] if images.name.endswith(".gz") else images.name
    renames = (("-images-idx3-ubyte", "-labels-idx1-ubyte"), ("-images.idx3-ubyte", "-labels.idx1-ubyte"))
    for old, new in renames:
        if base.endswith(old):
            found = find_raw_or_gz(images.parent, base[: -len(old)] + new)
            if found is not None:
                return found
    return None
