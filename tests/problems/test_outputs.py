"""Several outputs by name: ``f["p"]`` reads one output, errors against a reference are given
per output, a network whose outputs are not the problem's is refused, and a mistake in a
user's problem file is one line naming its file and line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import sirenkit as sk
from sirenkit.cli.main import _user_frame, main
from sirenkit.problems.task import ProblemTask


class Fixed(nn.Module):
    """``(x, 2 y)``: a 2-output field whose errors against ``(x, y)`` are known exactly."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([1.0, 2.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


BOX = sk.domains.Box([0.5, 0.5], [1, 1])


def test_an_output_by_name_is_its_column_of_every_quantity():
    problem = sk.Problem(
        [sk.Constraint(BOX, lambda f: f.u, points=8)], names=("x", "y"), outputs=("a", "b")
    )
    net = sk.Siren(2, 16, 1, 2, w0=3.0)
    x = BOX.sample(8, torch.Generator().manual_seed(0), ("x", "y")).float()
    f = problem.field(net, x, domain=BOX)
    b = f["b"]
    assert torch.equal(b.u, f.u[:, 1:2])
    assert torch.equal(b.d("y"), f.d("y")[:, 1:2])
    assert torch.equal(b.d("x", "x"), f.d("x", "x")[:, 1:2])
    assert torch.allclose(b.lap, f.lap[:, 1:2])
    assert torch.equal(b.grad, f.grad[:, 1])
    assert torch.equal(b.hessian, f.hessian[:, 1])
    assert torch.equal(f[0].u, f["a"].u) and torch.equal(f[-1].u, b.u)
    with pytest.raises(sk.SirenkitError, match="no such output; the field has 2; its outputs are"):
        f["c"]
    unnamed = sk.Problem([sk.Constraint(BOX, lambda f: f.u, points=8)], names=("x", "y"))
    with pytest.raises(sk.SirenkitError, match=r"name them: Problem\(\.\.\., outputs="):
        unnamed.field(sk.Siren(2, 8, 1, 1), x)["u"]


@pytest.mark.parametrize(
    "outputs, message",
    [
        (("u", "u"), "repeat"),
        (("u", "2v"), "identifiers"),
        ("uv", "count or a tuple"),
        ((), "identifiers"),
    ],
)
def test_bad_output_names_are_one_line_errors(outputs, message):
    with pytest.raises(sk.SirenkitError, match=message):
        sk.Problem([sk.Constraint(BOX, lambda f: f.u, points=8)], names=("x", "y"), outputs=outputs)


def test_errors_against_a_reference_are_given_per_output():
    problem = sk.Problem(
        [sk.Constraint(BOX, lambda f: f.u, points=8)], names=("x", "y"), outputs=("a", "b")
    )
    task = ProblemTask(problem, sk.Reference.function(lambda x: x, BOX, ("x", "y"), n=64))
    out = task.evaluate(Fixed())
    assert out["rel_l2_a"] == pytest.approx(0.0, abs=1e-7)
    assert out["rel_l2_b"] == pytest.approx(1.0, rel=1e-6)  # 2y against y
    ref = task.reference
    total = float((ref.values[:, 1].double().norm()) / ref.values.double().norm())
    assert out["rel_l2"] == pytest.approx(total, rel=1e-6)


def test_a_network_whose_outputs_are_not_the_problems_is_refused(tmp_path):
    problem = sk.Problem(
        [sk.Constraint(BOX, lambda f: f["b"].u - 1, points=8)],
        names=("x", "y"),
        outputs=("a", "b"),
    )
    for out in (1, 3):  # one output trained on an empty column gave NaN; three drew a crash
        with pytest.raises(sk.SirenkitError, match=f"gives {out} output.*has 2.*out_features=2"):
            sk.solve(problem, sk.Siren(2, 8, 1, out), steps=2, out=tmp_path, progress=False)


def test_a_solved_problem_names_its_outputs_in_the_run_folder(tmp_path):
    problem = sk.Problem(
        [sk.Constraint(BOX, lambda f: torch.cat([f["a"].lap, f["b"].u - 1], 1), points=16)],
        names=("x", "y"),
        outputs=("a", "b"),
    )
    run = sk.solve(
        problem,
        sk.Siren(2, 8, 1, 2, w0=2.0),
        reference=sk.Reference.function(lambda x: x, BOX, ("x", "y")),
        steps=3,
        out=tmp_path,
        progress=False,
    )
    with np.load(run.run_dir / "solution.npz") as z:
        assert list(z["outputs"]) == ["a", "b"] and z["u"].shape[-1] == 2
    assert {"rel_l2", "rel_l2_a", "rel_l2_b"} <= set(run.final)
    assert (run.run_dir / "solution.png").stat().st_size > 0


def test_a_mistake_in_a_problem_file_is_one_line_naming_its_line(tmp_path, capsys):
    file = tmp_path / "typo.py"
    file.write_text(
        "import sirenkit as sk\n"
        "box = sk.domains.Box([0, 0], [1, 1])\n"
        "def res(f):\n"
        "    return f.u / undefined_name\n"
        "problem = sk.Problem([sk.Constraint(box, res, points=8)], names=('x', 'y'))\n"
    )
    assert main(["solve", str(file), "--steps", "2", "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"sirenkit solve: error: {file}:4: NameError: name 'undefined_name' is not defined"
    )


def test_an_error_inside_the_library_keeps_its_traceback():
    try:
        torch.zeros(2) @ torch.zeros(3)
    except RuntimeError as e:
        assert _user_frame(e) is not None  # raised from this file: the user's code here
        e.__traceback__ = e.__traceback__.tb_next  # only torch's frames (none here) remain
        assert _user_frame(e) is None
