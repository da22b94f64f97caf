"""The VAE: closed-form KL against Monte Carlo, the ELBO rising on the digits, its networks' contract."""
import pytest
import torch
from torch.distributions import Normal

import gankit
from gankit.models.autoencoder import kl_normal


def test_closed_form_kl_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g)
    logvar = torch.randn(4, 3, generator=g) * 0.8
    q, p = Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros(3), torch.ones(3))
    torch.manual_seed(1)
    z = q.sample((400_000,))  # (S, 4, 3)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)  # (4,)
    exact = kl_normal(mu, logvar)
    assert exact.shape == (4,)
    torch.testing.assert_close(exact, mc, rtol=0.02, atol=0.01)
    assert kl_normal(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max() == 0  # q = p


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_elbo_improves_on_the_digits(tmp_path, arch):
    run = gankit.train({"model": "vae", "arch": arch, "data": "digits", "epochs": 2, "batch_size": 32,
                        "z_dim": 8, "hidden": [128], "width": 32, "log_every": 5, "progress": False,
                        "report": False, "out": str(tmp_path / arch)})
    rows = run.log
    first, last = rows[0], rows[-1]
    for r in (first, last):  # the three ELBO terms are logged, and agree
        assert r["elbo"] == pytest.approx(-(r["recon"] + r["kl"]), abs=1e-3)
        assert r["kl"] >= 0
    # 64 pixels of Bernoulli BCE start near 64 * log 2 = 44 nats; two epochs (92 steps) gain well over 5
    assert last["elbo"] > first["elbo"] + 5, (first, last)
    # E gives (mu, logvar); G decodes codes to images in [-1, 1]
    mu, logvar = run.nets["E"](torch.zeros(2, 1, 8, 8))
    assert mu.shape == logvar.shape == (2, 8)
    assert run.sample(5)["images"].shape == (5, 1, 8, 8)
    assert (tmp_path / arch / "samples" / "recon-epoch-0002.png").is_file()
