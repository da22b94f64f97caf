"""The shipped judges: accuracy on real test images, SHA-256 checks, and the training recipe."""
import json
import shutil

import numpy as np
import pytest
import torch

from gankit.data import load_dataset
from gankit.errors import GankitError
from gankit.metrics.judge import JUDGES_DIR, judge_accuracy, load_judge, sha256_file
from gankit.metrics.judge_train import random_shift, train_judge
from gankit.metrics.nondigits import KINDS
from gankit.metrics.scores import mean_confidence


@pytest.mark.parametrize("name", ["mnist-judge-v2", "digits-judge-v2"])
def test_shipped_judge_files_match_their_metadata(name):
    meta = json.loads((JUDGES_DIR / f"{name}.json").read_text())
    weights = JUDGES_DIR / meta["weights"]
    assert meta["name"] == name and meta["version"] == 2 and meta["arch"]["reject_hidden"] > 0
    assert sha256_file(weights) == meta["sha256"]
    assert weights.stat().st_size < 1_000_000
    assert meta["recipe"]["seed"] == 0 and meta["test_size"] > 0


def test_shipped_mnist_judge_is_accurate_on_real_test_images():
    judge = load_judge("mnist-judge-v2")
    test = load_dataset("mnist", split="test", limit=2000)
    feats, probs, digit = judge(test.x)
    assert feats.shape == (2000, judge.feature_dim) and probs.shape == (2000, 10) and digit.shape == (2000,)
    accuracy = float((probs.argmax(dim=1) == test.y).double().mean())
    assert accuracy >= 0.99, accuracy
    assert float((digit >= 0.5).double().mean()) >= 0.99  # real digits are read as digits
    assert mean_confidence(probs, digit) >= 0.95


def test_shipped_mnist_judge_meets_its_marks_on_all_test_images():
    """The whole test split: at least 99.2% right, and real digits read with confidence >= 0.95."""
    got = judge_accuracy(load_judge("mnist-judge-v2"))
    assert got["n"] == 10000 and got["accuracy"] >= 0.992 and got["read_as_digit"] >= 0.99, got


def _checkerboard(n, size, period):
    idx = torch.arange(size) // period
    board = ((idx[:, None] + idx[None, :]) % 2).float() * 2 - 1  # (size, size) in {-1, 1}
    return board.expand(n, 1, size, size).clone()


def test_garbage_is_not_read_as_digits():
    """Noise, flat grey, checkerboards and shuffled digits, none of them the reject head's own
    training images (other seeds, other levels), get mean confidence <= 0.5; real digits >= 0.95.
    A judge without the reject head gives each of them about 1.0."""
    judge = load_judge("mnist-judge-v2")
    test = load_dataset("mnist", split="test", limit=1000)
    gen = torch.Generator().manual_seed(12345)
    garbage = {
        "uniform noise": torch.rand(500, 1, 28, 28, generator=gen) * 2 - 1,
        "constant grey": torch.rand(500, generator=gen)[:, None, None, None].expand(500, 1, 28, 28) * 2 - 1,
        "checkerboard": torch.cat([_checkerboard(100, 28, p) for p in (1, 2, 3, 4, 7)]),
        "shuffled digits": test.x[:500].reshape(500, -1)[:, torch.randperm(784, generator=gen)].reshape(500, 1, 28, 28),
    }
    for name, x in garbage.items():
        out = judge(x)
        assert mean_confidence(out.probs, out.digit) <= 0.5, name
        assert mean_confidence(out.probs) > 0.8, name  # the class head alone is fooled: the test can fail
    out = judge(test.x)
    assert mean_confidence(out.probs, out.digit) >= 0.95


def test_shipped_digits_judge_is_accurate():
    got = judge_accuracy(load_judge("digits-judge-v2"))
    assert got["data"] == "digits" and got["n"] == 297
    assert got["accuracy"] >= 0.97 and got["read_as_digit"] >= 0.97, got


def test_tampered_weights_are_refused(tmp_path, cli):
    for suffix in (".pt", ".json"):
        shutil.copy(JUDGES_DIR / f"digits-judge-v2{suffix}", tmp_path / f"digits-judge-v2{suffix}")
    target = tmp_path / "digits-judge-v2.json"
    assert load_judge(target).name == "digits-judge-v2"  # the untouched copy loads

    weights = tmp_path / "digits-judge-v2.pt"
    blob = bytearray(weights.read_bytes())
    blob[len(blob) // 2] ^= 0x01  # flip one bit in the middle of the tensors
    weights.write_bytes(bytes(blob))
    with pytest.raises(GankitError, match="digits-judge-v2.pt: SHA-256 .* does not match"):
        load_judge(target)
    code, out, err = cli("judge", "check", target, "--limit", "-1")
    assert code == 2 and out == ""
    assert err.startswith("gankit: error: ") and "digits-judge-v2.pt" in err and err.count("\n") == 1


def test_unknown_judge_lists_the_shipped_ones(tmp_path, cli):
    np.savez(tmp_path / "x.npz", images=np.zeros((50, 1, 8, 8), np.float32))
    code, _, err = cli("evaluate", "--samples", tmp_path / "x.npz", "--data", "digits", "--judge", "nope")
    assert code == 2 and "mnist-judge-v2" in err and "digits-judge-v2" in err


def test_judge_recipe_is_deterministic(tmp_path, cli):
    """Two trainings by the same recipe (2 epochs on the 8x8 digits, a short reject head) write the
    same bytes."""
    shas = []
    for name in ("a", "b"):
        train_judge("digits", out=tmp_path / f"{name}.pt", epochs=2, reject_steps=200, log=lambda line: None)
        meta = json.loads((tmp_path / f"{name}.json").read_text())
        assert meta["recipe"]["epochs"] == 2 and meta["recipe"]["reject"]["steps"] == 200
        assert meta["arch"]["size"] == 8 and set(meta["reject"]["non_digit_confidence"]) == set(KINDS)
        assert meta["sha256"] == sha256_file(tmp_path / f"{name}.pt")
        shas.append(meta["sha256"])
        assert meta["test_accuracy"] > 0.5  # well above chance (0.1) after 2 epochs
    assert shas[0] == shas[1]
    code, _, err = cli("judge", "train", "--data", "digits", "--reject-steps", "0", "--out", tmp_path / "c.pt")
    assert code == 2 and "--reject-steps" in err and err.count("\n") == 1 and not (tmp_path / "c.pt").exists()
    code, out, _ = cli("judge", "check", tmp_path / "a.json")
    assert code == 0 and "verified" in out and "measured test accuracy" in out


def test_random_shift_moves_each_image_within_bounds():
    x = torch.full((64, 1, 9, 9), -1.0)
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the centre of every image
    out = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    bright = (out[:, 0] == 1.0).nonzero()  # (64, 3): image, row, column
    assert bright.shape[0] == 64  # each image keeps its pixel (a shift of 2 cannot push it out)
    assert (bright[:, 1:] - 4).abs().max() <= 2
    assert len({(int(r), int(c)) for _, r, c in bright}) > 5  # images move independently
    assert torch.equal(random_shift(x, 0, torch.Generator()), x)
