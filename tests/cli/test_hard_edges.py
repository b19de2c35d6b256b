"""Inputs a new user tries that once ended in a traceback, a NaN or a misleading message: each
is one line and exit 2, or a run that degrades gracefully (see issue 14)."""

import json
import warnings

import numpy as np
import pytest
import torch

from sirenkit import load
from sirenkit.cli import main
from sirenkit.errors import SirenkitError, require_finite_options, require_positive
from sirenkit.render import render
from sirenkit.signals.image import to_uint8
from sirenkit.tasks.sdf import SdfTask
from sirenkit.training.config import RunOptions

TINY = ["--hidden", "16", "--layers", "3", "--steps", "6", "--no-progress"]
TINY += ["--eval-every", "0", "--checkpoint-every", "0"]


@pytest.fixture
def image_run(tmp_path):
    assert main(["fit", "image", "camera", "--size", "16", "--out", str(tmp_path), *TINY]) == 0
    return tmp_path / "image-camera"


def one_line_error(capsys, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--lr", "nan"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--w0", "nan"], "--w0"),
        (["--final-lr-factor", "-inf"], "--final-lr-factor"),
    ],
)
def test_non_finite_options_are_refused_before_any_folder(tmp_path, capsys, args, flag):
    assert main(["fit", "image", "camera", "--out", str(tmp_path), *TINY, *args]) == 2
    one_line_error(capsys, flag, "finite")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["render", "RUN", "--scale", "nan"], "--scale"),
        (["mesh", "RUN", "--lipschitz", "nan"], "--lipschitz"),
    ],
)
def test_non_finite_options_of_other_commands(image_run, capsys, args, flag):
    assert main([str(image_run) if a == "RUN" else a for a in args]) == 2
    one_line_error(capsys, flag, "finite")


def test_positivity_checks_reject_nan():
    with pytest.raises(SirenkitError, match="--lr"):
        require_positive("--lr", float("nan"))
    cfg = RunOptions()
    cfg.model.w0 = float("nan")
    with pytest.raises(SirenkitError, match="--w0"):
        require_finite_options(cfg)


@pytest.mark.parametrize("device", ["tpu", "cuda", "cuda:7", "meta"])
def test_unusable_devices_are_one_line_errors(tmp_path, capsys, device):
    if device.startswith("cuda") and torch.cuda.device_count() > 7:
        pytest.skip("this machine has the device")
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main(["fit", "image", "camera", "--out", str(tmp_path), *TINY, "--device", device]) == 2
    one_line_error(capsys, "--device")
    assert not any(tmp_path.iterdir())


def test_unknown_subcommand_is_named_and_the_group_listed(capsys):
    assert main(["fit", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'fit bogus'" in err and "fit image" in err


def test_resume_refuses_changed_flags_and_leaves_a_finished_run_alone(image_run, capsys):
    metrics = (image_run / "metrics.jsonl").read_bytes()
    picture = (image_run / "reconstruction.png").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["fit", "image", "--resume", str(image_run), "--steps", "4"]) == 2
    one_line_error(capsys, "--steps 4", "start a new run")
    assert main(["fit", "image", "--resume", str(image_run), "--lr", "0.1"]) == 2
    one_line_error(capsys, "--lr 0.1")
    assert main(["fit", "image", "--resume", str(image_run)]) == 0
    assert "already finished" in capsys.readouterr().out
    assert (image_run / "metrics.jsonl").read_bytes() == metrics  # nothing appended
    assert (image_run / "reconstruction.png").stat().st_mtime_ns == picture  # nor rewritten


def test_resume_with_more_steps_extends_the_run(image_run):
    assert main(["fit", "image", "--resume", str(image_run), "--steps", "8"]) == 0
    records = [json.loads(x) for x in (image_run / "metrics.jsonl").read_text().splitlines()]
    train = [r["step"] for r in records if not r.get("eval")]
    assert train == sorted(set(train)) and train[-1] == 8  # no duplicate lines
    assert json.loads((image_run / "summary.json").read_text())["steps"] == 8


def test_resuming_another_commands_run_names_the_command(image_run, capsys):
    capsys.readouterr()
    assert main(["fit", "audio", "--resume", str(image_run)]) == 2
    one_line_error(capsys, "is an image run", "resume it with sirenkit fit image")


def test_a_failed_start_leaves_no_folder(tmp_path):
    from sirenkit.tasks.image import FitImageConfig
    from sirenkit.training import run

    cfg = FitImageConfig(source="camera", size=16, out=tmp_path)
    cfg.model.hidden, cfg.model.layers = 8, 3
    cfg.train.steps, cfg.train.progress = 4, False

    def fail(step, model):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run(cfg, callbacks=[fail])
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("shape", "size"), [((1, 1), "None"), ((3, 1000), "256")])
def test_images_one_pixel_high_or_wide_train_and_write_their_figures(tmp_path, capsys, shape, size):
    import imageio.v3 as iio

    path = tmp_path / "thin.png"
    iio.imwrite(path, (np.random.default_rng(0).random(shape) * 255).astype(np.uint8))
    out = tmp_path / "runs"
    assert main(["fit", "image", str(path), "--size", size, "--out", str(out), *TINY]) == 0
    run_dir = out / "image-thin"
    assert {"derivatives.png", "summary.json", "history.png"} <= {p.name for p in run_dir.iterdir()}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert all(not (isinstance(v, float) and np.isnan(v)) for v in summary.values())


def _wav(path, samples):
    import soundfile

    soundfile.write(path, np.asarray(samples, dtype=np.float64), 8000)
    return path


def test_a_one_sample_clip_trains_and_draws_its_figures(tmp_path):
    wav = _wav(tmp_path / "one.wav", [0.5])
    assert main(["fit", "audio", str(wav), "--out", str(tmp_path / "runs"), *TINY]) == 0
    assert (tmp_path / "runs" / "audio-one" / "spectrogram.png").exists()


def test_a_silent_clip_reports_mse_not_an_snr(tmp_path, capsys):
    wav = _wav(tmp_path / "silent.wav", np.zeros(800))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no matplotlib or numpy warning on the way
        assert main(["fit", "audio", str(wav), "--out", str(tmp_path / "runs"), *TINY]) == 0
    out = capsys.readouterr().out
    closing = out.strip().splitlines()[-1]
    assert "mse" in closing and "snr" not in closing and "SNR is undefined" in out


def test_an_empty_image_file_is_named_in_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert main(["fit", "image", str(empty), "--out", str(tmp_path)]) == 2
    err = one_line_error(capsys, "empty.png", "empty")
    assert "pip install" not in err


def test_closing_line_metrics_are_declared_by_the_task():
    final = {"faces": 66070.0, "chamfer": 1e-3, "hausdorff": 0.1, "normal_consistency": 0.9}
    shown = SdfTask.report({**final, "iou": 0.9})
    assert list(shown) == ["chamfer", "iou", "hausdorff", "normal_consistency"]
    assert "faces" not in SdfTask.report(final)


def test_render_draws_the_fitted_function(image_run):
    assert main(["render", str(image_run), "--size", "40", "30", "--chunk", "7"]) == 0
    import imageio.v3 as iio

    drawn = iio.imread(image_run / "render_40x30.png")
    expected = to_uint8(render(load(image_run), (40, 30)).numpy())
    assert drawn.shape == (40, 30) and np.abs(drawn.astype(int) - expected).max() <= 1
    # at the training size it is the reconstruction the run wrote
    assert main(["render", str(image_run), "--size", "16", "16"]) == 0
    again = iio.imread(image_run / "render_16x16.png")
    assert np.array_equal(again, iio.imread(image_run / "reconstruction.png"))
