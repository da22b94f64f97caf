"""The ``folder`` source: real image files written with Pillow, broken ones included."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import load_dataset
from gankit.errors import ConfigError, DataError


def save(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    """Save a uint8 (or uint16) array as an image file; the suffix picks the format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(array)
    if mode:
        im = im.convert(mode)
    im.save(path)
    return path


def grey(h: int, w: int, value: int = 128) -> np.ndarray:
    return np.full((h, w), value, np.uint8)


def colour(h: int, w: int, rgb=(200, 30, 60)) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3)).copy()


def both_splits(folder: Path, **kw):
    return (load_dataset("folder", data_dir=str(folder), split="train", **kw),
            load_dataset("folder", data_dir=str(folder), split="test", **kw))


def test_mixed_sizes_modes_and_broken_files(tmp_path):
    d = tmp_path / "imgs"
    save(d / "a.png", grey(32, 32))
    save(d / "b.jpg", colour(30, 40))
    save(d / "c.bmp", colour(20, 20))
    save(d / "d.webp", colour(24, 16), mode="RGBA")
    save(d / "e.png", np.full((10, 10), 65535, np.uint16))  # 16-bit grey
    save(d / "f.png", grey(12, 12), mode="P")
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    truncated = save(d / "trunc.png", np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    truncated.write_bytes(truncated.read_bytes()[:300])  # header fine, pixel data cut
    (d / "notes.txt").write_text("ignored: not an image extension")

    train, test = both_splits(d)
    assert train.x.shape[1:] == (3, 64, 64) and test.x.shape[1:] == (3, 64, 64)  # mixed -> 64, colour
    assert train.x.dtype == torch.float32 and -1 <= train.x.min() and train.x.max() <= 1
    assert train.y is None and train.num_classes == 0
    loaded = train.extra["files"] + test.extra["files"]
    assert sorted(Path(f).name for f in loaded) == ["a.png", "b.jpg", "c.bmp", "d.webp", "e.png", "f.png"]
    assert not set(train.extra["files"]) & set(test.extra["files"])
    assert str(d / "broken.png") in train.extra["skipped"] and str(d / "broken.png") in test.extra["skipped"]
    assert str(truncated) in train.extra["skipped"] + test.extra["skipped"]
    # The 16-bit white image is white, not clipped garbage.
    both = torch.cat([train.x, test.x])
    white = both[[Path(f).name for f in loaded].index("e.png")]
    assert torch.allclose(white, torch.ones_like(white))

    again, _ = both_splits(d)
    assert torch.equal(again.x, train.x)  # deterministic


def test_same_size_greyscale_is_kept_exactly(tmp_path):
    d = tmp_path / "g"
    values = [0, 17, 128, 255, 3, 99, 200, 45, 77, 10, 250]
    for i, v in enumerate(values):
        save(d / f"{i:02d}.png", grey(12, 12, v))
    train, test = both_splits(d)
    assert train.x.shape == (10, 1, 12, 12) and test.x.shape == (1, 1, 12, 12)  # 90/10
    got = sorted(torch.round((torch.cat([train.x, test.x])[:, 0, 0, 0] + 1) * 127.5).int().tolist())
    assert got == sorted(values)


def test_same_non_square_size_is_centre_cropped(tmp_path):
    img = grey(10, 30, 0)
    img[:, 10:20] = 255  # the centre square is white, the sides black
    for i in range(3):
        save(tmp_path / "c" / f"{i}.png", img)
    ds = load_dataset("folder", data_dir=str(tmp_path / "c"))
    assert ds.x.shape[1:] == (1, 10, 10)
    assert torch.equal(ds.x, torch.ones_like(ds.x))


def test_image_size_and_channels_override(tmp_path):
    for i in range(4):
        save(tmp_path / "o" / f"{i}.jpg", colour(40, 40))
    ds = load_dataset("folder", data_dir=str(tmp_path / "o"), image_size=16, channels=1)
    assert ds.x.shape == (3, 1, 16, 16)
    with pytest.raises(ConfigError, match="channels"):
        load_dataset("folder", data_dir=str(tmp_path / "o"), channels=2)


def test_class_subfolders_become_labels(tmp_path):
    d = tmp_path / "pets"
    for i in range(6):
        save(d / "dogs" / f"{i}.png", grey(8, 8, 200))
        save(d / "cats" / "nested" / f"{i}.png", grey(8, 8, 20))
    save(d / ".hidden" / "x.png", grey(8, 8))  # ignored
    train, test = both_splits(d)
    assert train.num_classes == 2 and train.extra["classes"] == ["cats", "dogs"]
    assert len(train) + len(test) == 12 and len(test) == 1
    for ds in (train, test):
        # cats are dark, dogs bright: each label matches its image
        bright = ds.x[:, 0, 0, 0] > 0
        assert torch.equal(bright.long(), ds.y)


def test_a_single_subfolder_gives_no_labels(tmp_path):
    for i in range(3):
        save(tmp_path / "one" / "only" / f"{i}.png", grey(8, 8))
    ds = load_dataset("folder", data_dir=str(tmp_path / "one"))
    assert ds.y is None and ds.num_classes == 0 and len(ds) == 2


def test_loose_images_next_to_class_folders(tmp_path):
    d = tmp_path / "mixed"
    save(d / "a" / "1.png", grey(8, 8))
    save(d / "b" / "1.png", grey(8, 8))
    save(d / "stray.png", grey(8, 8))
    with pytest.raises(DataError, match="stray.png.*class"):
        load_dataset("folder", data_dir=str(d))


def test_empty_and_unreadable_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as info:
        load_dataset("folder", data_dir=str(tmp_path / "empty"))
    assert str(tmp_path / "empty") in str(info.value) and "\n" not in str(info.value)

    (tmp_path / "bad").mkdir()
    for name in ("a.png", "b.jpg"):
        (tmp_path / "bad" / name).write_bytes(b"garbage")
    with pytest.raises(DataError, match=f"{tmp_path / 'bad'}: none of its 2 image files could be read"):
        load_dataset("folder", data_dir=str(tmp_path / "bad"))

    with pytest.raises(DataError, match="no such folder"):
        load_dataset("folder", data_dir=str(tmp_path / "missing"))
    with pytest.raises(DataError, match="--data-dir"):
        load_dataset("folder")


def test_single_image_has_no_test_split(tmp_path):
    save(tmp_path / "s" / "a.png", grey(8, 8))
    assert len(load_dataset("folder", data_dir=str(tmp_path / "s"))) == 1
    with pytest.raises(DataError, match="too few for a test split"):
        load_dataset("folder", data_dir=str(tmp_path / "s"), split="test")
