"""The test session reads none of the developer's files (tests/conftest.py): MNIST lookups, the
cache and HOME all point into the session's temporary folder, in this process and in the ones the
tests start; and the suite does not depend on the folder pytest was started from."""
import os
import subprocess
import sys
from pathlib import Path

from gankit.data import mnist


def test_mnist_lookups_stay_inside_the_session(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.getbasetemp()
    assert Path.home() == base / "home"
    assert mnist.keras_mnist_path() == base / "keras-home" / "datasets" / "mnist.npz"
    assert base in mnist.mnist_cache_path().parents
    monkeypatch.delenv("KERAS_HOME")  # the HOME-based defaults are the session's too
    monkeypatch.delenv("GANKIT_CACHE")
    assert mnist.keras_mnist_path() == base / "home" / ".keras" / "datasets" / "mnist.npz"
    assert mnist.mnist_cache_path() == base / "home" / ".cache" / "gankit" / "datasets" / "mnist.npz"


def test_subprocesses_inherit_the_isolation(tmp_path_factory):
    code = "from gankit.data import mnist; from pathlib import Path; print(Path.home()); print(mnist.keras_mnist_path())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout.splitlines()
    base = tmp_path_factory.getbasetemp()
    assert out == [str(base / "home"), str(base / "keras-home" / "datasets" / "mnist.npz")]


def test_repo_root_is_found_from_the_tests_not_the_working_directory(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (repo_root / "pyproject.toml").is_file() and (repo_root / "configs" / "default.yaml").is_file()
    assert repo_root == Path(__file__).resolve().parent.parent
