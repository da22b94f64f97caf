"""A folder of images (PNG, JPG/JPEG, BMP, WEBP), searched recursively, read with Pillow.

    gankit train --data folder --data-dir photos/          # photos/**/*.jpg

* **Order**: files sorted by their path relative to the folder; hidden files and folders
  (names starting with ".") are ignored.
* **Labels**: when the images sit in two or more top-level subfolders, the sorted subfolder
  names are the classes (``extra["classes"]``) and y holds each image's class index; images
  directly in the folder next to class subfolders are an error. Otherwise y is None.
* **Channels** (``channels``): 1 if every image is greyscale (modes 1, L, LA, I, F or a grey
  palette), else 3; alpha is dropped.
* **Size** (``image_size``): by default, when every image has the same size it is kept (a
  non-square size is centre-cropped to a square); otherwise, and whenever ``image_size`` is
  given, each image is centre-cropped to a square and resized (Lanczos) to ``image_size``
  (default 64). EXIF orientation is applied first.
* **Split**: a fixed 90/10 split, the same every time: a permutation seeded with 0 puts
  ``max(1, round(n / 10))`` images in test (none when there is a single image).
* **Broken files**: files Pillow cannot read are skipped and listed in ``extra["skipped"]``
  (no warnings); a folder with no readable image is a ``DataError`` naming it.

x float32 (N, C, S, S) in [-1, 1]; y int64 (N,) or None.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Tuple

import numpy as np
import torch
from PIL import Image, ImageOps

from ..errors import ConfigError, DataError
from ..registry import DATASETS
from . import Dataset, check_split, images_from_uint8

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
DEFAULT_SIZE = 64
TEST_FRACTION = 0.1
SPLIT_SEED = 0
_EXIF_ORIENTATION = 0x0112


@DATASETS.register("folder")
def image_folder(
    data_dir: str = "",
    split: str = "train",
    image_size: Optional[int] = None,
    channels: Optional[int] = None,
    **kw: Any,
) -> Dataset:
    """Load ``data_dir`` as a dataset; see the module docstring for the rules.

    Returns x float32 (N, C, S, S) in [-1, 1], y int64 (N,) class indices or None,
    extra = {"source", "classes", "files", "skipped"}.
    """
    check_split(split)
    image_size = _optional_int(image_size, "image_size")
    channels = _optional_int(channels, "channels")
    if channels not in (None, 1, 3):
        raise ConfigError(f"folder: channels must be 1 or 3, got {channels}")
    if image_size is not None and image_size <= 0:
        image_size = None  # 0 means "automatic", like None
    if not data_dir:
        raise DataError("--data folder needs --data-dir: a folder of PNG/JPG/BMP/WEBP images")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"--data-dir {data_dir}: no such folder")

    files = _image_files(root)
    if not files:
        raise DataError(f"{root}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in this folder or below")
    classes, labels = _class_labels(root, files)

    # Pass 1: headers only (cheap), to fix size and channels over the whole folder.
    skipped: List[str] = []
    readable, sizes, greys = [], [], []
    for i, path in enumerate(files):
        header = _read_header(path)
        if header is None:
            skipped.append(str(path))
            continue
        readable.append(i)
        sizes.append(header[0])
        greys.append(header[1])
    if not readable:
        raise DataError(f"{root}: none of its {len(files)} image files could be read")
    if channels is None:
        channels = 1 if all(greys) else 3
    same_size = len(set(sizes)) == 1
    if image_size is None and same_size:
        w, h = sizes[0]
        side, resize = min(w, h), False  # keep the size (cropped to a square if needed)
    else:
        side, resize = image_size or DEFAULT_SIZE, True

    # The 90/10 split, over the readable files.
    chosen = _split_indices(len(readable), split)
    if not chosen:
        raise DataError(f"{root}: only {len(readable)} readable image; too few for a test split")

    # Pass 2: decode the chosen files.
    arrays, kept = [], []
    for j in chosen:
        i = readable[j]
        try:
            arrays.append(_load_square(files[i], side, channels, resize))
            kept.append(i)
        except Exception:  # noqa: BLE001 - any failure to decode means "broken file": skip it
            skipped.append(str(files[i]))
    if not arrays:
        raise DataError(f"{root}: none of the {len(chosen)} {split} images could be decoded")

    x = np.stack(arrays)  # (N, S, S) or (N, S, S, 3) uint8
    if x.ndim == 4:
        x = x.transpose(0, 3, 1, 2)  # (N, 3, S, S)
    y = None if labels is None else torch.tensor([labels[i] for i in kept], dtype=torch.int64)
    extra = {
        "source": str(root),
        "classes": classes,
        "files": [str(files[i]) for i in kept],
        "skipped": sorted(skipped),
    }
    return Dataset("folder", images_from_uint8(x), y, len(classes), extra)


def _optional_int(value: Any, name: str) -> Optional[int]:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"folder: {name} must be an integer, got {value!r}") from None


def _image_files(root: Path) -> List[Path]:
    """Image files under ``root``, sorted by relative path, hidden ones left out."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.suffix.lower() not in IMAGE_EXTENSIONS or any(p.startswith(".") for p in rel.parts):
            continue
        if path.is_file():
            found.append((rel.as_posix(), path))
    return [path for _, path in sorted(found)]


def _class_labels(root: Path, files: List[Path]) -> Tuple[list, Optional[List[int]]]:
    """(sorted class names, class index per file) when there are >= 2 top-level subfolders."""
    tops = [f.relative_to(root).parts for f in files]
    classes = sorted({parts[0] for parts in tops if len(parts) > 1})
    if len(classes) < 2:
        return [], None
    loose = [parts[0] for parts in tops if len(parts) == 1]
    if loose:
        raise DataError(
            f"{root}: {len(loose)} image(s) (e.g. {loose[0]}) sit next to the class subfolders "
            f"{', '.join(classes[:3])}{', ...' if len(classes) > 3 else ''}; move them into a class folder"
        )
    index = {name: k for k, name in enumerate(classes)}
    return classes, [index[parts[0]] for parts in tops]


def _read_header(path: Path) -> Optional[Tuple[Tuple[int, int], bool]]:
    """((width, height) after EXIF rotation, is_grey) from the file header, or None if unreadable."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            if im.getexif().get(_EXIF_ORIENTATION, 1) in (5, 6, 7, 8):
                w, h = h, w  # rotated by 90 degrees when loaded
            return (w, h), _is_grey(im)
    except Exception:  # noqa: BLE001 - unreadable header: the caller skips the file
        return None


def _is_grey(im: Image.Image) -> bool:
    if im.mode in GREY_MODES:
        return True
    if im.mode in ("P", "PA"):
        palette = im.getpalette()
        if palette:
            rgb = np.asarray(palette, dtype=np.int64).reshape(-1, 3)
            return bool((rgb[:, 0] == rgb[:, 1]).all() and (rgb[:, 1] == rgb[:, 2]).all())
    return False


def _load_square(path: Path, side: int, channels: int, resize: bool) -> np.ndarray:
    """Decode, centre-crop to a square, resize to ``side`` if asked: uint8 (S, S) or (S, S, 3)."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        im = _to_8bit(im).convert("L" if channels == 1 else "RGB")
        w, h = im.size
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)  # centre square
        if resize:
            im = im.resize((side, side), Image.Resampling.LANCZOS, box=box)
        elif (w, h) != (s, s):
            im = im.crop(box)
        arr = np.asarray(im, dtype=np.uint8)
    if arr.shape[:2] != (side, side):
        raise ValueError(f"{path}: decoded to {arr.shape}, expected side {side}")
    return arr


def _to_8bit(im: Image.Image) -> Image.Image:
    """16/32-bit integer and float greyscale -> 8-bit L (Pillow's own conversion clips)."""
    if not (im.mode.startswith("I") or im.mode == "F"):
        return im
    arr = np.asarray(im, dtype=np.float64)
    if im.mode.startswith("I;16") or (im.mode == "I" and arr.size and arr.max() > 255):
        arr = arr / 257.0  # 0..65535 -> 0..255
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))


def _split_indices(n: int, split: str) -> List[int]:
    """Sorted indices 0..n-1 of ``split`` under the fixed 90/10 split."""
    n_test = max(1, round(n * TEST_FRACTION)) if n >= 2 else 0
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    chosen = order[:n_test] if split == "test" else order[n_test:]
    return sorted(int(i) for i in chosen)
