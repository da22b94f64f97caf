"""A real training run, SIGKILLed again and again (some kills during a checkpoint write), and resumed
with ``--resume`` each time, ends with exactly the weights and the log of an uninterrupted run.

The run is a tiny DCGAN on the 8x8 digits (width 8, 320 images, batch 16: 40 steps over 2 epochs),
in fp32 on the CPU, with last.pt rewritten after every step. ``z_dim=2048`` only makes the
checkpoint ~8 MB, so that writing it takes milliseconds and kills can land inside the write.
Two kinds of kill alternate:

* "write" kills land inside a checkpoint write, every time: the process runs with ``os.replace``
  wrapped so that, after 0-3 completed checkpoint writes of that life (none in the first life, so
  the run dies before it has any checkpoint and the next one starts it from step 0), it stops
  between writing its temporary file (``.last.pt.*.tmp``, written and fsync'ed) and renaming it
  over ``last.pt``, and says so; it is SIGKILLed there;
* "random" kills let 0-2 writes complete, then wait a random 0-60 ms (a step takes ~30 ms), so
  they land anywhere in a step: forward, backward, the log line, the write.

After every kill each checkpoint on disk must load (CRC-checked); every resume must either run
until it is killed or finish with exit code 0; the last one runs the run to its end.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit import checkpoint

KILLS = 6  # three of each kind
SEED = 20240
TRAIN = ["--data", "digits", "--model", "dcgan", "--set", "width=8", "--set", "limit=320", "--batch-size", "16",
         "--epochs", "2", "--set", "checkpoint_steps=1", "--set", "checkpoint_every=1", "--set", "log_every=1",
         "--set", "report=false", "--set", "ema=0.9", "--set", "z_dim=2048"]
COMMON = ["--no-progress", "--precision", "fp32", "--device", "cpu"]
TOTAL_STEPS = 40

# ``python -c HOLD train ...``: gankit's CLI with os.replace wrapped so that the checkpoint write
# after $GANKIT_HOLD_AFTER completed ones stops before its rename, creates $GANKIT_HOLD_FLAG and
# waits to be killed. Only checkpoint temporaries (".<name>.pt.<random>.tmp") are held.
HOLD = """
import os, re, runpy, time
after, flag, done, real_replace = int(os.environ["GANKIT_HOLD_AFTER"]), os.environ["GANKIT_HOLD_FLAG"], [0], os.replace
def replace(src, dst, *args, **kwargs):
    if re.fullmatch(r"\\.[^/]+\\.pt\\.[^/]+\\.tmp", os.path.basename(os.fspath(src))):
        if done[0] >= after:
            open(flag, "w").close()
            while True:
                time.sleep(60)
        done[0] += 1
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
runpy.run_module("gankit", run_name="__main__")
"""


def _start(cwd: Path, args: list, log: Path, hold: tuple | None = None) -> subprocess.Popen:
    """``gankit train ARGS``; with ``hold=(after, flag)`` its checkpoint write after ``after``
    completed ones stops before the rename (see HOLD)."""
    # One intra-op thread: the same arithmetic in every process, and no OpenMP spinning on a busy machine.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    entry = ["-m", "gankit"]
    if hold is not None:
        env.update(GANKIT_HOLD_AFTER=str(hold[0]), GANKIT_HOLD_FLAG=str(hold[1]))
        entry = ["-c", HOLD]
    with open(log, "w") as f:
        return subprocess.Popen([sys.executable, *entry, "train", *args, *COMMON], cwd=cwd, env=env,
                                stdout=f, stderr=subprocess.STDOUT)


def _temps(ckpt: Path) -> set:
    try:
        return {n for n in os.listdir(ckpt) if n.endswith(".tmp")}
    except FileNotFoundError:
        return set()


def _kill_one_life(proc: subprocess.Popen, ckpt: Path, mode: str, rng: random.Random, known: set,
                   skip: int, flag: Path) -> bool:
    """SIGKILL ``proc`` per ``mode``: "write" once it holds a write (``flag`` exists), "random" a
    random delay after ``skip`` completed writes (seen in the checkpoint folder); False when the
    process finished first."""
    delay = rng.uniform(0.0, 0.06)  # "random": seconds after the last write let through
    writes, t_armed = 0, None
    while proc.poll() is None:
        if mode == "write" and flag.exists():
            proc.send_signal(signal.SIGKILL)
            known |= _temps(ckpt)  # the held write's temporary file is no write of the next life
            return True
        new = _temps(ckpt) - known
        if new:
            known |= new
            writes += 1
            if writes > skip and t_armed is None:
                t_armed = time.monotonic()
        if mode == "random" and t_armed is not None and time.monotonic() - t_armed >= delay:
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.0005)
    return False


def _weights(path: Path) -> dict:
    state = checkpoint.load(path)
    for name, t in state["nets"].items():
        assert torch.isfinite(t.float()).all(), (path, name)
    return state


@pytest.fixture
def started():
    """Processes the test starts; any still running at the end (a failed assertion) are killed."""
    procs: list = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_sigkill_at_random_moments_then_resume_reproduces_the_uninterrupted_run(tmp_path, started):
    rng = random.Random(SEED)
    ref = _start(tmp_path, [*TRAIN, "--out", "ref"], tmp_path / "ref.log")  # runs alongside the kills
    started.append(ref)
    run, ckpt = tmp_path / "run", tmp_path / "run" / "checkpoints"
    kills, known, life = [], set(), 0
    while len(kills) < KILLS:
        args = [*TRAIN, "--out", "run"] if life == 0 else ["--resume", "run"]
        log, flag = tmp_path / f"life-{life:02d}.log", tmp_path / f"life-{life:02d}.held"
        mode = "write" if life % 2 == 0 else "random"
        skip = 0 if life == 0 else rng.randint(0, 3) if mode == "write" else rng.randint(0, 2)
        proc = _start(tmp_path, args, log, hold=(skip, flag) if mode == "write" else None)
        started.append(proc)
        killed = _kill_one_life(proc, ckpt, mode, rng, known, skip, flag)
        rc = proc.wait()
        assert rc in (0, -signal.SIGKILL), f"life {life} ({' '.join(args)}) exited {rc}:\n{log.read_text()}"
        assert "Traceback" not in log.read_text(), log.read_text()
        if not killed:  # it finished before the kill: the test would be too easy
            raise AssertionError(f"the run finished after {len(kills)} kills; make it longer")
        # Whatever the moment of the kill, every checkpoint on disk loads.
        for p in checkpoint.candidates(ckpt):
            _weights(p)
        last = ckpt / "last.pt"
        step = checkpoint.load(last)["step"] if last.exists() else None
        kills.append({"life": life, "mode": mode, "temp_left": bool(_temps(ckpt)), "step": step})
        life += 1

    final_log = tmp_path / "final.log"
    assert _start(tmp_path, ["--resume", "run"], final_log).wait() == 0, final_log.read_text()
    assert ref.wait() == 0, (tmp_path / "ref.log").read_text()

    mid_write = sum(k["temp_left"] for k in kills)
    print(f"\n{len(kills)} SIGKILLs survived ({mid_write} during a checkpoint write); "
          f"steps at each kill: {[k['step'] for k in kills]}")
    # every "write" kill landed inside save_atomic, its temporary file written but not renamed
    assert all(k["temp_left"] for k in kills if k["mode"] == "write"), kills
    # the first life died inside its very first write: no checkpoint, so the next life started over
    assert kills[0]["step"] is None, kills
    assert "no checkpoint saved yet; starting the run from step 0" in (tmp_path / "life-01.log").read_text()
    assert not _temps(ckpt), "stale temporary checkpoint files were not cleaned up on resume"

    # log.jsonl: one line per step, no step lost or repeated, the same losses as the reference.
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    ref_rows = [json.loads(line) for line in (tmp_path / "ref" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, TOTAL_STEPS + 1))
    for r, q in zip(rows, ref_rows):
        assert (r["d_loss"], r["g_loss"]) == (q["d_loss"], q["g_loss"]), (r["step"], kills)

    got, want = _weights(ckpt / "last.pt"), _weights(tmp_path / "ref" / "checkpoints" / "last.pt")
    assert got["step"] == want["step"] == TOTAL_STEPS
    assert got["nets"].keys() == want["nets"].keys()
    for name in want["nets"]:
        assert torch.equal(got["nets"][name], want["nets"][name]), (name, kills)
    for opt in want["opts"]:
        for k, s in want["opts"][opt]["state"].items():
            assert torch.equal(got["opts"][opt]["state"][k]["exp_avg"], s["exp_avg"]), (opt, k)
    for epoch in (1, 2):  # the kept per-epoch checkpoints agree too
        a = _weights(ckpt / f"epoch-{epoch:04d}.pt")["nets"]
        b = _weights(tmp_path / "ref" / "checkpoints" / f"epoch-{epoch:04d}.pt")["nets"]
        assert all(torch.equal(a[k], b[k]) for k in b)
