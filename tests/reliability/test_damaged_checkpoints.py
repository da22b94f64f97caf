"""Damaged checkpoints: a truncated, garbage, foreign or bit-flipped last.pt is an error naming the
file, and --resume (and sampling) falls back to the newest good epoch-NNNN.pt and says so."""
from __future__ import annotations

import random
import shutil

import pytest
import torch

import gankit
from gankit.errors import RunDirError
from gankit import checkpoint

# A tiny DCGAN on the 8x8 digits: 2 steps per epoch, a kept checkpoint every epoch.
TRAIN = ["--data", "digits", "--model", "dcgan", "--set", "width=8", "--set", "limit=64", "--batch-size", "32",
         "--set", "checkpoint_every=1", "--set", "report=false", "--precision", "fp32", "--device", "cpu",
         "--no-progress"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-epoch run (last.pt, epoch-0001.pt, epoch-0002.pt) and a 3-epoch run to compare with."""
    from gankit.cli import main

    base = tmp_path_factory.mktemp("damage")
    assert main(["train", *TRAIN, "--epochs", "2", "--out", str(base / "two")]) == 0
    assert main(["train", *TRAIN, "--epochs", "3", "--out", str(base / "three")]) == 0
    return base


def _copy(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained / "two", run)
    return run, run / "checkpoints"


def _flip_weight_byte(path):
    """Flip one byte inside a weight tensor's data (torch.load alone would not notice)."""
    raw = bytearray(path.read_bytes())
    state = checkpoint.load(path)
    # a tensor whose bytes on disk are in index order (conv weights are stored channels-last)
    weight = next(v for k, v in state["nets"].items() if k.startswith("G.") and v.numel() >= 64
                  and v.is_contiguous())
    needle = weight.numpy().tobytes()[:64]
    i = bytes(raw).find(needle)
    assert i > 0
    raw[i + 5] ^= 0x40
    path.write_bytes(bytes(raw))


DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "garbage": lambda p: p.write_bytes(random.Random(0).randbytes(4096)),
    "foreign": lambda p: torch.save({"weights": torch.zeros(3)}, p),
    "bit-flip": _flip_weight_byte,
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_checkpoint_is_an_error_naming_the_file(trained, tmp_path, kind):
    run, ckpt = _copy(trained, tmp_path)
    DAMAGE[kind](ckpt / "last.pt")
    with pytest.raises(RunDirError) as e:
        checkpoint.load(ckpt / "last.pt")
    assert str(ckpt / "last.pt") in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("kind", ["truncated", "garbage", "bit-flip"])
def test_resume_falls_back_to_the_newest_good_epoch_checkpoint(trained, tmp_path, cli, kind):
    run, ckpt = _copy(trained, tmp_path)
    DAMAGE[kind](ckpt / "last.pt")
    code, out, err = cli("train", "--resume", run, "--epochs", "3", "--no-progress")
    assert code == 0, err
    assert f"{ckpt / 'last.pt'}" in err and "falling back" in err
    assert f"using {ckpt / 'epoch-0002.pt'}" in err
    # epoch-0002.pt holds the same state as the lost last.pt: the run ends exactly as an unbroken one.
    got, want = checkpoint.load(ckpt / "last.pt"), checkpoint.load(trained / "three" / "checkpoints" / "last.pt")
    assert got["step"] == want["step"] == 6
    assert all(torch.equal(got["nets"][k], want["nets"][k]) for k in want["nets"])


def test_two_damaged_checkpoints_fall_back_further(trained, tmp_path, cli):
    run, ckpt = _copy(trained, tmp_path)
    DAMAGE["truncated"](ckpt / "last.pt")
    DAMAGE["garbage"](ckpt / "epoch-0002.pt")
    code, out, err = cli("train", "--resume", run, "--epochs", "2", "--no-progress")
    assert code == 0, err
    assert f"using {ckpt / 'epoch-0001.pt'} (step 2)" in err
    assert checkpoint.load(ckpt / "last.pt")["step"] == 4  # epoch 2 done again


def test_no_good_checkpoint_is_one_line_naming_the_folder(trained, tmp_path, cli):
    run, ckpt = _copy(trained, tmp_path)
    for p in ckpt.glob("*.pt"):
        DAMAGE["truncated"](p)
    code, out, err = cli("train", "--resume", run, "--epochs", "3", "--no-progress")
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("gankit: error:") and str(ckpt) in last and "no usable checkpoint" in last
    assert "Traceback" not in err


def test_sampling_a_run_with_a_damaged_last_pt_uses_the_epoch_checkpoint(trained, tmp_path, cli):
    run, ckpt = _copy(trained, tmp_path)
    DAMAGE["bit-flip"](ckpt / "last.pt")
    code, out, err = cli("sample", run, "-n", "8", "--out", tmp_path / "s.npz")
    assert code == 0, err
    assert "falling back" in err and "epoch-0002.pt" in err
    want = gankit.load(trained / "two").sample(8)["images"]
    import numpy as np

    assert np.array_equal(np.load(tmp_path / "s.npz")["images"], want.numpy())
