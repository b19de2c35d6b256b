"""The fast sine layer (SineFunction) against the plain formulation, in float64."""

import copy

import pytest
import torch
from torch.func import functional_call, grad, jacrev, vmap

import sirenkit.nets.siren as siren_module
from sirenkit import Siren
from sirenkit.derivatives import laplacian, value_and_derivatives
from sirenkit.nets.batched import BatchedSiren
from sirenkit.nets.siren import _BFLOAT16_BACKWARD, SineFunction, SineLayer, bfloat16_backward


def plain(model: Siren, x: torch.Tensor) -> torch.Tensor:
    """The authors' formulation, w0 applied to the activations, through plain autograd."""
    h = x
    for layer in model.net[:-1]:
        h = torch.sin(layer.w0 * torch.nn.functional.linear(h, layer.weight, layer.bias))
    return model.net[-1](h)


@pytest.fixture
def model() -> Siren:
    torch.manual_seed(0)
    return Siren(2, 24, 2, 3).double()


@pytest.fixture(params=["one pass", "row blocks"])
def x(request, monkeypatch) -> torch.Tensor:
    """40 points in one pass, or (blocks of 8 rows per thread) five row blocks of a Siren."""
    rows = 40
    if request.param == "row blocks":
        monkeypatch.setattr(siren_module, "BLOCK_ROWS_PER_THREAD", 8)
        rows = 5 * 8 * torch.get_num_threads()
    gen = torch.Generator().manual_seed(1)
    return torch.rand(rows, 2, dtype=torch.float64, generator=gen) * 2 - 1


def params(model):
    return list(model.parameters())


def assert_all_close(a, b):
    """Equal gradients; an unused parameter (None) equals an all-zero gradient."""
    for u, v in zip(a, b, strict=True):
        if u is None and v is None:
            continue
        u = torch.zeros_like(v) if u is None else u
        v = torch.zeros_like(u) if v is None else v
        torch.testing.assert_close(u, v, rtol=1e-10, atol=1e-12)


def test_training_path_uses_the_function(model, x):
    assert "SineFunction" in type(model.net[0](x).grad_fn).__name__
    with torch.no_grad():
        assert model.net[0](x).grad_fn is None
    # coordinates that need input derivatives keep plain autograd (pre-activations saved)
    h = model.net[0](x.clone().requires_grad_(True), fast=False)
    assert "SineFunction" not in type(h.grad_fn).__name__


def test_function_path_laplacian_matches(model, x):
    """A standalone layer stack on coordinates with gradients: double backward through
    SineFunction's differentiable backward."""
    xa = x.clone().requires_grad_(True)
    h = xa
    for layer in model.net[:-1]:
        h = layer(h, fast=True)
    y = model.net[-1](h)
    assert "SineFunction" in type(h.grad_fn).__name__
    xr = x.clone().requires_grad_(True)
    torch.testing.assert_close(laplacian(y, xa), laplacian(plain(model, xr), xr))


def test_value_and_parameter_gradients_match(model, x):
    y, y_ref = model(x), plain(model, x)
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    assert_all_close(
        torch.autograd.grad((y**2).sum(), params(model)),
        torch.autograd.grad((y_ref**2).sum(), params(model)),
    )
    with torch.no_grad():
        torch.testing.assert_close(model(x), y_ref.detach(), rtol=1e-12, atol=1e-12)


def test_input_gradients_match(model, x):
    xa = x.clone().requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    (ga,) = torch.autograd.grad(model(xa).sum(), xa)
    (gb,) = torch.autograd.grad(plain(model, xb).sum(), xb)
    torch.testing.assert_close(ga, gb, rtol=1e-10, atol=1e-12)


def test_retained_graph_gives_the_same_gradients_twice(model, x):
    loss = (model(x) ** 2).sum()
    first = torch.autograd.grad(loss, params(model), retain_graph=True)
    second = torch.autograd.grad(loss, params(model))
    assert_all_close(first, second)


def test_double_backward_through_parameter_gradients(model, x):
    def penalty(y):
        g = torch.autograd.grad((y**2).sum(), params(model), create_graph=True)
        return sum((t**2).sum() for t in g)

    assert_all_close(
        torch.autograd.grad(penalty(model(x)), params(model)),
        torch.autograd.grad(penalty(plain(model, x)), params(model)),
    )


def test_laplacian_loss_gradients_match(model, x):
    lap = value_and_derivatives(model, x, gradient=False, laplacian=True).laplacian
    xr = x.clone().requires_grad_(True)
    lap_ref = laplacian(plain(model, xr), xr)
    torch.testing.assert_close(lap, lap_ref, rtol=1e-10, atol=1e-10)
    kw = {"allow_unused": True}
    assert_all_close(
        torch.autograd.grad((lap**2).sum(), params(model), **kw),
        torch.autograd.grad((lap_ref**2).sum(), params(model), **kw),
    )


def test_torch_func_transforms(model, x):
    jac = vmap(jacrev(lambda p: model(p[None])[0]))(x)
    xr = x.clone().requires_grad_(True)
    y = plain(model, xr)
    rows = [torch.autograd.grad(y[:, k].sum(), xr, retain_graph=True)[0] for k in range(3)]
    torch.testing.assert_close(jac, torch.stack(rows, 1), rtol=1e-10, atol=1e-12)
    named = dict(model.named_parameters())
    g = grad(lambda p: (functional_call(model, p, (x,)) ** 2).sum())(named)
    ref = torch.autograd.grad((plain(model, x) ** 2).sum(), params(model))
    assert_all_close([g[k] for k in named], ref)


def test_layer_without_bias_and_batched_inputs():
    torch.manual_seed(0)
    layer = SineLayer(3, 5, bias=False).double()
    x = torch.randn(7, 3, dtype=torch.float64)
    ref = torch.sin(30 * x @ layer.weight.t())
    torch.testing.assert_close(layer(x), ref)
    (gw,) = torch.autograd.grad(layer(x).sum(), layer.weight)
    (gw_ref,) = torch.autograd.grad(ref.sum(), layer.weight)
    torch.testing.assert_close(gw, gw_ref)
    xb = x.reshape(7, 1, 3)  # not 2-D: the plain path
    torch.testing.assert_close(layer(xb).reshape(7, 5), ref)


def test_gradcheck_of_the_function():
    torch.manual_seed(0)
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    w = (torch.randn(3, 4, dtype=torch.float64) * 0.1).requires_grad_(True)
    b = (torch.randn(3, dtype=torch.float64) * 0.1).requires_grad_(True)
    fn = lambda x, w, b: SineFunction.apply(x, w, b, 30.0)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert torch.autograd.gradgradcheck(fn, (x, w, b))


def _relative_errors(a, b):
    return [float((u - v).norm() / v.norm()) for u, v in zip(a, b, strict=True)]


def test_bfloat16_backward_rounds_only_the_hidden_products():
    """Under bfloat16_backward the forward output is the float32 one, bit for bit; the
    gradients differ from float64's by bfloat16 rounding (~1e-3), the float32 ones by far
    less; with the mode off (or outside the block) they are exactly the float32 ones."""
    torch.manual_seed(0)
    model = Siren(2, 32, 2, 3)
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(256, 2, generator=gen) * 2 - 1
    target = torch.rand(256, 3, generator=gen)

    def gradients(net, inputs, low=None):
        if low is None:
            y = net(inputs)
        else:
            with bfloat16_backward(low):
                y = net(inputs)
        return y, torch.autograd.grad(((y - target.to(y.dtype)) ** 2).mean(), params(net))

    y32, g32 = gradients(model, x)
    _, g64 = gradients(copy.deepcopy(model).double(), x.double())
    y_low, g_low = gradients(model, x, True)
    _, g_off = gradients(model, x, False)
    torch.testing.assert_close(y_low, y32, rtol=0, atol=0)
    for u, v in zip(g_off, g32, strict=True):
        assert torch.equal(u, v)
    exact = _relative_errors([g.double() for g in g32], g64)
    low = _relative_errors([g.double() for g in g_low], g64)
    assert max(exact) < 1e-5
    # parameters: first, two hidden sine layers, linear output (weight, bias each). Every
    # sine layer's weight gradient is a bfloat16 product and the earlier layers' bias
    # gradients follow a bfloat16 input gradient, each within a few roundings; the last sine
    # layer's bias gradient and the output layer's are float32 products
    assert all(1e-4 < e < 2e-2 for e in low[:5]), low
    assert max(low[5:]) < 1e-5, low
    assert _BFLOAT16_BACKWARD.get() is False


def test_bfloat16_backward_leaves_differentiated_backward_passes_in_float32(model, x):
    """A backward pass that is itself differentiated (create_graph) is autograd's, in the
    network's precision, whatever the mode."""
    model = model.float()
    x = x.float()

    def penalty():
        y = model(x)
        g = torch.autograd.grad((y**2).sum(), params(model), create_graph=True)
        return g, sum((t**2).sum() for t in g)

    first, loss = penalty()
    second = torch.autograd.grad(loss, params(model))
    with bfloat16_backward():
        first_low, loss_low = penalty()
    second_low = torch.autograd.grad(loss_low, params(model))
    for u, v in zip([*first, *second], [*first_low, *second_low], strict=True):
        assert torch.equal(u, v)


def test_batched_siren_takes_the_mode_too():
    torch.manual_seed(0)
    net = BatchedSiren(3, 2, 32, 2, 1)
    x = torch.rand(3, 128, 2) * 2 - 1

    def gradients(low):
        with bfloat16_backward(low):
            y = net(x)
        return torch.autograd.grad((y**2).mean(), list(net.parameters()))

    off, again, low = gradients(False), gradients(False), gradients(True)
    assert all(torch.equal(u, v) for u, v in zip(off, again, strict=True))
    errors = _relative_errors(low, off)
    assert 1e-4 < max(errors) < 2e-2, errors
