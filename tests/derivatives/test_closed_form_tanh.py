"""The closed-form forward derivatives of tanh networks against float64 autograd."""

import pytest
import torch
from torch import nn

from sirenkit.derivatives import value_and_derivatives
from sirenkit.derivatives.chain import layer_chain
from sirenkit.nets.mlp import MLP
from sirenkit.nets.symmetric import Symmetric

ALL = {"gradient": True, "laplacian": True, "hessian_diagonal": True, "hessian": True}
FIELDS = ("value", "gradient", "laplacian", "hessian_diagonal", "hessian")
SECOND = ("laplacian", "hessian_diagonal", "hessian")


def _tanh(d: int, m: int, width: int = 16, hidden_layers: int = 2, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = MLP(d, width, hidden_layers, m, activation="tanh", init="xavier").double()
    with torch.no_grad():  # non-zero biases and saturated units too
        for p in net.parameters():
            p.mul_(2.0)
    return net


def _points(n: int, d: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    return torch.rand(n, d, dtype=torch.float64, generator=gen) * 2 - 1


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def _param_grads(net: nn.Module, engine: str, target: str, x: torch.Tensor) -> torch.Tensor:
    """Parameter gradients of a loss on the value, the gradient and one second-order field."""
    net.zero_grad()
    out = value_and_derivatives(net, x, engine=engine, gradient=True, **{target: True})
    second = getattr(out, target)
    loss = out.value.pow(3).mean() + out.gradient.pow(2).mean() + (second * second.sin()).mean()
    loss.backward()
    return torch.cat([p.grad.flatten() for p in net.parameters()])


def _assert_engines_agree(net: nn.Module, x: torch.Tensor) -> None:
    ag = value_and_derivatives(net, x, engine="autograd", **ALL)
    cf = value_and_derivatives(net, x, engine="closed_form", **ALL)
    assert (ag.engine, cf.engine) == ("autograd", "closed_form")
    for name in FIELDS:
        assert _rel(getattr(cf, name), getattr(ag, name)) < 1e-10, name
    for target in SECOND:
        grads = [_param_grads(net, e, target, x) for e in ("closed_form", "autograd")]
        assert _rel(*grads) < 1e-10, target


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


def test_tanh_parameter_gradients_match_finite_differences():
    """gradcheck of the hand-written backward through tanh layers (s', s'' and s''')."""
    net = _tanh(2, 1, width=5, hidden_layers=1)
    x = _points(4, 2)
    linears = [m for m in net.net if isinstance(m, nn.Linear)]
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]

    def f(*ps):
        for (mod, name), p in zip(
            [(m, n) for m in linears for n in ("weight", "bias")], ps, strict=True
        ):
            setattr(mod, name, p)
        out = value_and_derivatives(net, x, laplacian=True, hessian=True, engine="closed_form")
        return out.value, out.gradient, out.laplacian, out.hessian

    for mod in linears:  # plain tensors in place of the Parameters, for gradcheck
        del mod.weight, mod.bias
    assert torch.autograd.gradcheck(f, params)


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
