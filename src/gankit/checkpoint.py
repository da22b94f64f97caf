"""Whole-trainer checkpoints, written atomically and loaded with ``weights_only=True``.

A checkpoint holds everything needed to continue the same run: the networks (and EMA), the
optimisers, the AMP scaler, the step/epoch/batch position, every RNG state and the config.
Writing goes through ``rundir.atomic_output`` (a temporary file in the same folder, fsync'ed,
renamed over the target), so a crash at any moment leaves either the old or the new file, never
a torn one.
"""
from __future__ import annotations

import errno
import io
import pickle
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch

from .errors import RunDirError
from .rundir import KEPT, LAST, atomic_output
from .rundir import remove_stale_temps as _remove_stale_temps

FORMAT = "gankit-checkpoint"
VERSION = 1


def save_atomic(state: dict, path: str | Path) -> None:
    """Serialise ``state`` to ``path`` through ``rundir.atomic_output``: a crash at any moment
    leaves the old file or the new one. On failure (e.g. ENOSPC) the old file survives, no
    temporary file is left, and the error is one RunDirError line naming ``path``."""
    path = Path(path)
    buf = io.BytesIO()  # serialised first: a state torch cannot save never touches the disk
    torch.save({"format": FORMAT, "version": VERSION, **state}, buf)
    try:
        with atomic_output(path) as tmp, open(tmp, "wb") as f:
            f.write(buf.getbuffer())
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise RunDirError(f"{path}: no space left on the device; the previous checkpoint is kept") from None
        raise RunDirError(f"{path}: cannot write checkpoint: {e.strerror or e}") from None


def load(path: str | Path, map_location: Any = "cpu") -> dict:
    """Load a gankit checkpoint safely; a damaged, foreign or unsafe file is a RunDirError naming it."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path}: no such checkpoint")
    _check_crc(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:  # the weights-only unpickler met something that is not data
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        what = f"it names {found.group(1)}" if found else "it holds more than tensors and plain values"
        raise RunDirError(f"{path}: refusing to load an unsafe checkpoint ({what}; "
                          f"only weights are loaded, no code is run)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError,
            AttributeError, TypeError, KeyError, IndexError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise RunDirError(f"{path}: not a readable gankit checkpoint ({first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise RunDirError(f"{path}: not a gankit checkpoint")
    return state


def _check_crc(path: Path) -> None:
    """Check the CRC-32 of every member of the checkpoint's zip archive (torch.load does not).

    A flipped bit in the weights would otherwise load silently as different weights. Reading the
    file once costs ~0.1 s per 200 MB.
    """
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except Exception as e:  # noqa: BLE001 - any failure to read the archive means a damaged file
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise RunDirError(f"{path}: not a readable gankit checkpoint ({first})") from None
    if bad is not None:
        raise RunDirError(f"{path}: damaged checkpoint (CRC-32 mismatch in {bad})")


def candidates(ckpt_dir: Path) -> list[Path]:
    """Checkpoints to try on resume, newest first: last.pt, then the kept epoch-NNNN.pt files."""
    kept = sorted(Path(ckpt_dir).glob(KEPT), reverse=True)
    last = Path(ckpt_dir) / LAST
    return ([last] if last.exists() else []) + kept


def remove_stale_temps(ckpt_dir: Path) -> list[Path]:
    """Delete the temporary files of checkpoint writes that were killed mid-way (``.last.pt.*.tmp``).

    Only the run's one writer may call this, before it writes: a live write's temp file looks the same.
    """
    return _remove_stale_temps(ckpt_dir, "*.pt")


def load_latest_good(ckpt_dir: Path, map_location: Any = "cpu", warn=None) -> tuple[dict, Path]:
    """The newest checkpoint that loads; damaged ones are reported (on stderr) and skipped."""
    warn = warn or (lambda m: print(m, file=sys.stderr))
    errors = []
    for p in candidates(ckpt_dir):
        try:
            state = load(p, map_location)
        except RunDirError as e:
            errors.append(str(e))
            warn(f"gankit: {e}; falling back to an earlier checkpoint")
            continue
        if errors:
            warn(f"gankit: using {p} (step {state.get('step', '?')})")
        return state, p
    if errors:
        raise RunDirError(f"{ckpt_dir}: no usable checkpoint ({errors[0]})")
    raise RunDirError(f"{ckpt_dir}: no checkpoint to resume from")
