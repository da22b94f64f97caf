"""torchrun support: the same code runs single-process and under ``torchrun --nproc_per_node=N``.

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE (and the rendezvous variables); with WORLD_SIZE > 1
we join the process group (gloo on CPU, NCCL on CUDA). Gradients are averaged across ranks with
all-reduce after each backward pass, so every rank takes the same optimiser step and holds the
same weights; files are written by rank 0 only.

A lost rank. When one rank dies, every other rank ends with one line, ``gankit: error: rank R
...; restart the job with --resume RUN``, wherever it was:

- waiting in a collective: gloo raises at once (the peer's socket closed) and the CLI prints the
  line that ``describe_failure`` words;
- anywhere else (computing, even inside one long C++ call; writing a checkpoint; drawing a grid):
  torchrun's agent sees the dead rank within its monitor interval (0.1 s) and sends SIGTERM to
  the others. Python's default for SIGTERM is to die silently, and a Python-level handler only
  runs when the main thread returns to the interpreter, so ``setup`` installs a SIGTERM watcher:
  the C-level handler writes the signal to a pipe (``signal.set_wakeup_fd``), a daemon thread
  prints the line and leaves with exit code 1 (``os._exit``: checkpoints are written atomically,
  so the last one is whole).

torchrun then prints its own summary (the dead rank as the root cause); the line above it names the
run. Resuming is exact under torchrun as in one process: the checkpoint holds every rank's RNG
stream, and the resumed run ends with the weights of a run that was never stopped.

Batch norm: each rank normalises with the statistics of its own B/world examples; there is no
SyncBatchNorm, by measurement (docs/benchmarks.md, "torchrun and batch norm"). Per-rank statistics
change every step (after one step of the default DCGAN, 7.6% of the weights moved differently from
one process on the whole batch, which is what SyncBatchNorm computes), but not measurably the
quality reached: over 3 seeds of the default recipe on MNIST, mean FID 11.54 on 2 ranks of 32 vs
10.79 in one process of 64, a gap inside the seeds' spread (9.90-12.50). And ``nn.SyncBatchNorm``
cannot run on the CPU at all (its kernels exist only for accelerators), while it adds a collective
to every batch-norm layer.
"""
from __future__ import annotations

import datetime
import importlib
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import ConfigError


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device: {name!r} is not a device; use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
        if dev.index is None:
            dev = torch.device("cuda", local_rank)
        if dev.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif dev.type not in ("cpu", "mps"):
        raise ConfigError(f"--device: {name!r} is not supported; use auto, cpu, cuda or cuda:N")
    return dev


_run: str | None = None  # the run folder, named in the line a lost rank prints (set by the Trainer)
_reporter: list = []  # who reports this rank's lost peers ("main" or "watcher"): the first, alone
_report_lock = threading.Lock()
_watch: dict = {}  # the SIGTERM watcher: its pipe and the handlers it replaced


def setup(device: str, run: str | os.PathLike | None = None) -> Dist:
    """Join torchrun's process group when WORLD_SIZE > 1; ``run``, once known, is the folder the
    line of a lost rank tells the user to resume."""
    global _run
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        timeout = datetime.timedelta(seconds=float(os.environ.get("GANKIT_DIST_TIMEOUT", "300")))
        # torch._dynamo, first imported after the group exists (building an optimiser imports it),
        # keeps a reference to the group: destroy_process_group then leaves gloo's threads running
        # into the interpreter's exit, where a finished rank can abort ("terminate called without
        # an active exception") and torchrun would call the job failed. Imported first, it keeps none.
        importlib.import_module("torch._dynamo")
        dist.init_process_group(backend=backend, timeout=timeout)
    if world > 1:
        if run is not None:
            _run = str(run)
        _watch_sigterm()
    return Dist(rank, world, local_rank, dev)


def _resume_hint(run: str | os.PathLike | None) -> str:
    run = _run or run
    return f"restart the job with --resume {run}" if run else "restart the job with --resume RUN"


def _claim_report(who: str) -> bool:
    """True if ``who`` is the first (or the same) to report a lost peer on this rank."""
    with _report_lock:
        if not _reporter:
            _reporter.append(who)
        return _reporter[0] == who


def _watch_sigterm() -> None:
    """Under torchrun, turn the agent's SIGTERM (sent when another rank died) into the one line.

    The C-level handler writes the signal number to a pipe even while the main thread is inside
    a long C++ call (torch releases the GIL there); a daemon thread reads it, prints the line and
    exits the process with code 1."""
    if _watch or threading.current_thread() is not threading.main_thread():
        return
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        old_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except ValueError:  # not the main thread of the main interpreter
        os.close(r)
        os.close(w)
        return
    old = signal.signal(signal.SIGTERM, lambda signum, frame: None)  # the watcher acts; the main thread runs on
    _watch.update(r=r, w=w, old=old, old_fd=old_fd)

    def watch() -> None:
        while True:
            try:
                got = os.read(r, 64)
            except OSError:
                return
            if not got:  # cleanup() closed the pipe
                os.close(r)
                return
            if signal.SIGTERM in got and _claim_report("watcher"):
                rank = int(os.environ.get("RANK", 0))
                print(f"gankit: error: rank {rank} was stopped (SIGTERM: torchrun stops every rank when one "
                      f"fails, or the job was cancelled); the last checkpoint is kept; {_resume_hint(None)}",
                      file=sys.stderr, flush=True)
                os._exit(1)
            # else: another signal (Ctrl-C has its own handler), or the main thread is already
            # reporting the lost peer; it prints the line and exits by itself

    threading.Thread(target=watch, name="gankit-sigterm", daemon=True).start()


def all_reduce_grads(params: list[torch.nn.Parameter], world: int) -> None:
    """Average gradients across ranks in one flat bucket."""
    grads = [p.grad for p in params if p.grad is not None]
    if world <= 1 or not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def broadcast_buffers(module: torch.nn.Module, world: int) -> None:
    """Make BN running statistics identical on every rank (rank 0's), e.g. before saving."""
    if world <= 1:
        return
    for b in module.buffers():
        dist.broadcast(b, src=0)


def gather_tensor(t: torch.Tensor, world: int) -> torch.Tensor:
    """Stack every rank's copy of ``t`` (same shape on each) -> (world, *t.shape); (1, ...) alone."""
    if world <= 1:
        return t.unsqueeze(0)
    dev = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    parts = [torch.empty_like(t, device=dev) for _ in range(world)]
    dist.all_gather(parts, t.to(dev))
    return torch.stack([p.cpu() for p in parts])


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank if it is true on any rank."""
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def main_value(value: float, device: torch.device) -> float:
    """Rank 0's ``value`` on every rank (float64: a time in seconds keeps its digits)."""
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.broadcast(t, src=0)
    return float(t.item())


def main_says(flag: bool, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank: a decision that only rank 0's state can make."""
    return bool(main_value(1.0 if flag else 0.0, device))


def barrier(world: int) -> None:
    if world > 1:
        dist.barrier()


def describe_failure(err: BaseException, run: str | None) -> str | None:
    """One line for a lost peer under torchrun (a rank died, the network broke); None otherwise."""
    if not dist.is_initialized():
        return None
    kinds = tuple(k for k in (getattr(dist, "DistBackendError", None), getattr(dist, "DistNetworkError", None))
                  if k is not None)
    text = str(err)
    lost = isinstance(err, kinds) or any(s in text.lower() for s in ("connection closed by peer", "connection reset",
                                                                     "broken pipe", "timed out", "nccl"))
    if not lost:
        return None
    if not _claim_report("main"):  # the SIGTERM watcher is printing the line and ending the process
        threading.Event().wait()
    first = (text.strip().splitlines() or [type(err).__name__])[0]
    first = re.sub(r"^\[[^\]]*\.(?:cc|cpp|h):\d+\]\s*", "", first)  # gloo's "[.../pair.cc:537] "
    first = first.split(". ")[0][:120]
    return (f"rank {int(os.environ.get('RANK', 0))} lost contact with the other ranks ({first}); "
            f"the last checkpoint is kept; {_resume_hint(run)}")


def cleanup() -> None:
    global _run
    if _watch and threading.current_thread() is threading.main_thread():
        signal.set_wakeup_fd(_watch["old_fd"])
        signal.signal(signal.SIGTERM, _watch["old"])
        os.close(_watch["w"])  # the watcher reads EOF and ends
        _watch.clear()
    _run = None
    _reporter.clear()
    if dist.is_initialized():
        dist.destroy_process_group()
