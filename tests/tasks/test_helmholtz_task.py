import json

import pytest
import torch

from sirenkit import value_and_derivatives
from sirenkit.physics import GaussianSource, HelmholtzProblem, VelocityMap
from sirenkit.physics.helmholtz import complex_fields, helmholtz_residual
from sirenkit.problems.problem import Batch
from sirenkit.tasks.helmholtz import HelmholtzTask, SolveHelmholtzConfig
from sirenkit.training.run import run
from tests.tasks.common import (
    assert_resume_matches_full_run,
    assert_stripped_resume_matches_full_run,
    tiny_train,
)


def _config(tmp_path, **kw) -> SolveHelmholtzConfig:
    cfg = SolveHelmholtzConfig(k=5.0, source_width=0.1, reference_grid=31, out=tmp_path, **kw)
    cfg.model.hidden, cfg.model.layers, cfg.model.w0 = 32, 3, 10.0
    cfg.train.steps, cfg.train.batch_size, cfg.train.lr = 60, 256, 3e-3
    cfg.train.eval_every, cfg.train.checkpoint_every, cfg.train.progress = 30, 30, False
    cfg.train.schedule = "constant"
    cfg.source_points = 64
    return cfg


def test_short_siren_run_lowers_the_error_and_writes_outputs(tmp_path):
    cfg = _config(tmp_path)
    outcome = run(cfg)
    records = [json.loads(x) for x in (outcome.run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r.get("eval")]
    torch.manual_seed(cfg.train.seed)
    from sirenkit.nets.registry import model_from_config

    start = outcome.task.evaluate(model_from_config(cfg.model, outcome.task.shape))
    assert evals[-1]["rel_l2"] < 0.85 * start["rel_l2"]
    for name in ("field.png", "fields.npz", "reference_check.json", "history.png"):
        assert (outcome.run_dir / name).exists()
    check = json.loads((outcome.run_dir / "reference_check.json").read_text())
    assert check["reference_vs_hankel_rel_l2"] < 0.2


def test_loss_is_the_mean_residual_over_every_point_and_batches_are_seeded():
    medium, src = VelocityMap("block"), GaussianSource(width=0.1)
    problem = HelmholtzProblem(k=5.0, medium=medium, sources=[src])
    task = HelmholtzTask(problem, points=100, reference_grid=21, source_points=8)
    a = task.batch(0, torch.Generator().manual_seed(3), None)
    b = task.batch(0, torch.Generator().manual_seed(3), None)
    assert all(torch.equal(p, q) for p, q in zip(a.points, b.points, strict=True))
    assert [tuple(p.shape) for p in a.points] == [(100, 2), (8, 2)]
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    loss, _ = task.loss(net, a)
    # the constraint set's loss is the old single formula: mean |residual|^2 / k^4 over all points
    pts = torch.cat(a.points)
    d = value_and_derivatives(net, pts, hessian_diagonal=True)
    y, du, d2u = d.value, d.gradient, d.hessian_diagonal
    res = helmholtz_residual(
        pts,
        complex_fields(y, 1),
        torch.complex(du[:, 0::2], du[:, 1::2]),
        torch.complex(d2u[:, 0::2], d2u[:, 1::2]),
        k=5.0,
        slowness2=medium.squared_slowness(pts),
        source=src(pts)[:, None],
        pml=problem.pml,
    )
    assert torch.allclose(loss, (res.abs() ** 2).mean() / 5.0**4, rtol=1e-5)
    doubled = Batch([torch.cat([p, p]) for p in a.points], a.data, a.noise)
    assert torch.allclose(loss, task.loss(net, doubled)[0], rtol=1e-5)  # a mean


def test_resume_finishes_the_run(tmp_path):
    cfg = _config(tmp_path, name="h")
    cfg.train.steps = 20
    first = run(cfg)
    cfg2 = _config(tmp_path)
    cfg2.resume = first.run_dir
    second = run(cfg2)
    assert second.run_dir == first.run_dir and "rel_l2" in second.final


def test_random_points_need_a_batch_size(tmp_path):
    from sirenkit.errors import SirenkitError

    cfg = _config(tmp_path)
    cfg.train.batch_size = None  # no full batch to fall back on
    with pytest.raises(SirenkitError, match="batch-size"):
        cfg.setup()
    cfg.train.batch_size, cfg.train.batch_growth_every = 256, 10  # would end in the full batch
    with pytest.raises(SirenkitError, match="batch-growth-every"):
        cfg.setup()


def test_resume_equals_the_full_run(tmp_path):
    def make():
        cfg = SolveHelmholtzConfig(k=5.0, source_width=0.1, reference_grid=21, out=tmp_path)
        cfg.model.hidden, cfg.model.layers = 16, 3
        cfg.train = tiny_train(batch_size=64)
        cfg.source_points = 8
        return cfg

    assert_resume_matches_full_run(make)


def test_a_run_saved_before_physical_points_and_the_stretched_form_resumes_as_it_started(
    tmp_path,
):
    """A run folder from before --physical-fraction and --residual-form has neither field:
    resumed, it keeps drawing every point over the whole square and training on the
    divergence form (FORMER_DEFAULTS), and ends with the weights of the run never stopped."""

    def make():
        cfg = SolveHelmholtzConfig(k=5.0, source_width=0.1, reference_grid=21, out=tmp_path)
        cfg.model.hidden, cfg.model.layers = 16, 3
        cfg.train = tiny_train(batch_size=64)
        cfg.source_points = 8
        cfg.physical_fraction, cfg.residual_form = 0.0, "divergence"  # as the code before them
        return cfg

    assert_stripped_resume_matches_full_run(make, ("physical_fraction", "residual_form"))


def test_the_tasks_problem_and_reference_serve_problem_files(tmp_path):
    """One definition: a problem file (or sk.solve) uses the command's own constraint set."""
    import sirenkit as sk

    task = _config(tmp_path).setup()
    reference = task.as_reference()
    torch.manual_seed(0)
    net = sk.Siren(2, 16, 1, 2, w0=10.0)
    assert abs(reference.error(task.problem, net) - task.evaluate(net)["rel_l2"]) < 1e-5
    outcome = sk.solve(
        task.problem, net, reference=reference, steps=3, out=tmp_path, progress=False
    )
    assert "rel_l2" in outcome.final
