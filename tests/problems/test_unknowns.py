"""Inverse problems: coefficients found with the field (``Problem(unknowns=...)``) train, are
logged and checkpointed, resume exactly, start afresh for every network, and bad ones are
refused in one line."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import sirenkit as sk
from sirenkit.errors import SirenkitError
from sirenkit.problems.solve import SolveConfig, SolveTrainConfig
from tests.problems.common import small_solve_config
from tests.tasks.common import assert_resume_matches_full_run

OSCILLATOR = """
import torch
from torch import nn
import sirenkit as sk

line = sk.domains.Box([-1], [1])
x = torch.linspace(-1, 1, 64)[:, None]
k = nn.Parameter(torch.tensor(3.0))  # the truth is 4: the data are sin(2x)

def oscillator(f):
    return f.d("x", "x") + k * f.u

problem = sk.Problem([
    sk.Constraint(line, oscillator, points=128),
    sk.Constraint(sk.domains.PointSet(x, torch.sin(2 * x)), lambda f: f.u - f.data),
], names=("x",), unknowns={"k": k})
steps, then_lbfgs = 1000, 300
"""


def test_an_unknown_coefficient_is_found_from_data_and_reported(tmp_path):
    """u'' + k u = 0 with u observed as sin(2x): k goes from 3 to 4 (it stays at 3 when the
    optimiser does not see it), and its value is in the log and the summary."""
    (tmp_path / "osc.py").write_text(OSCILLATOR)
    cfg = SolveConfig(
        problem=str(tmp_path / "osc.py"),
        train=SolveTrainConfig(progress=False, log_every=10),
        out=tmp_path / "runs",
    )
    outcome = sk.problems.solve_command(cfg)
    assert outcome.final["k"] == pytest.approx(4.0, rel=0.01)
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["k"] == pytest.approx(outcome.final["k"])
    lines = (outcome.run_dir / "metrics.jsonl").read_text().splitlines()
    logs = [json.loads(line) for line in lines]
    ks = [r["k"] for r in logs if "loss" in r]
    assert ks[0] == pytest.approx(3.0, abs=0.02) and len(ks) == 130


def test_every_run_starts_the_unknowns_from_the_given_values(tmp_path):
    """Not from where an earlier run on the same problem left them: two runs alike."""
    ns: dict = {}
    exec(OSCILLATOR, ns)
    finals = []
    for _ in range(2):
        torch.manual_seed(0)
        net = sk.Siren(1, 8, 1, 1)
        run = sk.solve(ns["problem"], net, steps=20, lr=1e-2, out=tmp_path, progress=False)
        finals.append(run.final["k"])
    assert finals[0] == finals[1] != 3.0


@pytest.mark.parametrize("steps, lbfgs", [(12, 0), (3, 9)])
def test_resume_with_unknowns_equals_full_run(tmp_path, steps, lbfgs):
    (tmp_path / "osc.py").write_text(OSCILLATOR)

    def make_cfg():
        return small_solve_config(tmp_path / "osc.py", tmp_path / "runs", steps, lbfgs, lr=1e-2)

    assert_resume_matches_full_run(make_cfg)
    # the unknown too: the resumed run's value is the uninterrupted one's
    summaries = sorted((tmp_path / "runs").glob("*/summary.json"))
    k = [json.loads(p.read_text())["k"] for p in summaries]
    assert len(k) == 2 and k[0] == k[1] and k[0] != 3.0


def line_problem(**unknowns) -> sk.Problem:
    line = sk.domains.Box([-1], [1])
    return sk.Problem([sk.Constraint(line, lambda f: f.u - 1, points=8)], ("x",), unknowns=unknowns)


@pytest.mark.parametrize(
    "unknowns, message",
    [
        ({"k": 3.0}, "must be a torch.nn.Parameter"),
        ({"k": torch.tensor(3.0)}, "must be a torch.nn.Parameter"),
        ({"loss": nn.Parameter(torch.tensor(1.0))}, "use an identifier"),
        ({"k": nn.Parameter(torch.tensor(float("nan")))}, "finite real values"),
        ({"loss_c0": nn.Parameter(torch.tensor(1.0))}, "log name of a constraint"),
    ],
)
def test_bad_unknowns_are_refused_in_one_line(unknowns, message):
    with pytest.raises(SirenkitError, match=message) as info:
        line_problem(**unknowns)
    assert "\n" not in str(info.value)


def test_an_unknown_no_residual_uses_is_an_error(tmp_path):
    problem = line_problem(k=nn.Parameter(torch.tensor(1.0)))
    with pytest.raises(SirenkitError, match="'k' appears in no residual"):
        sk.solve(problem, sk.Siren(1, 8, 1, 1), steps=2, out=tmp_path, progress=False)
