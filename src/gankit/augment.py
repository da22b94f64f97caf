"""Differentiable augmentation of D's inputs (DiffAugment, Zhao et al. 2020).

D sees every image, real or fake, through the same random transforms, and G's gradient flows
back through them, so D cannot learn the transforms away and G is not taught to draw them. Two
of the paper's three transforms, chosen for small grey-scale images:

- ``translation``: each image moves by a whole number of pixels, up to ``ratio`` (1/8) of its
  side along each axis; the pixels moved in are 0 (mid-grey on gankit's [-1, 1] images).
- ``cutout``: a square of ``ratio`` (1/2) of the side, at a random place, is set to 0.

Each draw comes from ``uniform(n)``, the trainer's own stream, so a resumed run draws what the
run never stopped would have drawn.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

TRANSLATION_RATIO = 1 / 8
CUTOUT_RATIO = 1 / 2


def _offsets(uniform: Callable[[int], torch.Tensor], n: int, span: int) -> torch.Tensor:
    """(n,) whole numbers in [0, span), one per image."""
    return (uniform(n) * span).long().clamp_(max=span - 1)


def translation(x: torch.Tensor, uniform: Callable[[int], torch.Tensor],
                ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """x (B, C, H, W) with each image shifted by (dy, dx), |dy| <= ratio*H, |dx| <= ratio*W."""
    B, _, H, W = x.shape
    sy, sx = int(H * ratio + 0.5), int(W * ratio + 0.5)
    dy = _offsets(uniform, B, 2 * sy + 1) - sy  # (B,)
    dx = _offsets(uniform, B, 2 * sx + 1) - sx
    # output pixel (i, j) reads input (i - dy, j - dx); the one-pixel zero border of x_pad is
    # where every read from outside the image lands
    rows = (torch.arange(H, device=x.device)[None, :] - dy[:, None] + 1).clamp_(0, H + 1)  # (B, H)
    cols = (torch.arange(W, device=x.device)[None, :] - dx[:, None] + 1).clamp_(0, W + 1)  # (B, W)
    x_pad = F.pad(x, (1, 1, 1, 1))  # (B, C, H + 2, W + 2)
    b = torch.arange(B, device=x.device)[:, None, None]
    return x_pad.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, uniform: Callable[[int], torch.Tensor], ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """x (B, C, H, W) with one square of side ratio*H by ratio*W per image set to 0; the square's
    centre is anywhere in the image, so it may be cut by the border."""
    B, _, H, W = x.shape
    h, w = int(H * ratio + 0.5), int(W * ratio + 0.5)
    cy = _offsets(uniform, B, H + (1 - h % 2))  # (B,) centres, as the paper draws them
    cx = _offsets(uniform, B, W + (1 - w % 2))
    rows = torch.arange(H, device=x.device)[None, :] - (cy[:, None] - h // 2)  # (B, H)
    cols = torch.arange(W, device=x.device)[None, :] - (cx[:, None] - w // 2)
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]  # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


TRANSFORMS = {"translation": translation, "cutout": cutout}  # config.AUGMENTS names these


def augment(x: torch.Tensor, policy: tuple[str, ...], uniform: Callable[[int], torch.Tensor]) -> torch.Tensor:
    """x through each transform of ``policy`` in turn (images only: other data pass unchanged)."""
    if x.dim() != 4:
        return x
    for name in policy:
        x = TRANSFORMS[name](x, uniform)
    return x
