"""``download`` against a real HTTP server on 127.0.0.1 serving IDX files the test makes."""
from __future__ import annotations

import functools
import hashlib
import http.server
import re
import threading

import numpy as np
import pytest

from gankit.data import load_dataset
from gankit.data.download import DOWNLOADS, download
from gankit.data.idx import IDX_NAMES
from gankit.errors import ConfigError, DataError


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path, make_mnist_dir):
    """A local HTTP server serving small gzipped MNIST IDX files.

    Yields (base_url, sha256 table of the served files, their arrays, the handler class).
    """
    root = tmp_path / "served"
    data = make_mnist_dir(root, n_train=12, n_test=5, gz=True)
    table = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.iterdir()}
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", table, data, handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_download_then_load(server, tmp_path):
    base_url, table, data, handler = server
    dest = tmp_path / "dl"
    paths = download("mnist", str(dest), base_url=base_url, sha256=table)
    assert sorted(p.name for p in paths) == sorted(table)
    assert sorted(p.name for p in dest.iterdir()) == sorted(table)  # no temp files left over
    ds = load_dataset("mnist", data_dir=str(dest), split="test")
    np.testing.assert_array_equal(ds.y.numpy(), data["test"][1])
    assert len(handler.requests) == 4

    # Files already there with the right checksum are not fetched again.
    download("mnist", str(dest), base_url=base_url, sha256=table)
    assert len(handler.requests) == 4


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    base_url, table, _, _ = server
    wrong = dict(table, **{"t10k-images-idx3-ubyte.gz": "0" * 64})
    dest = tmp_path / "dl"
    with pytest.raises(DataError) as info:
        download("mnist", str(dest), base_url=base_url, sha256=wrong)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "SHA-256" in msg and "\n" not in msg
    left = sorted(p.name for p in dest.iterdir())
    assert "t10k-images-idx3-ubyte.gz" not in left
    assert not [name for name in left if name.endswith(".tmp")]


def test_fashion_mnist_download_uses_its_own_table(server, tmp_path):
    base_url, table, _, _ = server
    # The served files are not Fashion-MNIST: the built-in table must reject them.
    with pytest.raises(DataError, match="SHA-256"):
        download("fashion-mnist", str(tmp_path / "f"), base_url=base_url)
    paths = download("fashion-mnist", str(tmp_path / "f"), base_url=base_url, sha256=table)
    assert len(load_dataset("fashion-mnist", data_dir=str(paths[0].parent))) == 12


def test_unreachable_or_missing_file(server, tmp_path):
    base_url, table, _, _ = server
    with pytest.raises(DataError, match="download failed"):
        download("mnist", str(tmp_path / "a"), base_url=base_url + "nowhere/", sha256=table)
    with pytest.raises(ConfigError, match="valid: fashion-mnist, mnist"):
        download("cifar10", str(tmp_path / "b"))


# The SHA-256 of each gzipped file as published (the same digests are in TensorFlow Datasets'
# checksum tables and in Zalando's Fashion-MNIST repository): a digest mistyped or pasted under the
# wrong name in gankit's table would make every real download fail its check.
PUBLISHED_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}


def test_builtin_tables_are_complete():
    assert sorted(DOWNLOADS) == sorted(PUBLISHED_SHA256)
    for name, entry in DOWNLOADS.items():
        assert sorted(entry["sha256"]) == sorted(
            f"{stem}.gz" for pair in IDX_NAMES.values() for stem in pair
        )
        for fname, digest in entry["sha256"].items():
            # what hashlib's hexdigest() gives: exactly 64 lowercase hex digits (int(d, 16) would
            # also take "0x...", "_", spaces and upper case)
            assert re.fullmatch(r"[0-9a-f]{64}", digest), (name, fname, digest)
            assert digest == PUBLISHED_SHA256[name][fname], (name, fname)
        assert len(set(entry["sha256"].values())) == 4, name  # no digest pasted twice
        assert all(m.endswith("/") for m in entry["mirrors"])
        assert all(m.startswith("https://") or m.startswith("http://") for m in entry["mirrors"])


def test_default_table_is_the_one_download_enforces(server, tmp_path):
    """Without ``sha256=`` every file is checked against the built-in table: served bytes that
    are not the published files are refused before anything lands in the folder, whatever the name."""
    base_url, _, _, handler = server
    dest = tmp_path / "dl"
    with pytest.raises(DataError) as info:
        download("mnist", str(dest), base_url=base_url)
    fname = "train-images-idx3-ubyte.gz"  # the first file of the table
    assert fname in str(info.value) and PUBLISHED_SHA256["mnist"][fname] in str(info.value)
    assert list(dest.iterdir()) == []
    assert handler.requests == ["/" + fname]


def test_loading_never_touches_the_network(mnist_dir, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a loader tried to download")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    folder, _ = mnist_dir
    for name in ("mnist", "fashion-mnist", "idx", "stacked-mnist"):
        assert len(load_dataset(name, data_dir=str(folder), split="test", size=10)) > 0
