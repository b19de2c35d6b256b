import json

import numpy as np
import pytest
import torch
from PIL import Image

from sirenkit.physics import VelocityMap
from sirenkit.tasks.wave import SolveWaveConfig, WaveTask
from sirenkit.training.run import run
from tests.tasks.common import assert_resume_matches_full_run, tiny_train


def test_window_grows_to_the_full_duration():
    task = WaveTask(
        VelocityMap(),
        points=64,
        duration=0.4,
        window_start=0.25,
        window_until=0.5,
        total_steps=100,
        reference_grid=16,
        frames=3,
    )
    assert task.window(0) == pytest.approx(0.1)
    assert task.window(25) == pytest.approx(0.25)
    assert task.window(50) == pytest.approx(0.4) and task.window(99) == pytest.approx(0.4)
    interior, near, far = task.batch(0, torch.Generator().manual_seed(0), None).points
    assert interior[:, 0].max() <= 0.1 and torch.all(near[:, 0] == 0) and torch.all(far[:, 0] == 0)
    assert near[:, 1:].abs().max() <= 3 * task.width + 1e-6  # half the initial points: the pulse
    assert len(near) + len(far) == SolveWaveConfig.initial_points
    assert task.batch(99, torch.Generator(), None).points[0][:, 0].max() > 0.3
    assert task.reference_field.shape == (3, 16, 16)
    want = task.initial(task.space.double().numpy()).reshape(16, 16)
    assert np.allclose(task.reference_field[0], want)


def test_short_run_on_a_non_uniform_medium_lowers_the_error(tmp_path):
    cfg = SolveWaveConfig(duration=0.3, pulse_width=0.2, reference_grid=24, frames=4, out=tmp_path)
    cfg.media.medium = "block"
    cfg.media.medium_speed = 0.7
    cfg.model.hidden, cfg.model.layers, cfg.model.w0 = 32, 3, 5.0
    cfg.train.steps, cfg.train.batch_size, cfg.train.lr = 60, 128, 3e-3
    cfg.train.schedule = "constant"
    cfg.train.eval_every, cfg.train.checkpoint_every, cfg.train.progress = 30, 0, False
    cfg.initial_points = 128
    outcome = run(cfg)
    records = [json.loads(x) for x in (outcome.run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [r["rel_l2"] for r in records if r.get("eval")]
    torch.manual_seed(cfg.train.seed)
    from sirenkit.nets.registry import model_from_config

    start = outcome.task.evaluate(model_from_config(cfg.model, outcome.task.shape))["rel_l2"]
    assert evals[-1] < 0.7 * start
    gif = Image.open(outcome.run_dir / "wave.gif")
    assert gif.n_frames == 4 and gif.size[0] > 3 * gif.size[1]
    for name in ("frames.png", "error_vs_time.png", "fields.npz"):
        assert (outcome.run_dir / name).exists()


def test_resume_equals_the_full_run(tmp_path):
    def make():
        cfg = SolveWaveConfig(duration=0.3, reference_grid=12, frames=2, out=tmp_path)
        cfg.model.hidden, cfg.model.layers = 16, 3
        cfg.train = tiny_train(batch_size=64)
        cfg.initial_points = 32
        return cfg

    assert_resume_matches_full_run(make)


def test_the_reference_as_points_scores_like_the_task():
    task = SolveWaveConfig(duration=0.2, reference_grid=10, frames=3).setup()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    error = task.as_reference().error(task.problem, net)
    assert abs(error - task.evaluate(net)["rel_l2"]) < 1e-5
