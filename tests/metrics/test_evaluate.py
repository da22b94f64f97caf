"""`gankit evaluate` end to end: a tiny digits run, real and garbage sample files, a ring run."""
import json

import numpy as np
import pytest

import gankit
from gankit.data import load_dataset
from gankit.metrics.evaluate import reference_subset
from gankit.metrics.judge import load_judge

TINY = {"epochs": 1, "progress": False, "report": False}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "dcgan-digits"
    gankit.train({**TINY, "model": "dcgan", "data": "digits", "limit": 256, "width": 16, "out": str(out)})
    return out


def _npz(path, images):
    np.savez(path, images=images)
    return path


def test_evaluate_a_digits_run_end_to_end(digits_run, cli):
    code, out, err = cli("evaluate", digits_run, "-n", "100", "--seed", "3")
    assert code == 0, err
    ev = json.loads((digits_run / "eval.json").read_text())
    judge = load_judge("digits-judge-v2")
    assert ev["format"] == "gankit-eval/1" and ev["kind"] == "images" and ev["data"] == "digits"
    assert ev["judge"]["name"] == "digits-judge-v2" and ev["judge"]["version"] == 2
    assert ev["judge"]["sha256"] == judge.sha256
    assert ev["seed"] == 3 and ev["n"] == 100 and ev["n_train"] == 256  # the run's limit is its training set
    assert set(ev["versions"]) == {"gankit", "torch", "numpy", "python"}
    assert ev["source"]["run"] == str(digits_run) and ev["source"]["model"] == "dcgan"
    expected = {"fid", "kid", "precision", "recall", "density", "coverage", "classifier_score",
                "read_as_digit", "mean_confidence", "class_kl", "classes_covered", "memorized"}
    assert set(ev["metrics"]) == expected
    read = ev["metrics"]["read_as_digit"]["value"]
    for name, m in ev["metrics"].items():
        if name == "class_kl" and read == 0:  # no sample read as a digit: no class histogram to compare
            assert m["value"] is None
            continue
        assert isinstance(m["value"], (int, float)) and isinstance(m["floor"], (int, float)), name
    assert ev["metrics"]["classes_covered"]["of"] == 10 and ev["metrics"]["classes_covered"]["floor"] == 10
    # the histograms hold the samples read as digits: every real test image here, fewer samples
    assert sum(ev["histogram"]["real"]) == 100
    assert sum(ev["histogram"]["samples"]) == round(100 * ev["metrics"]["read_as_digit"]["value"])
    # one epoch on 256 images is far from the data
    assert ev["metrics"]["fid"]["value"] > 2 * ev["metrics"]["fid"]["floor"]
    # the table names the main figures beside their floors
    assert "FID" in out and "floor" in out and "classifier score" in out and str(digits_run / "eval.json") in out

    # the same seed draws the same samples: the same figures
    again = gankit.evaluate(str(digits_run), n=100, seed=3, out=digits_run / "again.json")
    assert again["metrics"] == ev["metrics"]


def test_real_copies_and_garbage_on_digits(tmp_path):
    train = load_dataset("digits", split="train")
    unit = ((train.x + 1) / 2).numpy()  # (1500, 1, 8, 8) in [0, 1]
    reference = reference_subset(len(unit), 200)  # the 200 training images every figure compares with
    copies = gankit.evaluate(samples=_npz(tmp_path / "copies.npz", unit[reference]), data="digits")
    m = copies["metrics"]
    assert copies["n"] == 200  # all the samples (digits has 297 test images, 1500 train)
    assert m["fid"]["value"] < 1e-3 * m["fid"]["floor"]  # the reference images themselves
    assert m["memorized"]["value"] == 1.0 and 0.35 < m["memorized"]["floor"] < 0.65

    noise = np.random.default_rng(0).random((200, 1, 8, 8), dtype=np.float32)
    bad = gankit.evaluate(samples=_npz(tmp_path / "noise.npz", noise), data="digits", out=tmp_path / "noise.json")
    b = bad["metrics"]
    assert b["fid"]["value"] > 10 * b["fid"]["floor"]
    assert b["kid"]["value"] > 10 * b["kid"]["floor"]
    assert b["precision"]["value"] < 0.5 * b["precision"]["floor"]
    assert b["coverage"]["value"] < 0.5 * b["coverage"]["floor"]
    assert b["classifier_score"]["value"] < 0.5 * b["classifier_score"]["floor"]
    assert json.loads((tmp_path / "noise.json").read_text())["metrics"] == b


def test_real_mnist_test_images_sit_at_the_floor(tmp_path, cli):
    """Held-out real images score like the floor's real images; a constant image does not."""
    test = load_dataset("mnist", split="test")
    others = np.setdiff1d(np.arange(len(test)), reference_subset(len(test), 1000))  # not the floor's images
    held_out = np.random.default_rng(1).permutation(others)[:1000]  # a random draw: the file's order is not
    real = np.round((test.x[held_out].numpy() + 1) * 127.5).astype(np.uint8)  # uint8, as images on disk
    code, out, err = cli("evaluate", "--samples", _npz(tmp_path / "real.npz", real), "--data", "mnist",
                         "--limit", "1000", "-n", "1000", "--out", tmp_path / "real.json")
    assert code == 0, err
    m = json.loads((tmp_path / "real.json").read_text())["metrics"]
    assert abs(m["fid"]["value"] - m["fid"]["floor"]) < 0.25 * m["fid"]["floor"]
    assert m["kid"]["subsets"] == 1 and m["kid"]["subset_size"] == 1000  # n = 1000: one subset is the whole set
    for name in ("precision", "recall", "coverage", "classifier_score", "mean_confidence"):
        assert abs(m[name]["value"] - m[name]["floor"]) < 0.1 * m[name]["floor"], name
    assert 0.4 < m["memorized"]["value"] < 0.6
    assert m["classes_covered"]["value"] == 10

    grey = np.full((1000, 1, 28, 28), 0.5, dtype=np.float32)
    bad = gankit.evaluate(samples=_npz(tmp_path / "grey.npz", grey), data="mnist", limit=1000, n=1000)["metrics"]
    assert bad["fid"]["value"] > 20 * bad["fid"]["floor"]
    # the judge reads a flat grey image as no digit: no class, no confidence, no class histogram
    assert bad["read_as_digit"]["value"] == 0 and bad["mean_confidence"]["value"] < 0.01
    assert bad["classes_covered"]["value"] == 0 and bad["class_kl"]["value"] is None
    assert bad["recall"]["value"] == 0.0
    # KID is unbiased: real-vs-real values are noise around 0, orders of magnitude below garbage
    assert max(abs(m["kid"]["value"]), abs(m["kid"]["floor"])) < 1e-3 * bad["kid"]["value"]


def test_dropped_classes_are_not_covered(tmp_path, cli):
    """Real test digits of the classes 0-4 only: 5 of 10 classes covered, while the floor covers
    10. The judge's few errors put a handful of them in the classes 5-9, under a tenth of a fair share."""
    test = load_dataset("mnist", split="test")
    half = ((test.x[test.y < 5][:1000] + 1) / 2).numpy()  # (1000, 1, 28, 28) in [0, 1]
    code, _, err = cli("evaluate", "--samples", _npz(tmp_path / "half.npz", half), "--data", "mnist",
                       "--limit", "1000", "-n", "1000", "--out", tmp_path / "half.json")
    assert code == 0, err
    ev = json.loads((tmp_path / "half.json").read_text())
    m = ev["metrics"]
    assert m["classes_covered"]["value"] == 5 and m["classes_covered"]["floor"] == 10
    assert all(count < 10 for count in ev["histogram"]["samples"][5:])
    assert m["read_as_digit"]["value"] > 0.98 and m["class_kl"]["value"] > 0.6  # log 2 = 0.69 for 5 even classes


def test_ring_run_gets_mode_stats(tmp_path, cli):
    out = tmp_path / "ring"
    gankit.train({**TINY, "model": "mlp", "data": "ring", "limit": 1024, "hidden": [32], "out": str(out)})
    code, _, err = cli("evaluate", out, "-n", "1000")
    assert code == 0, err
    ev = json.loads((out / "eval.json").read_text())
    assert ev["kind"] == "toy" and "judge" not in ev and ev["n"] == 1000
    m = ev["metrics"]
    assert set(m) == {"modes_covered", "modes_hit", "high_quality", "reverse_kl"}
    assert m["modes_covered"]["of"] == 8 and m["modes_covered"]["floor"] == 8 and m["modes_hit"]["floor"] == 8
    assert m["modes_hit"]["value"] >= m["modes_covered"]["value"]
    assert m["high_quality"]["floor"] > 0.98 and 0 <= m["high_quality"]["value"] <= 1
    assert len(ev["histogram"]["samples"]) == 8 and sum(ev["histogram"]["real"]) > 980

    # real ring points from another draw match the floor; a point mass at the centre hits no mode
    real = load_dataset("ring", split="train", n=1000).x.numpy()
    r = gankit.evaluate(samples=_npz(tmp_path / "ring.npz", real), data="ring", n=1000)["metrics"]
    assert r["modes_covered"]["value"] == 8 and r["high_quality"]["value"] > 0.98
    assert r["reverse_kl"]["value"] < 0.02
    zero = gankit.evaluate(samples=_npz(tmp_path / "zero.npz", np.zeros((1000, 2), np.float32)), data="ring")
    assert zero["metrics"]["modes_covered"]["value"] == 0 and zero["metrics"]["high_quality"]["value"] == 0
    assert zero["metrics"]["reverse_kl"]["value"] is None  # undefined without a high-quality sample


@pytest.mark.parametrize("argv, culprit", [
    ((), "give a run directory or --samples"),
    (("--samples", "{tmp}/x.npz"), "--data"),
    (("--samples", "{tmp}/missing.npz", "--data", "digits"), "missing.npz"),
    (("--samples", "{tmp}/x.npz", "--data", "digits", "-n", "5"), "-n"),
    (("--samples", "{tmp}/signed.npz", "--data", "digits"), "[0, 1]"),
    (("--samples", "{tmp}/x.npz", "--data", "mnist"), "do not fit the judge"),
    (("--samples", "{tmp}/x.npz", "--data", "fashion-mnist"), "no shipped judge"),
    (("{tmp}",), "not a gankit run directory"),
])
def test_user_errors_are_one_line(tmp_path, cli, argv, culprit):
    np.savez(tmp_path / "x.npz", images=np.zeros((50, 1, 8, 8), np.float32))
    np.savez(tmp_path / "signed.npz", images=np.full((50, 1, 8, 8), -1.0, np.float32))
    code, out, err = cli("evaluate", *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("gankit: error: ") and err.count("\n") == 1 and culprit in err, err


def test_theory_optimal_d_through_the_cli(tmp_path, cli):
    code, out, err = cli("theory", "optimal-d", "--out", tmp_path, "--steps", "300")
    assert code == 0, err
    assert "max |D - D*|" in out and "-log 4 + 2 JSD" in out
    r = json.loads((tmp_path / "optimal-d.json").read_text())
    assert (tmp_path / "optimal-d.png").stat().st_size > 10_000
    assert abs(r["identity_diff"]) < 1e-6  # V(D*, G) = -log 4 + 2 JSD
    assert r["d_mean_abs_err"] < 0.05 and 0 <= r["value_gap"] < 0.05


def _sure_digits():
    """One MNIST test image per digit that the judge reads as that digit with near certainty."""
    judge = load_judge("mnist-judge-v2")
    test = load_dataset("mnist", split="test", size=0)
    x = test.x[:500]
    probs = judge(x).probs  # (500, 10)
    picks = []
    for d in range(10):
        sure = ((test.y[:500] == d) & (probs[:, d] > 0.999)).nonzero().flatten()
        picks.append(x[sure[0]])
    return picks  # 10 images (1, 28, 28) in [-1, 1]


def _stacked(picks, modes):
    """Stacked MNIST images whose R, G, B digits spell each mode r g b."""
    return np.stack([np.concatenate([picks[m // 100], picks[m // 10 % 10], picks[m % 10]]) for m in modes])


def test_stacked_mnist_modes_and_reverse_kl_on_constructed_sets(tmp_path):
    """The papers' measure of Stacked MNIST: a mode is hit by one sample; reverse KL to uniform.
    Every mode once: 1000 hit, KL 0. Only the ten modes r = g = b, 100 samples each: 10 hit,
    KL = log(1000 / 10). Half the modes, 2 samples each: 500 hit, KL = log 2."""
    picks = _sure_digits()
    cases = [(range(1000), 1000, 0.0),
             ([111 * d for d in range(10) for _ in range(100)], 10, np.log(100)),
             ([m for m in range(0, 1000, 2) for _ in range(2)], 500, np.log(2))]
    for modes, hit, kl in cases:
        images = (_stacked(picks, list(modes)) + 1) / 2  # [0, 1], as sample files hold them
        # limit: the first 1,000 training images as the reference (the mode figures do not read it)
        m = gankit.evaluate(samples=_npz(tmp_path / "s.npz", images), data="stacked-mnist", n=1000,
                            limit=1000)["metrics"]
        assert m["modes_hit"]["value"] == hit and m["modes_hit"]["of"] == 1000
        assert m["modes_kl"]["value"] == pytest.approx(kl, abs=1e-9)
        assert m["modes_covered"]["value"] == hit  # each holds at least a tenth of its fair share n / 1000
