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
