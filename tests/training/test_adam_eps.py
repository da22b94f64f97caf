"""``adam_eps`` is the epsilon of both Adam optimizers (Keras' default 1e-7 in the seed recipes)."""
import torch

import gankit
from gankit import config

BASE = {"model": "dcgan", "data": "digits", "batch_size": 64, "limit": 256, "width": 16, "precision": "fp32",
        "progress": False, "epochs": 0, "steps": 1, "eval_every": -1, "report": False, "ema": 0, "lr_g": 1e-3}


def _g_weights(tmp_path, **kw) -> dict:
    return gankit.train({**BASE, "out": str(tmp_path / f"run{kw}"), **kw}).nets["G"].state_dict()


def test_adam_epsilon_sets_the_size_of_the_first_step(tmp_path):
    """|change| of every G weight after one step: Adam's first step is lr g / (|g| + eps)."""
    before = _g_weights(tmp_path, lr_g=0.0)  # the initial weights, whatever the epsilon
    tiny, big = (_g_weights(tmp_path, adam_eps=eps) for eps in (1e-8, 1.0))
    tiny, big = (torch.cat([(after[k] - before[k]).abs().flatten() for k in after if k.endswith("weight")])
                 for after in (tiny, big))
    moved = tiny > 0
    # with a tiny epsilon every weight with a gradient moves by lr; with epsilon 1 only by lr |g| / (|g| + 1)
    torch.testing.assert_close(tiny[moved].median(), torch.tensor(1e-3), rtol=1e-3, atol=0)
    assert big[moved].median() < 0.1 * tiny[moved].median()


def test_the_keras_seeds_use_keras_epsilon():
    for seed in ("configs/seed-000-dcgan.yaml", "configs/seed-001-acgan.yaml"):
        assert config.resolve(config.read_file(seed)).adam_eps == 1e-7
    assert config.resolve({}).adam_eps == 1e-8  # PyTorch's, elsewhere
