"""Every bad input gets one line that names the flag or file, exit code 2, and no traceback."""
import gzip
import struct

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
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [dcgan\n")
    one_line_error(*cli("train", "--config", bad, "--dry-run")[::2], str(bad))
    one_line_error(*cli("train", "--config", tmp_path / "missing.yaml", "--dry-run")[::2], "missing.yaml")
    one_line_error(*cli("train", "--epochs", "many")[::2], "--epochs")


def test_missing_data_says_where_it_looked(cli, tmp_path):
    code, _, err = cli("train", "--data", "fashion-mnist", "--data-dir", tmp_path / "empty", "--epochs", "1",
                       "--out", tmp_path / "run")
    line = one_line_error(code, err, "empty")
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
