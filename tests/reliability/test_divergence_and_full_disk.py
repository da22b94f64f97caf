"""A run that diverges, and a disk that fills up: one clear line, exit code 2, and the last good
checkpoint kept, readable and byte-identical."""
from __future__ import annotations

import builtins
import errno
import os
import re
import shutil

import pytest
import torch

import gankit
from gankit import checkpoint

# The lecture's network (arch=conv): without batch norm in D, absurd learning rates do diverge.
TINY = ["--data", "digits", "--model", "dcgan", "--set", "arch=conv", "--set", "width=8", "--set", "limit=64", "--batch-size", "32",
        "--set", "report=false", "--precision", "fp32", "--device", "cpu", "--no-progress"]


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("gankit: error: ")
    return lines[0]


def test_nan_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, cli, monkeypatch):
    # At the end of epoch 1 (after its checkpoint, while the fixed grid is drawn) an Inf goes into D's
    # first weight, so the next step's losses are NaN whatever the CPU's rounding.
    from gankit.training.engine import Trainer

    draw = Trainer.save_fixed_grid

    def poison(trainer, path):
        draw(trainer, path)
        if trainer.epoch == 1:
            with torch.no_grad():
                next(trainer.nets["D"].parameters()).view(-1)[0] = float("inf")

    monkeypatch.setattr(Trainer, "save_fixed_grid", poison)
    run = tmp_path / "run"
    code, out, err = cli("train", *TINY, "--epochs", "3", "--set", "log_every=1", "--out", run)
    assert code == 2
    line = _one_error_line(err)
    last = run / "checkpoints" / "last.pt"
    assert re.search(r"step 3: d_loss became nan \(non-finite\); the last good checkpoint", line)
    assert str(last) in line
    for flag in ("--precision fp32", "lr_d", "lr_g", "r1_gamma", "spectral_norm"):
        assert flag in line
    state = checkpoint.load(last)  # readable, from the step before the NaN, finite
    assert state["step"] == 2 and all(torch.isfinite(t.float()).all() for t in state["nets"].values())


def test_an_absurd_learning_rate_never_leaves_a_nan_checkpoint(tmp_path, cli):
    # lr 1e9: the losses of a step can be finite while its NaN gradients already ruined the weights;
    # the checkpoint written then must not be called good.
    run = tmp_path / "run"
    code, out, err = cli("train", *TINY, "--epochs", "5", "--set", "lr_d=1e9", "--set", "lr_g=1e9",
                         "--set", "checkpoint_steps=1", "--set", "log_every=1", "--out", run)
    assert code == 2
    line = _one_error_line(err)
    step = int(re.search(r"^gankit: error: step (\d+): ", line).group(1))
    last = run / "checkpoints" / "last.pt"
    assert ("the last good checkpoint" in line) == last.exists()
    if last.exists():
        state = checkpoint.load(last)
        assert state["step"] == step - 1
        for name, t in state["nets"].items():
            assert torch.isfinite(t.float()).all(), name
    assert not list(run.glob("checkpoints/.*.tmp"))


def test_inf_before_the_first_checkpoint_says_none_was_saved(tmp_path, cli):
    run = tmp_path / "run"
    code, out, err = cli("train", *TINY, "--epochs", "3", "--loss", "lsgan", "--set", "lr_d=1e6",
                         "--set", "lr_g=1e6", "--set", "log_every=1", "--out", run)
    assert code == 2
    line = _one_error_line(err)
    assert re.search(r"step 1: \w+ became inf", line) and "no checkpoint was saved yet" in line
    assert not (run / "checkpoints" / "last.pt").exists()


@pytest.fixture
def finished_run(tmp_path):
    run = tmp_path / "run"
    gankit.train({"model": "dcgan", "data": "digits", "width": 8, "limit": 64, "batch_size": 32, "epochs": 1,
                  "precision": "fp32", "device": "cpu", "progress": False, "report": False, "out": str(run)})
    return run


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _HalfThenFull:
    """A file whose write stores half of the bytes, then fails as a full disk does."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(bytes(data)[: len(data) // 2])
        _enospc()

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize("where", ["fsync", "write"])
def test_full_disk_during_a_checkpoint_write_keeps_the_previous_one(finished_run, cli, monkeypatch, where):
    ckpt = finished_run / "checkpoints"
    before = {p.name: p.read_bytes() for p in ckpt.iterdir()}
    if where == "fsync":
        monkeypatch.setattr(os, "fsync", _enospc)
    else:  # the checkpoint's temporary file takes half of the bytes, then the disk is full
        real_open = builtins.open

        def half_then_full_open(file, mode="r", *args, **kwargs):
            f = real_open(file, mode, *args, **kwargs)
            temp = isinstance(file, (str, os.PathLike)) and re.fullmatch(r"\.[^/]+\.pt\.[^/]+\.tmp",
                                                                          os.path.basename(os.fspath(file)))
            return _HalfThenFull(f) if temp and "w" in mode else f

        monkeypatch.setattr(builtins, "open", half_then_full_open)
    code, out, err = cli("train", "--resume", finished_run, "--epochs", "2", "--no-progress")
    monkeypatch.undo()
    assert code == 2
    line = _one_error_line(err)
    assert str(ckpt / "last.pt") in line and "no space left" in line
    after = {p.name: p.read_bytes() for p in ckpt.iterdir()}
    assert after == before  # byte-identical, and no temporary file left behind
    assert checkpoint.load(ckpt / "last.pt")["step"] == 2


def test_full_disk_while_appending_to_the_log_is_one_line(finished_run, cli, monkeypatch):
    ckpt = finished_run / "checkpoints"
    before = (ckpt / "last.pt").read_bytes()
    real_open = builtins.open

    def full_disk_open(file, mode="r", *args, **kwargs):
        if str(file).endswith("log.jsonl") and "a" in mode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_disk_open)
    code, out, err = cli("train", "--resume", finished_run, "--epochs", "2", "--no-progress",
                         "--set", "log_every=1")
    monkeypatch.undo()
    assert code == 2
    line = _one_error_line(err)
    assert "log.jsonl" in line and "No space left" in line
    assert (ckpt / "last.pt").read_bytes() == before
    shutil.rmtree(finished_run)
