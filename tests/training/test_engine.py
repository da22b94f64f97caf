"""The engine: exact resume, budgets, logs, Ctrl-C and the 2-D ring."""
import json
import os
import signal
import threading

import torch

import gankit

BASE = {"model": "dcgan", "data": "digits", "batch_size": 64, "limit": 512, "width": 16, "progress": False}


def _weights(run):
    return {k: v.clone() for k, v in run.nets.state_dict().items()}


def test_resume_gives_identical_weights(tmp_path):
    for precision in ("fp32", "bf16"):
        a = gankit.train({**BASE, "precision": precision, "epochs": 2, "out": str(tmp_path / f"a{precision}")})
        gankit.train({**BASE, "precision": precision, "epochs": 1, "out": str(tmp_path / f"b{precision}")})
        b = gankit.train(resume=tmp_path / f"b{precision}", epochs=2)
        wa, wb = _weights(a), _weights(b)
        assert wa.keys() == wb.keys()
        assert all(torch.equal(wa[k], wb[k]) for k in wa), precision
        # and the optimiser moved the weights at all
        c = gankit.train({**BASE, "precision": precision, "epochs": 1, "out": str(tmp_path / f"c{precision}")})
        assert not all(torch.equal(wa[k], v) for k, v in _weights(c).items())


def test_log_lines_hold_the_promised_fields(tmp_path):
    gankit.train({**BASE, "epochs": 1, "log_every": 2, "out": str(tmp_path / "r")})
    rows = [json.loads(l) for l in (tmp_path / "r" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 4  # 512 / 64 = 8 steps, one line every 2
    for r in rows:
        for k in ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "img_per_s"):
            assert k in r, k
        assert 0 < r["d_real"] < 1 and 0 < r["d_fake"] < 1
    assert [r["step"] for r in rows] == [2, 4, 6, 8]


def test_minutes_budget_stops_mid_epoch(tmp_path):
    run = gankit.train({**BASE, "limit": 0, "epochs": 0, "minutes": 0.05, "out": str(tmp_path / "r")})
    state = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)
    assert 3.0 <= state["elapsed"] < 10.0  # stopped by the 3-second budget, not by epochs (none set)
    assert run.trainer.step > 0


def test_sigint_saves_and_resume_continues(tmp_path):
    out = tmp_path / "r"
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        run = gankit.train({**BASE, "limit": 0, "epochs": 50, "out": str(out)})
    finally:
        timer.cancel()
    assert run.interrupted
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == run.trainer.step and state["epoch"] < 50
    resumed = gankit.train(resume=out, epochs=state["epoch"] + 1)
    assert resumed.trainer.epoch == state["epoch"] + 1 and resumed.trainer.batch == 0


def test_ring_gan_covers_most_modes(tmp_path):
    from gankit.metrics.toy import mode_stats

    run = gankit.train({"model": "mlp", "data": "ring", "hidden": [128, 128], "z_dim": 8, "dropout": 0.0,
                        "batch_size": 256, "epochs": 10, "lr_g": 1e-3, "lr_d": 1e-3, "ema": 0.0,
                        "progress": False, "out": str(tmp_path / "ring")})
    mixture = run.trainer.data.extra["mixture"]
    pts = run.sample(2000, seed=1)["images"]
    stats = mode_stats(pts, mixture.means, mixture.std)
    assert stats["modes_covered"] >= 6, stats
