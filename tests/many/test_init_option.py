"""`--init RUN`: the fit starts from the run's weights; a mismatch is a one-line error."""

from __future__ import annotations

import json

import torch

import sirenkit
from sirenkit.cli import main
from sirenkit.tasks.image import FitImageConfig
from sirenkit.training import run
from sirenkit.training.config import TrainConfig
from tests.many.fixtures import image_folder, images_config


def _image_config(tmp_path, hidden=16, **kw) -> FitImageConfig:
    cfg = FitImageConfig(source="camera", size=12, out=tmp_path / "runs", **kw)
    cfg.model.hidden, cfg.model.layers = hidden, 3
    cfg.train = TrainConfig(steps=3, lr=1e-2, progress=False, checkpoint_every=0)
    return cfg


def test_fit_starts_from_the_init_weights(tmp_path):
    source = run(_image_config(tmp_path, name="src")).run_dir
    cfg = _image_config(tmp_path, name="warm", init=source)
    cfg.train.lr = 1e-30  # one step that moves nothing: the result is the start
    cfg.train.steps = 1
    warm = run(cfg).model.state_dict()
    for k, v in sirenkit.load(source).state_dict().items():
        torch.testing.assert_close(warm[k], v)


def test_init_from_another_architecture_or_task_is_a_one_line_error(tmp_path, capsys):
    source = run(_image_config(tmp_path, name="src")).run_dir
    folder = image_folder(tmp_path / "imgs", 2)
    many = run(images_config(tmp_path, str(folder))).run_dir
    before = sorted((tmp_path / "runs").iterdir())
    out = str(tmp_path / "runs")
    cases = [
        (["fit", "image", "camera", "--size", "12", "--hidden", "32"], source, "16 vs 32"),
        (["fit", "image", "camera", "--size", "12", "--hidden", "16"], many, "'images' run"),
        (["fit", "images", str(folder), "--hidden", "16"], source, "'image' run"),
        (["fit", "audio", "--hidden", "16"], source, "'image' run"),
    ]
    for args, init, message in cases:
        rc = main([*args, "--layers", "3", "--init", str(init), "--out", out])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and len(err.splitlines()) == 1 and message in err, err
    assert sorted((tmp_path / "runs").iterdir()) == before  # nothing written or overwritten


def test_train_init_run_starts_fit_images_and_fit_image(tmp_path, capsys):
    """A fit from a learned init starts from its weights and takes the init's learned-rate
    steps: ``fit images --schedule constant`` is exactly the meta-training's inner fit."""
    from sirenkit.tasks.init import TrainInitConfig

    folder = image_folder(tmp_path / "imgs", 6, (8, 8))
    cfg = TrainInitConfig(dataset=str(folder), size=8, out=tmp_path / "runs")
    cfg.model.hidden, cfg.model.layers, cfg.model.inner_steps = 12, 3, 2
    cfg.test_fraction, cfg.eval_images = 0.2, 1
    cfg.train = TrainConfig(steps=2, batch_size=3, eval_every=0, progress=False)
    learned = run(cfg)
    fit = images_config(tmp_path, str(folder))
    fit.init, fit.size, fit.train.steps, fit.train.schedule = learned.run_dir, 8, 3, "constant"
    fit.train.checkpoint_every = 0
    outcome = run(fit)
    assert (
        "learned step sizes"
        in json.loads((outcome.run_dir / "summary.json").read_text())["optimizer"]
    )
    targets = outcome.task.pixels.reshape(6, 64, 1)
    expected, _ = learned.model.fit(outcome.task.coords, targets, 3)
    for i in (0, 5):
        for k, v in outcome.model.network_state(i).items():
            torch.testing.assert_close(v, expected.network_state(i)[k], rtol=1e-4, atol=1e-6)
    cfg.init, cfg.train.steps = learned.run_dir, 1  # meta-training goes on from the init
    cfg.train.lr = 1e-30
    again = run(cfg).model.state_dict()
    for k, v in learned.model.state_dict().items():
        torch.testing.assert_close(again[k], v)
    out = str(tmp_path / "runs")
    rc = main(["fit", "images", str(folder), "--hidden", "16", "--init", str(learned.run_dir)])
    assert rc == 2 and "hidden_features 12 vs 16" in capsys.readouterr().err
    args = ["fit", "image", "camera", "--size", "8", "--hidden", "12", "--layers", "3"]
    assert main([*args, "--steps", "1", "--init", str(learned.run_dir), "--out", out]) == 0
