"""Conditional families generate the class they are asked for: after a short run on the 8x8
digits, a classifier trained here on the real digits reads G's class-k images as k."""
import os

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import gankit
from gankit.data import load_dataset

SEED = int(os.environ.get("GANKIT_TEST_SEED", "0"))
# acgan: the family's own defaults (Radford's networks, Adam 1.5e-3, beta2 0.99), at width 16 so
# that a step is cheap, without the EMA of G (its 0.999 decay averages over far more steps than
# these runs take). cgan: the lecture's networks (arch=conv) at Adam 1e-3; its default network
# (Radford's G on z * embed(y), a projection D) needs more than these ~70 steps to pick up the
# label: 8.8% right after 3 epochs here, 99.5% after 5 CPU-minutes on MNIST (docs/benchmarks.md).
# 1500 training digits: 23 steps per epoch at batch 64.
RUNS = {"cgan": {"epochs": 3, "batch_size": 64, "arch": "conv", "lr_g": 1e-3, "lr_d": 1e-3},
        "acgan": {"epochs": 3, "batch_size": 64}}


@pytest.fixture(scope="module")
def classifier():
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    clf = LogisticRegression(max_iter=2000).fit(train.x.flatten(1).numpy(), train.y.numpy())
    assert clf.score(test.x.flatten(1).numpy(), test.y.numpy()) > 0.9
    return clf


@pytest.fixture
def one_thread():
    """Networks this small gain nothing from a second thread; on a busy 2-core machine the threads'
    synchronisation made the AC-GAN run ten times slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("model", sorted(RUNS))
def test_generated_class_is_the_asked_class(tmp_path, classifier, one_thread, model):
    run = gankit.train({"model": model, "data": "digits", "width": 16, "ema": 0.0, "seed": SEED,
                        "progress": False, "report": False, "out": str(tmp_path / model), **RUNS[model]})
    labels = np.arange(500) % 10
    images = run.sample(500, seed=1, labels=labels)["images"]  # (500, 1, 8, 8) in [0, 1]
    predicted = classifier.predict((images * 2 - 1).flatten(1).numpy())
    accuracy = (predicted == labels).mean()
    assert accuracy > 0.5, accuracy  # chance is 0.1
    grid = tmp_path / model / "samples" / f"classes-epoch-{RUNS[model]['epochs']:04d}.png"
    assert grid.is_file()
