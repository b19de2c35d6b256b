"""The closed-form forward derivatives of sine and tanh networks against the autograd operators."""

import pytest
import torch
from torch import nn

from sirenkit import SineLayer, Siren, SirenkitError
from sirenkit.derivatives import value_and_derivatives
from sirenkit.derivatives.chain import layer_chain
from sirenkit.nets.mlp import MLP
from sirenkit.nets.symmetric import Symmetric
from sirenkit.render import in_chunks

ALL = {"gradient": True, "laplacian": True, "hessian_diagonal": True, "hessian": True}
FIELDS = ("value", "gradient", "laplacian", "hessian_diagonal", "hessian")


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def _param_grads(net: nn.Module, loss) -> torch.Tensor:
    net.zero_grad()
    loss().backward()
    return torch.cat([p.grad.flatten() for p in net.parameters()])


def _siren(d, m, hidden_layers, width, outermost_linear=True, seed=0):
    torch.manual_seed(seed)
    return Siren(
        d,
        width,
        hidden_layers,
        m,
        w0=12.0,
        hidden_w0=25.0,
        outermost_linear=outermost_linear,
    ).double()


def _points(n, d, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, dtype=torch.float64, generator=gen) * 2 - 1


def _assert_engines_agree(net: nn.Module, x: torch.Tensor) -> None:
    """Every field, and the parameter gradients of a loss on each second-order field (and the
    gradient), agree with float64 autograd."""
    ag = value_and_derivatives(net, x, engine="autograd", **ALL)
    cf = value_and_derivatives(net, x, engine="closed_form", **ALL)
    assert (ag.engine, cf.engine) == ("autograd", "closed_form")
    for name in FIELDS:
        assert _rel(getattr(cf, name), getattr(ag, name)) < 1e-8, name
    for target in ("gradient", "laplacian", "hessian_diagonal", "hessian"):

        def loss(engine, target=target):
            asked = {target: True} if target != "gradient" else {}
            out = value_and_derivatives(net, x, gradient=True, engine=engine, **asked)
            t = getattr(out, target)
            return (t * t.sin()).mean() + out.gradient.pow(2).mean() + out.value.pow(3).mean()

        assert (
            _rel(
                _param_grads(net, lambda: loss("closed_form")),
                _param_grads(net, lambda: loss("autograd")),
            )
            < 1e-8
        ), target


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_agrees_with_autograd_for_any_input_and_output_dims(d, m):
    net = _siren(d, m, hidden_layers=1 + (d + m) % 3, width=16 + 8 * m, seed=d + 10 * m)
    _assert_engines_agree(net, _points(25, d))


@pytest.mark.parametrize(
    ("hidden_layers", "width", "outermost_linear"),
    [(0, 8, True), (2, 32, False), (4, 24, True)],
)
def test_agrees_for_several_depths_widths_and_a_sine_output(hidden_layers, width, outermost_linear):
    net = _siren(2, 2, hidden_layers, width, outermost_linear=outermost_linear)
    _assert_engines_agree(net, _points(30, 2))


def test_agrees_without_biases_and_for_bare_sine_layers():
    torch.manual_seed(3)
    seq = nn.Sequential(
        SineLayer(3, 16, w0=5.0, is_first=True, bias=False),
        nn.Linear(16, 16, bias=False),  # a linear layer in the middle is fine too
        SineLayer(16, 16, w0=2.0, bias=False),
        nn.Linear(16, 2, bias=False),
    ).double()
    assert [layer.activation for layer in layer_chain(seq)] == ["sin", None, "sin", None]
    _assert_engines_agree(seq, _points(20, 3))
    _assert_engines_agree(SineLayer(2, 3, w0=4.0, is_first=True).double(), _points(20, 2))


def _tanh(d: int, m: int, width: int = 16, hidden_layers: int = 2, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = MLP(d, width, hidden_layers, m, activation="tanh", init="xavier").double()
    with torch.no_grad():  # non-zero biases and saturated units too
        for p in net.parameters():
            p.mul_(2.0)
    return net


@pytest.mark.parametrize(
    "make",
    [lambda: _siren(2, 1, hidden_layers=1, width=6), lambda: _tanh(2, 1, 5, hidden_layers=1)],
)
def test_parameter_gradients_match_finite_differences(make):
    """gradcheck of the hand-written backward, independent of the autograd engine: sine
    layers, and tanh layers (the first three derivatives of tanh from the saved tanh)."""
    net = make()
    x = _points(5, 2)
    layers = [m for m in net.net if hasattr(m, "weight")]
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]

    def f(*ps):
        for (mod, name), p in zip(
            [(m, n) for m in layers for n in ("weight", "bias")], ps, strict=True
        ):
            setattr(mod, name, p)
        out = value_and_derivatives(net, x, laplacian=True, hessian=True, engine="closed_form")
        return out.value, out.gradient, out.laplacian, out.hessian

    for mod in layers:  # plain tensors in place of the Parameters, for gradcheck
        del mod.weight, mod.bias
    assert torch.autograd.gradcheck(f, params)


def test_auto_engine_choice_and_fallback():
    net = _siren(2, 1, 1, 16)
    x = _points(10, 2)
    assert value_and_derivatives(net, x, laplacian=True).engine == "closed_form"
    assert value_and_derivatives(net, x, engine="autograd", laplacian=True).engine == "autograd"
    line = _siren(1, 1, 1, 16)
    assert value_and_derivatives(line, x[:, :1]).engine == "closed_form"
    tanh = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).double()
    assert value_and_derivatives(tanh, x, laplacian=True).engine == "closed_form"
    assert value_and_derivatives(tanh, x, hessian_diagonal=True).engine == "closed_form"
    assert value_and_derivatives(tanh, x).engine == "autograd"  # a gradient alone, d > 1
    out = value_and_derivatives(tanh, x, laplacian=True, hessian=True)
    assert out.engine == "autograd"  # the full Hessian is cheaper by autograd for tanh
    assert out.value.shape == (10, 2) and out.gradient.shape == (10, 2, 2)
    assert out.laplacian.shape == (10, 2) and out.hessian.shape == (10, 2, 2, 2)
    # tanh'' = -2 tanh (1 - tanh^2): check both engines' Laplacians against the formula
    w1, b1, w2 = tanh[0].weight, tanh[0].bias, tanh[2].weight
    t = torch.tanh(x @ w1.T + b1)
    expected = (-2 * t * (1 - t**2)) @ (w2 * (w1**2).sum(-1)).T
    torch.testing.assert_close(out.laplacian, expected)
    cf = value_and_derivatives(tanh, x, laplacian=True, engine="closed_form")
    torch.testing.assert_close(cf.laplacian, expected)
    relu = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)).double()
    assert value_and_derivatives(relu, x, laplacian=True).engine == "autograd"
    with pytest.raises(SirenkitError, match="closed_form"):
        value_and_derivatives(relu, x, engine="closed_form")
    with pytest.raises(SirenkitError, match="engine"):
        value_and_derivatives(net, x, engine="fast")


def test_modified_sirens_are_not_taken_for_sine_chains():
    class Shifted(Siren):
        def forward(self, coords):
            return super().forward(coords) + 1.0

    net = Shifted(2, 8, 1, 1).double()
    assert layer_chain(net) is None
    plain = Siren(2, 8, 1, 1).double()
    handle = plain.net[1].register_forward_hook(lambda mod, inp, out: out * 2)
    assert layer_chain(plain) is None
    handle.remove()
    assert layer_chain(plain) is not None
    x = _points(10, 2)
    out = value_and_derivatives(net, x, laplacian=True)
    torch.testing.assert_close(out.value, net(x).detach())


@pytest.mark.parametrize("engine", ["closed_form", "autograd"])
def test_no_graph_is_kept_under_no_grad(engine):
    net = _siren(3, 2, 1, 16)
    x = _points(12, 3)
    with torch.no_grad():
        out = value_and_derivatives(net, x, engine=engine, **ALL)
    for name in FIELDS:
        t = getattr(out, name)
        assert t is not None and not t.requires_grad and t.grad_fn is None, name
    lean = value_and_derivatives(net, x, laplacian=True, create_graph=False, engine=engine)
    assert lean.laplacian.grad_fn is None
    kept = value_and_derivatives(net, x, laplacian=True, engine=engine)
    assert kept.laplacian.requires_grad
    torch.testing.assert_close(out.laplacian, kept.laplacian.detach())


def test_only_what_is_asked_for_is_returned():
    net = _siren(2, 1, 1, 16)
    x = _points(10, 2)
    out = value_and_derivatives(net, x, gradient=False, laplacian=True)
    assert out.gradient is None and out.hessian is None and out.hessian_diagonal is None
    assert out.laplacian.shape == (10, 1)
    diag = value_and_derivatives(net, x, gradient=False, hessian_diagonal=True)
    assert diag.laplacian is None and diag.hessian_diagonal.shape == (10, 1, 2)
    plain = value_and_derivatives(net, x, gradient=False)
    assert plain.gradient is None and plain.laplacian is None
    with pytest.raises(SirenkitError, match="coords"):
        value_and_derivatives(net, x[0])


def test_chunked_evaluation_matches_one_pass():
    net = _siren(2, 3, 2, 16)
    x = _points(100, 2)

    def fields(chunk: torch.Tensor):
        with torch.no_grad():
            out = value_and_derivatives(net, chunk, laplacian=True, engine="closed_form")
        return out.value, out.gradient, out.laplacian

    whole = fields(x)
    for part, full in zip(in_chunks(fields, x, chunk=32), whole, strict=True):
        torch.testing.assert_close(part, full)


def test_float32_training_step_decreases_a_laplacian_loss():
    """A Poisson-style fit: the closed-form Laplacian trains the network."""
    torch.manual_seed(0)
    net = Siren(2, 32, 2, 1, w0=5.0)
    x = torch.rand(256, 2) * 2 - 1
    target = -2 * torch.ones(256, 1)  # Laplacian of x0^2 + const
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        out = value_and_derivatives(net, x, gradient=False, laplacian=True)
        assert out.engine == "closed_form"
        loss = (out.laplacian - target).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("engine", ["closed_form", "autograd"])
def test_derivatives_stay_float32_under_autocast(engine):
    torch.manual_seed(0)
    net = Siren(2, 16, 2, 1)
    x = torch.rand(32, 2) * 2 - 1
    plain = value_and_derivatives(net, x, laplacian=True, engine=engine)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        cast = value_and_derivatives(net, x, laplacian=True, engine=engine)
    assert cast.laplacian.dtype == torch.float32
    torch.testing.assert_close(cast.laplacian, plain.laplacian)


# -- tanh networks ---------------------------------------------------------------------------


@pytest.mark.parametrize(("d", "m"), [(1, 1), (2, 1), (2, 3), (3, 2)])
def test_tanh_mlp_agrees_with_autograd(d, m):
    net = _tanh(d, m, hidden_layers=1 + d % 2, seed=d + 10 * m)
    assert [layer.activation for layer in layer_chain(net)][-1] is None
    assert {layer.activation for layer in layer_chain(net)[:-1]} == {"tanh"}
    _assert_engines_agree(net, _points(20, d))


def test_symmetric_tanh_mlp_agrees_and_auto_picks_the_closed_form():
    net = Symmetric(_tanh(2, 1, seed=4), axes=0, parity=-1)
    x = _points(20, 2)
    _assert_engines_agree(net, x)
    assert value_and_derivatives(net, x, hessian_diagonal=True).engine == "closed_form"


def test_only_plain_tanh_chains_are_recognised():
    assert layer_chain(MLP(2, 8, 1, 1, activation="relu")) is None
    assert (
        layer_chain(MLP(2, 8, 1, 1, activation="tanh", encoding={"kind": "nerf", "freqs": 2}))
        is None
    )
    assert layer_chain(nn.Sequential(nn.Tanh(), nn.Linear(2, 3))) is None  # tanh of the input
    two = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Tanh(), nn.Linear(3, 1))
    assert layer_chain(two) is None

    class Shifted(MLP):
        def forward(self, coords):
            return super().forward(coords) + 1.0

    assert layer_chain(Shifted(2, 8, 1, 1, activation="tanh")) is None


# -- a partial Hessian diagonal ---------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: _siren(3, 2, 1, 16), lambda: _tanh(3, 2)])
def test_a_partial_hessian_diagonal_holds_the_axes_asked_for_and_nan_elsewhere(make):
    net = make()
    x = _points(20, 3)
    full = value_and_derivatives(net, x, hessian_diagonal=True, engine="autograd")
    for engine in ("closed_form", "autograd"):
        part = value_and_derivatives(net, x, hessian_diagonal=[2, 0], engine=engine)
        diag = part.hessian_diagonal
        assert _rel(diag[..., [0, 2]], full.hessian_diagonal[..., [0, 2]]) < 1e-10, engine
        assert torch.isnan(diag[..., 1]).all()
        assert _rel(part.gradient, full.gradient) < 1e-10

        def loss(engine=engine):
            out = value_and_derivatives(net, x, hessian_diagonal=[2, 0], engine=engine)
            kept = out.hessian_diagonal[..., [0, 2]]
            return (kept * kept.sin()).mean() + out.gradient.pow(2).mean() + out.value.mean()

        grads = [_param_grads(net, lambda e=e: loss(e)) for e in ("closed_form", "autograd")]
        assert _rel(*grads) < 1e-10
    # with the Laplacian (or all axes) asked for too, every axis is there
    both = value_and_derivatives(net, x, laplacian=True, hessian_diagonal=[0])
    assert not torch.isnan(both.hessian_diagonal).any()
    with pytest.raises(SirenkitError, match="axes of 3-D points"):
        value_and_derivatives(net, x, hessian_diagonal=[3])
