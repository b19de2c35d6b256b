import math

import pytest
import torch

from sirenkit import value_and_derivatives
from sirenkit.nets import ModelConfig, TaskShape, build_model, list_models, model_from_config
from sirenkit.nets.encodings import nerf_frequencies
from sirenkit.nets.param_match import closest_width, parameter_count, siren_parameter_count
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
