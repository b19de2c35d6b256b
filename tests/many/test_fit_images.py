"""`fit images`: the run folder, network i alone, resume, and bad folders."""

from __future__ import annotations

import csv

import pytest
import torch

import sirenkit
from sirenkit.cli import main
from sirenkit.errors import SirenkitError
from sirenkit.signals.grid import grid
from sirenkit.tasks.images import FitImagesConfig
from sirenkit.training import Interrupted, run
from tests.many.fixtures import image_folder, images_config


def test_fit_images_writes_the_run_folder_and_network_i_loads_alone(tmp_path):
    folder = image_folder(tmp_path / "imgs", 3)
    cfg = images_config(tmp_path, str(folder))
    cfg.train.steps = 30
    out = run(cfg)
    names = {p.name for p in out.run_dir.iterdir()}
    assert {"checkpoint.pt", "metrics.csv", "metrics.md", "contact_sheet.png"} <= names
    rows = list(csv.DictReader((out.run_dir / "metrics.csv").open()))
    assert [r["name"] for r in rows] == ["img0.png", "img1.png", "img2.png"]
    assert min(float(r["psnr"]) for r in rows) > 20
    x = grid((10, 10))
    whole = sirenkit.load(out.run_dir)
    for i in range(3):
        one = sirenkit.load(out.run_dir, index=i)
        assert type(one) is sirenkit.Siren
        with torch.no_grad():
            torch.testing.assert_close(one(x), whole(x)[i], rtol=1e-5, atol=1e-6)
    # network i is fitted to image i: its PSNR on image i is the table's
    truth = out.task.pixels[1]
    with torch.no_grad():
        mse = ((sirenkit.load(out.run_dir, index=1)(x).clamp(-1, 1) - truth) ** 2).mean()
    assert float(10 * torch.log10(4 / mse)) == pytest.approx(float(rows[1]["psnr"]), abs=0.01)
    with pytest.raises(SirenkitError, match="out of range"):
        sirenkit.load(out.run_dir, index=3)


def test_resume_ends_where_the_full_run_ends(tmp_path):
    folder = image_folder(tmp_path / "imgs", 2)
    full = run(images_config(tmp_path, str(folder)))

    def stop_at_6(step, model):
        if step == 6:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        run(images_config(tmp_path, str(folder)), callbacks=[stop_at_6])
    resumed = run(FitImagesConfig(resume=info.value.run_dir))
    for p, q in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_random_pixel_batches_train_each_network_on_its_own_image(tmp_path):
    folder = image_folder(tmp_path / "imgs", 2)
    cfg = images_config(tmp_path, str(folder), batch_size=50)
    cfg.train.steps = 40
    assert run(cfg).final["psnr_min"] > 20


def test_empty_folder_and_mixed_sizes_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    mixed = image_folder(tmp_path / "mixed", 2, (10, 10))
    image_folder(tmp_path / "other", 1, (12, 8))
    (tmp_path / "other" / "img0.png").rename(mixed / "z.png")
    cases = {"empty": "no image files", "mixed": "differ in size"}
    for folder, message in cases.items():
        args = ["fit", "images", str(tmp_path / folder), "--size", "None"]
        rc = main([*args, "--out", str(tmp_path / "runs"), "--steps", "2"])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert message in err, err
    assert "z.png is 12x8" in err
    assert not (tmp_path / "runs").exists()  # nothing written
    # the stated rule: --size N centre-crops and resizes every image to N x N
    cfg = images_config(tmp_path, str(mixed))
    cfg.size, cfg.train.steps = 8, 2
    assert run(cfg).task.pixels.shape == (3, 64, 1)
