"""Assemble per-epoch sample grids into an animated GIF (the lecture's training animation)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from .grid import save_image


def write_gif(frames: list[Path], path: str | Path, ms_per_frame: int = 300, last_hold: int = 4) -> Path | None:
    """Frames (image files, in order) -> GIF; the last frame is held a little longer."""
    frames = [Path(f) for f in frames if Path(f).is_file()]
    if not frames:
        return None
    images = [Image.open(f).convert("RGB") for f in frames]
    size = images[-1].size
    images = [im if im.size == size else im.resize(size) for im in images]
    durations = [ms_per_frame] * (len(images) - 1) + [ms_per_frame * last_hold]
    return save_image(images[0], path, save_all=True, append_images=images[1:], duration=durations, loop=0)
