"""DiffAugment's transforms on small real images, and the settings that switch it and lazy R1 on."""
import pytest
import torch

import gankit
from gankit import augment, config
from gankit.errors import ConfigError


def _stream(values):
    """A uniform(n) that hands out the given draws in order."""
    it = iter(values)
    return lambda n: torch.tensor([next(it) for _ in range(n)])


def test_every_setting_name_has_its_transform():
    assert set(config.AUGMENTS) == set(augment.TRANSFORMS)
    assert config.augment_policy(" translation, cutout ,") == ("translation", "cutout")


def test_translation_moves_each_image_by_its_own_offset():
    x = torch.arange(2 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8) + 1  # no zero pixel
    # span 2*1+1 = 3 offsets (-1, 0, 1) for an 8-pixel side; draws pick dy = (+1, -1), dx = (0, +1)
    out = augment.translation(x, _stream([0.9, 0.1, 0.5, 0.9]))
    assert torch.equal(out[0, 0, 1:], x[0, 0, :-1]) and (out[0, 0, 0] == 0).all()  # down by one row
    assert torch.equal(out[1, 0, :-1, 1:], x[1, 0, 1:, :-1])  # up one row, right one column
    assert (out[1, 0, -1] == 0).all() and (out[1, 0, :, 0] == 0).all()


def test_cutout_blanks_one_square_of_half_the_side():
    x = torch.ones(3, 1, 28, 28)
    torch.manual_seed(0)
    out = augment.cutout(x, lambda n: torch.rand(n))
    for img in out[:, 0]:
        zeros = (img == 0).nonzero()
        h = zeros[:, 0].max() - zeros[:, 0].min() + 1
        w = zeros[:, 1].max() - zeros[:, 1].min() + 1
        assert len(zeros) == h * w and h <= 14 and w <= 14  # one rectangle, cut by the border at most
    centred = augment.cutout(x[:1], _stream([13.5 / 28, 13.5 / 28]))  # centre (13, 13): rows 6..19
    assert (centred[0, 0] == 0).sum() == 14 * 14 and centred[0, 0, 6:20, 6:20].eq(0).all()


def test_gradients_pass_through_the_transforms():
    x = torch.randn(4, 1, 28, 28, requires_grad=True)
    torch.manual_seed(1)
    augment.augment(x, ("translation", "cutout"), lambda n: torch.rand(n)).sum().backward()
    # each output pixel is an input pixel or 0: the gradient is 1 on the pixels kept, 0 elsewhere
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0} and 0 < x.grad.sum() < x.numel()


# R1 off unless a test sets it (the dcgan family's defaults switch on a lazy R1)
BASE = {"model": "dcgan", "data": "digits", "batch_size": 32, "limit": 256, "width": 16, "precision": "fp32",
        "progress": False, "epochs": 0, "steps": 2, "eval_every": -1, "report": False, "ema": 0, "seed": 5,
        "r1_gamma": 0.0, "r1_every": 1}


def _weights(tmp_path, **settings):
    name = "-".join(f"{k}{v}" for k, v in settings.items()) or "plain"
    run = gankit.train({**BASE, **settings, "out": str(tmp_path / name)})
    return {k: v.clone() for k, v in run.nets.state_dict().items() if k.startswith("D.")}


def test_augment_changes_what_d_learns_and_draws_the_same_on_a_rerun(tmp_path):
    plain, aug = _weights(tmp_path), _weights(tmp_path, augment="translation,cutout")
    assert any(not torch.equal(plain[k], aug[k]) for k in plain)
    again = _weights(tmp_path / "again", augment="translation,cutout")
    assert all(torch.equal(aug[k], again[k]) for k in aug)  # the trainer's stream: the same draws


def test_lazy_r1_runs_every_nth_step_with_n_times_the_weight(tmp_path):
    # at step 0 the lazy penalty is the full one, weighted r1_every times
    lazy = _weights(tmp_path, r1_gamma=10.0, r1_every=2, steps=1)
    heavy = _weights(tmp_path, r1_gamma=20.0, steps=1)
    plain = _weights(tmp_path, r1_gamma=10.0, steps=1)
    assert all(torch.equal(lazy[k], heavy[k]) for k in lazy)
    assert any(not torch.equal(lazy[k], plain[k]) for k in lazy)
    # and between its steps it is not computed: the log's r1 appears at steps 1 and 3 only
    run = gankit.train({**BASE, "r1_gamma": 10.0, "r1_every": 2, "steps": 4, "log_every": 1,
                        "out": str(tmp_path / "log")})
    rows = [r for r in gankit.rundir.read_log(run.path) if "d_loss" in r]
    assert [r["step"] for r in rows if "r1" in r] == [1, 3] and len(rows) == 4


@pytest.mark.parametrize("settings, message", [
    ({"augment": "flip"}, "augment takes translation, cutout"),
    ({"model": "acgan", "augment": "cutout"}, "augment is for the families trained by the GAN step"),
    ({"r1_every": 0}, "r1_every must be positive"),
])
def test_bad_settings_are_refused(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        gankit.train({**BASE, **settings, "out": str(tmp_path / "x")})
