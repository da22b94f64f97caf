"""End to end through the CLI: train on the 8x8 digits, then sample a grid and arrays."""
import numpy as np
from PIL import Image


def test_train_then_sample(cli, tmp_path):
    run = tmp_path / "run"
    code, out, err = cli("train", "--model", "dcgan", "--data", "digits", "--epochs", "2", "--batch-size", "64",
                         "--set", "limit=512", "--set", "width=16", "--out", run, "--no-progress")
    assert code == 0, err
    assert str(run) in out
    for name in ("config.yaml", "checkpoints/last.pt", "samples/epoch-0001.png", "samples/epoch-0002.png",
                 "progress.gif", "losses.png", "log.jsonl"):
        assert (run / name).is_file(), name
    assert Image.open(run / "progress.gif").n_frames == 2

    code, out, err = cli("sample", run, "-n", "10", "--out", tmp_path / "s.npz")
    assert code == 0, err
    arr = np.load(tmp_path / "s.npz")
    assert arr["images"].shape == (10, 1, 8, 8) and arr["images"].dtype == np.float32
    assert 0.0 <= arr["images"].min() and arr["images"].max() <= 1.0

    code, out, err = cli("sample", run, "-n", "16", "--out", tmp_path / "s.png")
    assert code == 0, err
    assert Image.open(tmp_path / "s.png").size[0] > 4 * 8


def test_same_seed_same_samples(cli, tmp_path):
    run = tmp_path / "run"
    assert cli("train", "--model", "mlp", "--data", "digits", "--epochs", "1", "--set", "limit=256",
               "--out", run, "--no-progress")[0] == 0
    cli("sample", run, "-n", "5", "--seed", "3", "--out", tmp_path / "a.npz")
    cli("sample", run, "-n", "5", "--seed", "3", "--out", tmp_path / "b.npz")
    cli("sample", run, "-n", "5", "--seed", "4", "--out", tmp_path / "c.npz")
    a, b, c = (np.load(tmp_path / f"{k}.npz")["images"] for k in "abc")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_dry_run_prints_resolved_config(cli):
    code, out, err = cli("train", "--config", "configs/seed-000-dcgan.yaml", "--epochs", "3", "--set", "ema=0.999",
                         "--dry-run")
    assert code == 0, err
    import yaml

    cfg = yaml.safe_load(out)
    assert cfg["lr_g"] == 1e-4 and cfg["batch_size"] == 256 and cfg["epochs"] == 3 and cfg["ema"] == 0.999


def test_compile_flag_compiles_g_and_d_and_may_change_on_resume(cli, tmp_path):
    from gankit import config
    from gankit.training.engine import RESUMABLE, Trainer

    code, out, err = cli("train", "--data", "digits", "--compile", "--dry-run")
    assert code == 0, err
    assert "compile: true" in out.splitlines()
    tr = Trainer(config.resolve({"data": "digits", "width": 8, "compile": True, "out": str(tmp_path / "r")}))
    for name in ("G", "D"):  # compiled in place, so parameter names (and checkpoints) do not change
        assert tr.nets[name]._compiled_call_impl is not None
    assert all(not k.startswith("_orig_mod") for k in tr.nets.state_dict())
    assert "compile" in RESUMABLE
