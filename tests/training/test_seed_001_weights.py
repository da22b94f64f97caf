"""The AC-GAN notebook's loss weights: ``cls_weight`` on D's class loss and ``g_label`` for G's
target, and their refusal where they would change nothing."""
import pytest
import torch

import gankit
from gankit.errors import ConfigError

BASE = {"model": "acgan", "data": "digits", "batch_size": 32, "limit": 256, "width": 16, "precision": "fp32",
        "progress": False, "epochs": 0, "steps": 1, "eval_every": -1, "report": False, "ema": 0, "seed": 3,
        "arch": "conv"}


def _after_one_step(tmp_path, **settings):
    name = "-".join(f"{k}{v}" for k, v in settings.items())
    run = gankit.train({**BASE, **settings, "out": str(tmp_path / name)})
    return {k: v.clone() for k, v in run.nets.state_dict().items()}


def test_cls_weight_scales_d_class_loss(tmp_path):
    init = _after_one_step(tmp_path, lr_d=0.0, lr_g=0.0)  # the weights as initialised
    off, one, two = (_after_one_step(tmp_path, cls_weight=w) for w in (0.0, 1.0, 2.0))
    # weight 0: no gradient reaches the class head, which Adam then leaves where it started
    assert torch.equal(off["D.cls.weight"], init["D.cls.weight"])
    assert not torch.equal(one["D.cls.weight"], init["D.cls.weight"])
    # Adam's first step is about lr * sign(gradient) per weight, so the head, which only the class
    # loss reaches, moves alike for weights 1 and 2 (apart from the few weights whose gradient is
    # near Adam's epsilon); the shared trunk, where the two losses add up, moves differently
    def moved_apart(key):
        step = (one[key] - init[key]).abs().mean()
        return ((one[key] - two[key]).abs().mean() / step).item()

    assert moved_apart("D.cls.weight") < 1e-3
    trunk = [k for k in one if k.startswith("D.features") and k.endswith("weight")]
    assert trunk and max(moved_apart(k) for k in trunk) > 0.05


def test_g_label_changes_g_update(tmp_path):
    smooth, hard = _after_one_step(tmp_path, g_label=0.95), _after_one_step(tmp_path, g_label=1.0)
    g_weights = [k for k in hard if k.startswith("G.") and k.endswith("weight")]
    assert any(not torch.equal(smooth[k], hard[k]) for k in g_weights)
    d_weights = [k for k in hard if k.startswith("D.") and k.endswith("weight")]
    assert all(torch.equal(smooth[k], hard[k]) for k in d_weights)  # D's step comes first, unchanged


@pytest.mark.parametrize("settings, message", [
    ({"model": "dcgan", "cls_weight": 2.0}, "cls_weight is for --model acgan"),
    ({"loss": "wasserstein", "g_label": 0.95}, "g_label is for --loss nonsaturating"),
    ({"g_label": 0.0}, "g_label must be in"),
    ({"cls_weight": -1.0}, "cls_weight must be >= 0"),
])
def test_settings_refused_where_they_change_nothing(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        gankit.train({**BASE, **settings, "out": str(tmp_path / "x")})
