"""Run names: ``--name NAME`` (or ``name:`` in a config) is a folder inside ``--runs-dir`` (default
``runs``) and can never lead out of it; ``--out PATH`` stays the user's explicit choice."""
from __future__ import annotations

import os

import pytest

import gankit
from gankit.errors import ConfigError

TINY = ["--data", "digits", "--model", "dcgan", "--set", "width=8", "--set", "limit=32", "--batch-size", "32",
        "--epochs", "1", "--set", "report=false", "--precision", "fp32", "--device", "cpu", "--no-progress"]


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def place(tmp_path, monkeypatch):
    """tmp/work (the cwd) with tmp/work/runs/real, a link inside runs to it, and a link leading out."""
    work = tmp_path / "work"
    (work / "runs" / "real").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", work / "runs" / "escape")
    os.symlink(work / "runs" / "real", work / "runs" / "alias")
    monkeypatch.chdir(work)
    return tmp_path


@pytest.mark.parametrize("name", ["../../etc", "/etc", "..", ".", "a/../../b", "escape", "escape/x",
                                  "real/../../../outside", "~/../../x"])
def test_names_that_lead_out_of_the_runs_folder_are_refused(place, cli, name):
    before = _files(place)
    code, out, err = cli("train", *TINY, "--name", name)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error:") and "--name" in lines[0], err
    assert repr(name) in lines[0]
    assert _files(place) == before  # nothing written anywhere


def test_a_name_from_a_config_file_is_checked_too(place, cli):
    recipe = place / "recipe.yaml"
    recipe.write_text("model: dcgan\ndata: digits\nname: ../../../tmp/owned\n")
    code, out, err = cli("train", "--config", recipe, "--dry-run")
    assert code == 2 and str(recipe) in err and "name='../../../tmp/owned'" in err
    with pytest.raises(ConfigError, match="runs folder"):
        gankit.train({"model": "dcgan", "data": "digits", "name": "/abs/path"})


def test_name_and_out_together_is_one_line(place, cli):
    code, out, err = cli("train", *TINY, "--name", "a", "--out", "b")
    assert code == 2 and err.count("\n") == 1 and "--name" in err and "--out" in err


def test_a_named_run_lands_inside_the_runs_folder_and_resumes(place, cli):
    work = place / "work"
    code, out, err = cli("train", *TINY, "--runs-dir", "runs", "--name", "exp/one")
    assert code == 0, err
    run = work / "runs" / "exp" / "one"
    assert (run / "checkpoints" / "last.pt").is_file() and (run / "config.yaml").is_file()
    code, out, err = cli("train", "--resume", run, "--epochs", "2", "--no-progress")
    assert code == 0, err
    assert gankit.load(run).state["epoch"] == 2
    # A link that stays inside the runs folder is fine.
    code, out, err = cli("train", *TINY, "--name", "alias/two")
    assert code == 0, err
    assert (work / "runs" / "real" / "two" / "checkpoints" / "last.pt").is_file()
    assert list((place / "outside").iterdir()) == []


def test_out_still_takes_any_path_and_the_default_is_runs_model_data(place, cli):
    code, out, err = cli("train", *TINY, "--out", "../elsewhere")
    assert code == 0, err
    assert (place / "elsewhere" / "checkpoints" / "last.pt").is_file()
    code, out, err = cli("train", *TINY)
    assert code == 0, err
    assert (place / "work" / "runs" / "dcgan-digits" / "checkpoints" / "last.pt").is_file()
