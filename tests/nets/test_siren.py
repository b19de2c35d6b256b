import math

import numpy as np
import pytest
import torch
from scipy import stats

from sirenkit import SineLayer, Siren, build_model
from sirenkit.errors import SirenkitError


def reference_sine_layer(layer: SineLayer, x: torch.Tensor) -> torch.Tensor:
    """The authors' formulation: sin(w0 * linear(x)), w0 applied to the activations."""
    return torch.sin(layer.w0 * torch.nn.functional.linear(x, layer.weight, layer.bias))


def test_sine_layer_matches_reference_function_and_gradients():
    torch.manual_seed(0)
    layer = SineLayer(5, 7, w0=30.0).double()
    x = torch.randn(11, 5, dtype=torch.float64)
    ours = layer(x)
    ref = reference_sine_layer(layer, x)
    torch.testing.assert_close(ours, ref)
    g1 = torch.autograd.grad(ours.sum(), list(layer.parameters()))
    g2 = torch.autograd.grad(ref.sum(), list(layer.parameters()))
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b)


def test_init_ranges_follow_the_paper():
    torch.manual_seed(0)
    net = Siren(3, 64, 2, 2, w0=30, hidden_w0=30)
    first, hidden, last = net.net[0], net.net[1], net.net[-1]
    assert first.weight.abs().max() <= 1 / 3
    assert first.weight.abs().max() > 0.9 / 3
    bound = math.sqrt(6 / 64) / 30
    # U(-bound, bound) for hidden and output weights: bounded from above and below, with the
    # uniform law's spread (std bound / sqrt 3), so a smaller (or zero) init fails too
    for layer in (hidden, last):
        w = layer.weight.detach()
        assert w.abs().max() <= bound
        assert w.abs().max() > 0.9 * bound
        assert abs(w.std().item() - bound / math.sqrt(3)) < 0.15 * bound / math.sqrt(3)
        assert abs(w.mean().item()) < 0.2 * bound
    # default bias: PyTorch's nn.Linear, U(-1/sqrt(n), 1/sqrt(n)), as in the authors' code
    assert hidden.bias.abs().max() <= 1 / math.sqrt(64)
    assert hidden.bias.abs().max() > 0.8 / math.sqrt(64)


@pytest.mark.parametrize("how", ["zero", "siren"])
def test_bias_init_options(how):
    net = Siren(2, 16, 1, 1, bias_init=how)
    b = net.net[1].bias
    if how == "zero":
        assert torch.all(b == 0)
    else:
        assert b.abs().max() <= math.sqrt(6 / 16) / 30


def test_bad_arguments_are_rejected():
    with pytest.raises(SirenkitError):
        Siren(2, 16, 1, 1, bias_init="nope")
    with pytest.raises(ValueError):
        Siren(2, 0, 1, 1)


def _sine_layers(net: Siren, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(layer input, sine input) of every sine layer."""
    out = []
    h = x
    with torch.no_grad():
        for layer in net.net:
            if isinstance(layer, SineLayer):
                z = layer.preactivation(h)
                out.append((h, z))
                h = torch.sin(z)
    return out


def test_activation_statistics_match_the_papers_theorem():
    """Hidden sine inputs ~N(0, 1), sine outputs ~arcsine on [-1, 1], layer after layer.

    Kolmogorov-Smirnov distances on 20,000 activations of a 2048-wide, 8-layer SIREN with the
    zero bias the paper's argument assumes (fixed seeds). Measured finding: the input of the
    first hidden layer (arcsine-distributed) gives exactly N(0, 1); deeper inputs are
    sin(N(0, s^2)), not arcsine, so the variance follows s'^2 = 2 E[sin^2] = 1 - exp(-2 s^2)
    towards its fixed point 0.80, staying Gaussian in shape.
    """
    torch.manual_seed(1234)
    net = Siren(1, 2048, 6, 1, bias_init="zero")
    x = torch.linspace(-1, 1, 4096).unsqueeze(-1)
    rng = np.random.default_rng(0)
    layers = _sine_layers(net, x)
    for i, (h, z) in enumerate(layers[1:], start=1):
        sample = rng.choice(z.flatten().numpy(), 20000, replace=False).astype(np.float64)
        var = float(z.var())
        assert stats.kstest(sample / np.sqrt(var), "norm").statistic < 0.015, i
        assert var == pytest.approx(2 * float(h.pow(2).mean()), rel=0.03), i  # mean-field law
        assert 0.75 < var < 1.05, i
        if i == 1:
            assert stats.kstest(sample, "norm").statistic < 0.015  # exactly N(0, 1)
        out = np.sin(sample)
        exact = np.sin(np.sqrt(var) * rng.standard_normal(200000))
        assert stats.ks_2samp(out, exact).statistic < 0.02, i
        # the arcsine law (CDF 1/2 + arcsin(x)/pi) the paper states is the U-shaped
        # approximation of that law: distances stay about 0.05-0.07
        ks_arc = stats.kstest(out, lambda v: 0.5 + np.arcsin(np.clip(v, -1, 1)) / np.pi)
        assert ks_arc.statistic < 0.08, (i, ks_arc)


def test_default_torch_bias_adds_its_known_variance():
    """With PyTorch's bias init (the authors' default) the sine input is W x + w0 b:
    variance 2 E[x^2] + w0^2 / (3 n); at width 2048 this keeps it ~N(0, 1) at every layer."""
    torch.manual_seed(7)
    n = 2048
    net = Siren(1, n, 6, 1)
    x = torch.linspace(-1, 1, 4096).unsqueeze(-1)
    rng = np.random.default_rng(0)
    for h, z in _sine_layers(net, x)[1:]:
        expected = 2 * float(h.pow(2).mean()) + 30**2 / (3 * n)
        assert float(z.var()) == pytest.approx(expected, rel=0.03)
        sample = rng.choice(z.flatten().numpy(), 20000, replace=False).astype(np.float64)
        assert stats.kstest(sample, "norm").statistic < 0.025


def test_build_model_by_name_records_spec():
    net = build_model("siren", in_features=2, hidden_features=8, hidden_layers=1, out_features=3)
    assert net.sirenkit_spec["name"] == "siren"
    assert net(torch.zeros(4, 2)).shape == (4, 3)
    with pytest.raises(SirenkitError, match="unknown model"):
        build_model("nope")
