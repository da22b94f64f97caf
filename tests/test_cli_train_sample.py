"""End to end through the CLI: train on the 8x8 digits, then sample a grid and arrays."""
import collections
import os
from pathlib import Path

import numpy as np
import torch
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


# The compiler behind --compile in the test below. torch.compile's default, inductor, spends about
# 45-75 s generating and building C++ kernels for these tiny networks on a 2-core CPU (about 15 s once
# its on-disk cache is warm); aot_eager runs the same TorchDynamo graph capture and AOTAutograd
# forward/backward graphs without the code generation. GANKIT_TEST_COMPILE_BACKEND=inductor checks that.
COMPILE_BACKEND = os.environ.get("GANKIT_TEST_COMPILE_BACKEND", "aot_eager")
COMPILE_RUN = ["--model", "dcgan", "--data", "digits", "--batch-size", "64", "--set", "limit=128", "--set", "width=8",
               "--set", "z_dim=8", "--set", "report=false", "--precision", "fp32", "--no-progress"]


def test_compile_flag_compiles_g_and_d_and_may_change_on_resume(cli, tmp_path, monkeypatch):
    """--compile trains through compiled G and D (their compiled graphs run at every step), keeps
    the parameter names, and may be switched on (--compile) or off (--set compile=false) on resume:
    each way, 1 epoch + resume to 2 matches a straight eager run of 2 epochs (to float rounding:
    compiled graphs may order sums differently)."""
    import torch._dynamo

    from gankit.training.launch import RESUMABLE

    code, out, err = cli("train", "--data", "digits", "--compile", "--dry-run")
    assert code == 0, err
    assert "compile: true" in out.splitlines()
    assert "compile" in RESUMABLE

    compiled, runs = [], collections.Counter()  # modules compiled; compiled-graph runs per network
    real_compile = torch.nn.Module.compile

    def compile_counting(self, *args, **kwargs):
        name, inner = type(self).__name__, torch._dynamo.lookup_backend(COMPILE_BACKEND)
        compiled.append(name)

        def backend(gm, example_inputs):
            fn = inner(gm, example_inputs)

            def run(*a):
                runs[name] += 1
                return fn(*a)

            run._boxed_call = getattr(fn, "_boxed_call", False)
            return run

        return real_compile(self, *args, **{**kwargs, "backend": backend})

    monkeypatch.setattr(torch.nn.Module, "compile", compile_counting)
    torch._dynamo.reset()
    try:
        straight = _train(cli, *COMPILE_RUN, "--epochs", "2", "--out", tmp_path / "straight")
        eager1 = _train(cli, *COMPILE_RUN, "--epochs", "1", "--out", tmp_path / "eager")
        assert not compiled and not runs

        # compiled from the start: 1 epoch (2 steps) through compiled G and D
        comp1 = _train(cli, *COMPILE_RUN, "--epochs", "1", "--compile", "--out", tmp_path / "comp")
        assert sorted(compiled) == ["RadfordDiscriminator", "RadfordGenerator"]
        # G once a step; D three times (real, fake, and fake again for G's loss)
        assert runs["RadfordGenerator"] >= 2 and runs["RadfordDiscriminator"] >= 6, runs
        assert comp1["nets"].keys() == eager1["nets"].keys()  # no "_orig_mod." in the names
        _close(comp1["nets"], eager1["nets"], moved_from=None)
        # ... resumed with compile switched off (a resumed run keeps its settings, --compile too,
        # unless told): nothing compiled, nothing run compiled
        before = dict(runs)
        comp2 = _train(cli, "--resume", tmp_path / "comp", "--epochs", "2", "--set", "compile=false", "--no-progress")
        assert len(compiled) == 2 and dict(runs) == before
        assert comp2["config"]["compile"] is False
        _close(comp2["nets"], straight["nets"], moved_from=comp1["nets"])

        # eager first, resumed with --compile
        eager2 = _train(cli, "--resume", tmp_path / "eager", "--epochs", "2", "--compile", "--no-progress")
        assert len(compiled) == 4 and runs["RadfordDiscriminator"] >= before["RadfordDiscriminator"] + 6, runs
        _close(eager2["nets"], straight["nets"], moved_from=eager1["nets"])
    finally:
        torch._dynamo.reset()


def _train(cli, *args) -> dict:
    """Run ``gankit train ARGS`` and return the run's last checkpoint."""
    code, out, err = cli("train", *args)
    assert code == 0, err
    run = args[args.index("--out") + 1] if "--out" in args else args[args.index("--resume") + 1]
    return torch.load(Path(run) / "checkpoints" / "last.pt", weights_only=True)


def _close(got: dict, want: dict, moved_from: dict | None) -> None:
    """Weights equal to ``want`` to float rounding (1e-4 of them; a training step moves them by up to
    the learning rate, 1.5e-3); with ``moved_from``, G's weights also moved since then."""
    assert got.keys() == want.keys()
    for k in want:
        if want[k].is_floating_point():
            torch.testing.assert_close(got[k], want[k], rtol=1e-4, atol=1e-6, msg=k)
        else:
            assert torch.equal(got[k], want[k]), k
    if moved_from is not None:  # and the resumed epoch did move them
        assert any(not torch.equal(moved_from[k], want[k]) for k in want if k.startswith("G."))


def test_flags_left_out_take_the_apis_defaults(cli, tmp_path, monkeypatch):
    """The command line passes only the flags it was given: move an API default and the command follows."""
    import json

    import gankit
    from gankit import api
    from gankit.metrics import evaluate as evaluate_mod
    from gankit.metrics import theory

    run = tmp_path / "run"
    gankit.train({"model": "mlp", "data": "digits", "limit": 64, "hidden": [16], "epochs": 1, "progress": False,
                  "report": False, "out": str(run)})
    monkeypatch.setattr(api.save_samples, "__defaults__", (5, 3, None, None))  # n, seed, labels, truncation
    code, out, err = cli("sample", run, "--out", tmp_path / "s.npz")
    assert code == 0, err
    want = gankit.load(run).sample(5, seed=3)["images"].numpy()
    assert np.array_equal(np.load(tmp_path / "s.npz")["images"], want)
    code, out, err = cli("sample", "--help")
    assert "(default 5;" in out and "(default 3)" in out

    np.savez(tmp_path / "x.npz", images=np.random.default_rng(0).random((60, 1, 8, 8), dtype=np.float32))
    monkeypatch.setattr(evaluate_mod, "DEFAULT_N", 40)
    monkeypatch.setitem(evaluate_mod.evaluate.__kwdefaults__, "seed", 7)
    code, out, err = cli("evaluate", "--samples", tmp_path / "x.npz", "--data", "digits", "--out", tmp_path / "e.json")
    assert code == 0, err
    ev = json.loads((tmp_path / "e.json").read_text())
    assert ev["n"] == 40 and ev["seed"] == 7

    monkeypatch.setattr(theory.optimal_d, "__defaults__", (None, 3, 0))  # out, steps, seed
    code, out, err = cli("theory", "optimal-d")
    assert code == 0, err
    assert ", 3 steps)" in out
