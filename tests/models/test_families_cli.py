"""Every model family through the CLI on the 8x8 digits: train, resume, sample, per-epoch extras."""
import os
import signal

import numpy as np
import pytest
import torch

import gankit
from gankit.registry import MODELS
from gankit.training.steps import STEPS

TINY = ["--data", "digits", "--batch-size", "64", "--set", "limit=128", "--set", "width=8", "--set", "hidden=32",
        "--set", "z_dim=8", "--set", "report=false", "--no-progress"]
# mlp: D with dropout, so that an exact resume needs the saved RNG of the dropout masks too.
# wgan, wgan-gp: batches of 32, 4 steps an epoch, and the papers' n_critic = 5, so that G's first update (after 5 critic
# steps) comes at step 5, in the second epoch: the resume after epoch 1 (step 4) and the Ctrl-C
# after step 3 both fall in the middle of an n_critic cycle, and wgan-gp's alpha comes from the noise
# stream the checkpoint carries.
MORE = {"mlp": ["--set", "dropout=0.5"], "wgan": ["--batch-size", "32", "--set", "n_critic=5"],
        "wgan-gp": ["--batch-size", "32", "--set", "n_critic=5"]}
EXTRAS = {"cgan": "classes", "acgan": "classes", "ae": "recon", "vae": "recon"}  # samples/<kind>-epoch-NNNN.png
INTERRUPT_AT = 2  # Ctrl-C arrives during the third step: mid-epoch for epochs of 2 or 4 steps


def _nets(run_dir):
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["nets"]


def _same_weights(want: dict, got: dict) -> None:
    assert want.keys() == got.keys()
    assert all(torch.equal(want[k], got[k]) for k in want), [k for k in want if not torch.equal(want[k], got[k])]


@pytest.mark.parametrize("model", ["mlp", "cgan", "acgan", "wgan", "wgan-gp", "ae", "vae", "latent-gan"])
def test_family_trains_resumes_and_samples(cli, tmp_path, model, ae_run, monkeypatch):
    """Three ways to 2 epochs end with the same weights, tensor for tensor: straight; 1 epoch then
    ``--resume``; and Ctrl-C in the middle of an epoch then ``--resume``."""
    args = TINY + MORE.get(model, []) + (["--set", f"ae_run={ae_run}"] if model == "latent-gan" else [])
    steps_per_epoch = 4 if "32" in MORE.get(model, []) else 2
    straight = tmp_path / "straight"
    code, out, err = cli("train", "--model", model, *args, "--epochs", "2", "--out", straight)
    assert code == 0, err
    want = _nets(straight)

    run = tmp_path / "run"
    code, out, err = cli("train", "--model", model, *args, "--epochs", "1", "--out", run)
    assert code == 0, err
    after_one = _nets(run)
    code, out, err = cli("train", "--resume", run, "--epochs", "2", "--no-progress")
    assert code == 0, err
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert (state["epoch"], state["step"], state["batch"]) == (2, 2 * steps_per_epoch, 0)
    _same_weights(want, state["nets"])
    # every network it trains moved during the resumed epoch (wgan's G for the first time); the
    # latent GAN's autoencoder stayed frozen
    for net in {k.split(".")[0] for k in want}:
        moved = any(not torch.equal(after_one[k], want[k]) for k in want if k.startswith(net + "."))
        assert moved == (net != "AE"), net
    if model in EXTRAS:
        for epoch in (1, 2):
            assert (run / "samples" / f"{EXTRAS[model]}-epoch-{epoch:04d}.png").is_file()
        assert (run / "samples" / f"{EXTRAS[model]}-final.png").is_file()  # and at the end of training
    code, out, err = cli("sample", run, "-n", "6", "--out", tmp_path / "s.npz")
    assert code == 0, err
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (6, 1, 8, 8) and 0 <= images.min() and images.max() <= 1  # decoded for latent-gan
    loaded = gankit.load(run)  # the shape of what it samples, not of what it trained on (codes)
    assert loaded.sample_shape == (1, 8, 8) and (loaded.data_shape != (1, 8, 8)) == (model == "latent-gan")

    # Ctrl-C (a real SIGINT) during step 3: the run stops after it, mid-epoch, saves, and resumes.
    family_step = MODELS.get(model).step
    real_step = STEPS[family_step]

    def step(tr, x, y):
        if tr.step == INTERRUPT_AT:
            os.kill(os.getpid(), signal.SIGINT)
        return real_step(tr, x, y)

    cut = tmp_path / "cut"
    with monkeypatch.context() as m:
        m.setitem(STEPS, family_step, step)
        code, out, err = cli("train", "--model", model, *args, "--epochs", "2", "--out", cut)
    assert code == 0, err
    assert f"Continue with: gankit train --resume {cut}" in out
    state = torch.load(cut / "checkpoints" / "last.pt", weights_only=True)
    done = INTERRUPT_AT + 1
    assert (state["step"], state["epoch"], state["batch"]) == (done, *divmod(done, steps_per_epoch))
    assert state["batch"] > 0  # mid-epoch
    code, out, err = cli("train", "--resume", cut, "--no-progress")
    assert code == 0, err
    assert "interrupted" not in out
    _same_weights(want, _nets(cut))


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
