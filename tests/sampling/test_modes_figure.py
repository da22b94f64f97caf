"""The mode figure: samples against a mixture's modes, coloured only where they are high quality."""
import numpy as np
import torch
from PIL import Image

from gankit.data.toy import ring_mixture
from gankit.metrics.toy import mode_stats
from gankit.sampling.grid import mode_line, save_modes


def test_save_modes_draws_one_panel_per_run(tmp_path):
    m = ring_mixture()
    x, _ = m.sample(500, torch.Generator().manual_seed(0))
    collapsed = m.means[:1].repeat(500, 1)
    path = save_modes([("data", x), ("one mode", collapsed)], m.means, m.std, tmp_path / "modes.png")
    img = Image.open(path)
    assert img.size[0] > 1.8 * img.size[1]  # two panels side by side
    colours = {tuple(px) for px in np.asarray(img.convert("RGB")).reshape(-1, 3)}
    assert len(colours) > 50  # coloured samples, grey outliers, black crosses, anti-aliasing


def test_the_mode_line_counts_high_quality_samples_and_modes_hit():
    means = torch.tensor([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0]] + [[9.0, float(k)] for k in range(5)])
    # two samples on mode 0, one on mode 2, one 0.5 away from mode 1 (not high quality): mode 1 is missed
    points = torch.tensor([[2.0, 0.0], [2.01, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    assert mode_line(mode_stats(points, means, 0.02), len(points)) == "75% of 4 within 3 std of a mode; 2 of 8 modes hit"
