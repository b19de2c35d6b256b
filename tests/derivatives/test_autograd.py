import torch

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
