"""``--precision auto`` on the CPU: bf16 autocast for convolutional image networks, fp32 for fully
connected ones (where bf16 measured slower) and for points; convolutional networks channels-last."""
import pytest
import torch

import gankit
from gankit.training import precision


@pytest.mark.parametrize("model, arch, want", [("dcgan", "radford", "bf16"), ("cgan", "radford", "bf16"),
                                               ("vae", "conv", "bf16"), ("vae", "mlp", "fp32"),
                                               ("mlp", None, "fp32"), ("ae", None, "fp32")])
def test_auto_picks_bf16_only_for_conv_networks(tmp_path, monkeypatch, model, arch, want):
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: True)
    cfg = {"model": model, "data": "digits", "limit": 64, "epochs": 1, "width": 8, "hidden": [16],
           "progress": False, "report": False, "eval_every": -1, "out": str(tmp_path / "run")}
    run = gankit.train({**cfg, **({"arch": arch} if arch else {})})
    assert run.trainer.precision == want
    # convolutional networks run channels-last (NHWC), the layout oneDNN's fast kernels use
    weights = [m.weight for m in run.nets.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    assert bool(weights) == (want == "bf16")
    assert all(w.stride(1) == 1 for w in weights)  # channels innermost (NCHW strides: H*W)


def test_auto_is_fp32_without_native_bf16_and_explicit_choice_wins(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: False)
    cfg = {"model": "dcgan", "data": "digits", "limit": 64, "epochs": 1, "width": 8, "progress": False,
           "report": False, "eval_every": -1}
    assert gankit.train({**cfg, "out": str(tmp_path / "a")}).trainer.precision == "fp32"
    run = gankit.train({**cfg, "model": "mlp", "hidden": [16], "precision": "bf16", "out": str(tmp_path / "b")})
    assert run.trainer.precision == "bf16"
    assert torch.cuda.is_available() or precision.resolve_precision(
        "auto", torch.device("cpu"), run.trainer.data, run.nets) == "fp32"
