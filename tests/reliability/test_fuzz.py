"""Fuzzing the readers, the config files and the CLI with hypothesis.

Every input gets either a result or one clear error: a ``DataError``/``ConfigError`` from the
readers, or, from the CLI, exit code 2 with exactly one stderr line ``gankit: error: ...`` (or
``gankit <cmd>: error: ...`` from argparse). Never a traceback, never a hang, never a file written
outside the run directory or the chosen output. The examples are derandomized (the same inputs on
every run) and counted; ``pytest -s`` prints how many each target tried.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import signal
import string
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from gankit import config as config_mod
from gankit.cli import main
from gankit.config import Config
from gankit.data.folder import image_folder
from gankit.data.idx import IDX_DTYPES, read_idx
from gankit.data.mnist import read_mnist_npz
from gankit.errors import ConfigError, DataError

TRIED: dict = {}
FUZZ = dict(deadline=None, database=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _count(target: str) -> None:
    TRIED[target] = TRIED.get(target, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    print("\nfuzz inputs tried: " + ", ".join(f"{k} {v}" for k, v in TRIED.items()))


def _scratch(tmp_path: Path, name: str) -> Path:
    """A fresh empty folder for one example (hypothesis reuses the test's tmp_path)."""
    n = TRIED.get(name, 0)
    d = tmp_path / f"{name}-{n}"
    d.mkdir()
    return d


# ---- IDX ---------------------------------------------------------------------------------------
@st.composite
def idx_bytes(draw):
    """Mostly well-formed IDX headers with a payload of the right, short or long length."""
    kind = draw(st.sampled_from(["random", "header", "header"]))
    if kind == "random":
        return draw(st.binary(max_size=64))
    code = draw(st.sampled_from(sorted(IDX_DTYPES) + [0x00, 0x0A, 0xFF]))
    ndim = draw(st.integers(0, 5))
    dims = draw(st.lists(st.one_of(st.integers(0, 4), st.sampled_from([2**31, 2**32 - 1, 65536])),
                         min_size=ndim, max_size=ndim))
    header = bytes([0, 0, code, ndim]) + b"".join(int(d).to_bytes(4, "big") for d in dims)
    size = int(np.prod(dims, dtype=object)) * IDX_DTYPES.get(code, np.dtype("u1")).itemsize if dims else 0
    size = min(size, 512) + draw(st.sampled_from([0, 0, -1, 1, -4]))
    payload = draw(st.binary(min_size=max(size, 0), max_size=max(size, 0)))
    data = (bytes([draw(st.integers(0, 1)), 0]) if draw(st.booleans()) else b"\0\0") + header[2:] + payload
    return data


@settings(max_examples=150, **FUZZ)
@given(data=idx_bytes(), gz=st.sampled_from(["raw", "gzip", "truncated-gzip"]))
@example(data=b"\0\0\x0b\x03" + bytes(4) + (2**31).to_bytes(4, "big") * 2, gz="raw")  # 0 x 2^31 x 2^31
def test_idx_reader(tmp_path, data, gz):
    _count("idx")
    blob = data if gz == "raw" else gzip.compress(data, mtime=0)
    if gz == "truncated-gzip":
        blob = blob[: max(2, len(blob) // 2)]
    path = tmp_path / "x-images-idx3-ubyte"
    path.write_bytes(blob)
    try:
        arr = read_idx(path)
    except DataError as e:
        assert str(path) in str(e) and "\n" not in str(e)
        return
    code, ndim = data[2], data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    assert arr.shape == dims and arr.dtype == IDX_DTYPES[code].newbyteorder("=")


# ---- Keras mnist.npz ---------------------------------------------------------------------------
ARRAYS = st.sampled_from([
    np.zeros((3, 28, 28), np.uint8), np.zeros((0, 28, 28), np.uint8), np.zeros((3, 28, 27), np.uint8),
    np.zeros((3, 28, 28), np.float32), np.full((3,), 9, np.uint8), np.array([0, 1, 10], np.int64),
    np.array([-1, 0, 1]), np.zeros((3,), np.float64), np.array(["a", "b", "c"]), np.zeros((2, 3, 4, 5)),
    np.array(5), np.zeros((3, 1), np.uint8),
])


@st.composite
def npz_bytes(draw):
    kind = draw(st.sampled_from(["random", "npz", "npz", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=200))
    keys = draw(st.lists(st.sampled_from(["x_train", "y_train", "x_test", "y_test", "other"]), unique=True))
    buf = io.BytesIO()
    np.savez(buf, **{k: draw(ARRAYS) for k in keys})
    blob = bytearray(buf.getvalue())
    if kind == "mutated" and blob:
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(blob) - 1))
            blob[i] = draw(st.integers(0, 255))
        blob = blob[: draw(st.integers(0, len(blob)))]
    return bytes(blob)


@settings(max_examples=150, **FUZZ)
@given(data=npz_bytes(), split=st.sampled_from(["train", "test"]))
def test_mnist_npz_reader(tmp_path, data, split):
    _count("npz")
    path = tmp_path / "mnist.npz"
    path.write_bytes(data)
    try:
        x, y = read_mnist_npz(path, split)
    except DataError as e:
        assert str(path) in str(e) and "\n" not in str(e)
        return
    assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and y.shape == (len(x),)
    assert y.dtype == np.int64 and (len(y) == 0 or 0 <= y.min() <= y.max() <= 9)


# ---- image folders -----------------------------------------------------------------------------
MODES = {"PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"], "JPEG": ["L", "RGB", "CMYK"],
         "BMP": ["1", "L", "P", "RGB"], "WEBP": ["L", "RGB", "RGBA"]}
EXT = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "WEBP": ".webp"}


@st.composite
def image_file(draw):
    """(relative path, bytes): a small image in some mode and format, or a broken file."""
    folder = draw(st.sampled_from(["", "", "cats/", "dogs/", ".hidden/", "cats/deep/"]))
    stem = draw(st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=6))
    kind = draw(st.sampled_from(["image", "image", "image", "garbage", "truncated"]))
    fmt = draw(st.sampled_from(sorted(MODES)))
    name = folder + stem + draw(st.sampled_from([EXT[fmt], EXT[fmt].upper(), ".txt"]))
    if kind == "garbage":
        return name, draw(st.binary(max_size=40))
    mode = draw(st.sampled_from(MODES[fmt]))
    w, h = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**16))
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)
    if mode == "I;16":  # 16-bit grey
        im = Image.fromarray(arr[..., 0].astype("<u2") * 257)
    else:
        im = Image.fromarray(arr, "RGBA").convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt)
    blob = buf.getvalue()
    if kind == "truncated":
        blob = blob[: draw(st.integers(0, len(blob)))]
    return name, blob


@settings(max_examples=100, **FUZZ)
@given(files=st.lists(image_file(), max_size=6), split=st.sampled_from(["train", "test"]),
       size=st.sampled_from([None, 0, 4, 9]), channels=st.sampled_from([None, 1, 3]))
def test_image_folder(tmp_path, files, split, size, channels):
    root = _scratch(tmp_path, "folder")
    _count("folder")
    for name, blob in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(blob)
    try:
        ds = image_folder(str(root), split=split, image_size=size, channels=channels)
    except DataError as e:
        assert "\n" not in str(e)
        return
    n, c, h, w = ds.x.shape
    assert n >= 1 and h == w and c == (channels or c) and c in (1, 3)
    assert ds.x.min() >= -1 and ds.x.max() <= 1
    assert ds.y is None or (len(ds.y) == n and ds.num_classes == len(ds.extra["classes"]) >= 2)


# ---- YAML configs ------------------------------------------------------------------------------
KEYS = config_mod.field_names()
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["dcgan", "mlp", "digits", "1e400", "-1", ".inf", "nan"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=6)


@st.composite
def yaml_text(draw):
    kind = draw(st.sampled_from(["text", "mapping", "mapping", "mapping"]))
    if kind == "text":
        return draw(st.text(max_size=80))
    keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers(), st.none())
    mapping = draw(st.dictionaries(keys, VALUES, max_size=5))
    return yaml.safe_dump(mapping, allow_unicode=True)


@settings(max_examples=150, **FUZZ)
@given(text=yaml_text(), suffix=st.sampled_from([".yaml", ".json"]))
@example(text="hidden: [.inf]", suffix=".yaml")  # int(inf): OverflowError
@example(text="minutes: 1" + "0" * 400, suffix=".yaml")  # float(10**400): OverflowError
@example(text="seed: " + "9" * 5000, suffix=".yaml")  # more digits than int() converts
@example(text='{"seed": ' + "9" * 5000 + "}", suffix=".json")
@example(text="? ''\n: []\n0: []\n", suffix=".yaml")  # keys of mixed types
@example(text="[" * 1000 + "]" * 1000, suffix=".yaml")  # deep nesting: RecursionError
@example(text="seed: -1\nlr_g: -0.5\nbeta1: 1.5", suffix=".yaml")
def test_yaml_config(tmp_path, text, suffix):
    _count("yaml")
    path = tmp_path / f"recipe{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        cfg = config_mod.resolve(config_mod.read_file(path), where=str(path))
    except ConfigError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(cfg, Config)


# ---- the CLI -----------------------------------------------------------------------------------
ARG_TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    st.sampled_from(["", "-", "--", "-1", "0", "1e400", "nan", "inf", "-inf", "2e9", "9" * 30, "..", "/",
                     "../../etc", "/etc/passwd", "~", "dcgan", "digits", "mlp", "ring", "fp16", "cuda:7",
                     "lr_g=1e400", "hidden=[", "seed=99999999999999999999999", "z_dim=0", "out=/",
                     "name=../x", "epochs=-1", "batch_size=1e3", "model", "=", "a=b=c"]),
)
TRAIN_FLAGS = ["--config", "--model", "--data", "--data-dir", "--loss", "--epochs", "--minutes", "--batch-size",
               "--seed", "--precision", "--device", "--out", "--name", "--runs-dir", "--set", "--resume"]


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang("the command ran for more than 30 s")


def run_cli(argv: list) -> tuple:
    """main(argv) in this process -> (exit code, stdout, stderr); a run past 30 s fails as a hang."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as e:
                code = e.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, out.getvalue(), err.getvalue()


def check_outcome(code, out: str, err: str, cmd: str) -> None:
    assert "Traceback" not in err + out
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(("gankit: error:", f"gankit {cmd}: error:")), lines[0]


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_size if p.is_file() else -1
            for p in folder.rglob("*")}


@settings(max_examples=150, **FUZZ)
@given(pairs=st.lists(st.tuples(st.sampled_from(TRAIN_FLAGS), ARG_TEXT), min_size=1, max_size=4))
@example(pairs=[("--set", "hidden=[.inf]")])
@example(pairs=[("--seed", "9" * 30)])
@example(pairs=[("--set", "lr_g=1e400"), ("--set", "beta2=2")])
@example(pairs=[("--name", "../../etc")])
@example(pairs=[("--resume", "/"), ("--epochs", "3")])
@example(pairs=[("--config", "/")])
def test_train_flags_dry_run(tmp_path, monkeypatch, pairs):
    work = _scratch(tmp_path, "train")
    _count("train")
    monkeypatch.chdir(work)
    argv = ["train", "--dry-run"] + [x for flag, value in pairs for x in (flag, value)]
    code, out, err = run_cli(argv)
    check_outcome(code, out, err, "train")
    if code == 0:
        assert isinstance(yaml.safe_load(out), dict)
    assert _tree(work) == {}, "a dry run wrote files"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    import gankit

    path = tmp_path_factory.mktemp("fuzz-run") / "run"
    gankit.train({"model": "dcgan", "data": "digits", "width": 8, "limit": 64, "batch_size": 32, "epochs": 1,
                  "precision": "fp32", "device": "cpu", "progress": False, "report": False, "out": str(path)})
    return path


SAMPLE_INT = st.one_of(st.integers(-3, 70), st.sampled_from([-2**63, 2**63, 2**64, 10**30, 100_000_000]).map(str),
                       ARG_TEXT)
SAMPLE_FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["1e-300", "-0.5", "0"]),
                         ARG_TEXT)


@settings(max_examples=100, **FUZZ)
@example(n=None, seed=None, label=None, truncation="-1", out=("a", ".png"))  # rejection sampling looped
@example(n=None, seed=None, label=None, truncation="1e-300", out=("a", ".png"))
@example(n=None, seed=str(2**64), label=None, truncation=None, out=("a", ".npz"))  # torch seed overflow
@example(n="100000000", seed=None, label=None, truncation=None, out=("a", ".npz"))  # 40 GB of latents
@given(n=st.one_of(st.none(), SAMPLE_INT), seed=st.one_of(st.none(), SAMPLE_INT),
       label=st.one_of(st.none(), SAMPLE_INT), truncation=st.one_of(st.none(), SAMPLE_FLOAT),
       out=st.tuples(st.text(string.ascii_letters + "._-", min_size=1, max_size=8),
                     st.sampled_from([".png", ".npz", ".jpg", "", ".PNG"])))
def test_sample_flags(tmp_path, monkeypatch, trained_run, n, seed, label, truncation, out):
    work = _scratch(tmp_path, "sample")
    _count("sample")
    monkeypatch.chdir(work)
    before = _tree(trained_run)
    argv = ["sample", trained_run, "--out", out[0] + out[1]]
    for flag, value in (("-n", n), ("--seed", seed), ("--label", label), ("--truncation", truncation)):
        if value is not None:
            argv += [flag, value]
    code, stdout, err = run_cli(argv)
    check_outcome(code, stdout, err, "sample")
    assert _tree(trained_run) == before, "sampling changed the run directory"
    written = _tree(work)
    if code == 0:
        assert list(written) == [out[0] + out[1]], written
    else:
        assert written == {}, written


# ---- sample files for `gankit evaluate --samples` -----------------------------------------------
def _npz_bytes(compressed: bool = False, **arrays) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def _npy_bytes(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _zip_bytes(members: dict) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return buf.getvalue()


_RNG = np.random.default_rng(0)
_UNIT = _RNG.random((20, 1, 8, 8)).astype(np.float32)  # valid: floats in [0, 1]
_NAN, _INF = _UNIT.astype(np.float64), _UNIT.copy()
_NAN[3, 0, 2, 2], _INF[0, 0, 0, 0] = np.nan, -np.inf
SAMPLE_ARRAYS = st.sampled_from([
    _UNIT, (_UNIT * 255).astype(np.uint8), (_UNIT[:, 0] * 255).astype(np.uint8), _UNIT.astype(">f4"),
    _UNIT.astype(np.float16), np.repeat(_UNIT, 3, axis=1), _UNIT * 2, _NAN, _INF, np.full((20, 8, 8), np.inf),
    np.array([None, 1, "x"], dtype=object), np.zeros((20, 1, 8, 8), bool), np.zeros((20, 1, 8, 8), np.int64),
    np.zeros((20, 1, 8, 8), np.int8), np.zeros((20, 1, 8, 8), np.uint16), np.zeros((20, 1, 8, 8), np.complex64),
    np.zeros((0, 1, 8, 8), np.float32), np.zeros((0,), np.uint8), np.zeros((20, 0, 8, 8)), np.zeros((0, 2)),
    _RNG.normal(size=(20, 2)), np.full((20, 2), 1e300), np.full((20, 2), np.nan), np.arange(40).reshape(20, 2),
    np.zeros((20, 2), complex), np.zeros((20, 2), bool), np.zeros((20, 2), "datetime64[s]"),
    np.array(["a", "b"]), np.array(0.5), np.zeros(20), np.zeros((2, 1, 1, 8, 8)), np.zeros(3, dtype=[("a", "f4")]),
    np.zeros((20, 1, 7, 7), np.uint8),
])
SAMPLE_KEYS = st.sampled_from(["images", "images", "labels", "arr_0", "x"])


@st.composite
def samples_bytes(draw):
    """The bytes of a --samples file: an .npz (mostly), or something else that may be called .npz."""
    kind = draw(st.sampled_from(["random", "npy", "zip", "npz", "npz", "npz", "mutated"]))
    if kind == "random":
        return draw(st.one_of(st.binary(max_size=200), st.sampled_from([b"", b"PK\x03\x04", b"\x93NUMPY", b"hello"])))
    if kind == "npy":
        return _npy_bytes(draw(SAMPLE_ARRAYS))
    if kind == "zip":
        names = st.sampled_from(["images.npy", "images", "x.txt", "labels.npy", "a/b.npy", "images.npy/"])
        return _zip_bytes(draw(st.dictionaries(names, st.binary(max_size=40), max_size=3)))
    keys = draw(st.lists(SAMPLE_KEYS, unique=True, max_size=3))
    blob = _npz_bytes(draw(st.booleans()), **{k: draw(SAMPLE_ARRAYS) for k in keys})
    if kind == "mutated":
        blob = bytearray(blob)
        for _ in range(draw(st.integers(1, 8))):
            blob[draw(st.integers(0, len(blob) - 1))] = draw(st.integers(0, 255))
        blob = bytes(blob[: draw(st.integers(0, len(blob)))])
    return blob


# the cases: each is one line naming --samples and the file, exit code 2
BAD_SAMPLES = {
    "not-a-zip": b"not an npz file at all\n",
    "empty-file": b"",
    "a-bare-npy": _npy_bytes(_UNIT),
    "a-zip-of-text": _zip_bytes({"images.txt": b"0 1 2"}),
    "no-images-key": _npz_bytes(x=_UNIT, labels=np.arange(20)),
    "no-arrays": _npz_bytes(),
    "nan": _npz_bytes(images=_NAN),
    "inf": _npz_bytes(images=_INF),
    "object": _npz_bytes(images=np.array([None, 1, "x"], dtype=object)),
    "bool": _npz_bytes(images=np.ones((20, 1, 8, 8), bool)),
    "int": _npz_bytes(images=np.ones((20, 1, 8, 8), np.int64)),
    "empty-images": _npz_bytes(images=np.zeros((0, 1, 8, 8), np.float32)),
    "empty-points": _npz_bytes(images=np.zeros((0, 2), np.float32)),
    "truncated": _npz_bytes(images=_UNIT)[:300],
    "corrupt-compressed": bytes(b ^ 0xFF if 200 < i < 260 else b for i, b in enumerate(_npz_bytes(True, images=_UNIT))),
}


def _check_samples_error(e: Exception, path: Path) -> None:
    msg = str(e)
    assert msg.startswith("--samples: ") and str(path) in msg and "\n" not in msg, msg


@settings(max_examples=150, **FUZZ)
@given(data=samples_bytes())
def test_samples_reader(tmp_path, data):
    import torch

    from gankit.metrics.evaluate import read_samples

    _count("samples")
    path = _scratch(tmp_path, "samples") / "s.npz"
    path.write_bytes(data)
    try:
        x = read_samples(path)
    except DataError as e:
        _check_samples_error(e, path)
        return
    assert x.dtype == torch.float32 and len(x) > 0 and x.dim() in (2, 4)
    assert bool(x.isfinite().all())
    if x.dim() == 4:
        assert x.min() >= -1 and x.max() <= 1


@settings(max_examples=60, **FUZZ)
@given(data=samples_bytes())
@example(data=BAD_SAMPLES["empty-images"])
@example(data=BAD_SAMPLES["object"])
def test_evaluate_samples_cli(tmp_path, monkeypatch, data):
    """`gankit evaluate --samples FILE`: a file the reader refuses is its one line, exit code 2; one
    it takes is evaluated (or refused in one line, e.g. a shape the judge does not take)."""
    from gankit.metrics.evaluate import read_samples

    work = _scratch(tmp_path, "evaluate")
    _count("evaluate")
    monkeypatch.chdir(work)
    path = work / "s.npz"
    path.write_bytes(data)
    try:
        read_samples(path)
        refused = None
    except DataError as e:
        refused = str(e)
    code, out, err = run_cli(["evaluate", "--samples", path, "--data", "digits", "-n", "20"])
    check_outcome(code, out, err, "evaluate")
    if refused is not None:
        assert code == 2 and err.strip() == f"gankit: error: {refused}"
    assert _tree(work) == {"s.npz": len(data)}, "evaluate --samples wrote files"


@pytest.mark.parametrize("case", sorted(BAD_SAMPLES))
def test_bad_samples_files_are_one_line_naming_the_file(tmp_path, case):
    path = tmp_path / f"{case}.npz"
    path.write_bytes(BAD_SAMPLES[case])
    code, out, err = run_cli(["evaluate", "--samples", path, "--data", "digits", "-n", "20"])
    check_outcome(code, out, err, "evaluate")
    assert code == 2 and "--samples" in err and str(path) in err, err
