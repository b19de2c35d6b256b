"""Nested forward mode: the autograd engine's Hessian diagonal for many-output networks."""

import pytest
import torch

from sirenkit import hessian, value_and_derivatives


def _tanh(outputs: int) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, outputs)
    )


@pytest.mark.parametrize("outputs", [1, 5])  # reverse mode for 1 output, forward mode for 5
def test_diagonal_and_laplacian_match_the_hessian(outputs):
    net = _tanh(outputs)
    x = torch.rand(20, 3, requires_grad=True)
    h = hessian(net(x), x)
    d = value_and_derivatives(net, x, hessian_diagonal=True, laplacian=True)
    assert torch.allclose(d.hessian_diagonal, h.diagonal(dim1=-2, dim2=-1), atol=1e-5)
    assert torch.allclose(d.laplacian, h.diagonal(dim1=-2, dim2=-1).sum(-1), atol=1e-5)
    assert d.gradient.shape == (20, outputs, 3)


def test_forward_mode_gives_the_parameter_gradients_of_reverse_mode():
    net, x = _tanh(5), torch.rand(30, 3)

    def backward(model: torch.nn.Module) -> list[torch.Tensor]:
        net.zero_grad()
        d = value_and_derivatives(model, x, hessian_diagonal=True)
        (d.hessian_diagonal.pow(2).sum() + d.gradient.sum()).backward()
        return [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in net.parameters()]

    forward = backward(net)  # five outputs: forward mode
    per_output = [backward(torch.nn.Sequential(net, _Pick(c))) for c in range(5)]  # reverse
    for a, *parts in zip(forward, *per_output, strict=True):
        assert torch.allclose(a, sum(parts), rtol=1e-4, atol=1e-6)
    with torch.no_grad():
        assert not value_and_derivatives(
            net, x, hessian_diagonal=True
        ).hessian_diagonal.requires_grad


class _Pick(torch.nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.c = c

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return y[:, self.c : self.c + 1]
