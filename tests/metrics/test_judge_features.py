"""Judge features: the on-disk cache and Stacked MNIST's channel-by-channel judging."""
import numpy as np
import pytest
import torch

from gankit.data import load_dataset
from gankit.metrics import features as features_mod
from gankit.metrics.features import features_dir, judge_outputs, reference_features
from gankit.metrics.judge import judge_for


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))


def test_second_extraction_reads_the_cache(empty_cache, monkeypatch):
    judge = judge_for("digits")
    first = reference_features(judge, "digits", "train")
    assert not first.cached and first.path.is_file()
    assert features_dir() in first.path.parents and judge.sha256[:12] in str(first.path)
    assert first.features.shape == (1500, judge.feature_dim) and first.channel_probs.shape == (1500, 1, 10)
    np.testing.assert_array_equal(first.probs_at(np.arange(5)), first.channel_probs[:5, 0])

    written = first.path.stat()

    def no_judge(*args, **kwargs):
        raise AssertionError("the judge ran again although its features were cached")

    # The second call must read the file: with the judge unusable it still answers, and the file
    # on disk is the one the first call wrote (not rewritten).
    with monkeypatch.context() as m:
        m.setattr(features_mod, "judge_outputs", no_judge)
        second = reference_features(judge, "digits", "train")
    assert second.cached and second.path == first.path
    again = first.path.stat()
    assert (again.st_ino, again.st_mtime_ns, again.st_size) == (written.st_ino, written.st_mtime_ns, written.st_size)
    assert np.array_equal(first.features, second.features)
    assert np.array_equal(first.channel_probs, second.channel_probs)
    assert np.array_equal(second.labels, load_dataset("digits", split="train").y.numpy())

    # A limit is its own entry: the first 100 rows of the same features.
    part = reference_features(judge, "digits", "train", limit=100)
    assert not part.cached and part.path != first.path
    np.testing.assert_allclose(part.features, first.features[:100], rtol=1e-5, atol=1e-6)


def test_damaged_cache_file_is_extracted_again(empty_cache):
    judge = judge_for("digits")
    ref = reference_features(judge, "digits", "test")
    ref.path.write_bytes(ref.path.read_bytes()[:100])  # truncated, as by a crash without atomic writes
    again = reference_features(judge, "digits", "test")
    assert not again.cached and np.array_equal(again.features, ref.features)
    assert reference_features(judge, "digits", "test").cached


def test_stacked_mnist_is_judged_channel_by_channel():
    """The joint class of the three channels is Stacked MNIST's mode, 100 r + 10 g + b."""
    judge = judge_for("stacked-mnist")
    data = load_dataset("stacked-mnist", split="test", size=300)
    out = judge_outputs(judge, data.x)
    assert out["features"].shape == (300, 3 * judge.feature_dim) and out["probs"].shape == (300, 1000)
    np.testing.assert_allclose(out["probs"].sum(axis=1), 1.0, atol=1e-4)
    accuracy = (out["probs"].argmax(axis=1) == data.y.numpy()).mean()
    assert accuracy >= 0.96, accuracy  # about 0.995^3 with a 99.4% judge
    # the middle channel's features are those of the judge on that channel alone
    green = judge(data.x[:, 1:2])[0]  # features
    np.testing.assert_allclose(out["features"][:, judge.feature_dim:2 * judge.feature_dim], green.numpy(),
                               rtol=1e-5, atol=1e-5)
    assert torch.equal(torch.as_tensor(out["probs"]).argmax(dim=1) // 100,
                       judge(data.x[:, 0:1])[1].argmax(dim=1))
