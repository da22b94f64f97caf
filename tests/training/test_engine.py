"""The engine: exact resume, budgets, logs, Ctrl-C and the 2-D ring."""
import json
import os
import signal
import time

import torch

import gankit
from gankit.training import engine
from gankit.training.steps import STEPS

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


class StepClock:
    """The engine's ``time`` module with a clock that moves only when a training step runs:
    ``per_step`` seconds each (everything but ``perf_counter`` is the real module)."""

    def __init__(self, monkeypatch, family_step: str = "gan", per_step: float = 0.5):
        self.now = 1000.0
        real_step = STEPS[family_step]

        def step(tr, x, y):
            out = real_step(tr, x, y)
            self.now += per_step
            return out

        monkeypatch.setitem(STEPS, family_step, step)
        monkeypatch.setattr(engine, "time", self)

    def perf_counter(self) -> float:
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


def _rows(run_dir):
    keys = ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake")
    return [{k: r[k] for k in keys} for r in map(json.loads, (run_dir / "log.jsonl").read_text().splitlines())]


def _same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]


def test_minutes_budget_stops_mid_epoch(tmp_path, monkeypatch):
    """A 3-second budget on a clock that moves 0.5 s per step: the run stops after exactly 6 of the
    epoch's 8 steps, saves that position, and resuming it with an epoch budget ends where a
    straight 1-epoch run does, weight for weight."""
    StepClock(monkeypatch, per_step=0.5)
    out = tmp_path / "r"
    run = gankit.train({**BASE, "epochs": 0, "minutes": 0.05, "out": str(out)})  # 512 / 64 = 8 steps an epoch
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert (state["step"], state["epoch"], state["batch"]) == (6, 0, 6)  # mid-epoch, not at its end
    assert state["elapsed"] == 3.0  # stopped by the budget, at the first step that reached it
    assert (run.trainer.step, run.trainer.epoch, run.trainer.batch) == (6, 0, 6) and not run.interrupted
    assert run.state == {"step": 6, "epoch": 0, "batch": 6}  # the returned Run says where training stopped
    assert _rows(out)[-1]["step"] == 6 and _rows(out)[-1]["epoch"] == 0.75  # the part-epoch is logged
    assert not (out / "samples" / "epoch-0001.png").exists() and (out / "samples" / "final.png").is_file()

    resumed = gankit.train(resume=out, epochs=1, minutes=0)
    assert (resumed.trainer.step, resumed.trainer.epoch, resumed.trainer.batch) == (8, 1, 0)
    straight = gankit.train({**BASE, "epochs": 1, "out": str(tmp_path / "straight")})
    _same_weights(_weights(resumed), _weights(straight))


def test_steps_budget_stops_mid_epoch_and_resume_extends_it(tmp_path, cli):
    """--steps 11 on 8-step epochs stops inside the second epoch; --resume --steps 16 ends where a
    straight 2-epoch run does, weight for weight."""
    out = tmp_path / "r"
    code, _, err = cli("train", "--model", "dcgan", "--data", "digits", "--batch-size", "64", "--steps", "11",
                       "--set", "limit=512", "--set", "width=16", "--no-progress", "--out", out)
    assert code == 0, err
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert (state["step"], state["epoch"], state["batch"]) == (11, 1, 3)
    assert _rows(out)[-1]["step"] == 11 and (out / "samples" / "epoch-0001.png").is_file()
    assert not (out / "samples" / "epoch-0002.png").exists()

    resumed = gankit.train(resume=out, steps=16)
    assert (resumed.trainer.step, resumed.trainer.epoch, resumed.trainer.batch) == (16, 2, 0)
    straight = gankit.train({**BASE, "epochs": 2, "out": str(tmp_path / "straight")})
    _same_weights(_weights(resumed), _weights(straight))


def test_sigint_saves_and_resume_continues(tmp_path, monkeypatch):
    """Ctrl-C (a real SIGINT, delivered during step 12 of 16, in the second epoch) stops the run
    after that step and saves it; resuming gives the weights and the log of an uninterrupted run.
    D has dropout, so the resumed run also needs the saved RNG streams."""
    real_step = STEPS["gan"]

    def step(tr, x, y):
        if tr.step == 11:
            os.kill(os.getpid(), signal.SIGINT)
        return real_step(tr, x, y)

    settings = {**BASE, "dropout": 0.3, "epochs": 2, "log_every": 2}
    out = tmp_path / "r"
    handler = signal.getsignal(signal.SIGINT)
    with monkeypatch.context() as m:
        m.setitem(STEPS, "gan", step)
        run = gankit.train({**settings, "out": str(out)})
    assert run.interrupted
    assert signal.getsignal(signal.SIGINT) is handler  # the previous handler is put back
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert (state["step"], state["epoch"], state["batch"]) == (12, 1, 4)
    assert (out / "samples" / "epoch-0001.png").is_file() and not (out / "samples" / "epoch-0002.png").exists()
    assert not (out / "report.html").exists()  # no report for an interrupted run

    resumed = gankit.train(resume=out)  # the run's own budget: 2 epochs
    assert not resumed.interrupted
    assert (resumed.trainer.step, resumed.trainer.epoch, resumed.trainer.batch) == (16, 2, 0)
    straight = gankit.train({**settings, "out": str(tmp_path / "straight")})
    _same_weights(_weights(resumed), _weights(straight))
    assert _rows(out) == _rows(tmp_path / "straight")
    assert [r["step"] for r in _rows(out)] == list(range(2, 17, 2))


def test_ring_gan_covers_most_modes(tmp_path):
    from gankit.metrics.toy import mode_stats

    run = gankit.train({"model": "mlp", "data": "ring", "hidden": [128, 128], "z_dim": 8, "dropout": 0.0,
                        "batch_size": 256, "epochs": 10, "lr_g": 1e-3, "lr_d": 1e-3, "beta2": 0.999, "ema": 0.0,
                        "progress": False, "out": str(tmp_path / "ring")})
    mixture = run.trainer.data.extra["mixture"]
    pts = run.sample(2000, seed=1)["images"]
    stats = mode_stats(pts, mixture.means, mixture.std)
    # modes with at least one sample within 3 std (modes_covered now asks for a fifth of the fair share)
    assert stats["modes_hit"] >= 6, stats
