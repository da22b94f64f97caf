"""The EMA of G follows ema_t = d_t * ema_{t-1} + (1 - d_t) * G_t with the warm-up
d_t = min(d, (1 + t) / (10 + t)), computed here by hand."""
import pytest
import torch

from gankit import config
from gankit.training.engine import Trainer


@pytest.mark.parametrize("model", ["acgan", "cgan"])
def test_ema_weights_follow_the_running_formula(tmp_path, model):
    d = 0.8
    cfg = config.resolve({"model": model, "data": "digits", "width": 8, "batch_size": 32, "ema": d,
                          "precision": "fp32", "out": str(tmp_path / "r")})
    tr = Trainer(cfg)
    G, G_ema = tr.nets["G"], tr.nets["G_ema"]
    hand = [p.detach().clone() for p in G.parameters()]  # the EMA starts as a copy of G
    for p, e in zip(hand, G_ema.parameters()):
        assert torch.equal(p, e)
    for i in range(4):
        x, y = tr.data.x[i * 32:(i + 1) * 32], tr.data.y[i * 32:(i + 1) * 32]
        out = tr.step_fn(tr, x, y)
        tr.step += 1
        assert "g_loss" in out  # G (and so its EMA) is updated every step here
        d_t = min(d, (1 + i) / (10 + i))
        hand = [d_t * h + (1 - d_t) * p.detach() for h, p in zip(hand, G.parameters())]
    for h, e, p in zip(hand, G_ema.parameters(), G.parameters()):
        torch.testing.assert_close(e, h, rtol=1e-5, atol=1e-6)
    assert any(not torch.allclose(e, p) for e, p in zip(G_ema.parameters(), G.parameters()))
    for b_ema, b in zip(G_ema.buffers(), G.buffers()):  # batch-norm statistics are copied
        assert torch.equal(b_ema, b)
