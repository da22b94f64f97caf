"""The engine's in-training figures: FID, classifier score and coverage at a small n, or mode stats."""
import torch

from gankit.data import load_dataset
from gankit.data.toy import ring_mixture
from gankit.metrics.watch import Watch, collapsed


def test_real_digits_sit_near_zero_and_noise_collapses():
    watch = Watch.for_data("digits", n=200)
    test = load_dataset("digits", split="test")
    real = watch(test.x[:200])
    noise = watch(torch.rand(200, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    assert real["of"] == 10 and real["classes_covered"] == 10 and not collapsed(real)
    assert real["fid"] < 0.1 * noise["fid"]
    assert noise["classes_covered"] == 0 and noise["classifier_score"] < 1.1
    assert not collapsed(noise)  # no digits at all is not collapse: every run starts there
    one_class = watch(test.x[test.y == 3][:1].repeat(200, 1, 1, 1))  # every sample the same 3
    assert one_class["classes_covered"] == 1 and collapsed(one_class)


def test_toy_data_gets_mode_stats_and_unknown_data_none():
    m = ring_mixture()
    watch = Watch.for_data("ring", mixture=m, n=1000)
    x, _ = m.sample(1000, torch.Generator().manual_seed(0))
    got = watch(x)
    assert got["modes_covered"] == 8 and got["high_quality"] > 0.97 and not collapsed(got)
    two = watch(m.means[:2].repeat(500, 1))  # two modes only
    assert two["modes_covered"] == 2 and collapsed(two)
    assert Watch.for_data("fashion-mnist") is None  # no shipped judge, no mixture
