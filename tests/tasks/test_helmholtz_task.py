import json

import pytest
import torch

from sirenkit.physics import GaussianSource, HelmholtzProblem, VelocityMap
from sirenkit.tasks.helmholtz import HelmholtzTask, SolveHelmholtzConfig
from sirenkit.training.run import run


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


def test_loss_is_a_mean_and_batches_are_seeded():
    problem = HelmholtzProblem(
        k=5.0, medium=VelocityMap("block"), sources=[GaussianSource(width=0.1)]
    )
    task = HelmholtzTask(problem, reference_grid=21, source_points=8)
    a = task.batch(0, torch.Generator().manual_seed(3), 100)
    b = task.batch(0, torch.Generator().manual_seed(3), 100)
    assert torch.equal(a[0], b[0]) and a[0].shape == (108, 2)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    pts, m = a
    small, _ = task.loss(net, (pts, m))
    doubled, _ = task.loss(net, (torch.cat([pts, pts]), torch.cat([m, m])))
    assert torch.allclose(small, doubled, rtol=1e-5)  # a mean: independent of batch size


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
