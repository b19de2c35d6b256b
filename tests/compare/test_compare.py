import json
from pathlib import Path

import pytest

from sirenkit.cli.main import main
from sirenkit.compare import TASKS, CompareImageConfig, ModelResult, compare
from sirenkit.compare.report import markdown_table, value_at_seconds, value_at_step
from sirenkit.compare.run import parse_models
from sirenkit.compare.targets import resolve
from sirenkit.errors import SirenkitError
from sirenkit.signals import save_image
from sirenkit.training.config import RunOptions


@pytest.fixture
def tiny_png(tmp_path, tiny_image) -> Path:
    path = tmp_path / "tiny.png"
    save_image(path, tiny_image)
    return path


def test_compare_command_writes_table_plots_and_one_run_per_model(tmp_path, tiny_png, capsys):
    out = tmp_path / "runs"
    argv = ["compare", "image", str(tiny_png), "--size", "None", "--out", str(out)]
    argv += ["--models", "siren,relu,tanh", "--hidden", "16", "--layers", "3"]
    argv += ["--steps", "8", "--at-steps", "6", "8", "--at-seconds", "1e9"]
    argv += ["--curve-every", "4", "--no-progress"]
    assert main(argv) == 0
    root = out / "compare-image-tiny"
    for name in ("comparison.md", "comparison.json", "convergence.png", "fits.png"):
        assert (root / name).stat().st_size > 0, name
    for model in ("siren", "relu", "tanh"):
        cfg = json.loads((root / model / "config.json").read_text())
        assert cfg["model"]["name"] == model and (root / model / "checkpoint.pt").is_file()
        # every network takes Adam, as the baselines were compared (fit image's Muon is not)
        assert cfg["train"]["optimizer"] == "adam" and cfg["train"]["hold"] == 0.7
    report = json.loads((root / "comparison.json").read_text())
    assert [m["name"] for m in report["models"]] == ["siren", "relu", "tanh"]
    for row, model in zip(report["table"], report["models"], strict=True):
        # the table's value at the last step is the final evaluation
        assert row["psnr @8 steps"] == pytest.approx(model["final"]["psnr"])
        assert row["psnr @6 steps"] is not None
        assert row["psnr @1e+09 s"] is None  # nobody trained that long
        assert [c["step"] for c in model["curve"]] == [2, 4, 6, 8]  # every gcd(4, 6, 8) = 2 steps
    counts = [m["parameters"] for m in report["models"]]
    assert max(counts) / min(counts) < 1.05
    md = (root / "comparison.md").read_text()
    assert "| siren |" in md and "| tanh |" in md and ", Adam lr 0.001 (cosine)" in md
    assert "comparison written to" in capsys.readouterr().out


def test_compare_from_python_without_figure(tmp_path, tiny_png):
    cfg = CompareImageConfig(source=str(tiny_png), size=None, out=tmp_path, models="siren,tanh")
    cfg.model.hidden, cfg.model.layers = 16, 3
    cfg.train.steps, cfg.train.progress = 4, False
    cfg.at_steps, cfg.curve_every, cfg.figure = (2, 4), 2, False
    result = compare(cfg)
    assert [r.name for r in result.results] == ["siren", "tanh"]
    assert not (result.root / "fits.png").exists()
    assert all(r.seconds_per_step > 0 and len(r.curve) == 2 for r in result.results)


def test_model_list_is_checked_before_training(tmp_path, tiny_png, capsys):
    out = tmp_path / "runs"
    argv = ["compare", "image", str(tiny_png), "--out", str(out), "--models", "siren,nope"]
    assert main(argv) == 2
    assert "nope" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SirenkitError):
        parse_models(" , ")
    with pytest.raises(SirenkitError):
        parse_models("relu,relu")
    assert parse_models(" siren, relu ") == ["siren", "relu"]


def test_task_table_entries_resolve():
    for entry in TASKS.values():
        assert issubclass(resolve(entry.config), RunOptions)
        assert resolve(entry.config).setup is not RunOptions.setup
        assert entry.figure is None or callable(resolve(entry.figure))


def test_values_at_steps_and_seconds():
    curve = [
        {"step": 10, "time": 1.0, "psnr": 20.0},
        {"step": 20, "time": 2.0, "psnr": 25.0},
        {"step": 30, "time": 3.0, "psnr": 27.0},
    ]
    r = ModelResult("m", Path("."), 10, 4, steps=30, train_seconds=3.0, curve=curve)
    assert value_at_step(r, "psnr", 20) == 25.0
    assert value_at_step(r, "psnr", 40) is None
    assert value_at_seconds(r, "psnr", 2.5) == 25.0
    assert value_at_seconds(r, "psnr", 0.5) is None  # not evaluated yet
    assert value_at_seconds(r, "psnr", 3.5) is None  # never trained that long
    assert markdown_table([{"a": 1.23456, "b": None}]).splitlines()[-1] == "| 1.23 | - |"


def test_interrupt_points_to_the_model_run(tmp_path, tiny_png, capsys, monkeypatch):
    from sirenkit.compare import run as compare_run
    from sirenkit.training.loop import Interrupted

    def interrupted(cfg, task):
        raise Interrupted(3, cfg.out / cfg.name)

    monkeypatch.setattr(compare_run, "run", interrupted)
    argv = ["compare", "image", str(tiny_png), "--out", str(tmp_path / "r"), "--models", "relu"]
    assert main(argv) == 130
    assert "sirenkit fit image --resume" in capsys.readouterr().err


def test_compare_audio_reports_snr(tmp_path):
    from sirenkit.compare.config import CompareAudioConfig

    cfg = CompareAudioConfig(out=tmp_path, models="siren,tanh")
    cfg.model.hidden, cfg.model.layers, cfg.model.w0 = 16, 3, 300.0
    cfg.train.steps, cfg.train.progress, cfg.train.batch_size = 4, False, 256
    cfg.at_steps, cfg.curve_every, cfg.figure = (2, 4), 2, False
    result = compare(cfg)
    report = json.loads((result.root / "comparison.json").read_text())
    assert [m["name"] for m in report["models"]] == ["siren", "tanh"]
    assert all("snr @4 steps" in row for row in report["table"])
