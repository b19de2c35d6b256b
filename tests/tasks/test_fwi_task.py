import json

import numpy as np
import pytest
import scipy.io
import torch

from sirenkit.errors import SirenkitError
from sirenkit.physics import PML, VelocityMap
from sirenkit.physics.fwi_data import (
    FWIData,
    generate_fwi_data,
    load_fwi_data,
    paper_geometry,
    save_fwi_data,
)
from sirenkit.tasks.fwi import FWITask, InvertFWIConfig
from sirenkit.training.run import run
from tests.tasks.common import (
    assert_resume_matches_full_run,
    assert_stripped_resume_matches_full_run,
    tiny_train,
)


def test_loader_reads_a_paper_style_mat_and_converts_the_convention(tmp_path):
    sources, receivers = paper_geometry()
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 5)) + 1j * rng.normal(size=(30, 5))
    path = tmp_path / "data.mat"
    scipy.io.savemat(path, {"rec_val": values, "receivers": receivers, "source": sources})
    data = load_fwi_data(path)
    assert data.values.shape == (30, 5) and data.sources.shape == (5, 2)
    # exp(+i w t), source (1 + i) -> exp(-i w t), unit source with the opposite sign
    assert np.allclose(data.values, -np.conj(values) / (1 - 1j))
    assert np.allclose(load_fwi_data(path, "sirenkit").values, values)
    back = save_fwi_data(tmp_path / "again.mat", data)
    assert np.allclose(load_fwi_data(back).values, data.values)


def test_loader_rejects_bad_files(tmp_path):
    with pytest.raises(SirenkitError, match="not found"):
        load_fwi_data(tmp_path / "missing.mat")
    bad = tmp_path / "bad.mat"
    scipy.io.savemat(bad, {"rec_val": np.zeros((3, 2)), "receivers": np.zeros((3, 2))})
    with pytest.raises(SirenkitError, match="missing keys"):
        load_fwi_data(bad)
    shape = tmp_path / "shape.mat"
    scipy.io.savemat(
        shape,
        {"rec_val": np.zeros((4, 2)), "receivers": np.zeros((3, 2)), "source": np.zeros((2, 2))},
    )
    with pytest.raises(SirenkitError, match="rec_val"):
        load_fwi_data(shape)
    text = tmp_path / "text.mat"
    text.write_text("hello")
    with pytest.raises(SirenkitError):
        load_fwi_data(text)


def test_generated_data_see_the_scatterer():
    sources, receivers = paper_geometry()
    kw = {"k": 5.0, "sources": sources[:2], "receivers": receivers, "source_width": 0.1}
    plain = generate_fwi_data(VelocityMap(), pml=PML(), n=41, **kw)
    disc = generate_fwi_data(VelocityMap("disc", speed=1.5, size=0.25), pml=PML(), n=41, **kw)
    assert plain.values.shape == (30, 2) and plain.fields.shape == (2, 41, 41)
    change = np.linalg.norm(disc.values - plain.values) / np.linalg.norm(plain.values)
    assert change > 0.05


def test_short_inversion_fits_the_data_and_writes_outputs(tmp_path):
    cfg = InvertFWIConfig(k=5.0, source_width=0.1, data_grid=41, eval_grid=21, out=tmp_path)
    cfg.model.hidden, cfg.model.layers, cfg.model.w0 = 32, 3, 10.0
    cfg.train.steps, cfg.train.batch_size, cfg.train.lr = 40, 128, 3e-3
    cfg.train.schedule = "constant"
    cfg.train.eval_every, cfg.train.checkpoint_every, cfg.train.progress = 40, 0, False
    cfg.source_points, cfg.pretrain_steps = 16, 10
    outcome = run(cfg)
    records = [json.loads(x) for x in (outcome.run_dir / "metrics.jsonl").read_text().splitlines()]
    misfit = [r["data_misfit"] for r in records if "data_misfit" in r]
    assert misfit[-1] < 0.5 * misfit[0]  # 10 background steps, then the data term
    for name in ("velocity.png", "receivers.png", "velocity.npz", "inversion.json"):
        assert (outcome.run_dir / name).exists()
    final = outcome.final
    # the figures are what the saved speed map gives: rel. L2 against the generated disc
    saved = np.load(outcome.run_dir / "velocity.npz")
    rel = np.linalg.norm(saved["recovered"] - saved["truth"]) / np.linalg.norm(saved["truth"])
    assert final["velocity_rel_l2"] == pytest.approx(rel, rel=1e-5)
    assert saved["truth"].max() == pytest.approx(cfg.truth.medium_speed, rel=1e-3)  # the disc
    # 30 inversion steps barely move the speed off the background: no worse than it
    assert 0 < final["velocity_rel_l2"] < 1.2 * final["background_velocity_rel_l2"]
    assert 0 < final["data_rel_l2"] < 1


def test_pretraining_must_leave_steps_for_the_inversion(tmp_path):
    cfg = InvertFWIConfig(out=tmp_path, pretrain_steps=50)
    cfg.train.steps = 50
    with pytest.raises(SirenkitError, match="pretrain-steps"):
        cfg.setup()


def test_slowness_is_background_outside_the_region_of_interest():
    data = FWIData(np.zeros((1, 2)), np.zeros((2, 2)), np.ones((2, 1), complex))
    task = FWITask(data, points=8, k=5.0, source_width=0.1, pml=PML(), roi=0.3, slowness_scale=1.0)
    pts = torch.tensor([[0.0, 0.0], [0.5, 0.0], [0.0, -0.9]])
    out = torch.full((3, 3), -0.5)
    assert torch.allclose(task.slowness2(pts, out), torch.tensor([0.5, 1.0, 1.0]))
    assert task.shape.out_features == 3


def test_resume_equals_the_full_run(tmp_path):
    def make():  # interrupted at step 5: after the pretraining's 3 steps
        cfg = InvertFWIConfig(k=5.0, source_width=0.1, data_grid=21, eval_grid=11, out=tmp_path)
        cfg.model.hidden, cfg.model.layers = 16, 3
        cfg.train = tiny_train(batch_size=64)
        cfg.pretrain_steps = 3
        return cfg

    assert_resume_matches_full_run(make)


def test_a_run_saved_before_pretraining_and_the_slowness_scale_resumes_as_it_started(tmp_path):
    """A run folder from before --physical-fraction, --pretrain-steps, --slowness-scale and
    --residual-form has none of them: resumed, it keeps drawing every point over the whole
    square, inverting from step 0, reading the squared slowness as 1 + the output and training
    on the divergence form (FORMER_DEFAULTS), and ends with the weights of the run never
    stopped."""

    def make():
        cfg = InvertFWIConfig(k=5.0, source_width=0.1, data_grid=21, eval_grid=11, out=tmp_path)
        cfg.model.hidden, cfg.model.layers = 16, 3
        cfg.train = tiny_train(batch_size=64)
        cfg.physical_fraction, cfg.pretrain_steps, cfg.slowness_scale = 0.0, 0, 1.0
        cfg.residual_form = "divergence"
        return cfg

    stripped = ("physical_fraction", "pretrain_steps", "slowness_scale", "residual_form")
    assert_stripped_resume_matches_full_run(make, stripped)
