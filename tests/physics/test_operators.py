import pytest
import torch

from sirenkit import Siren, hessian
from sirenkit.physics.operators import axis_derivatives


@pytest.mark.parametrize("mode", ["closed_form", "reverse", "forward"])
def test_axis_derivatives_match_the_hessian_diagonal(mode):
    torch.manual_seed(0)
    net = Siren(3, 16, 1, 4, first_omega_0=5.0)
    x = torch.rand(20, 3, requires_grad=True)
    y = net(x)
    h = hessian(y[:, [0, 2]], x)
    value, grad, second = axis_derivatives(net, x, channels=[0, 2], axes=[0, 2], mode=mode)
    assert torch.allclose(value, y, atol=1e-6)
    assert grad.shape == (20, 2, 3) and second.shape == (20, 2, 2)
    assert torch.allclose(second[..., 0], h[:, :, 0, 0], atol=1e-4)
    assert torch.allclose(second[..., 1], h[:, :, 2, 2], atol=1e-4)


def test_all_engines_give_the_same_parameter_gradients():
    torch.manual_seed(1)
    net = Siren(2, 16, 1, 6, first_omega_0=5.0)
    x = torch.rand(30, 2)
    grads = []
    for mode in ("closed_form", "reverse", "forward"):
        net.zero_grad()
        y, g, s = axis_derivatives(net, x, channels=range(5), mode=mode)
        (s.pow(2).sum() + g.sum() + y.sum()).backward()
        grads.append([p.grad.clone() for p in net.parameters() if p.grad is not None])
    for other in grads[1:]:
        for a, b in zip(grads[0], other, strict=True):
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        _, _, s = axis_derivatives(net, x, channels=range(5))
    assert not s.requires_grad
