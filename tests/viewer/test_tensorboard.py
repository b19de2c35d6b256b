"""``--log tensorboard``: scalars as training goes, pictures and sounds at the end."""

import sys

import pytest

from sirenkit.cli import main

pytest.importorskip("tensorboard")

TINY = ["--hidden", "16", "--layers", "3", "--steps", "6", "--log-every", "2", "--eval-every",
        "4", "--checkpoint-every", "0", "--no-progress", "--log", "tensorboard"]  # fmt: skip


def events(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tb"), size_guidance={"images": 0, "audio": 0})
    acc.Reload()
    return acc


def test_scalars_and_images_of_an_image_run(tmp_path):
    assert main(["fit", "image", "--size", "16", "--out", str(tmp_path), *TINY]) == 0
    acc = events(tmp_path / "image-camera")
    tags = acc.Tags()
    assert [e.step for e in acc.Scalars("train/loss")] == [2, 4, 6]
    assert [e.step for e in acc.Scalars("eval/psnr")] == [4, 6]
    assert {"reconstruction", "ground_truth", "derivatives"} <= set(tags["images"])


def test_audio_of_an_audio_run(tmp_path):
    assert main(["fit", "audio", "--out", str(tmp_path), *TINY]) == 0
    acc = events(tmp_path / "audio-synthetic")
    assert {"fit", "ground_truth"} <= set(acc.Tags()["audio"])
    assert acc.Scalars("train/loss")


def test_missing_extra_is_one_line_and_no_run_folder(tmp_path, monkeypatch, capsys):
    for name in ("tensorboard", "torch.utils.tensorboard"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    assert main(["fit", "image", "--size", "16", "--out", str(tmp_path), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert "sirenkit[tensorboard]" in err and len(err.splitlines()) == 1
    assert not any(tmp_path.iterdir())
