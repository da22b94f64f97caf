"""Every GAN family takes the loss and regulariser options: hinge / least squares losses, R1,
spectral normalisation, EMA of G and separate learning rates for G and D (TTUR)."""
import pytest
import torch
from torch.nn.utils import parametrize

from gankit import config
from gankit.training.engine import Trainer

OPTIONS = {"r1_gamma": 1.0, "spectral_norm": True, "ema": 0.9, "lr_g": 1e-4, "lr_d": 4e-4, "n_critic": 1,
           "clip": 0.0, "gp_lambda": 0.0, "width": 8, "hidden": [32], "batch_size": 32, "precision": "fp32"}


@pytest.mark.parametrize("loss", ["hinge", "lsgan"])
@pytest.mark.parametrize("model", ["cgan", "acgan", "wgan", "wgan-gp", "latent-gan"])
def test_gan_family_takes_every_option(tmp_path, ae_run, model, loss):
    cfg = config.resolve({"model": model, "data": "digits", "loss": loss, "ae_run": str(ae_run),
                          "out": str(tmp_path / "r"), **OPTIONS})
    tr = Trainer(cfg)
    D, G = tr.nets["D"], tr.nets["G"]
    assert any(parametrize.is_parametrized(m) for m in D.modules())  # spectral norm on D's layers
    assert tr.opts["D"].param_groups[0]["lr"] == 4e-4 and tr.opts["G"].param_groups[0]["lr"] == 1e-4
    before = {k: v.clone() for k, v in tr.nets.state_dict().items()}
    for i in range(2):
        out = tr.step_fn(tr, tr.data.x[i * 32:(i + 1) * 32], tr.data.y[i * 32:(i + 1) * 32])
        tr.step += 1
        assert {"d_loss", "g_loss", "r1"} <= set(out), out
        assert all(torch.isfinite(v).all() for v in out.values())
    after = tr.nets.state_dict()
    for net in ("D", "G", "G_ema"):  # every network moved; the EMA trails G
        assert any(not torch.equal(before[k], after[k]) for k in after if k.startswith(net + ".")), net
    ema_vs_g = [torch.equal(a, b) for a, b in zip(tr.nets["G_ema"].parameters(), G.parameters())]
    assert not all(ema_vs_g)
