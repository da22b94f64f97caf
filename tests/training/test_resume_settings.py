"""`gankit train --resume RUN` with other settings: what may change, what is refused, and the
run directory's own config.yaml.

A resumed run keeps what it was trained with (the model, its data, the optimiser, the batch
size...): a flag, --set or --config value that would change one of those is one line naming the
flag, exit code 2, and the run directory is left byte for byte as it was. A value equal to the
run's own is no change, so the command that started a run, plus --resume, continues it. An edit of
such a setting in RUN/config.yaml would otherwise be silently ignored (the checkpoint's settings
win): it is refused the same way.
"""
import hashlib
import shutil

import pytest
import yaml

import gankit
from gankit.errors import ConfigError
from gankit.training.launch import RESUMABLE

TRAIN = ["--model", "dcgan", "--data", "digits", "--set", "width=8", "--set", "limit=64", "--batch-size", "32",
         "--epochs", "1", "--precision", "fp32", "--device", "cpu", "--set", "report=false", "--no-progress"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A one-epoch DCGAN on 64 digits, trained through the CLI."""
    from gankit.cli import main

    run = tmp_path_factory.mktemp("resume-settings") / "run"
    assert main(["train", *TRAIN, "--out", str(run)]) == 0
    return run


@pytest.fixture
def run(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(code, err, *needles):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("args,flag", [
    (["--set", "lr_g=1e-3"], "--set lr_g"),
    (["--set", "lr_d=0.5", "--epochs", "2"], "--set lr_d"),
    (["--model", "mlp"], "--model"),
    (["--batch-size", "16"], "--batch-size"),
    (["--data", "ring"], "--data"),
    (["--seed", "7"], "--seed"),
    (["--loss", "hinge"], "--loss"),
    (["--set", "ema=0"], "--set ema"),
    (["--set", "hidden=64"], "--set hidden"),
])
def test_a_setting_that_cannot_change_is_refused_naming_its_flag(cli, run, args, flag, dry_run):
    before = snapshot(run)
    code, out, err = cli("train", "--resume", run, *args, *(["--dry-run"] if dry_run else []))
    line = one_line_error(code, err, flag, "cannot change in a resumed run", str(run))
    assert out == ""
    assert "epochs" in line  # the line says what may change
    assert snapshot(run) == before


def test_a_recipe_that_would_change_the_run_is_refused_naming_the_file(cli, run, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("model: dcgan\nlr_d: 0.01\nepochs: 3\n")
    before = snapshot(run)
    one_line_error(*cli("train", "--resume", run, "--config", recipe)[::2], f"--config {recipe}", "lr_d")
    assert snapshot(run) == before


@pytest.mark.parametrize("args,needle", [
    (["--out", "elsewhere"], "--out"),
    (["--name", "other"], "--name"),
    (["--overwrite"], "--overwrite"),
    (["--set", "lr_q=1"], "lr_q"),
    (["--set", "lr_g=fast"], "lr_g"),
    (["--epochs", "-1"], "epochs"),
])
def test_other_bad_resume_flags_are_one_line(cli, run, args, needle):
    before = snapshot(run)
    one_line_error(*cli("train", "--resume", run, *args, "--dry-run")[::2], needle)
    one_line_error(*cli("train", "--resume", run, *args)[::2], needle)
    assert snapshot(run) == before


def test_dry_run_prints_the_resumed_config_and_trains_nothing(cli, run):
    before = snapshot(run)
    code, out, err = cli("train", "--resume", run, "--epochs", "4", "--set", "log_every=3", "--dry-run")
    assert code == 0 and err == "", err
    cfg = yaml.safe_load(out)
    assert cfg["epochs"] == 4 and cfg["log_every"] == 3  # the changes
    assert cfg["out"] == str(run)  # where it continues
    assert cfg["width"] == 8 and cfg["limit"] == 64 and cfg["batch_size"] == 32 and cfg["report"] is False  # kept
    assert snapshot(run) == before


def test_values_equal_to_the_runs_own_are_no_change(cli, run):
    """The command that started the run, plus --resume and a new budget, continues it."""
    code, out, err = cli("train", *TRAIN, "--out", run, "--resume", run, "--epochs", "2", "--dry-run")
    assert code == 0, err
    assert yaml.safe_load(out)["epochs"] == 2
    code, out, err = cli("train", *TRAIN, "--out", run, "--resume", run, "--epochs", "2")
    assert code == 0, err
    state = gankit.load(run).state
    assert state["epoch"] == 2 and state["config"]["epochs"] == 2 and state["config"]["lr_g"] == 3e-3


def test_an_edited_config_yaml_is_refused_and_the_run_is_untouched(cli, run):
    original = (run / "config.yaml").read_text()
    edited = original.replace("lr_g: 0.003", "lr_g: 0.001")
    assert edited != original
    (run / "config.yaml").write_text(edited)
    before = snapshot(run)
    for extra in (["--dry-run"], ["--epochs", "2"]):
        line = one_line_error(*cli("train", "--resume", run, *extra)[::2], str(run / "config.yaml"), "lr_g=0.001",
                              "lr_g=0.003")
        assert "--config" in line  # how to start a new run with the edited settings
    assert snapshot(run) == before
    (run / "config.yaml").write_text("model: [dcgan\n")  # not even YAML
    one_line_error(*cli("train", "--resume", run, "--dry-run")[::2], str(run / "config.yaml"))
    (run / "config.yaml").write_text(original)  # undone: the run resumes
    code, out, err = cli("train", "--resume", run, "--epochs", "2")
    assert code == 0, err
    assert gankit.load(run).state["epoch"] == 2


def test_a_run_without_a_checkpoint_takes_its_settings_from_config_yaml(cli, run):
    shutil.rmtree(run / "checkpoints")
    before = snapshot(run)
    one_line_error(*cli("train", "--resume", run, "--batch-size", "16", "--dry-run")[::2], "--batch-size")
    assert snapshot(run) == before
    code, out, err = cli("train", "--resume", run, "--epochs", "3", "--dry-run")
    assert code == 0, err
    assert yaml.safe_load(out)["epochs"] == 3


def test_the_api_refuses_the_same_changes(run):
    with pytest.raises(ConfigError, match="lr_g"):
        gankit.train(resume=run, lr_g=1e-3)
    assert {"epochs", "minutes", "device", "precision"} <= RESUMABLE
