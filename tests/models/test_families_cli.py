"""Every model family through the CLI on the 8x8 digits: train, resume, sample, per-epoch extras."""
import numpy as np
import pytest
import torch

import gankit

TINY = ["--data", "digits", "--batch-size", "64", "--set", "limit=128", "--set", "width=8", "--set", "hidden=32",
        "--set", "z_dim=8", "--set", "report=false", "--no-progress"]
EXTRAS = {"cgan": "classes", "acgan": "classes", "ae": "recon", "vae": "recon"}  # samples/<kind>-epoch-NNNN.png
EXACT = ("acgan", "vae")  # also checked: 1 epoch + resume to 2 == a straight 2-epoch run, weight for weight


def _nets(run_dir):
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["nets"]


@pytest.mark.parametrize("model", ["cgan", "acgan", "wgan", "wgan-gp", "ae", "vae", "latent-gan"])
def test_family_trains_resumes_and_samples(cli, tmp_path, model, ae_run):
    args = TINY + (["--set", f"ae_run={ae_run}"] if model == "latent-gan" else [])
    run = tmp_path / "run"
    code, out, err = cli("train", "--model", model, *args, "--epochs", "1", "--out", run)
    assert code == 0, err
    code, out, err = cli("train", "--resume", run, "--epochs", "2", "--no-progress")
    assert code == 0, err
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert (state["epoch"], state["step"]) == (2, 4)
    if model in EXTRAS:
        for epoch in (1, 2):
            assert (run / "samples" / f"{EXTRAS[model]}-epoch-{epoch:04d}.png").is_file()
    code, out, err = cli("sample", run, "-n", "6", "--out", tmp_path / "s.npz")
    assert code == 0, err
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (6, 1, 8, 8) and 0 <= images.min() and images.max() <= 1  # decoded for latent-gan
    if model in EXACT:
        straight = tmp_path / "straight"
        code, out, err = cli("train", "--model", model, *args, "--epochs", "2", "--out", straight)
        assert code == 0, err
        a, b = _nets(straight), _nets(run)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan") / "run"
    gankit.train({"model": "wgan", "data": "digits", "limit": 64, "width": 4, "epochs": 1, "progress": False,
                  "report": False, "out": str(out)})
    return out


def test_latent_gan_names_ae_run_when_it_is_missing_or_wrong(cli, tmp_path, gan_run):
    base = ["train", "--model", "latent-gan", *TINY, "--epochs", "1", "--out", tmp_path / "r"]
    for extra, says in (([], "needs the run directory"),
                        (["--set", f"ae_run={tmp_path / 'nowhere'}"], "not a gankit run directory"),
                        (["--set", f"ae_run={gan_run}"], "not an autoencoder")):
        code, out, err = cli(*base, *extra)
        assert code == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "ae_run" in lines[0] and says in lines[0], err


def test_autoencoders_refuse_points(cli, tmp_path):
    for model in ("ae", "vae"):
        code, out, err = cli("train", "--model", model, "--data", "ring", "--epochs", "1",
                             "--out", tmp_path / model)
        assert code == 2 and "needs images" in err and len(err.strip().splitlines()) == 1
