"""`gankit sample RUN -n 16 --out a.npz --seed S` gives the same arrays in every process.

The runs sample from the EMA of G, whose batch-norm layers use running statistics: a DCGAN, and a
conditional GAN with and without --label. Two separate processes, started side by side, each run
every sample command through the CLI's main() (one in the opposite order of the other, so nothing
may depend on what ran before in the process); their files must hold identical arrays.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import gankit

SEED = 12345
TINY = {"data": "digits", "limit": 128, "width": 8, "batch_size": 32, "epochs": 1, "ema": 0.99,
        "precision": "fp32", "device": "cpu", "progress": False, "report": False}
CASES = {"dcgan": ("dcgan", ()), "cgan": ("cgan", ()), "cgan-label-3": ("cgan", ("--label", "3"))}
HARNESS = r"""
import sys
from gankit.cli import main
for argv in [line.split("\t") for line in sys.argv[1].splitlines()]:
    if main(argv) != 0:
        sys.exit(f"failed: {argv}")
"""


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """{case: (arrays of process 0, arrays of process 1)}, sampled from freshly trained runs."""
    root = tmp_path_factory.mktemp("determinism")
    for model in ("dcgan", "cgan"):
        run = gankit.train({**TINY, "model": model, "out": str(root / model)})
        bns = [m for m in run.nets["G_ema"].modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        assert bns and any(not torch.equal(m.running_var, torch.ones_like(m.running_var)) for m in bns)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = []
    for i in range(2):
        order = list(CASES) if i == 0 else list(reversed(CASES))
        commands = [["sample", str(root / CASES[c][0]), "-n", "16", "--out", str(root / f"{c}-{i}.npz"),
                     "--seed", str(SEED), *CASES[c][1]] for c in order]
        procs.append(subprocess.Popen([sys.executable, "-c", HARNESS, "\n".join("\t".join(a) for a in commands)],
                                      env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err

    def load(path):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}

    return {c: (load(root / f"{c}-0.npz"), load(root / f"{c}-1.npz")) for c in CASES}, root


def assert_identical(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
        assert a[k].tobytes() == b[k].tobytes(), f"{k} differs between two processes"


def test_dcgan_samples_are_the_same_in_two_processes(samples):
    got, root = samples
    a, b = got["dcgan"]
    assert_identical(a, b)
    assert a["images"].shape == (16, 1, 8, 8) and a["images"].dtype == np.float32 and "labels" not in a
    assert a["images"].std() > 0
    other = gankit.load(root / "dcgan").sample(16, seed=SEED + 1)["images"].numpy()
    assert not np.array_equal(a["images"], other)  # the seed matters


@pytest.mark.parametrize("case,labels", [("cgan", np.arange(16) % 10), ("cgan-label-3", np.full(16, 3))])
def test_conditional_samples_are_the_same_in_two_processes(samples, case, labels):
    a, b = samples[0][case]
    assert_identical(a, b)
    assert a["images"].shape == (16, 1, 8, 8)
    assert np.array_equal(a["labels"], labels)
    if case != "cgan":  # one class for all, from the same latents: not the cycling classes' images
        assert not np.array_equal(a["images"], samples[0]["cgan"][0]["images"])
