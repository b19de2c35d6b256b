"""``lbfgs_float64_after``: the L-BFGS phase goes on in float64, and resumes exactly."""

import json

import pytest
import torch

import sirenkit as sk
from sirenkit.problems.solve import SolveConfig
from sirenkit.training.run import run

from ..tasks.common import assert_resume_matches_full_run
from .common import small_solve_config

# a heat problem whose diffusivity is an unknown found with the field (its dtype follows)
HEAT_INVERSE = """
import math, torch
from torch import nn
import sirenkit as sk

a = nn.Parameter(torch.tensor(0.2))
box = sk.domains.Box([0, 0], [1, 1])
seen = torch.rand(32, 2, generator=torch.Generator().manual_seed(0))
values = torch.exp(-0.4 * math.pi**2 * seen[:, 1:]) * torch.sin(math.pi * seen[:, :1])
problem = sk.Problem([
    sk.Constraint(box, lambda f: f.d("t") - a * f.d("x", "x"), points=32),
    sk.Constraint(sk.domains.PointSet(seen, values), lambda f: f.u - f.data),
], names=("x", "t"), unknowns={"a": a})
"""


def _cfg(file, out, after: int | None) -> SolveConfig:
    return small_solve_config(file, out, 3, 9, model="tanh", lbfgs_float64_after=after)


def test_the_lbfgs_phase_goes_on_in_float64_from_the_given_iteration(tmp_path):
    (tmp_path / "heat.py").write_text(HEAT_INVERSE)
    runs = {}
    for after in (None, 4):
        runs[after] = sk.problems.solve_command(_cfg(tmp_path / "heat.py", tmp_path, after))
    assert next(runs[None].model.parameters()).dtype == torch.float32
    assert {p.dtype for p in runs[4].model.parameters()} == {torch.float64}
    assert isinstance(runs[4].final["a"], float)
    back = sk.load(runs[4].run_dir)  # the checkpoint keeps the float64 weights
    for p, q in zip(back.parameters(), runs[4].model.parameters(), strict=True):
        assert p.dtype == torch.float64 and torch.equal(p, q)
    # the first 4 iterations are the float32 run's, bit for bit; then the two part
    logs = {
        k: [json.loads(x) for x in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
        for k, r in runs.items()
    }
    loss = {k: {r["step"]: r["loss"] for r in v if "loss" in r} for k, v in logs.items()}
    assert all(loss[None][s] == loss[4][s] for s in (2, 4, 6))  # step 8: iteration 4, float64
    assert loss[None][12] != loss[4][12]
    summary = json.loads((runs[4].run_dir / "summary.json").read_text())
    assert summary["lbfgs_float64_from"] == 4


@pytest.mark.parametrize("after", [1, 4])
def test_resume_across_the_switch_to_float64_equals_full_run(tmp_path, after):
    """Interrupted at step 5: after the switch (iteration 1 = step 4), or before it."""
    (tmp_path / "heat.py").write_text(HEAT_INVERSE)
    assert_resume_matches_full_run(
        lambda: _cfg(tmp_path / "heat.py", tmp_path / "runs", after), sk.problems.solve_command
    )
    cfg = _cfg(tmp_path / "heat.py", tmp_path / "again", after)
    full = sk.problems.solve_command(cfg)
    assert {p.dtype for p in full.model.parameters()} == {torch.float64}


def test_a_stalled_float32_phase_goes_on_in_float64(tmp_path):
    """The stall that ends a float32 phase (test_problem's) switches it to float64 instead."""
    line = sk.domains.Box([-1], [1])
    problem = sk.Problem([sk.Constraint(line, lambda f: f.u - 0.5, points=16)], names=("x",))
    ends = {}
    for after in (None, 1000):
        torch.manual_seed(0)
        net = sk.Siren(1, 4, 0, 1, w0=1.0)
        ends[after] = sk.solve(
            problem,
            net,
            steps=1,
            then_lbfgs=300,
            lbfgs_float64_after=after,
            out=tmp_path,
            progress=False,
            log_every=1,
        )
    stalled = json.loads((ends[None].run_dir / "summary.json").read_text())["steps"]
    assert stalled < 50 and ends[None].stopped.startswith("L-BFGS stalled")
    assert next(ends[1000].model.parameters()).dtype == torch.float64
    summary = json.loads((ends[1000].run_dir / "summary.json").read_text())
    # from the iteration after the stalled one (the run has 1 Adam step)
    assert summary["steps"] > stalled and summary["lbfgs_float64_from"] == stalled - 1
    last = {}
    for k, end in ends.items():
        lines = (end.run_dir / "metrics.jsonl").read_text().splitlines()
        last[k] = [json.loads(x)["loss"] for x in lines if '"loss"' in x][-1]
    assert last[1000] < last[None]  # the fit at its points went on below float32's stall


def test_tasks_whose_loss_does_not_follow_the_dtype_refuse_it(tmp_path):
    from sirenkit.tasks.image import FitImageConfig

    cfg = FitImageConfig(size=16)
    cfg.train.lbfgs_float64_after = 0
    cfg.out = tmp_path
    with pytest.raises(sk.SirenkitError, match="lbfgs-float64-after"):
        run(cfg)
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_negative_switch_is_refused(tmp_path):
    (tmp_path / "heat.py").write_text(HEAT_INVERSE)
    with pytest.raises(sk.SirenkitError, match="must be >= 0"):
        sk.problems.solve_command(_cfg(tmp_path / "heat.py", tmp_path / "runs", -1))
    assert not (tmp_path / "runs").exists()
