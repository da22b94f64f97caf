"""What a Jupyter notebook shows: a Run as the last expression of a cell, and the progress bar."""
import base64
import re

import gankit
from gankit.training.progress import in_notebook, progress_html


def test_run_repr_html_shows_the_grid_and_the_figures(tmp_path):
    run = gankit.train({"model": "dcgan", "data": "digits", "width": 16, "epochs": 1, "eval_n": 200,
                        "progress": False, "report": False, "out": str(tmp_path / "r")})
    page = run._repr_html_()
    png = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert png and base64.b64decode(png.group(1)) == (tmp_path / "r" / "samples" / "final.png").read_bytes()
    check = [r for r in run.log if "fid" in r][-1]
    assert "training check" in page and f"step {check['step']}" in page and f"{check['fid']:.4g}" in page

    ev = gankit.evaluate(tmp_path / "r", n=100)
    page = gankit.load(tmp_path / "r")._repr_html_()
    assert "eval.json" in page and "n=100" in page and "floor" in page
    assert f"{ev['metrics']['fid']['value']:.4g}" in page and f"{ev['metrics']['fid']['floor']:.4g}" in page


def test_progress_bar_html():
    bar = progress_html(2, "/5", 7, 23, "d_loss 1.234 g_loss <0.5>", "00:01:02")
    assert '<progress value="7" max="23"' in bar and "epoch 2/5 7/23" in bar and "ETA 00:01:02" in bar
    assert "&lt;0.5&gt;" in bar  # escaped
    assert not in_notebook()  # pytest is no Jupyter kernel: the terminal bar (or none) is used
