"""Shared test helpers: run the CLI in-process and capture its exit code and output."""
from __future__ import annotations

import pytest


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


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep each test's data cache away from the user's ~/.cache/gankit unless shared on purpose."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path_factory.getbasetemp() / "gankit-cache"))
