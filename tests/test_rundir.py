"""The run directory's layout, its one atomic writer and the readers of its records."""
from __future__ import annotations

import json
import os

import pytest
import torch

from gankit import rundir
from gankit.errors import RunDirError


def test_the_layout_is_the_one_on_disk(tmp_path):
    # Runs written by every earlier version use these names: they are the on-disk format.
    run = tmp_path / "run"
    names = {rundir.config_path(run): "config.yaml", rundir.log_path(run): "log.jsonl",
             rundir.eval_path(run): "eval.json", rundir.env_path(run): "env.json",
             rundir.report_path(run): "report.html", rundir.losses_path(run): "losses.png",
             rundir.progress_path(run): "progress.gif", rundir.checkpoint_path(run): "checkpoints/last.pt",
             rundir.checkpoint_path(run, rundir.BEST): "checkpoints/best.pt",
             rundir.checkpoint_path(run, rundir.epoch_checkpoint_name(15)): "checkpoints/epoch-0015.pt",
             rundir.epoch_grid(run, 1): "samples/epoch-0001.png", rundir.final_grid(run): "samples/final.png",
             rundir.class_grid(run, 2): "samples/classes-epoch-0002.png",
             rundir.recon_grid(run, 3): "samples/recon-epoch-0003.png",
             rundir.final_grid(run, rundir.CLASS_GRID): "samples/classes-final.png",
             rundir.explore_dir(run): "explore", rundir.tensorboard_dir(run): "tensorboard",
             rundir.explore_caption(run / "explore" / "walk-means2-stds1.gif"): "explore/walk-means2-stds1.json"}
    for path, name in names.items():
        assert path == run / name


def test_grids_and_kept_checkpoints_are_listed_oldest_first_and_by_kind(tmp_path):
    for name in ("epoch-0002.png", "epoch-0001.png", "classes-epoch-0001.png", "final.png"):
        rundir.atomic_write(tmp_path / "samples" / name, b"")
    for name in ("epoch-0030.pt", "epoch-0015.pt", "last.pt", "best.pt"):
        rundir.atomic_write(tmp_path / "checkpoints" / name, b"")
    assert [p.name for p in rundir.epoch_grids(tmp_path)] == ["epoch-0001.png", "epoch-0002.png"]
    assert [p.name for p in rundir.epoch_grids(tmp_path, rundir.CLASS_GRID)] == ["classes-epoch-0001.png"]
    assert rundir.epoch_grids(tmp_path, rundir.RECON_GRID) == []
    assert [p.name for p in rundir.kept_checkpoints(tmp_path)] == ["epoch-0015.pt", "epoch-0030.pt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "sub" / "f.txt"
    rundir.atomic_write(path, "old")
    with pytest.raises(RuntimeError):
        with rundir.atomic_output(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert path.read_text() == "old" and os.listdir(path.parent) == ["f.txt"]
    rundir.atomic_write(path, "new ü")
    assert path.read_text(encoding="utf-8") == "new ü" and os.listdir(path.parent) == ["f.txt"]


def test_stale_temps_are_matched_by_target_name(tmp_path):
    ckpt, other = tmp_path / ".last.pt.123.0a1b2c3d.tmp", tmp_path / ".log.jsonl.123.0a1b2c3d.tmp"
    ckpt.touch()
    other.touch()
    (tmp_path / "last.pt").touch()
    assert rundir.remove_stale_temps(tmp_path, "*.pt") == [ckpt]
    assert other.exists() and (tmp_path / "last.pt").exists()


def test_the_log_appends_reads_and_trims_to_a_step(tmp_path):
    for step in (1, 2, 3):
        rundir.append_log(tmp_path, {"step": step, "d_loss": 0.5})
    with open(rundir.log_path(tmp_path), "a") as f:
        f.write('{"step": 4, "d_lo')  # torn by a crash mid-append
    assert [r["step"] for r in rundir.read_log(tmp_path)] == [1, 2, 3]
    rundir.trim_log(tmp_path, 2)
    assert rundir.log_path(tmp_path).read_text() == '{"step": 1, "d_loss": 0.5}\n{"step": 2, "d_loss": 0.5}\n'
    before = os.stat(rundir.log_path(tmp_path))
    rundir.trim_log(tmp_path, 2)  # nothing to drop: the file is not rewritten
    assert os.stat(rundir.log_path(tmp_path)).st_ino == before.st_ino
    assert rundir.read_log(tmp_path / "none") == []


def test_read_config_names_the_folder_or_the_file(tmp_path):
    with pytest.raises(RunDirError, match=f"^{tmp_path}: not a gankit run directory \\(no config.yaml\\)$"):
        rundir.read_config(tmp_path)
    with pytest.raises(RunDirError, match=f"^--resume: {tmp_path} is not a gankit run directory"):
        rundir.require_run_dir(tmp_path, "--resume")
    rundir.config_path(tmp_path).write_text("- a list\n")
    with pytest.raises(RunDirError, match="config.yaml: expected a mapping"):
        rundir.read_config(tmp_path)
    rundir.config_path(tmp_path).write_text("model: [dcgan\n")
    with pytest.raises(RunDirError, match="config.yaml: cannot read it"):
        rundir.read_config(tmp_path)
    rundir.config_path(tmp_path).write_text("model: dcgan\nloss: hinge\n")
    assert rundir.read_config(tmp_path) == {"model": "dcgan", "loss": "hinge"}


def test_eval_and_env_read_as_none_when_absent_or_damaged(tmp_path):
    assert rundir.read_eval(tmp_path) is None and rundir.read_env(tmp_path) is None
    rundir.eval_path(tmp_path).write_text("{not json")
    rundir.env_path(tmp_path).write_text("[1, 2]")
    assert rundir.read_eval(tmp_path) is None and rundir.read_env(tmp_path) is None


def test_the_environment_is_recorded_once(tmp_path):
    env = rundir.recorded_environment(tmp_path, {"device": "cpu", "seed": 3})
    assert env["torch"] == torch.__version__ and env["device"] == "cpu" and env["seed"] == 3
    assert {k: env[k] for k in rundir.versions()} == rundir.versions()
    assert json.loads(rundir.env_path(tmp_path).read_text()) == env
    # a later report on another machine keeps the record of the one that trained the run
    assert rundir.recorded_environment(tmp_path, {"device": "cuda", "seed": 4}) == env


def test_remove_outputs_keeps_the_config_and_the_users_files(tmp_path):
    rundir.config_path(tmp_path).write_text("model: dcgan\n")
    (tmp_path / "notes.txt").write_text("mine")
    for name in rundir.OUTPUT_FILES:
        (tmp_path / name).write_text("")
    for sub in rundir.OUTPUT_DIRS:
        rundir.atomic_write(tmp_path / sub / "x", b"")
    rundir.remove_outputs(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["config.yaml", "notes.txt"]
