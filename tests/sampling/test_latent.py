"""Latent-space maths: interpolation, the lecture's walk, arithmetic, index parsing."""
import math

import pytest
import torch

from gankit.errors import GankitError
from gankit.sampling import latent as L


def _pair(d=100, seed=0):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(d, generator=g), torch.randn(d, generator=g)
    return a, b * (a.norm() / b.norm())  # the same norm, so slerp should keep it


@pytest.mark.parametrize("mode", ["lerp", "slerp"])
def test_interpolation_endpoints_are_the_endpoints(mode):
    a, b = _pair()
    path = L.interpolate(a, b, 7, mode)
    assert path.shape == (7, 100)
    assert torch.allclose(path[0], a, atol=1e-6) and torch.allclose(path[-1], b, atol=1e-6)


def test_slerp_keeps_the_norm_and_lerp_does_not():
    a, b = _pair()
    t = torch.linspace(0, 1, 11)
    s_norms, l_norms = L.slerp(a, b, t).norm(dim=1), L.lerp(a, b, t).norm(dim=1)
    assert torch.allclose(s_norms, a.norm().expand(11), rtol=1e-5)
    # lerp's midpoint shrinks by cos(omega / 2) for vectors of equal norm
    omega = torch.arccos(torch.dot(a, b) / (a.norm() * b.norm()))
    assert l_norms[5] == pytest.approx(float(a.norm() * torch.cos(omega / 2)), rel=1e-4)
    assert l_norms[5] < 0.8 * a.norm()  # two random 100-d directions are nearly orthogonal


def test_slerp_moves_at_constant_angular_speed():
    a, b = _pair(d=8, seed=3)
    path = L.slerp(a, b, torch.linspace(0, 1, 5))
    cos = lambda u, v: float(torch.dot(u, v) / (u.norm() * v.norm()))
    angles = [math.acos(max(-1.0, min(1.0, cos(path[i], path[i + 1])))) for i in range(4)]
    assert max(angles) - min(angles) < 1e-4


def test_slerp_of_parallel_vectors_falls_back_to_lerp():
    a = torch.ones(4)
    assert torch.allclose(L.slerp(a, 2 * a, torch.tensor([0.5])), torch.full((1, 4), 1.5))


def test_interpolation_rejects_bad_mode_and_steps():
    a, b = _pair(4)
    with pytest.raises(GankitError, match="--mode"):
        L.interpolate(a, b, 5, "cubic")
    with pytest.raises(GankitError, match="--steps"):
        L.interpolate(a, b, 1)


@pytest.mark.parametrize("n,z_dim", [(225, 100), (100, 100), (7, 3), (5, 1)])
def test_walk_has_the_requested_shape(n, z_dim):
    # The notes draw shape (number, number): only n == z_dim == 100 would work there.
    z = L.walk_latents(n, z_dim, 5.0, 1.0, torch.Generator().manual_seed(0))
    assert z.shape == (n, z_dim)


def test_walk_means_and_spreads_follow_the_dimensions():
    z = L.walk_latents(20000, 5, scale_means=4.0, scale_stds=2.0, generator=torch.Generator().manual_seed(1))
    t = torch.linspace(-1, 1, 5)
    assert torch.allclose(z.mean(0), 4.0 * t, atol=0.06)
    assert torch.allclose(z.std(0), (2.0 * t).abs(), atol=0.05)
    assert z[:, 2].abs().max() == 0  # the middle dimension has no spread: t = 0 there


def test_walk_reuses_given_noise():
    eps = torch.randn(3, 4)
    z1 = L.walk_latents(3, 4, 1.0, 1.0, eps=eps)
    z2 = L.walk_latents(3, 4, 2.0, 1.0, eps=eps)
    assert torch.allclose(z2 - z1, torch.linspace(-1, 1, 4).expand(3, 4))


def test_arithmetic_is_mean_a_minus_mean_b_plus_mean_c():
    z = torch.arange(12.0).view(6, 2)
    out = L.arithmetic(z, [0, 1], [2], [4, 5])
    assert torch.equal(out["result"], z[[0, 1]].mean(0) - z[2] + z[[4, 5]].mean(0))
    assert torch.equal(L.arithmetic(z, [3])["result"], z[3])
    with pytest.raises(GankitError, match="--a"):
        L.arithmetic(z, [])


def test_parse_indices_names_the_flag():
    assert L.parse_indices("1, 5,9", "--a", 10) == [1, 5, 9]
    with pytest.raises(GankitError, match="--b: index 10 is outside 0..9"):
        L.parse_indices("1,10", "--b", 10)
    with pytest.raises(GankitError, match="--c: expected comma-separated"):
        L.parse_indices("1,x", "--c", 10)
