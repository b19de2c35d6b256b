"""The paper's built-in examples pose their problems with the same physics builders as the
commands (``fit poisson``, ``solve helmholtz``, ``solve wave``): one way to pose each."""

from __future__ import annotations

import runpy

import pytest
import torch

from sirenkit.nets import Siren
from sirenkit.problems.solve import EXAMPLES
from sirenkit.signals.image import load_image
from sirenkit.tasks.helmholtz import SolveHelmholtzConfig
from sirenkit.tasks.poisson import PoissonTask


def _poisson():
    return PoissonTask(load_image("camera", 128), "gradient", operator="sobel").problem


def _helmholtz():
    return SolveHelmholtzConfig(reference_grid=11).setup().problem


def _losses(problem, net, points_override=False):
    if points_override:  # every point, so that both sides see the same ones
        for c in problem.constraints:
            c.points = None
    return problem.losses(net, problem.sample(torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(
    ("name", "task_problem"), [("poisson_image", _poisson), ("helmholtz_source", _helmholtz)]
)
def test_an_example_poses_its_commands_problem(name, task_problem):
    ns = runpy.run_path(str(EXAMPLES / f"{name}.py"))
    ours, theirs = ns["problem"], task_problem()
    every = name == "poisson_image"
    torch.manual_seed(0)
    net = Siren(2, 16, 1, ours.outputs)  # small: the problems are compared, not the network
    mine, task = _losses(ours, net, every), _losses(theirs, net, every)
    assert set(task) <= set(mine)
    for k, v in task.items():
        torch.testing.assert_close(mine[k], v)
    assert all(torch.isfinite(v) for v in mine.values())
    assert ns["reference"].error(ours, net) > 0


def test_the_wave_example_trains_and_is_scored():
    ns = runpy.run_path(str(EXAMPLES / "wave_pulse.py"))
    problem, net = ns["problem"], Siren(3, 16, 1, 1)
    assert [c.name for c in problem.constraints] == ["residual", "initial_near", "initial_far"]
    for c in problem.constraints:
        c.points = 64
    loss, _ = problem.loss(net, problem.sample(torch.Generator().manual_seed(0)))
    loss.backward()
    assert torch.isfinite(loss) and 0 < ns["reference"].error(problem, net) < 10


def test_the_lshape_example_is_zero_on_its_whole_boundary_and_keeps_the_corner_singularity():
    ns = runpy.run_path(str(EXAMPLES / "lshape.py"))
    problem, lshape, corner = ns["problem"], ns["lshape"], ns["corner"]
    assert problem.transform is not None and len(problem.constraints) == 1  # no soft BC
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    net = Siren(2, 16, 1, 1, w0=5.0)
    edge = lshape.boundary.sample(400, gen, problem.names).float()
    assert problem.values(net, edge).abs().max() < 1e-6  # exact, for any network
    inside = lshape.sample(400, gen, problem.names).double()
    assert (corner(inside) > 0).all()  # vanishes on no interior point
    # r^(2/3) sin(2 phi / 3) is harmonic: the network fits a smooth quotient, not the singularity
    x = inside[inside.norm(dim=1) > 0.1].requires_grad_(True)
    (g,) = torch.autograd.grad(corner(x).sum(), x, create_graph=True)
    lap = sum(torch.autograd.grad(g[:, k].sum(), x, retain_graph=True)[0][:, k] for k in range(2))
    assert lap.abs().max() < 1e-8


def test_the_inverse_heat_example_moves_its_unknown_toward_the_truth():
    """A few Adam steps on every point: the diffusivity leaves its guess 0.1 for 0.4 (the full
    run ends at 0.39, docs/pde.md)."""
    ns = runpy.run_path(str(EXAMPLES / "heat_inverse.py"))
    problem, a = ns["problem"], ns["a"]
    assert problem.unknowns == {"a": a} and float(a.detach()) == pytest.approx(0.1)
    torch.manual_seed(0)
    net = Siren(2, 32, 2, 1, w0=3.0)
    for c in problem.constraints:
        c.points = 256 if c.points else None
    opt = torch.optim.Adam([*net.parameters(), a], lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(100):
        loss, logs = problem.loss(net, problem.sample(gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(a.detach()) > float(logs["a"]) > 0.15  # logged before the last step, not a view


def test_solve_help_lists_every_builtin_example(capsys):
    from sirenkit.cli.main import main
    from sirenkit.problems.solve import examples

    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "heat_inverse" in examples()
    assert all(name in out for name in examples())


def test_burgers_tanh_poses_burgers_on_half_the_domain_with_a_closed_form_odd_field():
    """Its field is odd in x, so its squared residual is even: the points on x >= 0 stand for
    their mirror images too (what lets the example put all of them on that half)."""
    from sirenkit.derivatives import value_and_derivatives
    from sirenkit.training.bfgs import BFGS_MAX_WEIGHTS

    ns = runpy.run_path(str(EXAMPLES / "burgers_tanh.py"))
    problem, field = ns["problem"], ns["field"].double()
    pde = problem.constraints[0]
    x = pde.domain.sample(64, torch.Generator().manual_seed(0), problem.names).double()
    assert (x[:, 0] >= 0).all()
    mirrored = x * torch.tensor([-1.0, 1.0], dtype=torch.float64)
    r, r_mirror = (problem.residual(pde, field, p) for p in (x, mirrored))
    torch.testing.assert_close(r_mirror.square(), r.square())
    assert r.abs().max() > 1e-3  # a field that is not the solution: the check is not vacuous
    out = value_and_derivatives(field, x, hessian_diagonal=True)
    assert out.engine == "closed_form"
    # its finish keeps the whole inverse Hessian: the network must stay within what BFGS takes
    assert ns["quasi_newton"] == "bfgs"
    assert sum(p.numel() for p in field.parameters()) <= BFGS_MAX_WEIGHTS


def test_the_kovasznay_example_reads_its_outputs_by_name_and_its_reference_solves_it():
    """The closed form is a solution of the residual as written (so the names pick the right
    columns): its residual, taken through the same field code, is at rounding level."""
    ns = runpy.run_path(str(EXAMPLES / "kovasznay.py"))
    problem, exact = ns["problem"], ns["exact"]
    assert problem.labels == ("u", "v", "p")

    class Exact(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return exact(x) + 0 * self.dummy

    x = ns["box"].sample(256, torch.Generator().manual_seed(0), problem.names)
    r = problem.residual(problem.constraints[0], Exact().double(), x.double())
    assert r.shape == (256, 3) and r.abs().max() < 1e-9
    swapped = ns["navier_stokes"]
    problem.constraints[0].residual = lambda f: swapped(_Swapped(f))
    assert problem.residual(problem.constraints[0], Exact().double(), x.double()).abs().max() > 1


class _Swapped:
    """The field with outputs u and v exchanged: the residual must notice."""

    def __init__(self, f):
        self.f = f

    def __getitem__(self, key):
        return self.f[{"u": "v", "v": "u"}.get(key, key)]
