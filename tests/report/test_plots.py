"""The loss figure names what a run logs: D's probabilities for a GAN, the critic's values for a WGAN."""
from gankit.report.plots import _is_wasserstein, value_names


def test_a_critic_s_values_are_not_called_d(tmp_path):
    (tmp_path / "config.yaml").write_text("model: wgan\nloss: wasserstein\n")
    assert _is_wasserstein(tmp_path)
    names = value_names(True)
    assert "critic" in names["title"] and not any("D(" in v for v in names.values())
    (tmp_path / "config.yaml").write_text("model: dcgan\nloss: nonsaturating\n")
    assert not _is_wasserstein(tmp_path)
    assert value_names(False) == {"title": "D(x) and D(G(z))", "d_real": "D(x)", "d_fake": "D(G(z))"}
