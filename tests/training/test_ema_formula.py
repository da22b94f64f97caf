"""The EMA of G follows ema_t = d_t * ema_{t-1} + (1 - d_t) * G_t with the warm-up
d_t = min(d, (1 + t) / (10 + t)), computed here by hand."""
import pytest
import torch

from gankit import config
from gankit.models.blocks import sample_z
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


def test_ema_batch_norm_statistics_are_measured_on_the_ema_generator(tmp_path):
    """After ``refresh_ema_stats`` G_ema's running statistics describe G_ema's own activations:
    its eval-mode output on a large batch matches its train-mode (batch-statistics) output, which
    G's copied statistics do not; and training's RNG streams are left as they were."""
    cfg = config.resolve({"model": "dcgan", "data": "digits", "width": 8, "batch_size": 32, "ema": 0.9,
                          "precision": "fp32", "out": str(tmp_path / "r"), "lr_g": 2e-3})
    tr = Trainer(cfg)
    for i in range(30):
        j = (i * 32) % (len(tr.data) - 32)
        tr.step_fn(tr, tr.data.x[j:j + 32], None)
        tr.step += 1
    G_ema = tr.nets["G_ema"]
    z = sample_z(4096, cfg.z_dim, cfg.z_dist, torch.Generator().manual_seed(0))  # the latents G was trained on

    def eval_vs_batch_stats() -> float:
        with torch.no_grad():
            G_ema.eval()
            a = G_ema(z)
            G_ema.train()
            b = G_ema(z)  # train mode also updates the running stats: measure, then restore
        return (a - b).abs().mean().item()

    saved = {k: v.clone() for k, v in G_ema.state_dict().items()}
    copied = eval_vs_batch_stats()
    G_ema.load_state_dict(saved)
    noise_state, torch_state = tr.noise_gen.get_state(), torch.get_rng_state()
    tr.refresh_ema_stats()
    assert torch.equal(tr.noise_gen.get_state(), noise_state) and torch.equal(torch.get_rng_state(), torch_state)
    for k, v in G_ema.state_dict().items():  # only statistics changed, never weights
        if "running" not in k and "num_batches" not in k:
            assert torch.equal(v, saved[k]), k
    measured = eval_vs_batch_stats()
    assert measured < 0.02, measured
    assert measured < copied / 3, (measured, copied)
