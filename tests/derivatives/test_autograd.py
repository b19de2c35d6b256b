import pytest
import torch
from torch import nn

from sirenkit import Siren, divergence, gradient, hessian, jacobian, laplacian
from sirenkit.derivatives import value_and_derivatives


def test_operators_on_an_analytic_field():
    x = torch.randn(50, 3, dtype=torch.float64, requires_grad=True)
    # f = x0^2 x1 + sin(x2)
    f = (x[:, 0] ** 2 * x[:, 1] + torch.sin(x[:, 2])).unsqueeze(-1)
    g = gradient(f, x)
    exp_g = torch.stack([2 * x[:, 0] * x[:, 1], x[:, 0] ** 2, torch.cos(x[:, 2])], -1)
    torch.testing.assert_close(g, exp_g)
    lap = laplacian(f, x)
    torch.testing.assert_close(lap[:, 0], 2 * x[:, 1] - torch.sin(x[:, 2]))
    h = hessian(f, x)
    assert h.shape == (50, 1, 3, 3)
    torch.testing.assert_close(h[:, 0].diagonal(dim1=-2, dim2=-1).sum(-1), lap[:, 0])
    torch.testing.assert_close(divergence(g, x), lap)
    j = jacobian(torch.cat([f, 2 * f], -1), x)
    torch.testing.assert_close(j[:, 1], 2 * g)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_operators_on_plane_waves_any_dims(d, m):
    """y_k = sin(x . w_k): grad = cos w_k, Hessian = -sin w_k w_k^T, Laplacian = -sin |w_k|^2."""
    gen = torch.Generator().manual_seed(d * 10 + m)
    w = torch.randn(m, d, dtype=torch.float64, generator=gen)
    x = torch.randn(40, d, dtype=torch.float64, generator=gen).requires_grad_(True)
    phase = x @ w.T
    y = torch.sin(phase)
    jac = jacobian(y, x)
    assert jac.shape == (40, m, d)
    torch.testing.assert_close(jac, torch.cos(phase)[..., None] * w)
    hess = hessian(y, x)
    outer = w[:, :, None] * w[:, None, :]
    torch.testing.assert_close(hess, -torch.sin(phase)[..., None, None] * outer)
    torch.testing.assert_close(laplacian(y, x), -torch.sin(phase) * (w**2).sum(-1))
    if m == d:
        # divergence of the field whose k-th component is y_k
        torch.testing.assert_close(divergence(y, x)[:, 0], jac.diagonal(dim1=-2, dim2=-1).sum(-1))
    if m == 1:
        torch.testing.assert_close(gradient(y, x), jac[:, 0])
        torch.testing.assert_close(gradient(y[:, 0], x), jac[:, 0])


def test_operators_under_no_grad_keep_no_graph():
    x = torch.randn(30, 2, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        y = torch.sin(3 * x).prod(-1, keepdim=True)
    with torch.no_grad():
        lap = laplacian(y, x)
        hess = hessian(y, x)
        g = gradient(y, x)
    assert not (lap.requires_grad or hess.requires_grad or g.requires_grad)
    with torch.enable_grad():
        torch.testing.assert_close(lap, laplacian(y, x).detach())


def test_operators_inside_a_loss_reach_the_parameters():
    """gradcheck: the parameter gradient of a Laplacian / Hessian matches finite differences."""
    torch.manual_seed(0)
    w1 = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    w2 = torch.randn(1, 5, dtype=torch.float64, requires_grad=True)
    x0 = torch.randn(7, 2, dtype=torch.float64)

    def f(a, b, op):
        x = x0.clone().requires_grad_(True)
        return op(torch.sin(x @ a.T) @ b.T, x)

    for op in (laplacian, hessian, gradient):
        assert torch.autograd.gradcheck(lambda a, b, op=op: f(a, b, op), (w1, w2))


def test_second_derivatives_of_a_linear_network_are_zero():
    lin = nn.Linear(3, 2).double()
    x = torch.randn(10, 3, dtype=torch.float64)
    out = value_and_derivatives(lin, x, laplacian=True, hessian=True)
    torch.testing.assert_close(out.gradient, lin.weight.detach().expand(10, 2, 3))
    assert out.laplacian.abs().max() == 0 and out.hessian.abs().max() == 0


def test_value_and_derivatives_trains_and_renders():
    torch.manual_seed(0)
    net = Siren(2, 16, 1, 2).double()
    x = torch.rand(20, 2, dtype=torch.float64) * 2 - 1
    d = value_and_derivatives(net, x, gradient=True, laplacian=True)
    assert d.value.shape == (20, 2) and d.gradient.shape == (20, 2, 2)
    assert d.laplacian.shape == (20, 2)
    d.laplacian.pow(2).mean().backward()  # differentiable w.r.t. the parameters
    assert net.net[0].weight.grad is not None
    with torch.no_grad():
        d2 = value_and_derivatives(net, x, gradient=True, laplacian=True)
    assert not d2.laplacian.requires_grad
    torch.testing.assert_close(d2.laplacian, d.laplacian.detach())
