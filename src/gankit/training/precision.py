"""The precision a run trains in: ``--precision auto`` decides by device, data and network."""
from __future__ import annotations

from pathlib import Path

import torch

from ..data import Dataset
from ..errors import ConfigError


def cpu_has_fast_bf16() -> bool:
    """True where the CPU has native bf16 dot products (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def has_conv(nets: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in nets.modules())


def resolve_precision(precision: str, device: torch.device, data: Dataset, nets: torch.nn.Module) -> str:
    """``auto``: AMP on CUDA (bf16 where supported, else fp16); on the CPU bf16 autocast only for
    image networks with convolutions on a CPU with native bf16. Fully connected networks measured
    0.90-0.99x in bf16 on the CPU (docs/benchmarks.md): the casts around each matmul cost what the
    matmul saves. bf16 keeps ~3 significant digits: fine for images, too coarse for 2-D toy points."""
    if precision != "auto":
        if precision == "fp16" and device.type != "cuda":
            raise ConfigError("--precision fp16 needs CUDA; use bf16 or fp32 on the CPU")
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if data.is_image and has_conv(nets) and cpu_has_fast_bf16() else "fp32"


def use_channels_last(data: Dataset, nets: torch.nn.Module) -> bool:
    """Convolutional image networks keep their weights channels-last (NHWC), on CUDA and on the
    CPU alike: convolutions then run in NHWC, the layout cuDNN's tensor cores and oneDNN's
    AMX/AVX-512 kernels are written for. Measured on the CPU (docs/benchmarks.md): the default
    dcgan's step 1.2-1.3x faster in bf16 and 1.2x in fp32. Inputs stay NCHW; each convolution
    follows its weight's layout."""
    return data.is_image and has_conv(nets)
