import math

import numpy as np
import pytest
import torch

from sirenkit import value_and_derivatives
from sirenkit.nets import ModelConfig, TaskShape, build_model, list_models, model_from_config
from sirenkit.nets.encodings import FourierFeatures, NerfEncoding, nerf_frequencies
from sirenkit.nets.finer import FinerLayer
from sirenkit.nets.gauss import Gaussian
from sirenkit.nets.param_match import closest_width, parameter_count, siren_parameter_count
from sirenkit.nets.rbf import RBFLayer
from sirenkit.nets.wire import ComplexGaborLayer
from sirenkit.tasks.image import ImageTask

BASELINES = ["relu", "tanh", "relu_pe", "rbf", "fourier", "wire", "finer", "gauss"]


def tiny_model(name: str, d: int, out: int = 2, **cfg) -> torch.nn.Module:
    shape = TaskShape(d, out, (32,) * d)
    return model_from_config(ModelConfig(name=name, hidden=16, layers=3, **cfg), shape)


def test_every_baseline_is_registered():
    assert set(BASELINES) <= set(list_models())


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_forward_backward_and_derivatives(name, d):
    torch.manual_seed(0)
    net = tiny_model(name, d)
    x = torch.rand(17, d) * 2 - 1
    y = net(x)
    assert y.shape == (17, 2) and not y.is_complex() and torch.isfinite(y).all()
    y.square().mean().backward()
    for pname, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    fd = value_and_derivatives(net, x, gradient=True, laplacian=True)
    assert fd.gradient.shape == (17, 2, d) and fd.laplacian.shape == (17, 2)
    torch.testing.assert_close(fd.value, y.detach())


@pytest.mark.parametrize("name", BASELINES)
def test_derivatives_match_finite_differences(name):
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # complex WIRE weights follow the default dtype
    try:
        torch.manual_seed(1)
        net = tiny_model(name, 2, out=1)
        x = torch.rand(5, 2) * 1.6 - 0.8
        d = value_and_derivatives(net, x, gradient=True, laplacian=True)
        g, h, eye = 1e-5, 1e-4, torch.eye(2)  # float64: truncation error ~ step^2
        with torch.no_grad():
            grad = torch.stack([(net(x + g * e) - net(x - g * e)) / (2 * g) for e in eye], dim=-1)
            lap = sum((net(x + h * e) - 2 * net(x) + net(x - h * e)) / h**2 for e in eye)
        torch.testing.assert_close(d.gradient, grad, rtol=1e-4, atol=1e-5)
        scale = lap.abs().max().item() + 1.0
        assert (d.laplacian - lap).abs().max().item() < 1e-3 * scale
    finally:
        torch.set_default_dtype(old)


@pytest.mark.parametrize("name", BASELINES)
def test_parameter_count_matches_the_siren(name):
    shape = TaskShape(2, 3, (64, 64))
    cfg = ModelConfig(name=name, hidden=128, layers=4)
    target = siren_parameter_count(cfg, shape)
    with torch.device("meta"):
        count = parameter_count(model_from_config(cfg, shape))
    assert abs(count / target - 1) < 0.03


def test_param_match_off_keeps_the_width_and_matching_keeps_the_seed():
    shape = TaskShape(2, 1, (64, 64))
    torch.manual_seed(3)
    a = model_from_config(ModelConfig(name="fourier", hidden=128, layers=3), shape)
    width = a.sirenkit_spec["kwargs"]["hidden_features"]
    assert width != 128
    torch.manual_seed(3)
    cfg = ModelConfig(name="fourier", hidden=width, layers=3, param_match=False)
    b = model_from_config(cfg, shape)
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)


def test_wire_counts_complex_weights_twice():
    net = build_model("wire", in_features=2, hidden_features=8, hidden_layers=1, out_features=1)
    # first layer real (2*8 + 8), then complex 8x8 + 8 and 8x1 + 1, two reals each
    assert parameter_count(net) == 24 + 2 * (72 + 9)


def test_closest_width_picks_the_nearest_count():
    assert closest_width(lambda h: h * h, 50) == 7  # 49 beats 64
    assert closest_width(lambda h: 10 * h, 5) == 1


def test_nerf_frequencies_follow_the_sampling_rate():
    assert nerf_frequencies(2, (256, 256)) == 6
    assert nerf_frequencies(2, (512, 300)) == 6
    assert nerf_frequencies(1, (300_000,)) == 16
    assert nerf_frequencies(3, (64, 64, 64)) == 10
    assert nerf_frequencies(2, None) == 4
    assert nerf_frequencies(2, (4, 4)) == 1
    net = tiny_model("relu_pe", 2)
    assert net.encoding.out_features == 2 * (1 + 2 * 3)  # 32 samples -> 3 octaves
    assert tiny_model("relu_pe", 2, pe_freqs=5).encoding.out_features == 2 * 11


@pytest.mark.parametrize("name", ["fourier", "wire", "rbf"])
def test_rebuilt_from_spec_gives_the_same_function(name):
    torch.manual_seed(0)
    net = tiny_model(name, 2)
    spec = net.sirenkit_spec
    again = build_model(spec["name"], **spec["kwargs"])
    again.load_state_dict(net.state_dict())
    x = torch.rand(9, 2) * 2 - 1
    torch.testing.assert_close(again(x), net(x))


@pytest.mark.parametrize("name", BASELINES)
def test_short_fit_lowers_the_loss(name, tiny_image):
    torch.manual_seed(0)
    task = ImageTask(tiny_image, "tiny")
    # unmatched: at this size RBF's 1024 centres alone outnumber the SIREN's parameters
    cfg = ModelConfig(name=name, hidden=32, layers=3, param_match=False, rbf_centers=256)
    net = model_from_config(cfg, task.shape)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    batch = task.batch(0, torch.Generator(), None)
    losses = []
    for _ in range(30):
        loss, _ = task.loss(net, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert math.isfinite(losses[-1]) and losses[-1] < 0.7 * losses[0]


# Each baseline's activation against its published formula, written out independently in
# NumPy float64 from the layer's own parameters (papers and authors' code cited in the
# modules' docstrings).


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy() if not t.is_complex() else t.detach().cdouble().numpy()


def _affine(layer: torch.nn.Linear, x: np.ndarray) -> np.ndarray:
    return x @ _np(layer.weight).T + _np(layer.bias)


def _contains(net: torch.nn.Module, cls: type) -> bool:
    return any(isinstance(m, cls) for m in net.modules())


def test_finer_is_sin_of_w0_times_abs_z_plus_one_times_z():
    """Liu et al., CVPR 2024: sin(omega (|z| + 1) z), z = W x + b."""
    torch.manual_seed(0)
    assert _contains(tiny_model("finer", 2), FinerLayer)
    layer = FinerLayer(3, 5, w0=7.0, bias_range=2.0)
    x = torch.rand(11, 3) * 2 - 1
    z = _affine(layer.linear, _np(x))
    np.testing.assert_allclose(_np(layer(x)), np.sin(7.0 * (np.abs(z) + 1) * z), atol=1e-5)


def test_wire_is_a_complex_gabor_wavelet():
    """Saragadam et al., CVPR 2023: psi(z) = exp(i w0 z) exp(-|s_0 z|^2), complex z."""
    torch.manual_seed(0)
    assert _contains(tiny_model("wire", 2), ComplexGaborLayer)
    first = ComplexGaborLayer(2, 4, w0=20.0, scale=3.0, is_first=True)
    hidden = ComplexGaborLayer(4, 3, w0=20.0, scale=3.0)
    x = torch.rand(9, 2) * 0.2 - 0.1
    h = first(x)
    z = _affine(first.linear, _np(x))
    expected = np.exp(1j * 20.0 * z) * np.exp(-(np.abs(3.0 * z) ** 2))
    np.testing.assert_allclose(_np(h), expected, atol=1e-5)
    z = _affine(hidden.linear, expected)
    expected = np.exp(1j * 20.0 * z) * np.exp(-(np.abs(3.0 * z) ** 2))
    np.testing.assert_allclose(_np(hidden(h)), expected, atol=1e-4, rtol=1e-4)


def test_gauss_is_exp_of_minus_scaled_square():
    """Ramasinghe & Lucey, ECCV 2022: exp(-x^2 / (2 a^2)), i.e. exp(-(s x)^2), s = 1/(a sqrt 2)."""
    assert _contains(tiny_model("gauss", 2), Gaussian)
    x = torch.linspace(-0.5, 0.5, 41)
    a = 0.07
    expected = np.exp(-(_np(x) ** 2) / (2 * a**2))
    np.testing.assert_allclose(_np(Gaussian(1 / (a * math.sqrt(2)))(x)), expected, atol=1e-6)


def test_rbf_is_the_authors_squared_gaussian_of_the_scaled_squared_distance():
    """SIREN authors' RBFLayer: exp(-(sigma_k ||x - c_k||^2)^2), centres U(-1, 1), sigma 10."""
    torch.manual_seed(0)
    assert _contains(tiny_model("rbf", 2), RBFLayer)
    layer = RBFLayer(2, 64)
    with torch.no_grad():
        layer.sigmas.uniform_(0.5, 3.0)  # not all equal, so each centre's own factor counts
    x = torch.rand(13, 2) * 2 - 1
    c, s = _np(layer.centres), _np(layer.sigmas)
    dist2 = ((_np(x)[:, None, :] - c[None]) ** 2).sum(-1)
    np.testing.assert_allclose(_np(layer(x)), np.exp(-((s * dist2) ** 2)), atol=1e-5)
    assert c.min() >= -1 and c.max() <= 1 and c.std() > 0.4  # U(-1, 1): std 0.58
    assert torch.all(RBFLayer(2, 8).sigmas == 10)


def test_fourier_features_are_cos_and_sin_of_two_pi_bx():
    """Tancik et al., NeurIPS 2020: [cos(2 pi B v), sin(2 pi B v)], B ~ N(0, sigma^2) fixed."""
    torch.manual_seed(0)
    assert _contains(tiny_model("fourier", 2), FourierFeatures)
    enc = FourierFeatures(2, size=512, scale=10.0)
    x = torch.rand(7, 2) * 2 - 1
    b = _np(enc.B)
    phase = 2 * np.pi * _np(x) @ b.T
    expected = np.concatenate([np.cos(phase), np.sin(phase)], -1)
    np.testing.assert_allclose(_np(enc(x)), expected, atol=2e-4)
    assert abs(b.std() - 10.0) < 1.0 and abs(b.mean()) < 1.0
    assert not any(p is enc.B for p in enc.parameters())  # fixed, not trained


def test_nerf_encoding_is_x_and_sin_cos_of_octaves_times_pi():
    """Mildenhall et al. 2020: x, sin(2^i pi x), cos(2^i pi x) for i < L, every coordinate."""
    assert _contains(tiny_model("relu_pe", 2), NerfEncoding)
    enc = NerfEncoding(2, 4)
    x = torch.rand(5, 2) * 2 - 1
    xs = _np(x)
    phase = np.concatenate([2.0**i * np.pi * xs for i in range(4)], -1)  # (i, coordinate)
    expected = np.concatenate([xs, np.sin(phase), np.cos(phase)], -1)
    np.testing.assert_allclose(_np(enc(x)), expected, atol=1e-5)
