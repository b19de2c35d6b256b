"""LearnedInit (MAML + Meta-SGD): the inner steps, their meta-gradient, and the fit
optimiser that replays them (with its rates surviving a checkpoint)."""

from __future__ import annotations

import torch

from sirenkit.nets.registry import build_model
from sirenkit.signals.grid import grid
from sirenkit.training.config import TrainConfig
from sirenkit.training.loop import _optimizer
from sirenkit.training.optim import LearnedRateSGD

KW = {"in_features": 2, "hidden_features": 6, "hidden_layers": 1, "out_features": 1}


def _init(dtype=torch.float32):
    torch.manual_seed(0)
    init = build_model("learned-init", inner_steps=2, inner_lr=0.05, **KW).to(dtype)
    with torch.no_grad():
        for r in init.rates:
            r.mul_(torch.rand_like(r) + 0.5)  # distinct rates, so a mix-up shows
    coords = grid((5, 5)).to(dtype)
    targets = torch.rand(3, 25, 1, dtype=dtype, generator=torch.Generator().manual_seed(1))
    return init, coords, targets


def test_fit_takes_learned_rate_gradient_steps_on_each_image():
    init, coords, targets = _init()
    fitted, errors = init.fit(coords, targets)
    for i in range(3):
        net = build_model("siren", **KW)
        net.load_state_dict(init.siren.state_dict())
        for _ in range(2):
            mse = ((net(coords) - targets[i]) ** 2).mean()
            grads = torch.autograd.grad(mse, list(net.parameters()))
            with torch.no_grad():
                for p, r, g in zip(net.parameters(), init.rates, grads, strict=True):
                    p -= r * g
        for k, v in net.state_dict().items():
            torch.testing.assert_close(fitted.network_state(i)[k], v)
        torch.testing.assert_close(errors[-1][i], ((net(coords) - targets[i]) ** 2).mean())


def test_meta_gradient_is_second_order():
    """The outer gradient w.r.t. a weight and a rate is the finite difference of the loss
    after the inner steps (a first-order shortcut would miss the terms through the steps)."""
    init, coords, targets = _init(torch.float64)

    def outer() -> torch.Tensor:
        return init.fit(coords, targets, create_graph=True)[1][-1].log().mean()

    outer().backward()
    for p in (init.siren.net[1].weight, init.rates[2]):
        with torch.no_grad():
            eps, old = 1e-6, p[0, 0].item()
            p[0, 0] = old + eps
            up = outer().item()
            p[0, 0] = old - eps
            down = outer().item()
            p[0, 0] = old
        torch.testing.assert_close(
            p.grad[0, 0].item(), (up - down) / (2 * eps), rtol=1e-5, atol=1e-9
        )


def test_learned_rates_survive_the_optimiser_checkpoint():
    net = build_model("siren", **KW)
    rates = [torch.rand_like(p) for p in net.parameters()]
    saved = LearnedRateSGD(net.parameters(), rates, lr=1e-3, peak=1e-3).state_dict()
    cfg = TrainConfig(lr=1e-3)
    resumed = _optimizer(net, cfg, None, saved)  # a resumed fit: no rates given
    resumed.load_state_dict(saved)
    assert isinstance(resumed, LearnedRateSGD)
    for p, r in zip(net.parameters(), rates, strict=True):
        torch.testing.assert_close(resumed.state[p]["rate"], r)
    assert isinstance(_optimizer(net, cfg, None, None), torch.optim.Adam)
