"""A symmetry as a hard constraint (``sk.nets.Symmetric``): the field is exactly even or odd
under its reflection, the derivative engine's combined derivatives are the composite's, and a
run with it checkpoints, resumes and reloads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import sirenkit as sk
from sirenkit.derivatives.fields import _autograd
from sirenkit.errors import SirenkitError
from sirenkit.problems.solve import SolveConfig, SolveTrainConfig, _fill, load
from sirenkit.training import Interrupted, run
from sirenkit.training import load as load_model


def _inner(kind: str, outputs: int) -> nn.Module:
    if kind == "siren":
        return sk.Siren(3, 16, 1, outputs, w0=3.0)
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, outputs))


@pytest.mark.parametrize("kind", ["siren", "tanh"])
@pytest.mark.parametrize(
    "axes, parity, center", [(0, -1, 0.0), (2, 1, 0.5), ((0, 1), (-1, 1), (0.0, -0.25))]
)
def test_the_field_is_exactly_even_or_odd_and_its_derivatives_are_the_composites(
    kind, axes, parity, center
):
    torch.manual_seed(0)
    inner = _inner(kind, 2)
    net = sk.nets.Symmetric(inner, axes, parity, center)
    x = torch.randn(64, 3)
    flip, shift = torch.ones(3), torch.zeros(3)
    flip[list((axes,) if isinstance(axes, int) else axes)] = -1
    shift[list((axes,) if isinstance(axes, int) else axes)] = 2 * torch.tensor(center)
    p = torch.tensor((parity,) * 2 if isinstance(parity, int) else parity, dtype=torch.float32)
    mirrored = x * flip + shift
    with torch.no_grad():
        assert torch.allclose(net(mirrored), p * net(x), atol=1e-5)
        assert not torch.allclose(inner(mirrored), p * inner(x), atol=1e-2)  # not by itself
    fast = sk.value_and_derivatives(net, x, hessian=True, create_graph=False)
    slow = _autograd(net, x, "full", False)  # autograd through the wrapper's forward
    assert fast.engine == ("closed_form" if kind == "siren" else "autograd")
    for name in ("value", "gradient", "hessian"):
        assert torch.allclose(getattr(fast, name), getattr(slow, name), atol=1e-5), name
    lap = sk.value_and_derivatives(net, x, laplacian=True, create_graph=False).laplacian
    assert torch.allclose(lap, slow.hessian.diagonal(dim1=-2, dim2=-1).sum(-1), atol=1e-5)


def test_bad_symmetries_are_one_line_errors():
    with pytest.raises(SirenkitError, match="parity must be 1"):
        sk.nets.Symmetric(sk.Siren(2, 8, 1, 1), 0, parity=0)
    with pytest.raises(SirenkitError, match="axis 2 does not exist"):
        sk.nets.Symmetric(sk.Siren(2, 8, 1, 1), 2)(torch.zeros(4, 2))
    with pytest.raises(SirenkitError, match="3 parities for a network of 2 outputs"):
        sk.nets.Symmetric(sk.Siren(2, 8, 1, 2), 0, (1, -1, 1))(torch.zeros(4, 2))


ODD_HEAT = """
import math, torch
import sirenkit as sk

box = sk.domains.Box([-1, 0], [1, 1])
problem = sk.Problem([
    sk.Constraint(box, lambda f: f.d("t") - 0.1 * f.d("x", "x"), points=32),
    sk.Constraint(box.faces("x"), lambda f: f.u, points=8),
    sk.Constraint(box.face("t", 0), lambda f: f.u - torch.sin(math.pi * f.coord("x")), points=16),
], names=("x", "t"))
field = sk.nets.Symmetric(sk.Siren(2, 8, 1, 1, w0=2.0), 0, parity=-1)
steps, then_lbfgs = 3, 9
"""


def test_a_symmetric_field_from_a_problem_file_checkpoints_resumes_and_reloads(tmp_path):
    (tmp_path / "odd.py").write_text(ODD_HEAT)

    def make_cfg() -> SolveConfig:
        train = SolveTrainConfig(log_every=2, eval_every=0, checkpoint_every=4, progress=False)
        return SolveConfig(problem=str(tmp_path / "odd.py"), train=train, out=tmp_path / "runs")

    def start(callbacks=()):
        cfg = make_cfg()
        loaded = load(cfg)
        return run(cfg, loaded.task, model=_fill(cfg, loaded), callbacks=callbacks)

    full = start()
    assert isinstance(full.model, sk.nets.Symmetric)

    def stop_at_5(step, model):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        start([stop_at_5])
    cfg = make_cfg()
    cfg.resume = info.value.run_dir
    resumed = run(cfg)
    for p, q in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)
    back = load_model(full.run_dir)
    x = torch.rand(16, 2) * 2 - 1
    with torch.no_grad():
        assert torch.equal(back(x), full.model(x))
        assert torch.allclose(back(x * torch.tensor([-1.0, 1.0])), -back(x), atol=1e-6)
