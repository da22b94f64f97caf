"""The metric registry: one entry adds a figure to eval.json, its floor and the table; the
published defaults; entries that do not fit are refused when they are registered."""
import dataclasses

import numpy as np
import pytest

import gankit
from gankit.data import load_dataset
from gankit.metrics import registry
from gankit.metrics.evaluate import format_table
from gankit.metrics.registry import FIGURES, METRICS, SETTINGS, Evidence, Figure, compute, register_metric, report


@pytest.fixture
def scratch_registry():
    """Entries registered inside a test are gone after it."""
    saved = dict(METRICS), dict(FIGURES), dict(SETTINGS)
    yield
    for table, before in zip((METRICS, FIGURES, SETTINGS), saved):
        table.clear()
        table.update(before)


def test_the_published_settings():
    """eval.json's settings and the key of every cached floor: a default that moves changes every figure."""
    assert SETTINGS == {"kid_subsets": 100, "kid_subset_size": 1000, "precision_recall_k": 3, "density_coverage_k": 5,
                        "classifier_splits": 10, "class_share": 0.1, "memorization_quantile": 0.5,
                        "mode_sigmas": 3.0, "mode_share": 0.2}


def test_every_kind_reports_its_figures_in_table_order():
    rng = np.random.default_rng(0)
    feats = lambda: rng.normal(size=(40, 6))  # noqa: E731
    probs = rng.dirichlet(np.ones(10), size=40)
    ev = Evidence("images", 0, features=feats(), probs=probs, digit=np.ones(40), train=feats(), test=feats())
    got = compute(ev)
    assert list(got) == ["fid", "kid", "precision", "recall", "density", "coverage", "classifier_score",
                         "read_as_digit", "mean_confidence", "class_kl", "classes_covered", "histogram", "memorized"]
    stacked = compute(dataclasses.replace(ev, kind="stacked", probs=rng.dirichlet(np.ones(1000), size=40)))
    assert [k for k in stacked if k.startswith("modes")] == ["modes_kl", "modes_covered", "modes_hit"]
    assert "class_kl" not in stacked and stacked["modes_hit"]["of"] == 1000
    ring = load_dataset("ring", split="test", n=200)
    toy = compute(Evidence("toy", points=ring.x, mixture=ring.extra["mixture"]))
    assert list(toy) == ["modes_covered", "modes_hit", "high_quality", "reverse_kl", "histogram"]


def test_floor_rules():
    """The floor is the same function on the test split; memorisation scores one half of it against the other."""
    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(60, 4)), rng.normal(size=(60, 4))
    probs = rng.dirichlet(np.ones(10), size=60)
    floor = Evidence("images", 0, features=test, probs=probs, digit=np.ones(60), train=train, test=test)
    fl = compute(floor, floor=True)
    assert fl["memorized"]["value"] == gankit.metrics.memorization(train, test[0::2], test[1::2])["memorized"]
    assert 0 < fl["memorized"]["value"] < 1  # not the test images against themselves (0)
    assert fl["fid"]["value"] == gankit.metrics.fid(train, test)
    # report: value beside floor; the floor's spread as floor_std; the samples' extras
    got = compute(dataclasses.replace(floor, features=rng.normal(size=(60, 4)) + 3))
    m = report(got, fl)
    assert list(m["kid"]) == ["value", "floor", "better", "std", "floor_std", "subsets", "subset_size", "note"]
    assert m["kid"]["floor"] == fl["kid"]["value"] and m["kid"]["floor_std"] == fl["kid"]["std"]
    assert m["classes_covered"]["of"] == 10 and m["memorized"]["threshold"] == got["memorized"]["threshold"]
    assert m["fid"]["value"] > 5 * m["fid"]["floor"]


def test_one_entry_adds_a_metric_to_evaluate(scratch_registry, tmp_path):
    """Register a metric: eval.json reports it beside its floor, the table shows it, and floors
    cached before it existed are not reused (they lack it)."""
    noise = np.random.default_rng(0).random((120, 1, 8, 8), dtype=np.float32)
    np.savez(tmp_path / "noise.npz", images=noise)
    before = gankit.evaluate(samples=tmp_path / "noise.npz", data="digits")  # caches the floors without it
    assert "mean_norm" not in before["metrics"]

    seen = []

    @register_metric("mean_norm", needs=("features",), settings={"mean_norm_power": 2},
                     figures=[Figure("mean_norm", "mean norm", "one", "mean p-norm of the judge features")])
    def _mean_norm(features, mean_norm_power):
        seen.append(features)
        norms = (np.abs(np.asarray(features, dtype=np.float64)) ** mean_norm_power).sum(1) ** (1 / mean_norm_power)
        return {"mean_norm": {"value": float(norms.mean()), "std": float(norms.std())}}

    after = gankit.evaluate(samples=tmp_path / "noise.npz", data="digits", out=tmp_path / "e.json")
    m = after["metrics"]
    assert list(m)[-1] == "mean_norm" and list(m)[:-1] == list(before["metrics"])
    assert {k: m[k] for k in before["metrics"]} == before["metrics"]  # the others are untouched
    assert m["mean_norm"]["better"] == "one" and m["mean_norm"]["note"] == "mean p-norm of the judge features"
    samples, real = seen  # the samples' features, then the test images' for the floor
    assert m["mean_norm"]["value"] == pytest.approx(np.linalg.norm(samples, axis=1).mean())
    assert m["mean_norm"]["floor"] == pytest.approx(np.linalg.norm(real, axis=1).mean())
    assert m["mean_norm"]["floor_std"] == pytest.approx(np.linalg.norm(real, axis=1).std())
    assert after["settings"]["mean_norm_power"] == 2
    assert "mean norm" in format_table(after)


@pytest.mark.parametrize("kwargs, fn, culprit", [
    (dict(needs=("features",)), lambda features: {}, "registered twice"),
    (dict(needs=("feature",)), lambda feature: {}, "unknown needs"),
    (dict(needs=("features",), kinds=("video",)), lambda features: {}, "unknown needs or kinds"),
    (dict(needs=("features", "train")), lambda features: {}, "exactly its needs and settings"),
    (dict(needs=("features",), settings={"kid_subsets": 5}), lambda features, kid_subsets: {}, "clashes"),
    (dict(needs=("features",), settings={"seed": 5}), lambda features, seed: {}, "clashes"),
])
def test_entries_that_do_not_fit_are_refused(scratch_registry, kwargs, fn, culprit):
    name = "fid" if culprit == "registered twice" else "new"
    with pytest.raises(ValueError, match=culprit):
        register_metric(name, figures=[], **kwargs)(fn)
    assert name == "fid" or name not in METRICS


def test_a_figure_has_one_display(scratch_registry):
    with pytest.raises(ValueError, match="shown differently"):
        register_metric("fid2", needs=("features",), figures=[Figure("fid", "FID", "higher", "?")])(
            lambda features: {})
    register_metric("undeclared", needs=("points",), kinds=("toy",), figures=[])(lambda points: {"surprise": 1.0})
    ring = load_dataset("ring", split="test", n=50)
    with pytest.raises(ValueError, match="does not declare"):
        compute(Evidence("toy", points=ring.x, mixture=ring.extra["mixture"]))
    assert registry.MODES_HIT is FIGURES["modes_hit"]
