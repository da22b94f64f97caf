"""Every bad input gets one line that names the flag or file, exit code 2, and no traceback."""
import gzip
import struct

import numpy as np
import pytest


def one_line_error(code, err, *needles):
    assert code == 2, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.mark.parametrize("flag,value,valid", [
    ("--model", "nope", "dcgan"), ("--data", "nope", "digits"), ("--loss", "nope", "nonsaturating")])
def test_unknown_names_list_valid_ones(cli, flag, value, valid):
    code, _, err = cli("train", flag, value, "--dry-run")
    one_line_error(code, err, flag, value, valid)


def test_bad_config_key_and_value(cli, tmp_path):
    one_line_error(*cli("train", "--set", "lr_q=1", "--dry-run")[::2], "lr_q")
    one_line_error(*cli("train", "--set", "lr_g=fast", "--dry-run")[::2], "lr_g")
    one_line_error(*cli("train", "--set", "z_dist=cauchy", "--dry-run")[::2], "z_dist")
    one_line_error(*cli("train", "--set", "adam_eps=0", "--dry-run")[::2], "adam_eps")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [dcgan\n")
    one_line_error(*cli("train", "--config", bad, "--dry-run")[::2], str(bad))
    one_line_error(*cli("train", "--config", tmp_path / "missing.yaml", "--dry-run")[::2], "missing.yaml")
    one_line_error(*cli("train", "--epochs", "many")[::2], "--epochs")


def test_missing_data_says_where_it_looked(cli, tmp_path):
    code, _, err = cli("train", "--data", "fashion-mnist", "--data-dir", tmp_path / "empty", "--epochs", "1",
                       "--out", tmp_path / "run")
    one_line_error(code, err, "empty")
    assert not (tmp_path / "run" / "checkpoints").exists()


def _idx(path, magic, dims, payload):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)


def test_corrupt_idx_files(cli, tmp_path):
    d = tmp_path / "idx"
    d.mkdir()
    _idx(d / "train-images-idx3-ubyte.gz", 0x00000803, (10, 28, 28), bytes(10 * 28 * 27))  # truncated
    _idx(d / "train-labels-idx1-ubyte.gz", 0x00000801, (10,), bytes(10))
    code, _, err = cli("train", "--data", "idx", "--data-dir", d, "--epochs", "1", "--out", tmp_path / "r")
    one_line_error(code, err, "train-images-idx3-ubyte")
    _idx(d / "train-images-idx3-ubyte.gz", 0x12345678, (10, 28, 28), bytes(10 * 28 * 28))  # wrong magic
    code, _, err = cli("train", "--data", "idx", "--data-dir", d, "--epochs", "1", "--out", tmp_path / "r")
    one_line_error(code, err, "train-images-idx3-ubyte")


def test_not_a_run_directory(cli, tmp_path):
    one_line_error(*cli("sample", tmp_path, "--out", tmp_path / "x.png")[::2], str(tmp_path))
    one_line_error(*cli("train", "--resume", tmp_path)[::2], "--resume", str(tmp_path))


def test_existing_run_is_not_overwritten(cli, tmp_path):
    run = tmp_path / "run"
    args = ("train", "--model", "mlp", "--data", "digits", "--epochs", "1", "--set", "limit=128", "--out", run,
            "--no-progress")
    assert cli(*args)[0] == 0
    before = (run / "checkpoints" / "last.pt").read_bytes()
    one_line_error(*cli(*args)[::2], "--resume")
    assert (run / "checkpoints" / "last.pt").read_bytes() == before


def test_closed_pipe_ends_quietly(tmp_path):
    """`gankit train --dry-run | head -0`: the reader is gone before gankit writes; no traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        p = subprocess.run([sys.executable, "-m", "gankit", "train", "--data", "digits", "--dry-run"],
                           stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120)
    finally:
        os.close(write_end)
    assert p.returncode == 141, p.stderr
    assert p.stderr == ""


# ---- bounds the API owns: a Python caller and the command line get the same one line ----------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A plain and a conditional run, trained for one epoch on 64 digits."""
    import gankit

    base = tmp_path_factory.mktemp("bounds")
    tiny = {"data": "digits", "limit": 64, "batch_size": 32, "epochs": 1, "progress": False, "report": False}
    gankit.train({**tiny, "model": "mlp", "hidden": [16], "out": str(base / "mlp")})
    gankit.train({**tiny, "model": "cgan", "width": 8, "out": str(base / "cgan")})
    return base


def _sample(run, out, **kw):
    import gankit

    return gankit.save_samples(gankit.load(run), out, **kw)


def _evaluate(run, out, **kw):
    import gankit

    np.savez(out.parent / "s.npz", images=np.zeros((30, 1, 8, 8), np.float32))
    return gankit.evaluate(samples=out.parent / "s.npz", data="digits", **kw)


def _optimal_d(run, out, **kw):
    from gankit import api

    return api.optimal_d(**kw)


def _train_judge(run, out, **kw):
    from gankit.metrics.judge_train import train_judge

    return train_judge(out=out.with_suffix(".pt"), **kw)


@pytest.mark.parametrize("model, call, kwargs, argv, flag", [
    ("mlp", _sample, {"n": 10_001}, ("sample", "{run}", "-n", "10001", "--out", "{out}"), "-n"),
    ("mlp", _sample, {"n": 0, "suffix": ".npz"}, ("sample", "{run}", "-n", "0", "--out", "{out}"), "-n"),
    ("mlp", _sample, {"suffix": ".jpg"}, ("sample", "{run}", "--out", "{out}"), "--out"),
    ("mlp", _sample, {"seed": 2**31}, ("sample", "{run}", "--seed", str(2**31), "--out", "{out}"), "--seed"),
    ("mlp", _sample, {"labels": 1}, ("sample", "{run}", "--label", "1", "--out", "{out}"), "--label"),
    ("cgan", _sample, {"labels": 10}, ("sample", "{run}", "--label", "10", "--out", "{out}"), "--label"),
    ("cgan", _sample, {"labels": -1}, ("sample", "{run}", "--label", "-1", "--out", "{out}"), "--label"),
    ("mlp", _evaluate, {"seed": -1}, ("evaluate", "--samples", "{dir}/s.npz", "--data", "digits", "--seed", "-1"),
     "--seed"),
    ("mlp", _evaluate, {"checkpoint": "best"},
     ("evaluate", "--samples", "{dir}/s.npz", "--data", "digits", "--checkpoint", "best"), "--checkpoint"),
    ("mlp", _optimal_d, {"seed": 2**40}, ("theory", "optimal-d", "--seed", str(2**40)), "--seed"),
    ("mlp", _train_judge, {"data": "ring"}, ("judge", "train", "--data", "ring", "--out", "{dir}/x.pt"), "--data"),
])
def test_a_bound_is_one_line_from_the_api_and_the_cli(cli, runs, tmp_path, model, call, kwargs, argv, flag):
    """The check lives in the API: its error is the command line's, word for word, and nothing is written."""
    from gankit.errors import GankitError

    run, work = runs / model, tmp_path / "work"
    work.mkdir()
    out = work / ("x" + kwargs.pop("suffix", ".png"))
    with pytest.raises(GankitError) as api_error:
        call(run, out, **kwargs)
    line = one_line_error(*cli(*[a.format(run=run, out=out, dir=work) for a in argv])[::2])
    assert line == f"gankit: error: {api_error.value}"
    assert line.startswith(f"gankit: error: {flag}:"), line
    assert sorted(p.name for p in work.iterdir()) == (["s.npz"] if call is _evaluate else [])
