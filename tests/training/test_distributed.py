"""torchrun on the CPU with gloo: two ranks agree with each other and with one process; the
BatchNorm DCGAN of configs/default.yaml splits its batch across the ranks; a lost rank ends the job
with one line naming the run, wherever it and the others were, and the resumed run ends with the
weights of a run that was never stopped."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import gankit
from gankit import config as config_mod

ROOT = Path(__file__).resolve().parents[2]

HARNESS = r'''
import json, os, signal, sys, time, torch
import gankit
from gankit import config as config_mod
from gankit.cli import main
from gankit.training import distributed, steps
out, epochs, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rank, here = int(os.environ["RANK"]), os.path.dirname(out)
open(os.path.join(here, f"pid-{rank}"), "w").write(str(os.getpid()))
if mode == "cli" and len(sys.argv) > 4:  # a fault: DIE_RANK kills itself at the start of step DIE_STEP; the others
    die_rank, die_step, busy = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])  # wait BUSY s first
    def faulty(step_fn):
        def step(tr, x, y):
            if tr.step == die_step:
                if rank == die_rank:
                    os.kill(os.getpid(), signal.SIGKILL)
                time.sleep(busy)  # 0: straight on into the step's collectives
            return step_fn(tr, x, y)
        return step
    steps.STEPS.update({k: faulty(f) for k, f in steps.STEPS.items()})
if mode in ("api", "minutes", "minutes-skew", "dcgan", "dcgan-resume"):
    seen = {}  # batch sizes that reach a BatchNorm layer in training
    def count(module, args, output):
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.training and torch.is_grad_enabled():
            seen[args[0].shape[0]] = seen.get(args[0].shape[0], 0) + 1
    torch.nn.modules.module.register_module_forward_hook(count)
    if mode == "api":
        run = gankit.train(dict(MLP, out=out, epochs=epochs))
    elif mode.startswith("minutes"):  # a time budget of EPOCHS seconds, the learning rates falling with rank 0's clock
        if mode == "minutes-skew" and rank == 0:  # rank 0's clock jumps past the budget as it ends epoch 2
            from gankit.training.engine import Trainer
            end_epoch = Trainer._end_epoch
            def late(self, t0):
                end_epoch(self, t0)
                if self.epoch == 2:
                    self._elapsed_before += 3600
            Trainer._end_epoch = late
        run = gankit.train(dict(MLP, out=out, epochs=0, minutes=epochs / 60, lr_decay="linear", log_every=1))
    elif mode == "dcgan":  # the README's torchrun command: configs/default.yaml, on the small digits
        cfg = config_mod.read_file(sys.argv[4])
        run = gankit.train({**cfg, "data": "digits", "progress": False, "out": out, "epochs": epochs})
    else:
        run = gankit.train(resume=out, epochs=epochs)
    threads = []  # the native threads still running once gankit.train has returned (Linux's /proc)
    for t in os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else []:
        try:
            threads.append(open(f"/proc/self/task/{t}/comm").read().strip())
        except OSError:  # a thread that ended while listed
            pass
    json.dump(threads, open(os.path.join(here, f"threads-{rank}.json"), "w"))
    torch.save(run.nets.state_dict(), os.path.join(here, f"rank-{rank}.pt"))
    json.dump(seen, open(os.path.join(here, f"bn-{rank}.json"), "w"))
    distributed.cleanup()
else:  # the CLI, as `torchrun -m gankit train ...` runs it
    args = ["train", "--resume", out] if mode == "resume" else ["train", *CLI, "--out", out]
    sys.exit(main(args + ["--epochs", str(epochs)]))
'''

# The fully connected GAN on 512 digits: 8 steps an epoch. Dropout in D draws from each rank's own
# stream, which a checkpoint keeps per rank; the API run has none, to match one process.
MLP = dict(model="mlp", data="digits", hidden=[64], dropout=0.0, z_dim=8, batch_size=64, limit=512,
           progress=False, precision="fp32", device="cpu", checkpoint_steps=4)
CLI = ["--model", "mlp", "--data", "digits", "--set", "limit=512", "--set", "hidden=64", "--set", "z_dim=8",
       "--set", "checkpoint_steps=2", "--device", "cpu", "--precision", "fp32", "--no-progress"]


def torchrun(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    """``torchrun --standalone --nproc_per_node=2 harness.py ARGS`` (a free port of its own), in a
    process group of its own so that ``finish`` can stop every rank."""
    script = tmp_path / "harness.py"
    script.write_text(f"MLP = {MLP!r}\nCLI = {CLI!r}\n" + HARNESS)
    env = {**os.environ, "OMP_NUM_THREADS": "1", **env}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)


def finish(p: subprocess.Popen, timeout: float = 240) -> str:
    """The job's output once it ends; a job still running after ``timeout`` is killed, ranks and
    all, and the test fails with what it printed."""
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail(f"the torchrun job still ran after {timeout:.0f} s:\n{out[-3000:]}")
    return out


def rank_weights(tmp_path: Path) -> tuple[dict, dict]:
    """The state dicts the harness saved on rank 0 and on rank 1."""
    r0, r1 = (torch.load(tmp_path / f"rank-{rank}.pt", weights_only=True) for rank in (0, 1))
    return r0, r1


def nets_of(path: Path) -> dict:
    return torch.load(path, weights_only=True)["nets"]


def test_two_ranks_match_each_other_and_one_process(tmp_path):
    p = torchrun(tmp_path, str(tmp_path / "ddp"), "2", "api")
    out = finish(p)
    assert p.returncode == 0, out
    r0, r1 = rank_weights(tmp_path)
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    for rank in (0, 1):  # train() left the process group: gloo's threads end before the interpreter does
        threads = json.loads((tmp_path / f"threads-{rank}.json").read_text())
        assert not [t for t in threads if "gloo" in t], threads
    single = gankit.train({**MLP, "out": str(tmp_path / "single"), "epochs": 2}).nets.state_dict()
    for k in r0:  # same global batch, same latents: equal up to float summation order
        assert torch.allclose(r0[k], single[k], atol=1e-4, rtol=1e-3), k
    # files were written once, by rank 0
    assert (tmp_path / "ddp" / "checkpoints" / "last.pt").is_file()
    assert len(list((tmp_path / "ddp" / "samples").glob("epoch-*.png"))) == 2


def test_a_time_budgets_falling_learning_rate_is_the_same_on_every_rank(tmp_path):
    """--minutes with lr_decay: every step's rate comes from rank 0's clock. Each rank reading its
    own clock would step with slightly different rates, and the weights would drift apart."""
    p = torchrun(tmp_path, str(tmp_path / "ddp"), "3", "minutes")
    out = finish(p)
    assert p.returncode == 0, out
    r0, r1 = rank_weights(tmp_path)
    assert [k for k in r0 if not torch.equal(r0[k], r1[k])] == []
    lrs = [json.loads(line)["lr_g"] for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    assert len(lrs) > 2 and lrs[-1] < 0.5 * lrs[0]


def test_a_rank_whose_clock_runs_ahead_stops_every_rank_at_the_same_step(tmp_path):
    """Rank 0 draws each epoch's grid after the others have gone on, so its clock is the first to
    pass a --minutes budget, at an epoch's end. The ranks vote there too: a rank that stopped alone
    would meet the others' next step with a different collective, and the job would hang."""
    p = torchrun(tmp_path, str(tmp_path / "ddp"), "60", "minutes-skew", GANKIT_DIST_TIMEOUT="60")
    out = finish(p, timeout=180)
    assert p.returncode == 0, out
    r0, r1 = rank_weights(tmp_path)
    assert [k for k in r0 if not torch.equal(r0[k], r1[k])] == []
    final = torch.load(tmp_path / "ddp" / "checkpoints" / "last.pt", weights_only=True)
    assert (final["epoch"], final["step"]) == (2, 16)  # 512 digits at batch 64: 8 steps an epoch


def test_batchnorm_dcgan_splits_the_batch_and_its_ranks_agree(tmp_path):
    """configs/default.yaml (Radford's DCGAN: batch norm in G and D, batch 256, EMA) on 2 ranks."""
    run = tmp_path / "dcgan"
    p = torchrun(tmp_path, str(run), "1", "dcgan", str(ROOT / "configs" / "default.yaml"))
    out = finish(p)
    assert p.returncode == 0, out
    cfg = gankit.load(run).config
    batch = config_mod.read_file(ROOT / "configs" / "default.yaml")["batch_size"]
    assert cfg.arch == "radford" and cfg.batch_size == batch
    half = str(batch // 2)
    for rank in (0, 1):  # every batch-norm layer of G and D sees this rank's half of the batch, only
        seen = json.loads((tmp_path / f"bn-{rank}.json").read_text())
        assert set(seen) == {half}, seen
    r0, r1 = rank_weights(tmp_path)
    assert any("running_mean" in k for k in r0)
    assert [k for k in r0 if not torch.equal(r0[k], r1[k])] == []  # weights and BN statistics alike
    saved = nets_of(run / "checkpoints" / "last.pt")
    assert all(torch.equal(saved[k], r0[k]) for k in r0)
    images = gankit.load(run).sample(16)["images"]
    assert images.shape == (16, 1, 8, 8) and torch.isfinite(images).all()
    assert 0 <= images.min() and images.max() <= 1 and images.std() > 0.01

    p = torchrun(tmp_path, str(run), "2", "dcgan-resume")
    out = finish(p)
    assert p.returncode == 0, out
    r0, r1 = rank_weights(tmp_path)
    assert [k for k in r0 if not torch.equal(r0[k], r1[k])] == []
    assert all(set(json.loads((tmp_path / f"bn-{rank}.json").read_text())) == {half} for rank in (0, 1))
    final = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert final["epoch"] == 2 and final["step"] == 2 * (1500 // batch)
    assert len(list((run / "samples").glob("epoch-*.png"))) == 2


def check_one_line(out: str, run: Path, survivor: int) -> str:
    """The survivor's one line (torchrun's own summary of the dead rank follows it), and no
    traceback from gankit or the harness."""
    lines = [ln for ln in out.splitlines() if ln.startswith("gankit: error:")]
    assert len(lines) == 1 and lines[0].startswith(f"gankit: error: rank {survivor} "), out[-3000:]
    assert lines[0].endswith(f"restart the job with --resume {run}"), lines[0]
    assert not re.search(r'File "[^"]*((src|site-packages)/gankit/|harness\.py)"', out), out[-3000:]
    return lines[0]


def test_killed_rank_fails_the_job_and_resume_finishes(tmp_path):
    """Rank 1 is killed from outside at a moment left to chance (rank 0 may be inside a collective,
    a step, a checkpoint write, drawing a grid...)."""
    run = tmp_path / "ddp"
    p = torchrun(tmp_path, str(run), "400", "cli")
    deadline = time.time() + 120
    while not ((run / "checkpoints" / "last.pt").exists() and (tmp_path / "pid-1").exists()):
        assert p.poll() is None and time.time() < deadline, p.stdout.read() if p.poll() is not None else "timeout"
        time.sleep(0.2)
    os.kill(int((tmp_path / "pid-1").read_text()), signal.SIGKILL)
    out = finish(p, timeout=120)
    assert p.returncode != 0
    check_one_line(out, run, survivor=0)
    saved = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert saved["step"] > 0
    epochs = max(3, saved["epoch"] + 1)
    p = torchrun(tmp_path, str(run), str(epochs), "resume")
    out = finish(p)
    assert p.returncode == 0, out
    final = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert final["epoch"] == epochs and final["step"] == 8 * epochs


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """The CLI's mlp run on 2 ranks for 2 epochs, never stopped: what every resumed run must equal."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    p = torchrun(tmp, str(tmp / "ddp"), "2", "cli")
    out = finish(p)
    assert p.returncode == 0, out
    return torch.load(tmp / "ddp" / "checkpoints" / "last.pt", weights_only=True)


LOST = {  # (the rank that dies, at the start of which step, how long the other stays busy first)
    "rank 1 dies while rank 0 waits in a collective": (1, 5, 0.0),
    "rank 0 dies while rank 1 is busy between steps": (0, 11, 30.0),
}


@pytest.mark.parametrize("how", list(LOST))
def test_lost_rank_ends_the_job_with_one_line_and_resume_is_exact(tmp_path, uninterrupted, how):
    run, (dead, step, busy) = tmp_path / "ddp", LOST[how]
    p = torchrun(tmp_path, str(run), "2", "cli", str(dead), str(step), str(busy))
    out = finish(p, timeout=120)
    assert p.returncode != 0
    line = check_one_line(out, run, survivor=1 - dead)
    if busy:  # torchrun's SIGTERM reaches the survivor first, not a collective's error
        assert "was stopped (SIGTERM" in line, line
    saved = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert saved["step"] == step - 1  # checkpoints every 2 steps; the step that died is lost

    p = torchrun(tmp_path, str(run), "2", "resume")
    out = finish(p)
    assert p.returncode == 0, out
    final = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert (final["epoch"], final["step"]) == (uninterrupted["epoch"], uninterrupted["step"]) == (2, 16)
    # the same weights as the run that was never stopped: resume is exact under torchrun too
    assert [k for k in final["nets"] if not torch.equal(final["nets"][k], uninterrupted["nets"][k])] == []
