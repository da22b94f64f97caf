"""Optional TensorBoard output (``--tensorboard`` / ``cfg.tensorboard``): the log.jsonl scalars and
the fixed-seed grid of every epoch, written to ``RUN/tensorboard/`` for ``tensorboard --logdir``.

TensorBoard is an optional dependency (``pip install 'gankit[tensorboard]'``); asking for it
without the package installed is a one-line error before training starts.
"""
from __future__ import annotations

from pathlib import Path

from .. import rundir
from ..errors import ConfigError

SKIP = ("step",)  # the x axis, not a curve


class TensorBoardWriter:
    def __init__(self, run_dir: str | Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("--tensorboard: the tensorboard package is not installed; "
                              "pip install 'gankit[tensorboard]' or train without --tensorboard") from None
        self.log_dir = rundir.tensorboard_dir(run_dir)
        self.writer = SummaryWriter(log_dir=str(self.log_dir))

    def scalars(self, row: dict) -> None:
        """One log.jsonl row: every number but the step, against the step."""
        step = int(row["step"])
        for k, v in row.items():
            if k not in SKIP and isinstance(v, (int, float)) and not isinstance(v, bool):
                self.writer.add_scalar(k, v, step)

    def image(self, tag: str, path: str | Path, step: int) -> None:
        """An image file (a sample grid or a points plot) as an image summary."""
        import numpy as np
        from PIL import Image

        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"))  # (H, W, 3) uint8
        self.writer.add_image(tag, arr, step, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
