"""Explore commands on tiny trained runs: each family trains once per module (8x8 digits, the ring)."""
import json

import pytest
import torch
from PIL import Image

import gankit
from gankit import rundir
from gankit.data import load_dataset
from gankit.errors import GankitError
from gankit.models.blocks import MIXTURE_SHIFT
from gankit.sampling import explore as X
from gankit.sampling import latent as L

BASE = {"data": "digits", "epochs": 1, "limit": 128, "width": 16, "progress": False, "report": False}
FAMILIES = {
    "dcgan": {"model": "dcgan"},
    "cgan": {"model": "cgan"},
    "vae": {"model": "vae", "z_dim": 2, "arch": "mlp", "hidden": [64]},
    "ae": {"model": "ae", "z_dim": 16},
    # two kept checkpoints, so the discriminator GIF has frames to show
    "ring": {"model": "mlp", "data": "ring", "hidden": [32, 32], "z_dim": 2, "limit": 256, "epochs": 2,
             "checkpoint_every": 1},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore-runs")
    made = {}

    def get(name):
        if name not in made:
            gankit.train({**BASE, **FAMILIES[name], "out": str(root / name)})
            made[name] = gankit.load(root / name)
        return made[name]

    return get


def _test_images(n=None):
    return load_dataset("digits", split="test", limit=n or 0)


def _close(a, b):
    return torch.allclose(a, b, atol=1e-5)


def _caption(figure):
    """The caption sidecar an explore command wrote beside ``figure`` (its PNG or GIF)."""
    side = rundir.explore_caption(figure)
    assert side == figure.with_suffix(".json") and side.is_file(), figure
    return json.loads(side.read_text(encoding="utf-8"))


def test_grid_writes_the_samples_and_truncation_bounds_the_latents(runs):
    run = runs("dcgan")
    res = X.grid(run, n=16, seed=3)
    assert res.paths == [run.path / "explore" / "grid.png"]
    assert Image.open(res.paths[0]).size == (168, 168)  # 4 x (8 + 2 pad) + 2, shown 4x
    assert _close(res.images, run.sample(16, seed=3)["images"])
    assert _caption(res.paths[0]) == {"caption": "samples from seeded latents", "plot": False}
    t = X.grid(run, n=64, seed=3, truncation=0.5)
    assert t.paths[0].name == "grid-truncation0.5.png"
    assert run.config.z_dist == "mixture"  # the dcgan default: each latent truncated about its centre
    assert _caption(t.paths[0]) == {"caption": "samples with the latent drawn from a normal truncated at ±0.5 "
                                               "about its mixture centre", "plot": False}
    noise = t.z - MIXTURE_SHIFT * torch.nn.functional.one_hot(t.z[:, :10].argmax(dim=1), t.z.shape[1])
    assert noise.abs().max() <= 0.5 and noise.abs().max() > 0.3
    with pytest.raises(GankitError, match="--truncation"):
        X.grid(run, truncation=-1.0)


def test_grid_of_a_toy_run_is_a_scatter(runs):
    res = X.grid(runs("ring"), n=200)
    assert res.images.shape == (200, 2) and res.paths[0].is_file()
    assert _caption(res.paths[0]) == {"caption": "samples from seeded latents", "plot": True}  # a matplotlib plot


def test_classes_rows_share_latents(runs):
    run = runs("cgan")
    res = X.classes(run, n=5, seed=0)
    assert res.images.shape == (50, 1, 8, 8)
    assert torch.equal(res.info["labels"], torch.arange(10).repeat_interleave(5))
    assert torch.equal(res.z[:5], res.z[5:10]) and torch.equal(res.z[:5], res.z[45:])
    assert Image.open(res.paths[0]).size == ((5 * 10 + 2) * 4, (10 * 10 + 2) * 4)
    assert _caption(res.paths[0]) == {"caption": "one row per class; every column shares one latent", "plot": False}
    with pytest.raises(GankitError, match="explore classes: .* not a conditional model"):
        X.classes(runs("dcgan"))


@pytest.mark.parametrize("mode", ["lerp", "slerp"])
def test_latent_interpolation_ends_are_the_endpoint_samples(runs, mode):
    run = runs("dcgan")
    res = X.interpolate(run, mode=mode, steps=6, rows=2, seed=1)
    ends = res.info["ends"]  # a0, b0, a1, b1
    own = run.sample(4, z=ends)["images"]
    assert _close(res.images[0], own[0]) and _close(res.images[5], own[1])
    assert _close(res.images[6], own[2]) and _close(res.images[11], own[3])
    assert not _close(res.images[2], own[0])
    png, gif = res.paths
    assert png.name == f"interpolate-latents-{mode}.png"
    assert Image.open(png).size == ((6 * 10 + 2) * 4, (2 * 10 + 2) * 4)
    assert Image.open(gif).n_frames == 2 * 6 - 2  # there and back
    assert _caption(png) == _caption(gif) == {
        "caption": f"{mode} between pairs of seeded latents (first and last columns: the endpoints)", "plot": False}
    norms = res.z[:6].norm(dim=1)
    if mode == "lerp":  # the path sags towards the origin between two Gaussian latents
        assert norms[2:4].max() < min(norms[0], norms[-1])


def test_class_interpolation_ends_at_each_class(runs):
    run = runs("cgan")
    res = X.interpolate(run, classes="3,8", steps=5, rows=2, seed=0)
    z = res.z  # (rows, z_dim): one latent per row
    for r in range(2):
        row = res.images[r * 5:(r + 1) * 5]
        assert _close(row[0], run.sample(1, z=z[r:r + 1], labels=[3])["images"][0])
        assert _close(row[-1], run.sample(1, z=z[r:r + 1], labels=[8])["images"][0])
        assert not _close(row[2], row[0]) and not _close(row[2], row[-1])
    assert res.paths[0].name == "interpolate-classes-lerp.png"
    assert _caption(res.paths[0])["caption"] == ("lerp of the class conditioning from one class to another, latent "
                                                 "fixed per row")
    # the hooks are gone afterwards: plain sampling is untouched
    assert _close(run.sample(1, z=z[:1], labels=[3])["images"], res.images[:1])
    with pytest.raises(GankitError, match="--classes: .* not a conditional model"):
        X.interpolate(runs("dcgan"), classes="3,8")
    with pytest.raises(GankitError, match="--classes: 12 is outside 0..9"):
        X.interpolate(run, classes="3,12")


@pytest.mark.parametrize("family", ["ae", "vae"])
def test_image_interpolation_ends_are_the_reconstructions(runs, family):
    run = runs(family)
    res = X.interpolate(run, images=["0,1", "5,9"], steps=4, mode="slerp")
    x = _test_images().x[[0, 1, 5, 9]]
    recon = L.decode(run, L.encode(run, x))
    assert _close(res.images[0], recon[0]) and _close(res.images[3], recon[1])
    assert _close(res.images[4], recon[2]) and _close(res.images[7], recon[3])
    assert res.paths[1].name == "interpolate-images-slerp.gif"
    assert _caption(res.paths[1])["caption"] == "slerp between the codes of two test images, decoded"
    with pytest.raises(GankitError, match="--images: 5000 is outside"):
        X.interpolate(run, images=["0,5000"])
    with pytest.raises(GankitError, match="needs an autoencoder run"):
        X.interpolate(runs("dcgan"), images=["0,1"])


def test_walk_has_the_requested_shape_and_moves(runs):
    run = runs("dcgan")
    res = X.walk(run, n=225, scale_means=5, scale_stds=1, frames=4)  # 225 != z_dim: the notes' code fails here
    assert res.z.shape == (225, 100) and res.images.shape == (225, 1, 8, 8)
    png, gif = res.paths
    assert png.name == "walk-means5-stds1.png"
    assert Image.open(png).size == ((15 * 10 + 2) * 4,) * 2
    assert Image.open(gif).n_frames == 2 * 4 - 2
    still = X.walk(run, n=9, scale_means=0, scale_stds=2)
    assert [p.suffix for p in still.paths] == [".png"]  # nothing moves: no GIF


def test_walk_moves_about_each_latents_mixture_centre_and_about_zero_for_a_normal_latent(runs):
    def walk_noise(run, n, seed):  # the notes' walk on the noise the walk draws first
        eps = torch.randn(n, run.config.z_dim, generator=torch.Generator().manual_seed(seed))
        return L.walk_latents(n, run.config.z_dim, 3, 1, eps=eps)

    run = runs("dcgan")
    assert run.config.z_dist == "mixture"
    res = X.walk(run, n=64, scale_means=3, scale_stds=1, frames=1, seed=5)
    centres = res.z - walk_noise(run, 64, 5)
    components = centres[:, :10].argmax(dim=1)
    assert _close(centres, MIXTURE_SHIFT * torch.nn.functional.one_hot(components, run.config.z_dim).float())
    assert len(components.unique()) > 5  # each latent about its own centre, not one shared shift
    png, gif = X.walk(run, n=16, scale_means=3, scale_stds=1, frames=3, seed=5).paths
    frames = Image.open(gif)
    frames.seek(2)  # the GIF's third frame: means x3, the sheet's latents if the centres stay put
    sheet = Image.open(png).convert("L")
    assert frames.size == sheet.size and frames.convert("L").tobytes() == sheet.tobytes()
    ring = runs("ring")
    assert ring.config.z_dist == "normal"
    assert torch.equal(X.walk(ring, n=64, scale_means=3, scale_stds=1, frames=1, seed=5).z, walk_noise(ring, 64, 5))


def test_walk_captions_its_figures_with_its_own_parameters(runs):
    run = runs("dcgan")
    res = X.walk(run, n=4, scale_means=-2, scale_stds=0.5, frames=2)
    png, gif = res.paths
    assert png.name == "walk-meansm2-stds0.5.png"  # the file name spells the minus sign as "m"
    side = rundir.explore_caption(gif)
    assert side == rundir.explore_caption(png) == png.with_name("walk-meansm2-stds0.5.json")
    assert side not in res.paths  # the figures only, as before
    caption = ("latent walk: means and spreads scaled along the latent dimensions (means ×-2, spreads ×0.5), "
               "each latent about its mixture centre")
    assert json.loads(side.read_text(encoding="utf-8")) == {"caption": caption, "plot": False}
    assert not [p for p in side.parent.iterdir() if p.suffix == ".tmp"]  # written atomically, no leftovers
    page = gankit.write_report(run.path).read_text(encoding="utf-8")
    assert f'<figcaption>{caption} <span class="muted">(figure)</span><br><code>explore/{png.name}</code>' in page
    assert f'<figcaption>{caption} <span class="muted">(animation)</span><br><code>explore/{gif.name}</code>' in page


def test_arithmetic_by_index_matches_the_sheet(runs):
    run = runs("dcgan")
    res = X.arithmetic(run, a="1,5,9", b="2,3", c="4", n=16, seed=2)
    z = run.sample(16, seed=2)["z"]
    assert torch.allclose(res.z[-1], z[[1, 5, 9]].mean(0) - z[[2, 3]].mean(0) + z[4], atol=1e-6)
    assert _close(res.images[-1], run.sample(1, z=res.z[-1:])["images"][0])
    assert [p.name for p in res.paths] == ["arithmetic.png", "arithmetic-sheet.png"]
    assert all(p.is_file() for p in res.paths)
    assert [_caption(p) for p in res.paths] == [
        {"caption": "latent arithmetic: mean A - mean B + mean C", "plot": True},
        {"caption": "the numbered sample sheet that the arithmetic's indices refer to", "plot": True}]
    with pytest.raises(GankitError, match="--c: index 16 is outside 0..15"):
        X.arithmetic(run, a="1", c="16", n=16)


def test_arithmetic_by_class_uses_the_labels_of_an_autoencoder(runs):
    run = runs("ae")
    res = X.arithmetic(run, a="1", b="7", c="3", by="class", per_class=4)
    data = _test_images()
    ops = res.info["operands"]
    for k, cls in (("a", 1), ("b", 7), ("c", 3)):
        assert len(ops[k]) == 4 and bool((data.y[ops[k]] == cls).all())
    codes = L.encode(run, data.x)
    want = codes[ops["a"]].mean(0) - codes[ops["b"]].mean(0) + codes[ops["c"]].mean(0)
    assert torch.allclose(res.z[-1], want, atol=1e-5)
    with pytest.raises(GankitError, match="--b: class 12 is outside 0..9"):
        X.arithmetic(run, a="1", b="12", by="class")


def test_manifold_spans_the_2d_latent_grid(runs):
    run = runs("vae")
    res = X.manifold(run, side=5)
    assert res.images.shape == (25, 1, 8, 8)
    assert res.z[0].tolist() == [-3.0, 3.0] and res.z[4].tolist() == [3.0, 3.0]  # top row: z2 = +3
    assert res.z[-1].tolist() == [3.0, -3.0]
    assert _close(res.images, run.sample(25, z=res.z)["images"])
    assert _caption(res.paths[0]) == {"caption": "the decoder over a regular grid of the 2-D latent space",
                                      "plot": True}
    with pytest.raises(GankitError, match="needs a 2-D latent space; .* z_dim=100"):
        X.manifold(runs("dcgan"))
    ae2 = gankit.train({**BASE, "model": "ae", "z_dim": 2, "out": str(run.path.parent / "ae-2d")})
    with pytest.raises(GankitError, match="--model ae run's codes have no prior to span"):
        X.manifold(ae2)


def test_scatter_codes_and_pca(runs):
    vae = X.scatter(runs("vae"), n=200)
    x = _test_images(200).x
    assert torch.equal(vae.info["xy"], L.encode(runs("vae"), x))  # 2-D codes are plotted as they are
    ae = X.scatter(runs("ae"), n=200)
    xy = ae.info["xy"]
    assert ae.z.shape == (200, 16) and xy.shape == (200, 2)
    cov = torch.cov(xy.T.double())
    assert cov[0, 0] >= cov[1, 1] and abs(cov[0, 1]) < 1e-6 * cov[0, 0]  # principal axes: ordered, uncorrelated
    assert ae.paths[0].name == "scatter.png" and ae.paths[0].is_file()
    assert _caption(ae.paths[0]) == {"caption": "codes of test images, coloured by label", "plot": True}
    with pytest.raises(GankitError, match="explore scatter: needs an autoencoder"):
        X.scatter(runs("dcgan"))


def test_reconstruct_puts_inputs_beside_reconstructions(runs):
    run = runs("ae")
    res = X.reconstruct(run, n=12, cols=4, seed=0)
    x = _test_images().x[res.info["indices"]]
    assert _close(res.images, L.decode(run, L.encode(run, x)))
    assert res.info["mse"] == pytest.approx(float(((res.images - (x + 1) / 2) ** 2).mean()), rel=1e-5)
    assert Image.open(res.paths[0]).size == ((9 * 10 + 2) * 4, (3 * 10 + 2) * 4)  # 3 rows of 4 | gap | 4
    assert _caption(res.paths[0]) == {"caption": "test images (left) and their reconstructions (right)", "plot": False}


def test_fitted_code_priors_recover_a_known_normal():
    g = torch.Generator().manual_seed(0)
    a = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.5, 0.0], [-0.3, 0.2, 0.1]], dtype=torch.float64)
    codes = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64) + torch.randn(50_000, 3, generator=g, dtype=torch.float64) @ a.T
    p = X.codes.fit_code_priors(codes)
    assert torch.allclose(p["mu"], torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64), atol=0.02)
    assert torch.allclose(p["chol"] @ p["chol"].T, a @ a.T, atol=0.02)  # Sigma, not Sigma's transpose-square
    assert float(p["m"]) == pytest.approx(float(codes.mean())) and float(p["s"]) == pytest.approx(float(codes.std()))
    z = X.codes.prior_codes(p, torch.randn(50_000, 3, generator=g, dtype=torch.float64))[X.codes.PRIORS[2]]
    assert torch.allclose(torch.cov(z.T), a @ a.T, atol=0.03)  # draws from the fitted prior have its covariance


def test_prior_decodes_the_same_noise_under_three_priors(runs):
    run = runs("ae")
    res = X.prior(run, n=9, seed=1)
    assert res.paths == [run.path / "explore" / "prior.png"] and Image.open(res.paths[0]).size[0] > 600
    codes, images = res.info["codes"], res.info["images"]
    assert list(codes) == list(X.codes.PRIORS)
    eps = codes[X.codes.PRIORS[0]]
    assert _close(codes[X.codes.PRIORS[1]], res.info["m"].float() + res.info["s"].float() * eps)
    train = L.encode(run, load_dataset("digits", split="train").x).double()
    assert torch.allclose(res.info["mu"], train.mean(0), atol=1e-6)  # fitted to the training codes
    for name in X.codes.PRIORS:
        assert _close(images[name], L.decode(run, codes[name]))
    assert _caption(res.paths[0])["plot"] is True
    with pytest.raises(GankitError, match="explore prior: needs an autoencoder"):
        X.prior(runs("dcgan"))


def test_discriminator_surface_and_mapping_on_the_ring(runs):
    run = runs("ring")
    before = {k: v.clone() for k, v in run.nets.state_dict().items()}
    res = X.discriminator(run, n=300, resolution=30)
    png, gif = res.paths
    assert png.name == "discriminator.png" and Image.open(png).size[0] > 400
    assert Image.open(gif).n_frames == 3  # epoch-0001.pt, epoch-0002.pt, then the loaded weights
    assert _caption(png) == _caption(gif) == {
        "caption": "D's decision surface under data and samples, and G's mapping of a latent grid", "plot": True}
    assert 0 < res.info["d_real"] < 1 and 0 < res.info["d_fake"] < 1
    after = run.nets.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the frames did not leave old weights behind
    with pytest.raises(GankitError, match="needs a 1-D or 2-D toy run"):
        X.discriminator(runs("dcgan"))


def test_a_latent_gan_explores_in_image_space(runs, tmp_path):
    # It trains on an autoencoder's codes, but its samples are decoded images.
    run = gankit.train({**BASE, "model": "latent-gan", "ae_run": str(runs("ae").path), "hidden": [32],
                        "out": str(tmp_path / "lg")})
    assert run.data_shape == (16,)
    res = X.interpolate(run, steps=3, rows=1)
    assert res.images.shape == (3, 1, 8, 8) and res.z.shape == (3, run.config.z_dim)
    assert X.grid(run, n=4).images.shape == (4, 1, 8, 8)


def test_image_commands_refuse_toy_runs(runs):
    with pytest.raises(GankitError, match="explore interpolate: .* points, not images"):
        X.interpolate(runs("ring"))


def test_cli_explore(runs, cli):
    run = runs("dcgan")
    code, out, err = cli("explore", run.path, "grid", "-n", 9, "--seed", 4)
    assert code == 0 and f"wrote {run.path / 'explore' / 'grid.png'}" in out
    code, out, err = cli("explore", run.path, "interpolate", "--mode", "slerp", "--steps", 3, "--rows", 1)
    assert code == 0 and "interpolate-latents-slerp.gif" in out
    code, out, err = cli("explore", runs("cgan").path, "interpolate", "--classes", "0,x")
    assert code == 2 and err.strip() == "gankit: error: --classes: expected two integers like 3,8, got '0,x'"
    code, out, err = cli("explore", run.path, "manifold")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "z_dim=100" in err
    code, out, err = cli("explore", run.path, "arithmetic", "--a", "1,2", "--b", "3", "-n", 8)
    assert code == 0 and "arithmetic.png" in out


def test_arithmetic_by_class_asks_the_judge(runs):
    from gankit.metrics.judge import judge_for

    run = runs("dcgan")
    s = run.sample(400, seed=0)  # the sheet arithmetic draws: max(n, 50 * per_class) samples, same seed
    conf, pred = judge_for("digits")(s["images"] * 2 - 1)[1].max(1)
    common = [c for c in torch.bincount(pred, minlength=10).argsort(descending=True).tolist()
              if int((pred == c).sum()) >= 4][:2]
    res = X.arithmetic(run, a=str(common[0]), b=str(common[-1]), by="class", per_class=4, n=400)
    for k, cls in (("a", common[0]), ("b", common[-1])):
        idx = res.info["operands"][k]
        assert len(idx) == 4 and bool((pred[idx] == cls).all())
        assert sorted(conf[idx].tolist()) == sorted(conf[pred == cls].sort(descending=True).values[:4].tolist())
    z = s["z"]
    ops = res.info["operands"]
    assert torch.allclose(res.z[-1], z[ops["a"]].mean(0) - z[ops["b"]].mean(0), atol=1e-6)
