"""``quasi_newton="bfgs"``: self-scaled BFGS as the phase after Adam (docs/pde.md)."""

import json

import pytest
import torch

import sirenkit as sk
from sirenkit.errors import SirenkitError
from sirenkit.training.bfgs import BFGS

from ..tasks.common import assert_resume_matches_full_run
from .common import small_solve_config
from .test_float64_finish import HEAT_INVERSE


def _quadratic(n: int = 12):
    """An ill-conditioned quadratic 0.5 x'Ax - b'x, its minimiser and a start."""
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    a = q @ torch.diag(torch.logspace(0, 3, n, dtype=torch.float64)) @ q.T
    b = torch.randn(n, generator=g, dtype=torch.float64)
    return a, b, torch.linalg.solve(a, b)


@pytest.mark.parametrize("self_scaled", [True, False])
def test_each_update_satisfies_the_secant_equation_and_the_minimum_is_found(
    monkeypatch, self_scaled
):
    """H y = s for the last pair (what makes H an inverse Hessian along the path; a wrong
    term in the update breaks it), and the quadratic's minimiser is reached."""
    monkeypatch.setattr(BFGS, "self_scaled", self_scaled)
    a, b, best = _quadratic()
    x = torch.nn.Parameter(torch.zeros(12, dtype=torch.float64))
    opt = BFGS([x], lr=1.0, max_iter=1, max_eval=26, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = 0.5 * x @ a @ x - b @ x
        loss.backward()
        return loss

    seen = []
    for _ in range(60):
        seen.append((x.detach().clone(), (a @ x - b).detach()))
        opt.step(closure)
        # checked while far from the minimum (near it, pairs at rounding level are skipped)
        if 2 <= len(seen) <= 8:
            (x0, g0), (x1, g1) = seen[-2], seen[-1]
            h = opt.state[x]["H"]
            torch.testing.assert_close(h @ (g1 - g0), x1 - x0, rtol=1e-8, atol=1e-12)
    assert (x.detach() - best).norm() < 1e-4 * best.norm()


def _cfg(file, out, **train):
    return small_solve_config(file, out, 3, 9, model="tanh", quasi_newton="bfgs", **train)


def test_a_problem_solved_with_bfgs_resumes_exactly_and_takes_the_float64_switch(tmp_path):
    (tmp_path / "heat.py").write_text(HEAT_INVERSE)
    assert_resume_matches_full_run(
        lambda: _cfg(tmp_path / "heat.py", tmp_path / "runs"), sk.problems.solve_command
    )
    file = tmp_path / "heat.py"
    runs = [
        sk.problems.solve_command(small_solve_config(file, tmp_path / "l", 3, 9, model="tanh")),
        sk.problems.solve_command(_cfg(file, tmp_path / "b")),
        sk.problems.solve_command(_cfg(file, tmp_path / "f", lbfgs_float64_after=4)),
    ]
    losses = [
        [json.loads(x).get("loss") for x in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
        for r in runs
    ]
    assert losses[0] != losses[1]  # the option reaches the loop: another optimiser
    assert {p.dtype for p in runs[2].model.parameters()} == {torch.float64}


def test_a_problem_file_may_ask_for_bfgs(tmp_path):
    (tmp_path / "heat.py").write_text(HEAT_INVERSE + "\nquasi_newton = 'bfgs'\n")
    cfg = small_solve_config(tmp_path / "heat.py", tmp_path, 3, 2, model="tanh")
    cfg.train.quasi_newton = None
    sk.problems.solve_command(cfg)
    assert cfg.train.quasi_newton == "bfgs"


def test_a_network_too_large_for_the_matrix_is_refused(tmp_path):
    (tmp_path / "heat.py").write_text(HEAT_INVERSE)
    cfg = small_solve_config(tmp_path / "heat.py", tmp_path, 1, 2, model="tanh")
    cfg.model.hidden, cfg.train.quasi_newton = 200, "bfgs"
    with pytest.raises(SirenkitError, match="n x n"):
        sk.problems.solve_command(cfg)
