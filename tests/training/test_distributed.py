"""torchrun on the CPU with gloo: two ranks agree with each other and with one process, and a
killed rank fails the job clearly and the run resumes from its last checkpoint."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import gankit

HARNESS = r'''
import os, sys, torch
import gankit
from gankit.cli import main
from gankit.training import distributed
out, epochs, mode = sys.argv[1], sys.argv[2], sys.argv[3]
open(os.path.join(os.path.dirname(out), f"pid-{os.environ['RANK']}"), "w").write(str(os.getpid()))
if mode == "api":
    cfg = dict(model="mlp", data="digits", hidden=[64], dropout=0.0, z_dim=8, batch_size=64, limit=512,
               progress=False, precision="fp32", device="cpu", checkpoint_steps=4)
    run = gankit.train({**cfg, "out": out, "epochs": int(epochs)})
    torch.save(run.nets.state_dict(), os.path.join(os.path.dirname(out), f"rank-{os.environ['RANK']}.pt"))
    distributed.cleanup()
else:  # the CLI, as `torchrun -m gankit train ...` runs it
    args = ["train", "--resume", out] if mode == "resume" else [
        "train", "--model", "mlp", "--data", "digits", "--set", "limit=512", "--set", "hidden=64",
        "--set", "checkpoint_steps=2", "--out", out, "--device", "cpu", "--precision", "fp32", "--no-progress"]
    sys.exit(main(args + ["--epochs", epochs]))
'''

SINGLE = dict(model="mlp", data="digits", hidden=[64], dropout=0.0, z_dim=8, batch_size=64, limit=512,
              progress=False, precision="fp32", device="cpu", checkpoint_steps=4)


def torchrun(tmp_path: Path, *args: str, port: int) -> subprocess.Popen:
    script = tmp_path / "harness.py"
    script.write_text(HARNESS)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANKIT_DIST_TIMEOUT": "60"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
           "--master_addr=127.0.0.1", str(script), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_two_ranks_match_each_other_and_one_process(tmp_path):
    p = torchrun(tmp_path, str(tmp_path / "ddp"), "2", "api", port=29517)
    out, _ = p.communicate(timeout=240)
    assert p.returncode == 0, out
    r0 = torch.load(tmp_path / "rank-0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank-1.pt", weights_only=True)
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    single = gankit.train({**SINGLE, "out": str(tmp_path / "single"), "epochs": 2}).nets.state_dict()
    for k in r0:  # same global batch, same latents: equal up to float summation order
        assert torch.allclose(r0[k], single[k], atol=1e-4, rtol=1e-3), k
    # files were written once, by rank 0
    assert (tmp_path / "ddp" / "checkpoints" / "last.pt").is_file()
    assert len(list((tmp_path / "ddp" / "samples").glob("epoch-*.png"))) == 2


def test_killed_rank_fails_the_job_and_resume_finishes(tmp_path):
    run = tmp_path / "ddp"
    p = torchrun(tmp_path, str(run), "400", "cli", port=29518)
    deadline = time.time() + 120
    while not ((run / "checkpoints" / "last.pt").exists() and (tmp_path / "pid-1").exists()):
        assert p.poll() is None and time.time() < deadline, p.stdout.read() if p.poll() is not None else "timeout"
        time.sleep(0.2)
    os.kill(int((tmp_path / "pid-1").read_text()), signal.SIGKILL)
    out, _ = p.communicate(timeout=120)
    assert p.returncode != 0
    assert "gankit: error:" in out and "--resume" in out, out[-2000:]
    step_saved = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert step_saved > 0
    p = torchrun(tmp_path, str(run), "3", "resume", port=29519)
    out, _ = p.communicate(timeout=240)
    assert p.returncode == 0, out
    final = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert final["epoch"] == 3 and final["step"] >= step_saved
