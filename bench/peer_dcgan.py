"""The peer baseline: the 28x28 MNIST DCGAN a PyTorch user reaches for, the C++ example of
pytorch/examples (cpp/dcgan), rewritten in Python from its published settings, trained by a plain
fp32 loop as that example does:

G: ConvT 100->256 (k4) -> BN -> ReLU            (B, 256, 4, 4)
   ConvT 256->128 (k3, s2, p1) -> BN -> ReLU    (B, 128, 7, 7)
   ConvT 128->64 (k4, s2, p1) -> BN -> ReLU     (B, 64, 14, 14)
   ConvT 64->1 (k4, s2, p1) -> tanh             (B, 1, 28, 28)
D: Conv 1->64 (k4, s2, p1) -> LeakyReLU 0.2
   Conv 64->128 (k4, s2, p1) -> BN -> LeakyReLU 0.2
   Conv 128->256 (k4, s2, p1) -> BN -> LeakyReLU 0.2
   Conv 256->1 (k3) -> sigmoid
Adam 2e-4, betas (0.5, 0.5), batch 64, real labels drawn from U(0.8, 1), BCE.
"""
from __future__ import annotations

import time

import torch
from torch import nn


class PeerGenerator(nn.Module):
    def __init__(self, z_dim: int = 100):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 256, 4, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
            nn.ConvTranspose2d(256, 128, 3, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.net(z.view(z.shape[0], -1, 1, 1))


class PeerDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
            nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
            nn.Conv2d(256, 1, 3, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.net(x).view(-1)


def train_peer(x_train: torch.Tensor, minutes: float, seed: int = 0, batch_size: int = 64) -> tuple:
    """Train for a wall-clock budget on (N, 1, 28, 28) images in [-1, 1]. Returns (G, steps)."""
    torch.manual_seed(seed)
    G, D = PeerGenerator(), PeerDiscriminator()
    og = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.5))
    od = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.5))
    bce = nn.BCELoss()
    steps, t0, n = 0, time.perf_counter(), len(x_train)
    while time.perf_counter() - t0 < minutes * 60:
        perm = torch.randperm(n)
        for i in range(0, n - batch_size + 1, batch_size):
            real = x_train[perm[i:i + batch_size]]
            D.zero_grad()
            real_labels = torch.empty(batch_size).uniform_(0.8, 1.0)
            d_real = bce(D(real), real_labels)
            fake = G(torch.randn(batch_size, 100))
            d_fake = bce(D(fake.detach()), torch.zeros(batch_size))
            (d_real + d_fake).backward()
            od.step()
            G.zero_grad()
            g_loss = bce(D(fake), torch.ones(batch_size))
            g_loss.backward()
            og.step()
            steps += 1
            if time.perf_counter() - t0 >= minutes * 60:
                break
    return G.eval(), steps


@torch.no_grad()
def sample_peer(G: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    out = [G(torch.randn(min(500, n - i), 100, generator=g)) for i in range(0, n, 500)]
    return (torch.cat(out).clamp(-1, 1) + 1) / 2  # (n, 1, 28, 28) in [0, 1]
