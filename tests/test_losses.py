"""The adversarial losses on logits."""
import math

import torch

from gankit.registry import LOSSES


def test_minimax_gradient_vanishes_where_nonsaturating_does_not():
    # Early in training D rejects fakes confidently: logit -8, D(G(z)) ~ 3e-4.
    logit = torch.tensor([-8.0], requires_grad=True)
    LOSSES.get("minimax").g(logit).backward()
    g_minimax = logit.grad.abs().item()
    logit.grad = None
    LOSSES.get("nonsaturating").g(logit).backward()
    g_ns = logit.grad.abs().item()
    assert g_minimax < 1e-3 and g_ns > 0.99
    assert g_ns / g_minimax > 1000


def test_bce_losses_match_their_formulas():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    d = lambda l: torch.sigmoid(l)
    expected_d = -(torch.log(d(real)).mean() + torch.log(1 - d(fake)).mean())
    assert torch.allclose(LOSSES.get("nonsaturating").d(real, fake, 1.0), expected_d)
    assert torch.allclose(LOSSES.get("minimax").g(fake), torch.log(1 - d(fake)).mean())
    assert torch.allclose(LOSSES.get("nonsaturating").g(fake), -torch.log(d(fake)).mean())
    smoothed = LOSSES.get("nonsaturating").d(real, fake, 0.9)
    expected = -(0.9 * torch.log(d(real)) + 0.1 * torch.log(1 - d(real))).mean() - torch.log(1 - d(fake)).mean()
    assert torch.allclose(smoothed, expected)


def test_logit_losses_are_stable_at_extremes():
    big = torch.tensor([100.0, -100.0])
    for name in ("minimax", "nonsaturating", "wasserstein", "hinge", "lsgan"):
        loss = LOSSES.get(name)
        assert math.isfinite(loss.d(big, -big, 1.0).item()) and math.isfinite(loss.g(big).item())


def test_wasserstein_hinge_lsgan():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    assert LOSSES.get("wasserstein").d(real, fake, 1.0).item() == -2.5
    assert LOSSES.get("hinge").d(real, fake, 1.0).item() == (0 + 0) / 2 + (0 + 1) / 2
    assert LOSSES.get("lsgan").g(fake).item() == 0.5 * (4 + 1) / 2


def test_hinge_lsgan_wasserstein_formulas_and_gradients():
    """Each remaining formula against its definition, on logits on both sides of every hinge and
    target, and the gradient each side of the game receives."""
    real = torch.tensor([2.0, 0.5, -0.5, 1.0])  # hinge: 1 - r > 0 for 0.5 and -0.5 only
    fake = torch.tensor([-2.0, -0.25, 0.75, -1.0])  # hinge: 1 + f > 0 for -0.25 and 0.75 only
    hinge, lsgan, wass = LOSSES.get("hinge"), LOSSES.get("lsgan"), LOSSES.get("wasserstein")

    # hinge D: E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))) = (0.5 + 1.5) / 4 + (0.75 + 1.75) / 4
    assert hinge.d(real, fake, 1.0).item() == 2.0 / 4 + 2.5 / 4
    # hinge G and wasserstein G: -E D(G(z)), whatever the value (no margin on G's side)
    assert hinge.g(fake).item() == -(-2.0 - 0.25 + 0.75 - 1.0) / 4 == 0.625
    assert wass.g(fake).item() == 0.625
    # wasserstein D: E D(G(z)) - E D(x)
    assert wass.d(real, fake, 1.0).item() == (-2.5 / 4) - (3.0 / 4)

    # lsgan D: 1/2 E (D(x) - t)^2 + 1/2 E D(G(z))^2, with the real target t (smoothing included)
    for t in (1.0, 0.9):
        want = 0.5 * sum((r - t) ** 2 for r in real.tolist()) / 4 + 0.5 * sum(f * f for f in fake.tolist()) / 4
        assert math.isclose(lsgan.d(real, fake, t).item(), want, rel_tol=1e-6), t
    # lsgan G: 1/2 E (D(G(z)) - 1)^2
    assert math.isclose(lsgan.g(fake).item(), 0.5 * sum((f - 1) ** 2 for f in fake.tolist()) / 4, rel_tol=1e-6)

    def grads(fn, *xs):
        xs = [x.clone().requires_grad_(True) for x in xs]
        fn(*xs).backward()
        return [x.grad for x in xs]

    n = len(real)
    g_real, g_fake = grads(lambda r, f: hinge.d(r, f, 1.0), real, fake)
    assert torch.equal(g_real, torch.tensor([0.0, -1.0, -1.0, 0.0]) / n)  # only inside the margin
    assert torch.equal(g_fake, torch.tensor([0.0, 1.0, 1.0, 0.0]) / n)
    for loss in (hinge, wass):  # G pushes every fake score up by the same amount
        (g,) = grads(loss.g, fake)
        assert torch.equal(g, torch.full((n,), -1.0 / n))
    g_real, g_fake = grads(lambda r, f: lsgan.d(r, f, 0.9), real, fake)
    torch.testing.assert_close(g_real, (real - 0.9) / n)
    torch.testing.assert_close(g_fake, fake / n)
    (g,) = grads(lsgan.g, fake)
    torch.testing.assert_close(g, (fake - 1) / n)
    assert not any(LOSSES.get(name).probabilistic for name in ("hinge", "lsgan", "wasserstein"))


def test_nonsaturating_g_takes_a_smoothed_target():
    # The AC-GAN notebook's G aims D's verdict at 0.95, not 1 (its `trick`)
    fake = torch.tensor([0.5, -3.0, 4.0])
    d = torch.sigmoid(fake)
    ns = LOSSES.get("nonsaturating")
    expected = -(0.95 * torch.log(d) + 0.05 * torch.log(1 - d)).mean()
    assert torch.allclose(ns.g(fake, 0.95), expected)
    assert torch.allclose(ns.g(fake, 1.0), -torch.log(d).mean())
    # a target below 1 stops pushing a fake that D already rates above it: the gradient turns
    confident = torch.tensor([6.0], requires_grad=True)  # D(G(z)) = 0.9975 > 0.95
    ns.g(confident, 0.95).backward()
    assert confident.grad.item() > 0


def test_every_loss_takes_g_target():
    # the GAN steps pass G's target to every loss; only the non-saturating one uses it
    fake = torch.tensor([0.5, -3.0])
    for name in ("minimax", "nonsaturating", "wasserstein", "hinge", "lsgan"):
        loss = LOSSES.get(name)
        assert torch.equal(loss.g(fake, 1.0), loss.g(fake))
