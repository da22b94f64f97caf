"""Quality you can watch: FID in log.jsonl during training, checkpoints/best.pt, --checkpoint,
and a learning-rate decay that keeps resume exact."""
import json
import math
import os
import signal

import numpy as np
import pytest
import torch

import gankit
from gankit import checkpoint
from gankit.training.steps import STEPS

TINY = {"model": "dcgan", "data": "digits", "width": 16, "batch_size": 64, "progress": False, "report": False, "eval_n": 200}


def _log(run_dir):
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def _weights(run_dir, name="last.pt"):
    return checkpoint.load(run_dir / "checkpoints" / name)["nets"]


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    out = tmp_path_factory.mktemp("quality") / "run"
    gankit.train({**TINY, "epochs": 3, "out": str(out)})
    return out


def test_every_epoch_logs_fid_and_best_pt_holds_the_best(watched):
    checks = [r for r in _log(watched) if "fid" in r]
    assert [r["step"] for r in checks] == [23, 46, 69]  # 1,500 images / 64 = 23 steps an epoch
    for r in checks:
        assert r["fid"] > 0 and 1 <= r["classifier_score"] <= 10 and r["of"] == 10 and r["eval_seconds"] >= 0
    best = min(checks, key=lambda r: r["fid"])
    state = checkpoint.load(watched / "checkpoints" / "best.pt")
    assert state["step"] == best["step"] and state["best"]["fid"] == best["fid"]
    assert checkpoint.load(watched / "checkpoints" / "last.pt")["best"]["step"] == best["step"]


def test_best_checkpoint_samples_what_it_logged(watched, cli, tmp_path):
    """--checkpoint best loads best.pt: its samples differ from last's unless best is last."""
    best_step = checkpoint.load(watched / "checkpoints" / "best.pt")["step"]
    outs = {}
    for which in ("best", "last"):
        code, _, err = cli("sample", watched, "-n", "8", "--checkpoint", which, "--out", tmp_path / f"{which}.npz")
        assert code == 0, err
        outs[which] = torch.from_numpy(np.load(tmp_path / f"{which}.npz")["images"])
    assert torch.equal(outs["best"], outs["last"]) == (best_step == 69)
    code, out, err = cli("evaluate", watched, "-n", "100", "--checkpoint", "best", "--out", tmp_path / "e.json")
    assert code == 0, err
    assert json.loads((tmp_path / "e.json").read_text())["source"]["step"] == best_step
    code, out, err = cli("sample", watched, "--checkpoint", "epoch-7", "--out", tmp_path / "x.png")
    assert code == 2 and "--checkpoint epoch-7" in err and "best" in err and err.count("\n") == 1
    code, out, err = cli("sample", watched, "--checkpoint", "newest", "--out", tmp_path / "x.png")
    assert code == 2 and "--checkpoint" in err and "epoch-N" in err


def test_quality_checks_leave_training_untouched(tmp_path):
    """The same run with checks every 10 steps and with none ends with the same weights, and
    resuming a checked run mid-way ends there too: the checks draw from their own RNG streams."""
    never = tmp_path / "never"
    gankit.train({**TINY, "epochs": 2, "eval_every": -1, "out": str(never)})
    assert not any("fid" in r for r in _log(never)) and not (never / "checkpoints" / "best.pt").exists()
    often = tmp_path / "often"
    gankit.train({**TINY, "epochs": 2, "eval_every": 10, "out": str(often)})
    assert [r["step"] for r in _log(often) if "fid" in r] == [10, 20, 30, 40, 46]  # and the last steps, not yet logged
    assert _same(_weights(never), _weights(often))
    resumed = tmp_path / "resumed"
    gankit.train({**TINY, "epochs": 1, "eval_every": 10, "out": str(resumed)})
    gankit.train(resume=resumed, epochs=2)
    assert _same(_weights(never), _weights(resumed))


def test_toy_runs_log_mode_stats(tmp_path):
    out = tmp_path / "ring"
    gankit.train({"model": "mlp", "data": "ring", "limit": 1024, "hidden": [32], "epochs": 2, "progress": False,
                  "report": False, "eval_n": 500, "out": str(out)})
    checks = [r for r in _log(out) if "modes_covered" in r]
    assert len(checks) == 2 and all(r["of"] == 8 and 0 <= r["high_quality"] <= 1 for r in checks)
    assert (out / "checkpoints" / "best.pt").is_file()


@pytest.mark.parametrize("decay", ["linear", "cosine"])
def test_lr_decay_falls_to_zero_and_resumes_exactly(tmp_path, monkeypatch, decay):
    """Both rates fall over the run's 46 steps; Ctrl-C at step 30 and --resume end with the
    weights of the run that was never stopped."""
    cfg = {**TINY, "epochs": 2, "eval_every": -1, "lr_decay": decay, "lr_g": 1e-3, "lr_d": 2e-3, "log_every": 1}
    gankit.train({**cfg, "out": str(tmp_path / "straight")})
    state = checkpoint.load(tmp_path / "straight" / "checkpoints" / "last.pt")
    frac = 45 / 46  # the last step, step 45 of 0..45, ran at this share of the schedule
    factor = 1 - frac if decay == "linear" else 0.5 * (1 + math.cos(math.pi * frac))
    assert state["opts"]["G"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * factor)
    assert state["opts"]["D"]["param_groups"][0]["lr"] == pytest.approx(2e-3 * factor)
    lrs = [r["lr_g"] for r in _log(tmp_path / "straight")]
    assert lrs[0] == pytest.approx(1e-3) and all(a > b for a, b in zip(lrs, lrs[1:]))  # falls at every step

    real_step = STEPS["gan"]

    def step(tr, x, y):
        if tr.step == 29:
            os.kill(os.getpid(), signal.SIGINT)
        return real_step(tr, x, y)

    with monkeypatch.context() as m:
        m.setitem(STEPS, "gan", step)
        assert gankit.train({**cfg, "out": str(tmp_path / "stopped")}).interrupted
    gankit.train(resume=tmp_path / "stopped")
    assert _same(_weights(tmp_path / "straight"), _weights(tmp_path / "stopped"))


@pytest.mark.parametrize("budget", [{"steps": 30}, {"minutes": 0.04}])
def test_lr_decay_follows_a_step_or_time_budget(tmp_path, budget):
    """Without --epochs the rates fall over the budget that ends the run: 30 steps, or 2.4 s of
    training (the time a step starts at sets its rate). A decay that ignored these budgets would
    keep the full rate, or fall over the 5 default epochs and stop at about their start."""
    cfg = {**TINY, "epochs": 0, "eval_every": -1, "lr_decay": "linear", "lr_g": 1e-3, "lr_d": 2e-3,
           "log_every": 1, **budget}
    gankit.train({**cfg, "out": str(tmp_path / "run")})
    rows = _log(tmp_path / "run")
    lrs = [r["lr_g"] for r in rows]
    assert lrs[0] == pytest.approx(1e-3, rel=0.1) and all(a > b for a, b in zip(lrs, lrs[1:]))
    if "steps" in budget:
        assert len(rows) == 30 and lrs[-1] == pytest.approx(1e-3 * (1 - 29 / 30))
        assert rows[-1]["lr_d"] == pytest.approx(2e-3 * (1 - 29 / 30))
    else:  # each step's rate comes from the time it started: after the last line, before its own
        budget, eps = 0.04 * 60, 1e-5  # eps: "time" is rounded to 0.01 s
        for prev, row in zip(rows, rows[1:]):
            assert 1e-3 * (1 - row["time"] / budget) - eps <= row["lr_g"] <= 1e-3 * (1 - prev["time"] / budget) + eps
            assert row["lr_d"] == pytest.approx(2 * row["lr_g"])
        assert lrs[-1] < 0.5e-3  # the run went on into the second half of its budget
