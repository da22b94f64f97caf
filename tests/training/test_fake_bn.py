"""``fake_bn``: the AC-GAN's G draws D's fake batch with its batch norm on batch statistics
(``train``) or on its moving averages (``eval``, the notebook's ``generator.predict``)."""
import pytest
import torch

import gankit
from gankit.errors import ConfigError

BASE = {"model": "acgan", "data": "digits", "batch_size": 32, "limit": 256, "width": 16, "precision": "fp32",
        "progress": False, "epochs": 0, "steps": 1, "eval_every": -1, "report": False, "ema": 0}


def _after_one_step(tmp_path, fake_bn, arch):
    run = gankit.train({**BASE, "arch": arch, "fake_bn": fake_bn, "out": str(tmp_path / f"{arch}-{fake_bn}")})
    return {k: v.clone() for k, v in run.nets.state_dict().items()}


@pytest.mark.parametrize("arch", ["conv", "radford"])
def test_eval_draws_d_fakes_on_the_moving_averages(tmp_path, arch):
    train, eval_ = _after_one_step(tmp_path, "train", arch), _after_one_step(tmp_path, "eval", arch)
    counts = [k for k in train if k.startswith("G.") and k.endswith("num_batches_tracked")]
    assert counts
    # train: D's fake batch and G's own update batch both pass G's batch norm in training mode;
    # eval: only G's update does, as in Keras, where predict() leaves the moving averages alone
    assert all(train[k].item() == 2 for k in counts)
    assert all(eval_[k].item() == 1 for k in counts)
    # and D learned from other images: at step 0 the moving averages are the initial 0 and 1
    d_weights = [k for k in train if k.startswith("D.") and k.endswith("weight")]
    assert any(not torch.equal(train[k], eval_[k]) for k in d_weights)


def test_eval_is_refused_where_g_reuses_d_fakes(tmp_path):
    with pytest.raises(ConfigError, match="fake_bn=eval"):
        gankit.train({**BASE, "model": "dcgan", "fake_bn": "eval", "out": str(tmp_path / "x")})
