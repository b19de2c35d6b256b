"""The stacked network is N separate Sirens: outputs, gradients, Adam, and back to a Siren."""

from __future__ import annotations

import pytest
import torch

from sirenkit.nets.batched import BatchedSiren
from sirenkit.nets.siren import Siren

KW = {"in_features": 2, "hidden_features": 16, "hidden_layers": 2, "out_features": 3}


def _sirens(n: int, seed: int = 0) -> list[Siren]:
    torch.manual_seed(seed)
    return [Siren(**KW) for _ in range(n)]


def test_forward_equals_separate_sirens_shared_and_per_network_coords():
    sirens = _sirens(4)
    net = BatchedSiren.from_sirens(sirens)
    x = torch.rand(50, 2) * 2 - 1
    xs = torch.rand(4, 30, 2) * 2 - 1
    with torch.no_grad():
        out, out_each = net(x), net(xs)
        for i, s in enumerate(sirens):
            torch.testing.assert_close(out[i], s(x), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(out_each[i], s(xs[i]), rtol=1e-5, atol=1e-6)
    picked = net(x, index=torch.tensor([3, 1]))
    torch.testing.assert_close(picked[0], sirens[3](x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("coords_grad", [False, True])
def test_gradients_equal_separate_sirens(coords_grad):
    """Both the fused sine backward (plain coords) and autograd (coords needing gradients)."""
    sirens = _sirens(3)
    net = BatchedSiren.from_sirens(sirens)
    x = (torch.rand(40, 2) * 2 - 1).requires_grad_(coords_grad)
    target = torch.rand(3, 40, 3)
    ((net(x) - target) ** 2).mean(dim=(1, 2)).sum().backward()
    for i, s in enumerate(sirens):
        ((s(x) - target[i]) ** 2).mean().backward()
        for k, layer in enumerate(s.net):
            torch.testing.assert_close(
                net.weights[k].grad[i], layer.weight.grad, rtol=1e-4, atol=1e-6
            )
            torch.testing.assert_close(net.biases[k].grad[i], layer.bias.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(("channels", "threads"), [(1, 1), (3, 1), (3, 2)])
def test_grouped_squared_error_equals_autograd(channels, threads):
    """The group-at-a-time loss and closed-form gradients, with a last group shorter than the
    others, one group after another or groups in parallel threads, are autograd's through the
    stacked forward."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        _check_grouped_squared_error(channels)
    finally:
        torch.set_num_threads(before)
    assert torch.get_num_threads() == before


def _check_grouped_squared_error(channels: int) -> None:
    torch.manual_seed(2)
    net = BatchedSiren(5, **{**KW, "out_features": channels})
    x = torch.rand(40, 2) * 2 - 1
    target = torch.rand(5, 40, channels) * 2 - 1
    expected = ((net(x) - target) ** 2).mean(dim=(1, 2))
    expected.sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    loss, errors = net.squared_error(x, target, group=2)
    (3 * loss).backward()
    torch.testing.assert_close(errors, expected.detach(), rtol=1e-5, atol=1e-7)
    for g, p in zip(grads, net.parameters(), strict=True):
        torch.testing.assert_close(p.grad, 3 * g, rtol=1e-4, atol=1e-6)


def test_one_adam_over_stacked_parameters_is_one_adam_per_network():
    """Adam is element-wise, so Adam on the stack follows N separate Adams step by step."""
    sirens = _sirens(3, seed=1)
    net = BatchedSiren.from_sirens(sirens)
    x = torch.rand(64, 2) * 2 - 1
    target = torch.rand(3, 64, 3) * 2 - 1
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    opts = [torch.optim.Adam(s.parameters(), lr=1e-3) for s in sirens]
    for _ in range(5):
        opt.zero_grad()
        ((net(x) - target) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
        for i, (s, o) in enumerate(zip(sirens, opts, strict=True)):
            o.zero_grad()
            ((s(x) - target[i]) ** 2).mean().backward()
            o.step()
    for i, s in enumerate(sirens):
        for name, value in net.network_state(i).items():
            torch.testing.assert_close(value, s.state_dict()[name], rtol=1e-4, atol=1e-6)


def test_network_i_is_a_standalone_siren_with_the_same_output():
    torch.manual_seed(0)
    net = BatchedSiren(5, **KW, w0=20.0)
    x = torch.rand(10, 2)
    for i in (0, 4, -1):
        one = net.network(i)
        assert type(one) is Siren and one.w0 == 20.0
        with torch.no_grad():
            torch.testing.assert_close(one(x), net(x)[i], rtol=1e-5, atol=1e-6)
    with pytest.raises(IndexError):
        net.network(5)


def test_networks_get_independent_paper_inits():
    torch.manual_seed(0)
    net = BatchedSiren(2, **KW)
    w = net.weights[1].detach()
    assert not torch.equal(w[0], w[1])
    bound = (6 / 16) ** 0.5 / 30
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.9 * bound
