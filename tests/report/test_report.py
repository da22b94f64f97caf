"""report.html, compare and the TensorBoard option on tiny real runs; a headless Chromium opens
the report.

The browser check: Chromium cannot tell us from the command line whether an <img> loaded, so the
test writes ``report-check.html`` beside report.html (the same page with a small script first in
<head>) and runs ``chromium --headless --dump-dom``. The script records, on window load, every
image's ``complete``/``naturalWidth``, every failed resource (error events in the capture phase),
every uncaught error and every console.error into a <pre id="__check"> JSON block, which the dumped
DOM carries back. Chromium's own log (``--enable-logging=stderr --v=0``) is parsed as well: any
``CONSOLE`` line from the page counts as an error (the report has no scripts, so it should log
nothing). A page with a missing image and a thrown error must fail the same check, so the check
is known to be able to fail. Finally the real report.html is screenshotted.
"""
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

import gankit
from gankit import rundir
from gankit.errors import GankitError
from gankit.report.compare import write_compare
from gankit.report.html import metric_rows, shortfall, write_report
from gankit.sampling import explore as X

BASE = {"data": "digits", "epochs": 1, "limit": 128, "width": 16, "progress": False}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Under CI (.ci/run sets CI=true) the browser test is required: without chromium it fails, not skips.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")
# eval.json as ``gankit evaluate`` writes it (format gankit-eval/1), trimmed to a few metrics
EVAL = {
    "format": "gankit-eval/1", "kind": "images", "data": "digits", "n": 200, "seed": 0,
    "evaluator": "digits-judge-v1 (sha256 941c76c426aa)",
    "metrics": {
        "fid": {"value": 1465.74, "floor": 21.37, "better": "lower", "note": "Frechet distance of judge features"},
        "classifier_score": {"value": 1.0089, "floor": 6.2062, "better": "higher", "std": 0.0119,
                             "floor_std": 0.697, "note": "Inception score with the judge (1..K)"},
        "density": {"value": 0.97, "floor": 0.938, "better": "one", "note": "about 1 for real data"},
        "classes_covered": {"value": 1, "floor": 10, "better": "higher", "of": 10, "note": "classes predicted"},
    },
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny DCGAN run (its report written by train), some explore figures and an eval.json."""
    out = tmp_path_factory.mktemp("report") / "dcgan run"  # a space: links must be URL-quoted
    run = gankit.train({**BASE, "model": "dcgan", "out": str(out)})
    assert (out / "report.html").is_file() and (out / "env.json").is_file()  # written at the end of training
    X.grid(run, n=16)
    X.walk(run, n=16, scale_means=3, frames=3)
    X.interpolate(run, steps=4, rows=2, mode="slerp")
    (out / "eval.json").write_text(json.dumps(EVAL))
    write_report(out)
    return out


@pytest.fixture(scope="module")
def other_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "mlp"
    gankit.train({**BASE, "model": "mlp", "hidden": [32], "ema": 0.0, "out": str(out)})
    return out


def _srcs(page: str) -> list[str]:
    return [html.unescape(s) for s in re.findall(r'<img src="([^"]+)"', page)]


def test_report_links_every_image_relatively(run_dir):
    from urllib.parse import unquote

    page = (run_dir / "report.html").read_text()
    srcs = _srcs(page)
    expected = {"samples/final.png", "progress.gif", "losses.png", "explore/grid.png", "explore/walk-means3-stds1.png",
                "explore/walk-means3-stds1.gif", "explore/interpolate-latents-slerp.png",
                "explore/interpolate-latents-slerp.gif"}
    assert expected <= {unquote(s) for s in srcs}
    for s in srcs:
        assert not s.startswith(("/", "http:", "https:", "file:")) and ".." not in s
        assert (run_dir / unquote(s)).is_file(), s
    # the explore figures' caption sidecars are there, and are not figures
    assert (run_dir / "explore" / "walk-means3-stds1.json").is_file()
    assert not re.search(r'explore/[^"<]*\.json', page)
    # nothing else is fetched: no scripts, stylesheets or remote resources
    assert "<script" not in page and "<link rel=\"stylesheet\"" not in page and "http" not in page.replace(
        "http-equiv", "")


def test_report_shows_config_environment_and_metrics(run_dir):
    import torch

    page = (run_dir / "report.html").read_text()
    assert "dcgan run: dcgan on digits" in page
    assert f"<td>{torch.__version__}</td>" in page  # the environment
    assert '<tr class="changed"><td>width</td><td class="num">16</td></tr>' in page  # non-default setting in bold
    # each metric beside its floor, and how far short of it
    assert ('<tr><td>fid</td><td class="num">1466</td><td class="num">21.37</td><td>lower</td>'
            '<td class="warn">1444 short</td>') in page
    assert '<td class="num">1.009 ± 0.0119</td><td class="num">6.206 ± 0.697</td>' in page
    assert '<td>density</td><td class="num">0.97</td><td class="num">0.938</td><td>near 1</td><td class="ok">' in page
    assert '<td class="num">1 / 10</td><td class="num">10 / 10</td><td>higher</td><td class="warn">9 short</td>' in page
    assert "digits-judge-v1 (sha256 941c76c426aa)" in page
    # each explore figure captioned as its command wrote it
    assert "latent walk: means and spreads scaled along the latent dimensions (means ×3, spreads ×1)" in page
    assert ('<figcaption>samples from seeded latents <span class="muted">(figure)</span><br>'
            '<code>explore/grid.png</code>') in page
    assert ('<figure><a href="explore/interpolate-latents-slerp.gif"><img src="explore/interpolate-latents-slerp.gif" '
            'alt="slerp between pairs of seeded latents (first and last columns: the endpoints) (animation)"') in page
    env = json.loads((run_dir / "env.json").read_text())
    assert env["torch"] == torch.__version__ and env["seed"] == 0


def test_a_figure_without_its_caption_sidecar_is_captioned_by_its_stem(run_dir, tmp_path):
    run = tmp_path / "older run"
    shutil.copytree(run_dir, run)
    explore = rundir.explore_dir(run)
    rundir.explore_caption(explore / "walk-means3-stds1.png").unlink()  # explored by an older gankit
    shutil.copy(explore / "grid.png", explore / "a<b&c.png")  # no sidecar; a stem that must be escaped
    shutil.copy(explore / "grid.png", explore / "unreadable.png")
    rundir.explore_caption(explore / "unreadable.png").write_text("{not json")
    page = write_report(run).read_text()
    for kind, suffix in (("figure", "png"), ("animation", "gif")):
        assert (f'<figcaption>walk-means3-stds1 <span class="muted">({kind})</span><br>'
                f'<code>explore/walk-means3-stds1.{suffix}</code>') in page
    assert "latent walk" not in page  # nothing is read from the file name any more
    assert ('<figcaption>a&lt;b&amp;c <span class="muted">(figure)</span><br>'
            '<code>explore/a&lt;b&amp;c.png</code>') in page
    assert '<figcaption>unreadable <span class="muted">(figure)</span>' in page
    assert {"explore/a%3Cb%26c.png", "explore/unreadable.png"} <= set(_srcs(page))
    assert "samples from seeded latents" in page  # the figures with sidecars keep their captions
    assert not [s for s in _srcs(page) if s.endswith(".json")]


def test_env_json_is_kept_across_reports(run_dir):
    before = (run_dir / "env.json").read_text()
    write_report(run_dir)
    assert (run_dir / "env.json").read_text() == before


def test_metric_rows_and_shortfall():
    rows = metric_rows({"metrics": {"fid": 3.0, "kid": {"value": 0.1, "floor": 0.0}}, "floors": {"fid": 1.0}})
    assert [(r["name"], r["value"], r["floor"]) for r in rows] == [("fid", 3.0, 1.0), ("kid", 0.1, 0.0)]
    assert [r["name"] for r in metric_rows({"fid": 2.0, "evaluator": "x"})] == ["fid"]
    assert metric_rows(None) == []
    assert shortfall(30.0, 20.0, "lower") == 10.0 and shortfall(0.5, 0.9, "higher") == pytest.approx(0.4)
    assert shortfall(1.05, 0.9, "one") < 0  # nearer to 1 than real data
    assert shortfall(5, 1, None) is None


def test_report_cli_and_errors(run_dir, tmp_path, cli):
    code, out, err = cli("report", run_dir)
    assert code == 0 and out.strip() == f"wrote {run_dir / 'report.html'}"
    code, out, err = cli("report", tmp_path)
    assert code == 2 and err.strip() == f"gankit: error: {tmp_path}: not a gankit run directory (no config.yaml)"
    code, out, err = cli("report", run_dir, "--out", tmp_path / "elsewhere.html")
    assert code == 2 and "must be inside the run directory" in err and len(err.strip().splitlines()) == 1


def _chromium(*args, timeout=90):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=timeout)


CHECK_SCRIPT = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  window.__errors.push(t && t.tagName ? 'failed to load ' + t.tagName + ' ' + (t.currentSrc || t.src || t.href)
                                      : 'uncaught: ' + e.message);
}, true);
var __consoleError = console.error;
console.error = function () {
  window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
  __consoleError.apply(console, arguments);
};
window.addEventListener('load', function () {
  var images = Array.prototype.map.call(document.images, function (im) {
    return {src: im.getAttribute('src'), width: im.naturalWidth, ok: im.complete && im.naturalWidth > 0};
  });
  var pre = document.createElement('pre');
  pre.id = '__check';
  pre.textContent = JSON.stringify({images: images, errors: window.__errors});
  document.body.appendChild(pre);
});
</script>"""


def _check_page(page, user_data):
    """Open ``page`` (a report) with the check script injected: (images, errors, console lines)."""
    check = page.with_name("report-check.html")
    check.write_text(page.read_text().replace("<head>", "<head>\n" + CHECK_SCRIPT, 1))
    proc = _chromium(f"--user-data-dir={user_data}", "--virtual-time-budget=10000", "--dump-dom", check.as_uri())
    check.unlink()
    found = re.search(r'<pre id="__check">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"chromium gave no DOM (exit {proc.returncode}): {proc.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return result["images"], result["errors"], console


@pytest.mark.skipif(CHROMIUM is None and not IN_CI,
                    reason="chromium is not installed (CI installs Debian's chromium package, and needs it)")
def test_a_real_browser_loads_every_image_without_errors(run_dir, tmp_path):
    assert CHROMIUM is not None, "CI is set but chromium is not installed (.ci/run installs Debian's chromium)"
    # The check catches a broken page: a missing image, a thrown error, a console.error.
    bad = tmp_path / "bad" / "report.html"
    bad.parent.mkdir()
    shutil.copy(run_dir / "losses.png", bad.parent / "losses.png")
    bad.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                   '<img src="losses.png"><img src="missing.png">'
                   '<script>console.error("boom"); notDefined();</script></body></html>')
    images, errors, console = _check_page(bad, tmp_path / "profile-bad")
    assert [i["ok"] for i in images] == [True, False]
    assert any("missing.png" in e for e in errors) and any("notDefined" in e for e in errors)
    assert any("boom" in line for line in console)

    # The report: every image loads, nothing goes wrong.
    images, errors, console = _check_page(run_dir / "report.html", tmp_path / "profile")
    assert len(images) == len(_srcs((run_dir / "report.html").read_text())) >= 8
    assert [i for i in images if not i["ok"]] == []
    assert errors == [] and console == []

    # A screenshot of the page itself (kept in the run directory, for a person to look at).
    shot = run_dir / "report-screenshot.png"
    proc = _chromium(f"--user-data-dir={tmp_path / 'profile-shot'}", "--hide-scrollbars", "--window-size=1280,2000",
                     f"--screenshot={shot}", (run_dir / "report.html").as_uri())
    assert shot.is_file(), proc.stderr[-2000:]
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []
    im = Image.open(shot).convert("L")
    assert im.size == (1280, 2000)
    lo, hi = im.getextrema()
    assert hi - lo > 100  # not a blank page
    shot.unlink()  # not part of the run


def test_compare_tables(run_dir, other_run, tmp_path, cli):
    md, path = write_compare([run_dir, other_run])
    lines = md.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:4] == ["run", "model", "data", "loss"]
    assert "ema" in header and "fid" in header  # a setting that differs; a metric of one run
    assert len(lines) == 4 and "| dcgan |" in lines[2] and "| mlp |" in lines[3]
    assert lines[3].split("|")[header.index("fid") + 1].strip() == "–"  # the mlp run has no eval.json
    out = tmp_path / "cmp" / "table.html"
    code, stdout, err = cli("compare", run_dir, other_run, "--out", out)
    assert code == 0 and stdout.startswith("| run |") and f"wrote {out}" in stdout
    page = out.read_text()
    assert "<table>" in page and "<td class=\"num\">1466</td>" in page
    link = re.search(r'<a href="([^"]+)">', page).group(1)
    assert (out.parent / html.unescape(link)).resolve() == (run_dir / "report.html").resolve()
    code, _, err = cli("compare", run_dir, "--out", tmp_path / "table.txt")
    assert code == 2 and "--out" in err
    with pytest.raises(GankitError, match="not a gankit run directory"):
        write_compare([run_dir, tmp_path])


HAS_TB = importlib.util.find_spec("tensorboard") is not None


@pytest.mark.skipif(HAS_TB, reason="tensorboard is installed: the missing-package error cannot happen")
def test_tensorboard_without_the_package_is_a_one_line_error(tmp_path, cli):
    code, out, err = cli("train", "--model", "mlp", "--data", "digits", "--epochs", 1, "--set", "limit=64",
                         "--set", "hidden=16", "--no-progress", "--tensorboard", "--out", tmp_path / "r")
    assert code == 2
    assert err.strip().splitlines() == ["gankit: error: --tensorboard: the tensorboard package is not installed; "
                                        "pip install 'gankit[tensorboard]' or train without --tensorboard"]


@pytest.mark.skipif(not HAS_TB, reason="tensorboard is not installed (optional: pip install 'gankit[tensorboard]')")
def test_tensorboard_writes_scalars_and_grids(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "r"
    gankit.train({**BASE, "model": "mlp", "hidden": [16], "limit": 64, "batch_size": 32, "epochs": 2,
                  "log_every": 1, "tensorboard": True, "out": str(out)})
    acc = EventAccumulator(str(out / "tensorboard"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("d_loss")] == [1, 2, 3, 4]
    assert [e.step for e in acc.Images("samples")] == [2, 4]
