"""docs/tutorial.md against docs/course.py: the tutorial shows exactly the course's commands, and
every one of them runs.

Train commands run with --dry-run (the resolved config), then once more in a tiny form (the 8x8
digits instead of MNIST, 64 examples, one epoch) so that every later command (explore, evaluate,
compare, a resume, a latent GAN on an autoencoder) runs for real against a run of the right family.
"""
from __future__ import annotations

import glob
import importlib.util
import re
import shlex
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"


def _course():
    spec = importlib.util.spec_from_file_location("gankit_course", ROOT / "docs" / "course.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


COURSE = _course()
COMMAND_STEPS = [s for s in COURSE.STEPS if isinstance(s, COURSE.Step)]
PANELS = [s for s in COURSE.STEPS if isinstance(s, COURSE.Panels)]


def tutorial_commands() -> list[str]:
    """Every ``gankit ...`` line inside the tutorial's ```console blocks, in order."""
    blocks = re.findall(r"^```console\n(.*?)^```", TUTORIAL.read_text(), flags=re.S | re.M)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip().startswith("gankit ")]


def test_the_tutorial_shows_the_course_commands_in_order():
    assert tutorial_commands() == COURSE.commands()


def test_every_figure_the_tutorial_shows_is_made_by_a_step_and_small():
    made = {name for s in COURSE.STEPS for name in s.figures}
    shown = set(re.findall(r"\]\(figures/([^)\s]+)\)", TUTORIAL.read_text()))
    assert shown <= made, f"figures shown but made by no step: {sorted(shown - made)}"
    assert made <= shown, f"figures made but never shown: {sorted(made - shown)}"
    figures = ROOT / "docs" / "figures"
    if figures.is_dir():  # `make course` has been run: check what it left
        sizes = {p.name: p.stat().st_size for p in figures.iterdir() if p.is_file()}
        assert all(v < COURSE.MAX_FIGURE_BYTES for v in sizes.values()), sizes
        assert sum(sizes.values()) < COURSE.MAX_TOTAL_BYTES


def test_quick_changes_budgets_only():
    budget_flags = {"--epochs", "--minutes", "--set", "-n", "--steps"}
    for s in COMMAND_STEPS:
        full, quick = s.argv(False), s.argv(True)
        assert full == shlex.split(s.cmd)[1:]
        assert {f for f, _ in s.quick} <= budget_flags, s.cmd
        for flag, value in s.quick:
            if flag == "--set":
                assert value.split("=")[0] == "limit", s.cmd
            assert flag in quick and value in quick


# ---- every command, run --------------------------------------------------------------------------
SHRINK = {  # a tiny version of each explore / evaluate / theory command: (flag, value) pairs
    "walk": [("-n", "16"), ("--frames", "2")],
    "interpolate": [("--steps", "3"), ("--rows", "1")],
    "manifold": [("--side", "4")],
    "scatter": [("-n", "50")],
    "reconstruct": [("-n", "8")],
    "discriminator": [("-n", "100"), ("--resolution", "20")],
    "evaluate": [("-n", "40")],
    "optimal-d": [("--steps", "50")],
}


def _set(args: list[str], flag: str, value: str) -> None:
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]


def _tiny(args: list[str], paths) -> list[str]:
    """The command with run directories moved under tmp and budgets shrunk."""
    args = [paths(a) for a in args]
    cmd = args[0]
    what = args[2] if cmd == "explore" else args[1] if cmd == "theory" else cmd
    for flag, value in SHRINK.get(what, []):
        _set(args, flag, value)
    if cmd == "train" and "--resume" not in args:
        if not any(a.endswith("course-ring.yaml") for a in args):  # the ring recipe keeps its points
            _set(args, "--data", "digits")
        args += ["--epochs", "1", "--batch-size", "32", "--set", "limit=64", "--set", "report=false", "--no-progress"]
    elif cmd == "train":
        args += ["--epochs", "2", "--no-progress"]
    return args


def test_every_tutorial_command_runs(cli, tmp_path):
    def paths(token: str) -> str:  # runs/course/... -> tmp/...; also inside --set ae_run=runs/course/ae
        if token.startswith("configs/"):  # the repository's recipes, wherever pytest runs from
            return str(ROOT / token)
        return token.replace(COURSE.RUNS + "/", str(tmp_path) + "/")

    for command in tutorial_commands():
        args = shlex.split(command)[1:]
        if args[0] == "train":
            code, out, err = cli(*[paths(a) for a in args], "--dry-run")
            assert code == 0 and "model:" in out, (command, err)
        code, out, err = cli(*_tiny(args, paths))
        assert code == 0, (command, err)
        if args[0] == "evaluate":
            run = Path(paths(args[1]))
            assert (run / "eval.json").is_file(), command
    for figure in (s.figures for s in COMMAND_STEPS):
        for pattern in figure.values():  # every figure a step copies exists in the tiny runs too
            assert glob.glob(paths(pattern)), pattern
    for panels in PANELS:  # and every side-by-side figure can be drawn from them, titled by eval.json
        # (or, for an epoch's grid, by the check logged at that epoch: the tiny runs have one epoch)
        tiny = COURSE.Panels(panels.chapter, panels.name, tuple((label, paths(run), re.sub(r"epoch-\d+", "epoch-0001", grid))
                                                               for label, run, grid in panels.panels))
        assert tiny.make(tmp_path).is_file()
        for label, run, grid in tiny.panels:
            assert "FID" in tiny.title(label, run, grid), (run, grid)
    # the Wasserstein runs' loss figure has the third panel: the critic's estimate -d_loss
    wide = Image.open(paths(f"{COURSE.RUNS}/wgan-gp/losses.png")).size[0]
    narrow = Image.open(paths(f"{COURSE.RUNS}/dcgan/losses.png")).size[0]
    assert wide > 1.3 * narrow
