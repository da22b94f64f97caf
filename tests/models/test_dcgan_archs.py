"""The dcgan family's two networks: the lecture's (arch=conv) and Radford et al.'s all-convolutional
ones (arch=radford), the latter layer for layer as pytorch/examples' 28x28 MNIST DCGAN."""
import pytest
import torch
from torch import nn

from gankit import config
from gankit.models.dcgan import RadfordDiscriminator, RadfordGenerator


def _convs(module):
    return [(type(m).__name__, m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0])
            for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


def test_radford_networks_are_the_pytorch_examples_mnist_dcgan():
    G, D = RadfordGenerator(100, (1, 28, 28), 64), RadfordDiscriminator((1, 28, 28), 64)
    assert _convs(G) == [("ConvTranspose2d", 100, 256, 4, 1, 0), ("ConvTranspose2d", 256, 128, 3, 2, 1),
                         ("ConvTranspose2d", 128, 64, 4, 2, 1), ("ConvTranspose2d", 64, 1, 4, 2, 1)]
    assert _convs(D) == [("Conv2d", 1, 64, 4, 2, 1), ("Conv2d", 64, 128, 4, 2, 1),
                         ("Conv2d", 128, 256, 4, 2, 1), ("Conv2d", 256, 1, 3, 1, 0)]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in G.modules()) == 3
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == 2  # none on the input layer
    assert isinstance(D.features[1], nn.LeakyReLU)  # first conv straight into the activation


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32), (3, 64, 64)])
def test_radford_networks_fit_every_supported_size(shape):
    G, D = RadfordGenerator(16, shape, 8), RadfordDiscriminator(shape, 8, pack=2)
    x = G(torch.randn(6, 16))
    assert x.shape == (6, *shape) and x.abs().max() <= 1
    assert D(x.reshape(3, 2 * shape[0], *shape[1:])).shape == (3,)


@pytest.mark.parametrize("model, extra, batch_norm", [("wgan", {}, True), ("wgan-gp", {}, False),
                                                     ("wgan", {"r1_gamma": 1.0}, False)])
def test_radford_critic_has_batch_norm_only_without_a_per_example_penalty(model, extra, batch_norm):
    """A gradient penalty is a sum of per-example terms; batch norm would tie each critic score
    to the rest of its batch, so only the clipping WGAN keeps Radford's batch norm."""
    from gankit.data import load_dataset
    from gankit.registry import MODELS

    cfg = config.resolve({"model": model, "data": "mnist", "arch": "radford", "width": 8, **extra})
    nets = MODELS.get(model).build(cfg, load_dataset("mnist", split="test"))  # 3 convs in D: BN on 2
    assert any(isinstance(m, nn.BatchNorm2d) for m in nets["D"].modules()) == batch_norm
    assert _convs(nets["G"]) == _convs(RadfordGenerator(cfg.z_dim, (1, 28, 28), 8))
    x = nets["G"](torch.randn(4, cfg.z_dim))
    assert nets["D"](x).shape == (4,)


@pytest.mark.parametrize("model", ["cgan", "acgan"])
def test_conditional_radford_generator_multiplies_noise_by_the_label_embedding(model):
    from gankit.data import load_dataset
    from gankit.registry import MODELS

    cfg = config.resolve({"model": model, "data": "digits", "width": 8})
    assert cfg.arch == "radford"  # the family default
    G = MODELS.get(model).build(cfg, load_dataset("digits", split="test"))["G"].eval()
    z, y = torch.randn(3, cfg.z_dim), torch.tensor([0, 1, 2])
    assert torch.allclose(G(z, y), G.net(z * G.embed(y)))
    assert not torch.allclose(G(z, y), G(z, torch.tensor([3, 3, 3])))


def test_arch_is_checked_against_the_family():
    from gankit.errors import ConfigError

    assert config.resolve({"model": "dcgan", "arch": "radford"}).arch == "radford"
    assert config.resolve({"model": "vae", "arch": "mlp"}).arch == "mlp"
    for model, arch in (("wgan", "mlp"), ("dcgan", "mlp"), ("vae", "radford")):
        with pytest.raises(ConfigError, match=f"arch='{arch}' for --model {model}"):
            config.resolve({"model": model, "arch": arch})
    with pytest.raises(ConfigError, match="arch=radford: images must be"):
        RadfordGenerator(16, (1, 24, 24), 8)


def test_radford_dcgan_trains_and_resumes_through_the_cli(cli, tmp_path):
    args = ["--model", "dcgan", "--set", "arch=radford", "--data", "digits", "--batch-size", "32",
            "--set", "limit=128", "--set", "width=8", "--set", "report=false", "--no-progress"]
    code, _, err = cli("train", *args, "--epochs", "1", "--out", tmp_path / "run")
    assert code == 0, err
    code, _, err = cli("train", "--resume", tmp_path / "run", "--epochs", "2", "--no-progress")
    assert code == 0, err
    code, _, err = cli("train", *args, "--epochs", "2", "--out", tmp_path / "straight")
    assert code == 0, err
    a, b = (torch.load(tmp_path / r / "checkpoints" / "last.pt", weights_only=True)["nets"]
            for r in ("run", "straight"))
    for k in a:
        assert torch.equal(a[k], b[k]), k
