"""torchrun support: the same code runs single-process and under ``torchrun --nproc_per_node=N``.

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE (and the rendezvous variables); with WORLD_SIZE > 1
we join the process group (gloo on CPU, NCCL on CUDA). Gradients are averaged across ranks with
all-reduce after each backward pass, so every rank takes the same optimiser step and holds the
same weights; files are written by rank 0 only.
"""
from __future__ import annotations

import datetime
import os
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


def setup(device: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        timeout = datetime.timedelta(seconds=float(os.environ.get("GANKIT_DIST_TIMEOUT", "300")))
        dist.init_process_group(backend=backend, timeout=timeout)
    return Dist(rank, world, local_rank, dev)


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
    lost = isinstance(err, kinds) or any(s in text for s in ("Connection closed by peer", "Connection reset",
                                                             "Broken pipe", "timed out", "NCCL"))
    if not lost:
        return None
    first = (text.strip().splitlines() or [type(err).__name__])[0][:160]
    again = f"; restart the job with --resume {run}" if run else ""
    return (f"rank {int(os.environ.get('RANK', 0))} lost contact with the other ranks ({first}); "
            f"the last checkpoint is kept{again}")


def cleanup() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
