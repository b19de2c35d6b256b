import json

import numpy as np
import pytest
import torch

from sirenkit import load
from sirenkit.cli import main
from sirenkit.compare.config import CompareAudioConfig
from sirenkit.errors import SirenkitError
from sirenkit.nets.registry import model_from_config
from sirenkit.signals.audio import synthetic_audio
from sirenkit.tasks.audio import AUDIO_W0, AudioTask, FitAudioConfig, render_audio, snr_db
from sirenkit.training import run
from tests.tasks.common import assert_resume_matches_full_run, tiny_train

sf = pytest.importorskip("soundfile")


@pytest.fixture
def clip_file(tmp_path):
    """A 0.25 s, 2 kHz stereo int16 WAV (500 samples)."""
    clip = synthetic_audio(rate=2000, seconds=0.25)
    data = np.concatenate([clip.samples, 0.5 * clip.samples[::-1]], axis=1) * 0.8
    path = tmp_path / "clip.wav"
    sf.write(path, data, 2000, subtype="PCM_16")
    return path


def tiny_config(tmp_path, source, **train) -> FitAudioConfig:
    cfg = FitAudioConfig(source=str(source), out=tmp_path / "runs")
    cfg.model.hidden = 32
    cfg.model.layers = 3
    # 3000 suits clips of ~1e5 samples; this one has 500 (w0 is an explicit parameter)
    cfg.model.w0 = 300.0
    cfg.train = tiny_train(**{"first_lr_w0": FitAudioConfig().train.first_lr_w0, **train})
    return cfg


def test_task_shape_batches_and_default_w0():
    task = AudioTask(synthetic_audio(rate=1000, seconds=0.2), "s")
    assert task.shape.in_features == 1 and task.shape.out_features == 1
    assert task.shape.w0 == AUDIO_W0 and task.shape.resolution == (200,)
    coords, values, _, _ = task.batch(0, torch.Generator(), None)
    assert values.shape == (200, 1) and coords.shape == (200, 1)
    assert coords[0, 0] == -1 and coords[-1, 0] == 1
    a = task.batch(0, torch.Generator().manual_seed(3), 50)
    b = task.batch(0, torch.Generator().manual_seed(3), 50)
    assert torch.equal(a[0], b[0]) and a[1].shape == (50, 1)


def test_snr_and_loss_agree_with_evaluation():
    task = AudioTask(synthetic_audio(rate=1000, seconds=0.2))
    torch.manual_seed(0)
    net = torch.nn.Linear(1, 1)
    _, scalars = task.loss(net, task.batch(0, torch.Generator(), None))
    metrics = task.evaluate(net)
    assert float(scalars["snr"]) == pytest.approx(metrics["snr"], abs=1e-3)
    target = task.audio.samples
    assert snr_db(target * 0.9, target) == pytest.approx(20.0)  # residual 0.1 x signal


def test_fit_writes_outputs_and_improves_snr(tmp_path, clip_file):
    cfg = tiny_config(tmp_path, clip_file)
    cfg.batch_share = None  # the whole clip: the recipe's partial batches take off later
    cfg.train.steps = 60
    cfg.train.eval_every = 30
    task = cfg.setup()
    torch.manual_seed(cfg.train.seed)
    before = task.evaluate(model_from_config(cfg.model, task.shape))  # the run's initial model
    out = run(cfg)
    evals = [r for r in map(json.loads, (out.run_dir / "metrics.jsonl").open()) if r.get("eval")]
    assert [r["step"] for r in evals] == [30, 60]
    assert evals[-1]["snr"] > before["snr"] + 6 and evals[-1]["mse"] < before["mse"] / 4
    for name in ("fit.wav", "ground_truth.wav", "waveform.png", "spectrogram.png", "history.png"):
        assert (out.run_dir / name).is_file(), name
    fit, rate = sf.read(out.run_dir / "fit.wav", always_2d=True)
    gt, _ = sf.read(clip_file, always_2d=True)
    assert (
        rate == 2000
        and fit.shape == (500, 2)
        and sf.info(out.run_dir / "fit.wav").subtype == "PCM_16"
    )
    # the WAV is at file amplitude: its SNR against the source is the run's
    assert snr_db(fit, gt) == pytest.approx(out.final["snr"], abs=0.5)
    summary = json.loads((out.run_dir / "summary.json").read_text())
    assert summary["task"] == "audio" and "mse" in summary


def test_interrupted_audio_run_resumes_to_the_same_end(tmp_path, clip_file):
    def error_driven():  # the sampler's state travels in the checkpoint
        cfg = tiny_config(tmp_path, clip_file, batch_size=64)
        cfg.sampling = "error"
        return cfg

    assert_resume_matches_full_run(error_driven)


def test_render_at_another_rate_keeps_duration(tmp_path, clip_file):
    cfg = tiny_config(tmp_path, clip_file)
    out = run(cfg)
    model = load(out.run_dir)
    meta = {"samples": 500, "rate": 2000}
    same = render_audio(model, meta, 2000)
    np.testing.assert_allclose(same, out.task.predict(model), atol=1e-5)
    assert render_audio(model, meta, 4000).shape == (999, 2)  # (500 - 1) * 2 + 1
    assert main(["render", str(out.run_dir), "--rate", "4000"]) == 0
    data, rate = sf.read(out.run_dir / "render_4000Hz.wav", always_2d=True)
    assert rate == 4000 and data.shape == (999, 2)


def test_cli_default_help_and_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["fit", "audio", "--help"])
    assert "3000" in capsys.readouterr().out
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.flac").write_bytes(b"junk" * 10)
    sf.write(tmp_path / "zero.wav", np.zeros((0, 1)), 8000)
    for name, message in (
        ("empty.wav", "empty"),
        ("junk.flac", "cannot read audio"),
        ("zero.wav", "zero length"),
        ("nope.wav", "not found"),
    ):
        assert main(["fit", "audio", str(tmp_path / name), "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def test_error_driven_batches_keep_the_loss_an_unbiased_mse():
    """The importance weights make the mean batch loss the clip's MSE even when the sampler
    draws the large-error samples far more often (unweighted, it would overstate it)."""
    task = AudioTask(synthetic_audio(rate=1000, seconds=0.2), "s", sampling="error", error_mix=0.9)
    net = torch.nn.Linear(1, 1)
    torch.nn.init.zeros_(net.weight)
    torch.nn.init.zeros_(net.bias)  # the residual is the clip: large at its notes and clicks
    full = task.loss(net, task.batch(0, torch.Generator(), None))[0].detach()  # all observed
    g = torch.Generator().manual_seed(0)
    losses = [float(task.loss(net, task.batch(i, g, 20))[0].detach()) for i in range(3000)]
    assert task.sampler.probabilities().max() > 3 / 200  # far from uniform
    assert np.mean(losses) == pytest.approx(float(full), rel=0.05)
    assert task.work == pytest.approx(1 + 3000 * 20 / 200)


def test_sampling_options_reach_the_task_and_bad_values_are_one_line(tmp_path, clip_file, capsys):
    cfg = tiny_config(tmp_path, clip_file)
    cfg.sampling = "uniform"
    assert cfg.setup().sampler is None
    cfg.sampling, cfg.error_mix = "error", 0.25
    assert cfg.setup().sampler.mix == 0.25
    bad = ["--sampling", "error", "--error-mix", "1.5"]
    code = main(["fit", "audio", str(clip_file), "--out", str(tmp_path), *bad])
    err = capsys.readouterr().err
    assert code == 2 and "--error-mix must be in [0, 1)" in err and "Traceback" not in err
    with pytest.raises(SirenkitError, match="--sampling must be error or uniform"):
        AudioTask(synthetic_audio(rate=1000, seconds=0.2), sampling="big")
    with pytest.raises(SystemExit) as info:  # the CLI's parser names the choices
        main(["fit", "audio", "--sampling", "big"])
    assert info.value.code == 2 and "'error'" in capsys.readouterr().err


def test_the_default_is_the_recipe_and_compare_keeps_the_papers(tmp_path, clip_file, capsys):
    """fit audio's default is the measured recipe with the first layer's rate scaled to w0
    (docs/speed.md, "Audio"); its batches are a count of samples (a quarter of 500), recorded
    for a resume. compare audio keeps the paper's full-clip Adam 1e-4 on every layer."""
    args = ["fit", "audio", str(clip_file), "--out", str(tmp_path), "--steps", "2", "--no-progress"]
    assert main([*args, "--name", "default"]) == 0
    saved = json.loads((tmp_path / "default" / "config.json").read_text())
    train = saved["train"]
    assert (train["lr"], train["optimizer"], train["schedule"]) == (1e-3, "adam", "cosine")
    assert (train["batch_growth_every"], train["batch_doublings"]) == (500, 2)
    assert train["first_lr_w0"] == 30.0 and train["batch_size"] == 125
    assert (saved["batch_share"], saved["sampling"]) == (0.25, "error")
    assert FitAudioConfig().train.steps == 2000
    paper = CompareAudioConfig()
    assert (paper.train.lr, paper.train.first_lr_w0, paper.batch_share) == (1e-4, None, None)
    assert main([*args, "--batch-share", "0"]) == 2
    err = capsys.readouterr().err
    assert "--batch-share must be in (0, 1], got 0.0" in err and "Traceback" not in err
    cfg = tiny_config(tmp_path, clip_file)
    cfg.batch_share, cfg.train.batch_size = 0.25, 50  # an explicit count wins over the share
    assert cfg.setup() and cfg.train.batch_size == 50


def test_a_first_layer_rate_changes_the_run_and_resumes_to_the_same_end(tmp_path, clip_file):
    """--first-lr-w0: the first layer's own group (and its rate) survives a checkpoint."""

    def scaled(first_lr_w0=30.0):
        cfg = tiny_config(tmp_path, clip_file, batch_size=64, first_lr_w0=first_lr_w0)
        cfg.sampling = "error"
        return cfg

    assert_resume_matches_full_run(scaled)
    a, b = run(scaled()), run(scaled(None))
    assert not torch.equal(a.model.net[0].weight, b.model.net[0].weight)
    saved = torch.load(a.run_dir / "checkpoint.pt", weights_only=False)["optimizer"]
    assert saved["param_groups"][0]["lr_scale"] == pytest.approx(30.0 / 300.0)


def test_a_bad_first_layer_rate_is_one_line(tmp_path, clip_file, capsys):
    for bad in ("0", "-30", "nan"):
        args = ["fit", "audio", str(clip_file), "--out", str(tmp_path), "--first-lr-w0", bad]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "--first-lr-w0 must be" in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1, err
