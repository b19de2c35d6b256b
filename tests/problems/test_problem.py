"""Problems train through the shared loop: errors are one line, a small problem solves, a
resumed run (Adam and L-BFGS phases) ends where the uninterrupted one does, the CLI runs files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import sirenkit as sk
from sirenkit.cli.main import main
from sirenkit.problems.solve import SolveConfig, SolveTrainConfig
from tests.problems.common import small_solve_config
from tests.tasks.common import assert_resume_matches_full_run

HEAT = """
import math, torch
import sirenkit as sk

a = 0.4
box = sk.domains.Box([0, 0], [1, 1])
problem = sk.Problem([
    sk.Constraint(box, lambda f: f.d("t") - a * f.d("x", "x"), points=256),
    sk.Constraint(box.faces("x"), lambda f: f.u, points=32),
    sk.Constraint(box.face("t", 0), lambda f: f.u - torch.sin(math.pi * f.coord("x")), points=64),
], names=("x", "t"))

def reference(x):
    return torch.exp(-a * math.pi**2 * x[:, 1:]) * torch.sin(math.pi * x[:, :1])

field = sk.Siren(2, 16, 1, 1, w0=2.0)
steps = 30
"""


def heat_problem(points: int = 256) -> tuple[sk.Problem, object]:
    ns: dict = {}
    exec(HEAT.replace("points=256", f"points={points}"), ns)
    return ns["problem"], ns["reference"]


def test_residual_of_the_wrong_shape_is_a_one_line_error(tmp_path):
    box = sk.domains.Box([0, 0], [1, 1])
    bad = sk.Problem(
        [sk.Constraint(box, lambda f: f.u + f.x[:, 0], points=8)], names=("x", "y")
    )  # (N, 1) + (N,) broadcasts to (N, N)
    with pytest.raises(sk.SirenkitError) as e:
        sk.solve(bad, steps=1, out=tmp_path, progress=False)
    assert "shape (8, 8)" in str(e.value) and "x[:, :1]" in str(e.value)
    assert "\n" not in str(e.value)
    scalar = sk.Problem([sk.Constraint(box, lambda f: f.u.mean(), points=8)], names=("x", "y"))
    with pytest.raises(sk.SirenkitError, match=r"shape \(\); expected \(8,\)"):
        sk.solve(scalar, steps=1, out=tmp_path, progress=False)


def test_mistakes_a_new_user_makes_are_one_line_errors_before_training(tmp_path):
    box = sk.domains.Box([0, 0], [1, 1])
    ok = [sk.Constraint(box, lambda f: f.lap, points=8)]
    net = sk.Siren(2, 8, 1, 1, w0=2.0)
    forgot_the_field = sk.Problem(
        [*ok, sk.Constraint(box, lambda f: torch.zeros(len(f.x), 1), points=8)], names=("x", "y")
    )
    with pytest.raises(sk.SirenkitError, match="c1: its residual depends on nothing trained"):
        sk.solve(forgot_the_field, net, steps=1, out=tmp_path, progress=False)
    problem = sk.Problem(ok, names=("x", "y"))
    with pytest.raises(sk.SirenkitError, match=r"3 coordinates, the problem 2 axes") as e:
        sk.solve(problem, net, reference=(np.zeros((5, 3)), np.zeros(5)), out=tmp_path / "r")
    assert not (tmp_path / "r").exists()  # refused before training, not after it
    # (N, 1) * (N,) in a hard constraint broadcasts to (N, N): named, not blamed on the network
    flat = sk.Problem(ok, names=("x", "y"), transform=lambda x, y: y * x[:, 0])
    with pytest.raises(sk.SirenkitError, match=r"output transform returned shape \(8, 8\)"):
        sk.solve(flat, net, steps=1, out=tmp_path, progress=False)
    assert "\n" not in str(e.value)


def test_nan_in_a_reference_file_is_an_error_unless_outside_the_domain(tmp_path):
    lshape = sk.domains.Polygon([[0, 0], [1, 0], [1, -1], [-1, -1], [-1, 1], [0, 1]])
    x = np.stack(np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 9)), -1).reshape(-1, 2)
    y = np.where((x[:, 0] > 0) & (x[:, 1] > 0), np.nan, 1.0)
    np.savez(tmp_path / "ref.npz", X=x, y=y)
    ref = sk.Reference.load(tmp_path / "ref.npz", "X", "y", domain=lshape)
    assert len(ref.points) == 81 - 16 and torch.isfinite(ref.values).all()
    with pytest.raises(sk.SirenkitError, match="16 NaN"):
        sk.Reference.load(tmp_path / "ref.npz", "X", "y")
    y[0] = np.nan  # (-1, -1) lies inside the L-shape
    np.savez(tmp_path / "ref.npz", X=x, y=y)
    with pytest.raises(sk.SirenkitError, match="1 NaN/infinite values inside the domain"):
        sk.Reference.load(tmp_path / "ref.npz", "X", "y", domain=lshape)


def test_a_small_heat_problem_solves(tmp_path):
    torch.manual_seed(0)
    problem, reference = heat_problem()
    net = sk.Siren(2, 16, 1, 1, w0=2.0)
    out = sk.solve(
        problem,
        net,
        reference=reference,
        steps=300,
        then_lbfgs=60,
        lr=3e-3,
        out=tmp_path,
        progress=False,
        eval_every=0,
        checkpoint_every=0,
    )
    assert out.final["rel_l2"] < 0.06, out.final
    assert (out.run_dir / "solution.png").is_file()
    rms = json.loads((out.run_dir / "residual.json").read_text())["rms"]
    assert set(rms) == {"c0", "c1", "c2"} and rms["c0"] < 0.1
    assert out.final["rms_c0"] == pytest.approx(rms["c0"])


def test_a_residual_that_turns_nan_stops_with_one_line(tmp_path):
    box = sk.domains.Box([0, 0], [1, 1])
    bad = sk.Problem(
        [sk.Constraint(box, lambda f: torch.log(f.u - 10), points=8)], names=("x", "y")
    )
    with pytest.raises(sk.SirenkitError, match="diverged: loss, loss_c0 not finite") as e:
        sk.solve(bad, steps=12, out=tmp_path, progress=False, log_every=5)
    assert "\n" not in str(e.value)


def test_constraints_are_named_after_their_residual_functions():
    box = sk.domains.Box([0, 0], [1, 1])

    def heat(f):
        return f.d("t") - f.d("x", "x")

    def zero(f):
        return f.u

    problem = sk.Problem(
        [
            sk.Constraint(box, heat, points=8),
            sk.Constraint(box.faces("x"), zero, points=8),
            sk.Constraint(box.face("t", 0), zero, points=8),  # shared: named by position
            sk.Constraint(box.face("t", 1), lambda f: f.u, points=8),
            sk.Constraint(box.face("t", 1), heat, points=8, name="late"),
        ],
        names=("x", "t"),
    )
    assert [c.name for c in problem.constraints] == ["c0", "c1", "c2", "c3", "late"]
    solo = sk.Problem([sk.Constraint(box, heat, points=8)], names=("x", "t"))
    assert solo.constraints[0].name == "heat"


def test_a_problem_without_reference_ends_with_its_residuals(tmp_path, capsys):
    file = tmp_path / "p.py"
    file.write_text(HEAT.split("def reference")[0] + "field = sk.Siren(2, 8, 1, 1, w0=2.0)\n")
    assert main(["solve", str(file), "--steps", "3", "--out", str(tmp_path), "--no-progress"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "rms_c0" in line and "results in" in line, line


def test_lbfgs_phase_lowers_the_loss_further(tmp_path):
    problem, _ = heat_problem(64)
    torch.manual_seed(0)
    adam = sk.solve(
        problem,
        sk.Siren(2, 16, 1, 1, w0=2.0),
        steps=40,
        out=tmp_path,
        progress=False,
        log_every=1,
    )
    torch.manual_seed(0)
    both = sk.solve(
        problem,
        sk.Siren(2, 16, 1, 1, w0=2.0),
        steps=40,
        then_lbfgs=20,
        out=tmp_path,
        progress=False,
        log_every=1,
    )
    logs = [json.loads(line) for line in (both.run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = {r["step"]: r["loss"] for r in logs if "loss" in r}
    assert max(losses) == 60 and losses[60] < 0.5 * losses[41]
    assert not torch.equal(next(adam.model.parameters()), next(both.model.parameters()))


@pytest.mark.parametrize("steps, lbfgs, adaptive", [(12, 0, 1), (3, 9, 1), (3, 9, 3)])
def test_resume_equals_full_run(tmp_path, steps, lbfgs, adaptive):
    """Interrupted at step 5 (inside Adam, or inside the L-BFGS phase, whose points may have
    been picked by residual) and resumed."""
    text = HEAT.replace("points=256", f"points=32, adaptive={adaptive}")
    (tmp_path / "heat.py").write_text(text)

    def make_cfg():
        return small_solve_config(tmp_path / "heat.py", tmp_path / "runs", steps, lbfgs)

    assert_resume_matches_full_run(make_cfg)


def test_solve_cli_runs_a_file_and_a_builtin(tmp_path, capsys):
    (tmp_path / "heat.py").write_text(HEAT)
    args = ["--out", str(tmp_path / "runs"), "--no-progress", "--eval-every", "0"]
    assert main(["solve", str(tmp_path / "heat.py"), *args]) == 0
    out = capsys.readouterr().out
    assert "rel_l2" in out
    run_dir = tmp_path / "runs" / "solve-heat"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 30 and summary["model"] == "siren"  # the file's defaults
    assert (run_dir / "solution.png").is_file() and (run_dir / "checkpoint.pt").is_file()
    # --model NAME swaps the network; flags win over the file's defaults
    assert main(["solve", str(tmp_path / "heat.py"), "--model", "tanh", "--steps", "5", *args]) == 0
    summary = json.loads((tmp_path / "runs" / "solve-heat-2" / "summary.json").read_text())
    assert summary["model"] == "tanh" and summary["steps"] == 5
    # a built-in example by name
    assert main(["solve", "heat", "--steps", "3", "--then-lbfgs", "2", *args]) == 0
    # bad input: one line on stderr, exit 2
    assert main(["solve", "nonexistent_example"]) == 2
    err = capsys.readouterr().err
    assert "neither a .py problem file nor a built-in example" in err
    assert err.count("\n") == 1
    (tmp_path / "bad.py").write_text("import sirenkit as sk\nbox = sk.domains.Box([0], [0])\n")
    assert main(["solve", str(tmp_path / "bad.py")]) == 2
    assert "no volume" in capsys.readouterr().err


def test_adaptive_points_gather_where_the_residual_is_large():
    box = sk.domains.Box([0, 0], [1, 1])

    def bump(f):  # large on x > 0.5 only
        return f.u * 0 + 10.0 * (f.coord("x") > 0.5).float()

    c = sk.Constraint(box, bump, points=400, adaptive=4)
    problem = sk.Problem([c], names=("x", "y"))
    model = sk.Siren(2, 8, 1, 1)
    gen = torch.Generator().manual_seed(0)
    uniform = problem.sample(gen)
    assert len(uniform.points[0]) == 400 and uniform.noise[0] is None
    batch = problem.sample(gen, adaptive=True)
    assert len(batch.points[0]) == 1600
    problem.loss(model, batch)
    x = batch.points[0]
    assert len(x) == 400 and len(torch.unique(x, dim=0)) == 400  # without replacement
    assert float((x[:, 0] > 0.5).float().mean()) > 0.65


POISSON_1D = """
import math, torch
import sirenkit as sk
line = sk.domains.Box([-1], [1])
problem = sk.Problem([
    sk.Constraint(line, lambda f: f.d("x", "x") + math.pi**2 * torch.sin(math.pi * f.x),
                  points=256),
    sk.Constraint(line.faces("x"), lambda f: f.u, points=2),
], names=("x",))
reference = lambda x: torch.sin(math.pi * x)
steps = 300
"""


def test_a_file_without_a_field_gets_a_siren_that_can_solve_a_smooth_pde(tmp_path):
    """A new user's first file names no network: the default must find the smooth solution
    (at the image default w0 = 30 this run ends at relative L2 1.0)."""
    (tmp_path / "poisson1d.py").write_text(POISSON_1D)
    args = ["--out", str(tmp_path / "runs"), "--no-progress"]
    assert main(["solve", str(tmp_path / "poisson1d.py"), *args]) == 0
    summary = json.loads((tmp_path / "runs" / "solve-poisson1d" / "summary.json").read_text())
    assert summary["rel_l2"] < 0.05


def test_abs_penalty_column_weights_and_parts_make_the_loss_and_the_logs():
    pts = sk.domains.PointSet(np.linspace(0, 1, 50)[:, None], np.linspace(-2, 2, 50))
    # residual columns [u - data, 2]: with u = 0 the penalties are |data| and 2
    plain = sk.Constraint(pts, lambda f: torch.cat([f.u - f.data, 2 + 0 * f.u], 1), weight=3.0)
    split = sk.Constraint(
        pts,
        lambda f: torch.cat([f.u - f.data, 2 + 0 * f.u], 1),
        weight=(3.0, 5.0),
        penalty="abs",
        parts=("misfit", "const"),
    )
    zero = torch.nn.Linear(1, 1)
    torch.nn.init.zeros_(zero.weight), torch.nn.init.zeros_(zero.bias)
    data = np.linspace(-2, 2, 50)
    for c, want in (
        (plain, 3.0 * (np.mean(data**2) + 4) / 2),  # mean over points and columns
        (split, 3.0 * np.mean(np.abs(data)) + 5.0 * 2),  # sum over weighted columns
    ):
        problem = sk.Problem([c], names=("x",))
        loss, logs = problem.loss(zero, problem.sample(torch.Generator().manual_seed(0)))
        assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
    assert float(logs["loss_misfit"]) == pytest.approx(np.mean(np.abs(data)), rel=1e-5)
    assert float(logs["loss_const"]) == pytest.approx(2.0)
    bad = sk.Problem([sk.Constraint(pts, lambda f: f.u, weight=(1.0, 2.0))], names=("x",))
    with pytest.raises(sk.SirenkitError, match="2 weights for a residual of 1 columns"):
        bad.loss(zero, bad.sample(torch.Generator()))
    with pytest.raises(sk.SirenkitError, match="constraint and part names must differ"):
        sk.Problem([sk.Constraint(pts, lambda f: f.u, name="a", parts=("a",))], names=("x",))
    with pytest.raises(sk.SirenkitError, match="penalty must be square or abs"):
        sk.Problem([sk.Constraint(pts, lambda f: f.u, penalty="l3")], names=("x",))


ADVECTION = """
import math, torch
import sirenkit as sk
box = sk.domains.Box([-1, 0], [1, 1])
problem = sk.Problem([
    sk.Constraint(box, lambda f: f.d("t") + f.d("x"), points=256),
    sk.Constraint(box.face("t", 0), lambda f: f.u - torch.sin(math.pi * f.coord("x")), points=64),
    sk.Constraint(box.face("x", -1), lambda f: f.u - f.at(x=1).u, points=32),
], names=("x", "t"))
"""


def test_a_periodic_condition_through_f_at_solves_advection(tmp_path):
    """u_t + u_x = 0 carries sin(pi x) around a periodic [-1, 1]; without the periodic
    condition the inflow at x = -1 is free and the error is ~0.4."""
    ns: dict = {}
    exec(ADVECTION, ns)
    torch.manual_seed(0)
    out = sk.solve(
        ns["problem"],
        sk.Siren(2, 32, 2, 1, w0=3.0),
        reference=lambda x: torch.sin(math.pi * (x[:, :1] - x[:, 1:])),
        steps=400,
        out=tmp_path,
        progress=False,
        eval_every=0,
        checkpoint_every=0,
    )
    assert out.final["rel_l2"] < 0.02, out.final


def test_f_at_gives_the_field_and_derivatives_at_the_moved_points():
    from sirenkit.problems.field import Field

    torch.manual_seed(0)
    net = sk.Siren(2, 16, 1, 1, w0=3.0)
    x = torch.rand(10, 2) * 2 - 1
    f = Field(net, x, ("x", "t"))
    moved = x.clone()
    moved[:, 0] = -x[:, 0]
    leaf = moved.clone().requires_grad_(True)
    u = net(leaf)
    (g,) = torch.autograd.grad(u.sum(), leaf)
    at = f.at(x=-f.coord("x"))
    assert torch.allclose(at.u, u, atol=1e-6)
    assert torch.allclose(at.d("x")[:, 0], g[:, 0], atol=1e-5)
    assert f.at(x=1.0) is f.at(x=1.0)  # cached within a step
    with pytest.raises(sk.SirenkitError, match="no axis 'z'"):
        f.at(z=0.0)
    with pytest.raises(sk.SirenkitError, match=r"one value per point \(10, 1\)"):
        f.at(x=torch.zeros(3))


def test_threads_hold_during_the_run_and_are_restored(tmp_path):
    seen = []

    def heat(f):
        seen.append(torch.get_num_threads())
        return f.d("t") - f.d("x", "x")

    box = sk.domains.Box([0, 0], [1, 1])
    problem = sk.Problem([sk.Constraint(box, heat, points=8)], names=("x", "t"))
    before = torch.get_num_threads()
    want = 1 if before > 1 else 2
    sk.solve(problem, steps=2, out=tmp_path, progress=False, threads=want)
    assert set(seen) == {want} and torch.get_num_threads() == before
    with pytest.raises(sk.SirenkitError, match="--threads must be >= 1"):
        sk.solve(problem, steps=2, out=tmp_path, progress=False, threads=0)


def _off_corners(x: torch.Tensor, corners: torch.Tensor, eps: float = 5e-3) -> torch.Tensor:
    return x[(x[:, None] - corners).norm(dim=-1).min(-1).values > eps]


L_SHAPE = [[0, 0], [1, 0], [1, -1], [-1, -1], [-1, 1], [0, 1]]


@pytest.mark.parametrize(
    "domain",
    [
        sk.domains.Box([-1, 0], [2, 1]),
        sk.domains.Polygon(L_SHAPE),
        sk.domains.Polygon(L_SHAPE[::-1]),  # clockwise: the same outward normals
        sk.domains.Disc([0.5, -0.5], 2.0),
        sk.domains.Annulus([0, 0], 0.5, 1.0),
    ],
    ids=["box", "lshape-ccw", "lshape-cw", "disc", "annulus"],
)
def test_boundary_normals_point_out_of_their_domain(domain):
    gen = torch.Generator().manual_seed(0)
    x = domain.boundary.sample(400, gen, ("x", "y"))
    if isinstance(domain, sk.domains.Box):
        lo, hi = domain.bounds
        corners = torch.tensor([[lo[0], lo[1]], [lo[0], hi[1]], [hi[0], lo[1]], [hi[0], hi[1]]])
        x = _off_corners(x, corners.double())
    elif isinstance(domain, sk.domains.Polygon):
        x = _off_corners(x, domain.vertices)
    n = domain.boundary.normals(x, ("x", "y"))
    assert torch.allclose(n.norm(dim=-1), torch.ones(len(n), dtype=n.dtype))
    assert domain.contains(x - 1e-3 * n).all() and not domain.contains(x + 1e-3 * n).any()


def test_a_box_face_has_its_axis_as_normal_and_a_slice_has_none():
    box = sk.domains.Box([0, 0], [1, 1])
    x = torch.tensor([[0.0, 0.3], [0.0, 0.7]], dtype=torch.float64)
    assert box.face("x", 0).normals(x, ("x", "t")).tolist() == [[-1, 0], [-1, 0]]
    assert box.face("t", "max").normals(x, ("x", "t")).tolist() == [[0, 1], [0, 1]]
    with pytest.raises(sk.SirenkitError, match="not a boundary with normals"):
        box.slice("t", 0.5).normals(x, ("x", "t"))


def test_a_robin_condition_through_f_dn_solves_poisson_on_a_disc(tmp_path):
    """Laplacian u = 4 on the unit disc with du/dn + u = 3 on its circle: u = x^2 + y^2
    (a sign error in the normal gives another solution, error ~7)."""
    disc = sk.domains.Disc([0, 0], 1.0)
    problem = sk.Problem(
        [
            sk.Constraint(disc, lambda f: f.lap - 4, points=256),
            sk.Constraint(disc.boundary, lambda f: f.dn + f.u - 3, points=64),
        ],
        names=("x", "y"),
    )
    torch.manual_seed(0)
    out = sk.solve(
        problem,
        sk.Siren(2, 32, 2, 1, w0=3.0),
        reference=lambda x: (x**2).sum(-1, keepdim=True),
        steps=200,
        then_lbfgs=60,
        out=tmp_path,
        progress=False,
        eval_every=0,
        checkpoint_every=0,
        threads=1,
    )
    assert out.final["rel_l2"] < 0.02, out.final


def test_a_product_domain_puts_space_over_time():
    """disc * time: points of the disc at times of the interval; its lateral boundary's
    normals are the circle's (zero along t); a face of the interval is the initial slice."""
    disc, time = sk.domains.Disc([0, 0], 1.0), sk.domains.Box([0], [0.5])
    names = ("x", "y", "t")
    gen = torch.Generator().manual_seed(0)
    inside = (disc * time).sample(500, gen, names)
    assert inside.shape == (500, 3) and (disc * time).contains(inside, names).all()
    assert inside[:, :2].norm(dim=-1).max() <= 1 and 0 <= inside[:, 2].min() < 0.05
    assert inside[:, 2].max() > 0.45
    start = (disc * time.face("t", 0)).sample(50, gen, names)
    assert (start[:, 2] == 0).all() and start[:, :2].norm(dim=-1).max() <= 1
    side = disc.boundary * time
    x = side.sample(50, gen, names)
    n = side.normals(x, names)
    assert torch.allclose(n[:, :2], x[:, :2] / x[:, :2].norm(dim=-1, keepdim=True))
    assert (n[:, 2] == 0).all()
    assert not (disc * time).contains(torch.tensor([[0.0, 0.0, 0.6]]), names).any()


def test_lbfgs_ends_when_an_iteration_leaves_the_weights_unchanged(tmp_path):
    """A stalled L-BFGS repeats itself, a full line search each time (a run seen spending 1000
    s so): the phase ends there, says why, and the weights are the ones it stalled at."""
    line = sk.domains.Box([-1], [1])
    problem = sk.Problem([sk.Constraint(line, lambda f: f.u - 0.5, points=16)], names=("x",))
    torch.manual_seed(0)
    net = sk.Siren(1, 4, 0, 1, w0=1.0)
    run = sk.solve(problem, net, steps=1, then_lbfgs=300, out=tmp_path, progress=False)
    summary = json.loads((run.run_dir / "summary.json").read_text())
    assert summary["steps"] < 50
    assert summary["stopped"].startswith("L-BFGS stalled: iteration")
    assert run.stopped == summary["stopped"]  # the closing line says it too
    assert summary["rms_c0"] < 1e-4


CUSTOM = """
import math, torch
from torch import nn
import sirenkit as sk

line = sk.domains.Box([-1], [1])
problem = sk.Problem([
    sk.Constraint(line, lambda f: f.d("x", "x") + math.pi**2 * torch.sin(math.pi * f.x),
                  points=64),
    sk.Constraint(line.faces("x"), lambda f: f.u, points=2),
], names=("x",))
field = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
steps = 12
"""


def test_a_files_own_module_trains_checkpoints_resumes_and_reloads(tmp_path):
    """Any nn.Module can be the field: the checkpoint names the file, which rebuilds it."""
    (tmp_path / "custom.py").write_text(CUSTOM)

    def make_cfg():
        return SolveConfig(
            problem=str(tmp_path / "custom.py"),
            train=SolveTrainConfig(
                lr=1e-2, log_every=2, eval_every=4, checkpoint_every=4, progress=False
            ),
            out=tmp_path / "runs",
        )

    assert_resume_matches_full_run(make_cfg, sk.problems.solve_command)
    run_dir = tmp_path / "runs" / "solve-custom-2"  # the interrupted and resumed one
    assert json.loads((run_dir / "summary.json").read_text())["model"] == "file"
    net = sk.load(run_dir)
    assert isinstance(net, torch.nn.Sequential)
    saved = torch.load(run_dir / "checkpoint.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(v, saved[k]) for k, v in net.state_dict().items())


def test_a_module_handed_to_solve_trains_and_its_checkpoint_says_how_to_reload(tmp_path):
    ns: dict = {}
    exec(CUSTOM, ns)
    run = sk.solve(ns["problem"], ns["field"], steps=5, out=tmp_path, progress=False)
    assert math.isfinite(run.final["rms_c0"])
    with pytest.raises(sk.SirenkitError, match=r"a Sequential.*built in Python") as info:
        sk.load(run.run_dir)
    assert "\n" not in str(info.value)


def test_a_field_that_holds_at_the_lbfgs_points_only_is_reported(tmp_path, capsys):
    """Eight points for L-BFGS to fit: the residual between them is far larger, and the run
    says so in one line; with enough points it says nothing."""
    line = sk.domains.Box([0], [math.pi])

    def oscillator(f):
        return f.d("x", "x") + 9 * f.u

    for points, told in ((8, True), (512, False)):
        problem = sk.Problem(
            [
                sk.Constraint(line, oscillator, points=points),
                sk.Constraint(sk.domains.PointSet([[0.5]], [[1.0]]), lambda f: f.u - f.data),
            ],
            names=("x",),
        )
        torch.manual_seed(0)
        net = sk.Siren(1, 32, 2, 1, w0=3.0)
        sk.solve(problem, net, steps=50, then_lbfgs=100, out=tmp_path, progress=False)
        err = capsys.readouterr().err
        assert ("at the 8 points L-BFGS fits" in err) is told, err
        assert err.count("L-BFGS fits") <= 1


def test_a_float64_network_solves_and_is_scored_in_float64(tmp_path):
    """The points follow the default dtype; the reference, the residual summary and the
    figures follow the network's (float64 L-BFGS goes below float32's rounding)."""
    problem, reference = heat_problem()
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        out = sk.solve(
            problem,
            sk.Siren(2, 16, 1, 1, w0=2.0),
            reference=reference,
            steps=40,
            then_lbfgs=5,
            out=tmp_path,
            progress=False,
            eval_every=0,
            checkpoint_every=0,
        )
    finally:
        torch.set_default_dtype(before)
    assert next(out.model.parameters()).dtype == torch.float64
    assert math.isfinite(out.final["rel_l2"]) and math.isfinite(out.final["rms_c0"])
    assert (out.run_dir / "solution.npz").is_file()
