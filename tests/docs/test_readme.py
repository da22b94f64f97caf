"""README.md against the code: every command it shows parses, every link it makes leads somewhere.

* each ``gankit ...`` line in a code block (and ``.venv/bin/gankit ...``, ``python -m gankit ...``,
  ``torchrun ... -m gankit ...``), and each inline ``gankit ...`` span in the prose, is parsed by
  gankit's own argparse parser (``gankit.cli.build_parser``) without being run;
* each ``make ...`` line names targets of the Makefile and variables it reads;
* each relative link and image points to a file inside the repository, and each ``#anchor`` to a
  heading of the page it names;
* each ``python`` block compiles;
* the README leads to the two commands and the course.

The last tests feed the same checks a broken README, so that they are known to fail when they should.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from gankit.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", flags=re.S | re.M)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
PLACEHOLDER = "..."  # a command that elides arguments (`gankit train ... --dry-run`) is prose, not a command


# ----------------------------------------------------------------------------------------------
# Extraction
def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return FENCE.sub("", text)


def logical_lines(body: str) -> list[str]:
    """The lines of a shell block, with backslash continuations joined."""
    out, cur = [], ""
    for raw in body.splitlines():
        if raw.rstrip().endswith("\\"):
            cur += raw.rstrip()[:-1] + " "
            continue
        out.append((cur + raw).strip())
        cur = ""
    if cur:
        out.append(cur.strip())
    return out


def gankit_argv(line: str) -> list[str] | None:
    """The arguments after ``gankit`` on a shell line, or None when the line does not call gankit."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    if not words:
        return None
    if words[0] in ("gankit", ".venv/bin/gankit"):
        return words[1:]
    for i in range(len(words) - 1):  # python -m gankit ..., torchrun ... -m gankit ...
        if words[i] == "-m" and words[i + 1] == "gankit":
            return words[i + 2:]
    return None


def commands(text: str) -> list[tuple[str, list[str]]]:
    """(line, argv) of every gankit command in the README's shell blocks and inline code spans."""
    found = []
    for lang, body in code_blocks(text):
        if lang not in ("", "console", "sh", "bash", "shell"):
            continue
        for line in logical_lines(body):
            argv = gankit_argv(line)  # comments dropped: a "..." there is no placeholder
            if argv is not None and not any(PLACEHOLDER in w for w in argv):
                found.append((line, argv))
    for span in INLINE.findall(prose(text)):
        argv = gankit_argv(span) if span.startswith(("gankit ", ".venv/bin/gankit ")) else None
        if argv is not None and not any(PLACEHOLDER in w for w in argv):
            found.append((span, argv))
    return found


def parse_error(argv: list[str]) -> str | None:
    """None when gankit's parser accepts argv (nothing is run), else what it said."""
    import contextlib
    import io

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as e:
        if e.code == 0 and ("--help" in argv or "-h" in argv):
            return None  # --help prints and exits 0: a correct command
        return err.getvalue().strip() or f"exit {e.code}"
    return None


def make_targets_and_vars(makefile: Path) -> tuple[set[str], set[str]]:
    text = makefile.read_text()
    targets = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.M))
    variables = set(re.findall(r"^([A-Z_][A-Z0-9_]*)\s*[:?+]?=", text, flags=re.M))
    variables |= set(re.findall(r"\$\(([A-Z_][A-Z0-9_]*)\)", text))
    return targets, variables


def make_problems(text: str, makefile: Path) -> list[str]:
    """``make`` lines in code blocks that name a missing target or a variable the Makefile never reads."""
    targets, variables = make_targets_and_vars(makefile)
    bad = []
    for _, body in code_blocks(text):
        for line in logical_lines(body):
            words = shlex.split(line, comments=True) if line else []
            if not words or words[0] != "make":
                continue
            for w in words[1:]:
                if "=" in w:
                    if w.split("=", 1)[0] not in variables:
                        bad.append(f"{line}: {w.split('=', 1)[0]} is not read by the Makefile")
                elif not w.startswith("-") and w not in targets:
                    bad.append(f"{line}: no target {w!r} in the Makefile")
    return bad


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    h = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def anchors(md: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose(md.read_text()), flags=re.M)}


def link_problems(text: str, base: Path, root: Path) -> list[str]:
    """Relative links and images that lead nowhere, or out of the repository."""
    bad = []
    for target in LINK.findall(prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (base / path).resolve() if path else (base / "README.md").resolve()
        if path and dest != root and root not in dest.parents:
            bad.append(f"{target}: leads out of the repository")
            continue
        if not dest.exists():
            bad.append(f"{target}: no such file")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading #{anchor} in {dest.relative_to(root)}")
    return bad


# ----------------------------------------------------------------------------------------------
# The README
TEXT = README.read_text()
COMMANDS = commands(TEXT)


def test_the_readme_shows_commands_of_every_kind():
    shown = {argv[0] for _, argv in COMMANDS if argv}
    assert len(COMMANDS) >= 20, COMMANDS
    assert {"train", "sample", "explore", "evaluate", "report"} <= shown, shown


@pytest.mark.parametrize("line,argv", COMMANDS, ids=[c[0][:60] for c in COMMANDS])
def test_every_gankit_command_parses(line, argv):
    problem = parse_error(argv)
    assert problem is None, f"README: `{line}` is refused by gankit's parser: {problem}"


def test_every_make_command_names_a_target_and_known_variables():
    assert make_problems(TEXT, ROOT / "Makefile") == []


def test_every_relative_link_and_image_exists():
    assert LINK.findall(prose(TEXT)), "no links found: the pattern is broken"
    assert link_problems(TEXT, README.parent, ROOT) == []


def test_every_python_block_compiles():
    blocks = [body for lang, body in code_blocks(TEXT) if lang == "python"]
    assert blocks
    for body in blocks:
        compile(body, "README.md", "exec")


def test_the_readme_leads_to_the_two_commands_and_the_course():
    for must in ("make demo", "make test", "make course", "](docs/tutorial.md)", ". .venv/bin/activate",
                 ".venv/bin/gankit", "TORCH_INDEX"):
        assert must in TEXT, must
    # the course comes right after the two commands, before the rest of the page
    first = TEXT.index("make test")
    assert TEXT.index("](docs/tutorial.md)") < TEXT.index("## Using it")
    assert first < TEXT.index("](docs/tutorial.md)")
    # later examples use the run the demo leaves, not one nobody made
    assert "runs/demo" in " ".join(line for line, _ in COMMANDS)


# ----------------------------------------------------------------------------------------------
# The checks fail when they should
BROKEN = """
# A page

```
gankit train --model mlp --epochs 3 --no-such-flag
gankit sample runs/demo -n 64
gankit train ... --dry-run
gankit train --model mlp --epochs 3
make demo
make demos TORCH_INDX=x
```

Also `gankit evaluate runs/demo --bogus`. ![a figure](docs/figures/no-such-figure.png),
[design](../shared/DESIGN.md), [ok](docs/tutorial.md), [bad anchor](docs/tutorial.md#no-chapter)
and [good anchor](docs/tutorial.md#3-dcgan-on-mnist).
"""


def test_a_bad_flag_or_a_missing_argument_is_caught():
    got = {line: parse_error(argv) for line, argv in commands(BROKEN)}
    assert "gankit train ... --dry-run" not in got  # placeholders are skipped
    assert "--no-such-flag" in got["gankit train --model mlp --epochs 3 --no-such-flag"]
    assert "--out" in got["gankit sample runs/demo -n 64"]  # --out is required
    assert "--bogus" in got["gankit evaluate runs/demo --bogus"]
    assert got["gankit train --model mlp --epochs 3"] is None


def test_a_missing_file_a_bad_anchor_and_a_link_out_of_the_repo_are_caught():
    bad = link_problems(BROKEN, ROOT, ROOT)
    assert len(bad) == 3, bad
    assert any("no-such-figure.png" in b for b in bad)
    assert any("out of the repository" in b for b in bad)
    assert any("#no-chapter" in b for b in bad)


def test_an_unknown_make_target_or_variable_is_caught():
    bad = make_problems(BROKEN, ROOT / "Makefile")
    assert len(bad) == 2, bad
