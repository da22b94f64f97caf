"""The import floors of docs/design.md: a module imports from its own floor or below, function-local
imports included (a local import that runs up is the same fault, hidden)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import gankit

SRC = Path(gankit.__file__).parent

FLOORS = {  # top-level module or package of gankit -> its floor (docs/design.md, "Floors")
    "cli": 5, "api": 5, "__main__": 5, "__init__": 5,
    "training": 4, "report": 4,
    "sampling": 3, "metrics": 3, "run": 3,
    "models": 2, "data": 2, "losses": 2, "penalties": 2, "augment": 2,
    "rundir": 1, "checkpoint": 1, "config": 1, "registry": 1, "errors": 1,
}
# The registries import the modules whose decorators fill them, on first lookup: a plugin loader,
# not a use of those floors' code.
ALLOWED = {("registry", "data"), ("registry", "losses"), ("registry", "models")}


def imported_units(path: Path) -> list[tuple[int, str]]:
    """(line, top-level gankit unit) for every gankit import in the file at ``path``."""
    rel = path.relative_to(SRC).with_suffix("").parts
    package = list(rel[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name.split(".")[1:] for a in node.names if a.name.startswith("gankit.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").startswith("gankit"):
                    continue
                base = node.module.split(".")[1:]
            else:
                base = package[:len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            targets = [base] if base else [[a.name] for a in node.names]
        else:
            continue
        out += [(node.lineno, t[0]) for t in targets if t and t[0] in FLOORS]
    return out


def unit_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("").parts
    return rel[0]


def test_every_import_stays_on_its_floor_or_below():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 40  # the walk found the package
    up = []
    for f in files:
        me = unit_of(f)
        for line, unit in imported_units(f):
            if unit != me and FLOORS[unit] > FLOORS[me] and (me, unit) not in ALLOWED:
                up.append(f"{f.relative_to(SRC)}:{line} (floor {FLOORS[me]}) imports {unit} (floor {FLOORS[unit]})")
    assert not up, "imports that run up a floor:\n" + "\n".join(up)


def test_the_floor_check_sees_a_local_import_that_runs_up(tmp_path, monkeypatch):
    # A models file that imports run.load inside a function, as the latent GAN once did.
    fake = tmp_path / "gankit"
    (fake / "models").mkdir(parents=True)
    (fake / "models" / "x.py").write_text("def f():\n    from ..run import load\n    from .blocks import y\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    assert imported_units(fake / "models" / "x.py") == [(2, "run"), (3, "models")]
    assert unit_of(fake / "models" / "x.py") == "models"


def test_every_module_has_a_floor():
    units = {unit_of(f) for f in SRC.rglob("*.py")}
    assert units <= set(FLOORS), f"modules without a floor in docs/design.md: {units - set(FLOORS)}"


def local_gankit_imports(path: Path) -> list[int]:
    """Lines of gankit imports inside a function of the file at ``path``."""
    lines = []
    for fn in ast.walk(ast.parse(path.read_text())):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("gankit")):
                    lines.append(node.lineno)
                elif isinstance(node, ast.Import) and any(a.name.startswith("gankit") for a in node.names):
                    lines.append(node.lineno)
    return sorted(set(lines))


def test_no_function_local_import_hides_a_cycle():
    # Every gankit import sits at the top of its module, so an import cycle fails at once instead of
    # hiding in a function; only the registries load their built-in modules lazily.
    local = [f"{f.relative_to(SRC)}:{line}" for f in sorted(SRC.rglob("*.py")) for line in local_gankit_imports(f)
             if f.relative_to(SRC).as_posix() != "registry.py"]
    assert not local, "function-local gankit imports:\n" + "\n".join(local)
    assert local_gankit_imports(SRC / "registry.py")  # the check sees the one it allows
