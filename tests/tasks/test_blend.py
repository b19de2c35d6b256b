import numpy as np
import pytest
import torch
from PIL import Image

from sirenkit import build_model
from sirenkit.cli import main
from sirenkit.errors import SirenkitError
from sirenkit.tasks.blend import (
    BlendTask,
    aligned_source,
    composite_gradient,
    load_mask,
    rect_mask,
)
from sirenkit.training import TrainConfig, train

SHAPE = (16, 16)


def pair():
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]] / 16.0
    target = np.stack([np.sin(2 * x), np.cos(2 * y), x * y], -1).astype(np.float32) * 0.6
    source = np.stack([np.cos(3 * y), x - y, 0 * x], -1).astype(np.float32) * 0.6
    return target, source


def test_blend_keeps_the_target_outside_the_mask(tmp_path):
    target, source = pair()
    mask = rect_mask(SHAPE, (0.25, 0.25, 0.75, 0.75))
    task = BlendTask(target, source, mask, label="tiny")
    torch.manual_seed(0)
    net = build_model(
        "siren",
        in_features=2,
        hidden_features=32,
        hidden_layers=2,
        out_features=3,
        w0=5.0,
    )
    cfg = TrainConfig(steps=150, lr=1e-3, eval_every=0, checkpoint_every=0, progress=False)
    final = train(task, net, cfg, tmp_path).final
    assert final["psnr_outside"] > 35.0
    # inside, the fit follows the classical discrete Poisson solution
    assert final["psnr_vs_poisson_inside"] > 28.0
    task.write_outputs(net, tmp_path)
    for name in ("blend.png", "naive_paste.png", "poisson_reference.png", "blend_figure.png"):
        assert (tmp_path / name).exists()


def test_mixed_guidance_takes_the_stronger_gradient():
    target, source = pair()
    mask = rect_mask(SHAPE, (0.25, 0.25, 0.75, 0.75))
    mixed = composite_gradient(target, source, mask, "mixed")
    imported = composite_gradient(target, source, mask, "import")
    np.testing.assert_array_equal(mixed[~mask], imported[~mask])  # target's outside
    inside = np.linalg.norm(mixed[mask], axis=-1)
    assert (inside >= np.linalg.norm(imported[mask], axis=-1) - 1e-6).all()
    assert not np.allclose(mixed[mask], imported[mask])


def test_bad_masks_give_clear_errors(tmp_path):
    target, source = pair()
    with pytest.raises(SirenkitError, match="expected the target's 16x16"):
        BlendTask(target, source, np.zeros((8, 8), dtype=bool))
    with pytest.raises(SirenkitError, match="selects no pixel"):
        BlendTask(target, source, np.zeros(SHAPE, dtype=bool))
    with pytest.raises(SirenkitError, match="whole target"):
        BlendTask(target, source, np.ones(SHAPE, dtype=bool))
    with pytest.raises(SirenkitError, match="boolean or 0/1"):
        BlendTask(target, source, np.full(SHAPE, 0.5))
    with pytest.raises(SirenkitError, match="--rect"):
        rect_mask(SHAPE, (0.5, 0.2, 0.4, 0.9))
    with pytest.raises(SirenkitError, match="selects no pixel"):
        rect_mask(SHAPE, (0.5, 0.5, 0.51, 0.9))  # rounds to zero rows
    wrong = tmp_path / "wrong.png"
    Image.fromarray(np.full((10, 7), 255, np.uint8)).save(wrong)
    with pytest.raises(SirenkitError, match="10x7 pixels; expected"):
        load_mask(wrong, (32, 32), SHAPE)
    black = tmp_path / "black.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(black)
    with pytest.raises(SirenkitError, match="selects no pixel"):
        load_mask(black, (32, 32), SHAPE)


def test_gray_mask_file_is_resized_and_thresholded(tmp_path):
    m = np.zeros((32, 32, 3), np.uint8)
    m[8:24, 8:24] = 200  # light gray, RGB: still "inside"
    m[8:24, 8:12] = 60  # dark: outside
    path = tmp_path / "mask.png"
    Image.fromarray(m).save(path)
    mask = load_mask(path, (32, 32), SHAPE)
    assert mask.shape == SHAPE and mask.dtype == bool
    assert mask[8, 8] and not mask[8, 4] and not mask[1, 1]
    assert 40 <= mask.sum() <= 56  # 6 x 8 pixels, give or take the resampling


def test_source_is_aligned_without_distortion():
    wide = np.zeros((20, 40, 1), np.float32) - 1
    wide[:, 10:30] = 1  # the centre square of a wide image
    out = aligned_source(wide, (8, 8))
    assert out.shape == (8, 8, 1) and out.min() > 0.9


def test_cli_blend_and_poisson_run_and_report_bad_masks(tmp_path, capsys):
    tiny = ["--size", "16", "--hidden", "16", "--layers", "3", "--steps", "3"]
    tiny += ["--no-progress", "--eval-every", "0", "--checkpoint-every", "0"]
    assert main(["blend", "--out", str(tmp_path), *tiny]) == 0
    run_dir = tmp_path / "blend-chelsea-into-astronaut"
    assert (run_dir / "blend.png").exists() and (run_dir / "naive_paste.png").exists()
    assert main(["fit", "poisson", "--supervise", "laplacian", "--out", str(tmp_path), *tiny]) == 0
    assert (tmp_path / "poisson-camera-laplacian" / "poisson.png").exists()
    assert main(["blend", "--mask", str(tmp_path / "none.png"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "Traceback" not in err
