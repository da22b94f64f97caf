"""Images that are not digits: what the judge's reject head learns to refuse.

A classifier trained on digits alone spreads all of its probability over the digits, whatever it
is shown: uniform noise, a flat grey image or a checkerboard each get a confident class
(mnist-judge-v1 gave them mean confidence 1.000). Such a judge cannot tell a collapsed generator
from real data by confidence, which is the talk's test of GAN against VAE samples (seed 003).
The judge therefore carries a second head, p(digit | x), trained on its frozen features to tell
real training images from the kinds of images below, the failures a GAN shows on the way:

    noise       uniform noise over a random grey range (an untrained generator)
    constant    one grey level everywhere (a dead generator)
    pattern     checkerboards, stripes and grids of period 1-7 (transposed-convolution artefacts)
    shuffled    a real digit with its pixels permuted (the right ink, no shape)
    blurred     a real digit under a Gaussian blur of std 2-4 pixels (no strokes left)
    fragment    a window of 18-36% of the side of a real digit, the rest erased
    blobs       smoothed noise (soft shapes with no strokes)
    salt        sparse white dots on the background

Every image is (1, H, W) in [-1, 1] with background -1, like the judge's input; ``H`` follows the
digits given, so the same kinds serve the 8x8 ``digits`` judge. Everything is drawn from the
generator passed in, so a judge recipe with a seed rebuilds the same images.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

KINDS = ("noise", "constant", "pattern", "shuffled", "blurred", "fragment", "blobs", "salt")


def gaussian_blur(x: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Blur each image of x (B, 1, H, W) with its own Gaussian std (B,) in pixels, background -1."""
    b, _, h, w = x.shape
    r = int(3 * float(std.max()) + 0.5)
    t = torch.arange(-r, r + 1, dtype=torch.float32)  # (k,)
    kern = torch.exp(-t[None] ** 2 / (2 * std[:, None] ** 2))  # (B, k)
    kern = kern / kern.sum(dim=1, keepdim=True)
    padded = F.pad(x, (r,) * 4, value=-1.0).transpose(0, 1)  # (1, B, H + 2r, W + 2r): one group per image
    rows = F.conv2d(padded, kern[:, None, :, None], groups=b)  # (1, B, H, W + 2r)
    return F.conv2d(rows, kern[:, None, None, :], groups=b).transpose(0, 1)  # (B, 1, H, W)


def _uniform(n: int, gen: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)  # (n,)


def _pick(digits: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    return digits[torch.randint(0, len(digits), (n,), generator=gen)].float()  # (n, 1, H, W)


def make_kind(kind: str, digits: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """n images (n, 1, H, W) in [-1, 1] of one kind; ``digits`` (N, 1, H, W) are real images."""
    h, w = digits.shape[-2:]
    if kind == "noise":
        ends = torch.rand(n, 2, generator=gen).sort(dim=1).values * 2 - 1  # (n, 2) a grey range
        u = torch.rand(n, 1, h, w, generator=gen)
        return ends[:, 0, None, None, None] + (ends[:, 1] - ends[:, 0])[:, None, None, None] * u
    if kind == "constant":
        return _uniform(n, gen, -1, 1)[:, None, None, None].expand(n, 1, h, w).clone()
    if kind == "pattern":
        period = torch.randint(1, 8, (n, 1), generator=gen)  # (n, 1)
        shift = torch.randint(0, 14, (n, 2), generator=gen)  # (n, 2)
        rows = (torch.arange(h)[None] + shift[:, :1]) // period % 2  # (n, H)
        cols = (torch.arange(w)[None] + shift[:, 1:]) // period % 2  # (n, W)
        r, c = rows[:, :, None], cols[:, None, :]
        shapes = torch.stack([(r + c) % 2, r.expand(n, h, w), c.expand(n, h, w), r | c])  # (4, n, H, W)
        pat = shapes[torch.randint(0, 4, (n,), generator=gen), torch.arange(n)].float()  # (n, H, W)
        lev = torch.rand(n, 2, generator=gen).sort(dim=1).values * 2 - 1  # (n, 2) dark, light
        return (lev[:, :1, None] + (lev[:, 1:, None] - lev[:, :1, None]) * pat)[:, None]
    if kind == "shuffled":
        flat = _pick(digits, n, gen).reshape(n, -1)  # (n, H*W)
        order = torch.rand(n, h * w, generator=gen).argsort(dim=1)
        return flat.gather(1, order).reshape(n, 1, h, w)
    if kind == "blurred":
        return gaussian_blur(_pick(digits, n, gen), _uniform(n, gen, 2.0, 4.0) * h / 28)
    if kind == "fragment":
        x = _pick(digits, n, gen)
        side = (_uniform(n, gen, 0.18, 0.36) * h).round().clamp(min=1).long()  # (n,)
        y0 = (_uniform(n, gen) * (h - side)).long()
        x0 = (_uniform(n, gen) * (w - side)).long()
        ys, xs = torch.arange(h)[None], torch.arange(w)[None]  # (1, H), (1, W)
        keep = ((ys >= y0[:, None]) & (ys < (y0 + side)[:, None]))[:, :, None] \
            & ((xs >= x0[:, None]) & (xs < (x0 + side)[:, None]))[:, None, :]  # (n, H, W)
        return torch.where(keep[:, None], x, torch.full_like(x, -1.0))
    if kind == "blobs":
        noise = (torch.rand(n, 1, h, w, generator=gen) * 2 - 1) * 3
        return gaussian_blur(noise, _uniform(n, gen, 1.0, 3.0) * h / 28).clamp(-1, 1)
    if kind == "salt":
        density = _uniform(n, gen, 0.05, 0.35)[:, None, None, None]
        return torch.where(torch.rand(n, 1, h, w, generator=gen) < density, 1.0, -1.0)
    raise ValueError(f"unknown kind of non-digit {kind!r}; kinds: {', '.join(KINDS)}")


def non_digits(digits: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """n images (n, 1, H, W) in [-1, 1], the kinds in equal shares, in a seeded random order."""
    per = [n // len(KINDS) + (i < n % len(KINDS)) for i in range(len(KINDS))]
    x = torch.cat([make_kind(k, digits, m, gen) for k, m in zip(KINDS, per)])
    return x[torch.randperm(n, generator=gen)].contiguous()


__all__ = ["KINDS", "gaussian_blur", "make_kind", "non_digits"]
