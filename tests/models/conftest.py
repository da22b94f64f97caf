"""Runs shared by the model tests."""
import pytest

import gankit


@pytest.fixture(scope="session")
def ae_run(tmp_path_factory):
    """A tiny trained autoencoder on the digits: the ae_run of latent-gan runs."""
    out = tmp_path_factory.mktemp("ae") / "run"
    gankit.train({"model": "ae", "data": "digits", "limit": 128, "z_dim": 16, "epochs": 1, "progress": False,
                  "report": False, "out": str(out)})
    return out
