import json

import numpy as np
import pytest
import torch
from PIL import Image

from sirenkit import load
from sirenkit.cli import main
from sirenkit.errors import SirenkitError
from sirenkit.signals.datasets import (
    ImageDataset,
    fixed_context,
    load_dataset,
    mix_top_half,
    random_context,
    split,
)
from sirenkit.tasks.prior import TrainPriorConfig, train_prior
from sirenkit.training import Interrupted, run
from tests.tasks.common import assert_stripped_resume_matches_full_run
from tests.tasks.prior_fixtures import tiny_config, write_folder


def test_folder_dataset_is_cropped_resized_and_split_by_seed(tmp_path):
    data = load_dataset(write_folder(tmp_path / "f", 10), size=8)
    assert data.images.shape == (10, 8, 8, 1) and data.images.dtype == torch.uint8
    v = data.values(slice(None))
    assert -1 <= v.min() < v.max() <= 1
    train, test = split(data, 0.3, seed=3)
    again, _ = split(data, 0.3, seed=3)
    assert len(train) == 7 and len(test) == 3
    assert torch.equal(train.images, again.images)
    rows = {tuple(im.flatten().tolist()) for im in data.images}
    assert {tuple(im.flatten().tolist()) for im in torch.cat([train.images, test.images])} == rows


def test_builtin_faces_and_unknown_names():
    faces = load_dataset("faces", size=16, limit=5)
    assert faces.images.shape == (5, 16, 16, 1)
    with pytest.raises(SirenkitError, match="neither a folder nor a built-in"):
        load_dataset("no-such-dataset")


def test_context_masks():
    g = torch.Generator().manual_seed(0)
    m = random_context(50, (8, 8), 3, 9, g)
    counts = m.flatten(1).sum(1)
    assert m.shape == (50, 8, 8) and counts.min() >= 3 and counts.max() <= 9
    assert len(set(counts.tolist())) > 1  # the count varies per example
    top = fixed_context(2, (8, 8), "top", g)
    assert top[:, :4].all() and not top[:, 4:].any()
    assert (fixed_context(2, (8, 8), 10, g).flatten(1).sum(1) == 10).all()
    assert fixed_context(1, (8, 8), 64, g).all()


def test_log_uniform_context_covers_sparse_and_dense():
    g = torch.Generator().manual_seed(0)
    counts = random_context(2000, (32, 32), 10, 5000, g, log_uniform=True).flatten(1).sum(1)
    assert counts.min() >= 10 and counts.max() <= 1024  # capped at the pixel count
    # log-uniform: about as many contexts in [10, 100) as in [100, 1000)
    sparse = int(((counts >= 10) & (counts < 100)).sum())
    dense = int(((counts >= 100) & (counts < 1000)).sum())
    assert 0.8 < sparse / dense < 1.25
    mixed = mix_top_half(random_context(400, (8, 8), 3, 3, g), 0.25, g)
    tops = (mixed == fixed_context(1, (8, 8), "top", g)).flatten(1).all(1)
    assert 60 < int(tops.sum()) < 140
    assert (mixed[~tops].flatten(1).sum(1) == 3).all()


def test_loss_on_target_pixels_is_the_mse_on_those_pixels(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg.target_pixels = 10
    task = cfg.setup()
    from sirenkit.nets.registry import model_from_config

    net = model_from_config(cfg.model, task.shape)
    images, mask, targets = task.batch(0, torch.Generator().manual_seed(0), 3)
    assert targets.shape == (3, 10) and all(len(set(t.tolist())) == 10 for t in targets)
    _, scalars = task.loss(net, (images, mask, targets))
    with torch.no_grad():
        full, _ = net(images, mask)
    want = torch.stack(
        [(full[i, t] - images[i].reshape(-1, 1)[t]) ** 2 for i, t in enumerate(targets)]
    )
    torch.testing.assert_close(scalars["mse"], want.mean())
    cfg.target_pixels = None
    assert cfg.setup().batch(0, torch.Generator(), 2)[2] is None


@pytest.mark.parametrize(
    ("model", "encoder"), [("siren-prior", "set"), ("siren-prior", "conv"), ("cnp", "set")]
)
def test_a_few_steps_lower_the_loss(tmp_path, model, encoder):
    cfg = tiny_config(tmp_path, model=model)
    cfg.model.encoder = encoder
    task = cfg.setup()
    torch.manual_seed(0)
    from sirenkit.nets.registry import model_from_config

    net = model_from_config(cfg.model, task.shape)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    batch = task.batch(0, torch.Generator().manual_seed(0), 8)
    first = float(task.loss(net, batch)[0].detach())
    for _ in range(15):
        loss, _ = task.loss(net, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(task.loss(net, batch)[0].detach()) < first - 0.01


def test_run_writes_folder_checkpoint_reloads_and_resumes(tmp_path):
    cfg = tiny_config(tmp_path)
    full = run(cfg)
    names = {p.name for p in full.run_dir.iterdir()}
    assert {"checkpoint.pt", "completions.png", "summary.json", "metrics.jsonl"} <= names
    summary = json.loads((full.run_dir / "summary.json").read_text())
    assert {"mse_4", "mse_top"} <= summary.keys()
    model = load(full.run_dir)
    image = torch.rand(2, 8, 8, 1) * 2 - 1
    mask = torch.rand(2, 8, 8) < 0.3
    torch.testing.assert_close(model(image, mask)[0], full.model(image, mask)[0])

    def stop_at_4(step, _model):
        if step == 4:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        run(tiny_config(tmp_path), callbacks=[stop_at_4])
    resumed = train_prior(TrainPriorConfig(resume=info.value.run_dir))
    for p, q in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_run_saved_before_log_counts_top_halves_and_target_pixels_resumes_as_it_started(
    tmp_path,
):
    """A run folder from before --context-sampling, --top-fraction and --target-pixels has
    none of them: resumed, it keeps drawing uniform counts, no top halves and the loss on
    every pixel (FORMER_DEFAULTS), and ends with the weights of the run never stopped."""

    def make():
        cfg = tiny_config(tmp_path)
        cfg.size = 18  # 324 pixels: more than the 256 target pixels of today's default
        cfg.train.batch_size = 16  # 48 contexts after the checkpoint: some a tenth turns to tops
        cfg.context_sampling, cfg.top_fraction, cfg.target_pixels = "uniform", 0.0, None
        return cfg

    stripped = ("context_sampling", "top_fraction", "target_pixels")
    assert_stripped_resume_matches_full_run(make, stripped)


def test_cli_train_complete_and_evaluate(tmp_path, capsys):
    cfg = tiny_config(tmp_path)
    common = ["--size", "8", "--test-fraction", "0.125", "--context-min", "4"]
    common += ["--context-max", "20", "--hidden", "8", "--latent", "8", "--encoder-hidden", "8"]
    common += ["--hyper-hidden", "8", "--steps", "3", "--batch-size", "4", "--no-progress"]
    common += ["--device", "cpu", "--out", str(tmp_path / "runs"), "--eval-contexts", "5"]
    runs = []
    for model in (["--encoder", "conv"], ["--model", "cnp"]):
        name = f"r{len(runs)}"
        assert (
            main(["train", "prior", "--dataset", cfg.dataset, *common, *model, "--name", name]) == 0
        )
        runs.append(tmp_path / "runs" / name)
    img = tmp_path / "images" / "img00.png"
    assert main(["complete", "--model", str(runs[0]), "--image", str(img), "--context", "10"]) == 0
    out = capsys.readouterr().out
    assert "completion_img00_10.png" in out and (runs[0] / "completion_img00_10.png").exists()
    assert main(["complete", "--model", str(runs[1]), "--image", "camera", "--context", "top"]) == 0
    assert main(["evaluate", "prior", "--model", *map(str, runs), "--contexts", "5", "top"]) == 0
    table = capsys.readouterr().out
    assert "conv encoder" in table and "cnp" in table and "| top half |" in table
    rows = [line for line in table.splitlines() if line.startswith("| 5 pixels")]
    assert len(rows) == 1 and all(np.isfinite(float(x)) for x in rows[0].split("|")[2:4])
    one = ["evaluate", "prior", "--model", str(runs[0]), "--images", "1", "--contexts", "5"]
    assert main(one) == 0
    assert "(r0, 1 test images)" in capsys.readouterr().out  # the column says what was scored
    assert main(["complete", "--model", str(runs[0]), "--image", str(img), "--context", "x"]) == 2


def test_dataset_rejects_bad_images():
    with pytest.raises(SirenkitError, match="uint8"):
        ImageDataset(torch.zeros(2, 4, 4, 1), "bad")


def test_folder_dataset_reads_16_bit_and_exif_orientation(tmp_path):
    """Every image file goes through one reader: a 16-bit grey PNG is scaled from its range
    (Pillow's own conversion to 8 bits would saturate it), a photograph is turned upright."""
    folder = tmp_path / "f"
    folder.mkdir()
    ramp = np.linspace(0, 65535, 4 * 6, dtype=np.uint16).reshape(4, 6)
    Image.fromarray(ramp).save(folder / "a.png")
    shown = (ramp // 257).astype(np.uint8)
    turned = Image.fromarray(np.rot90(shown).copy())  # stored 6x4: turned a quarter left
    exif = turned.getexif()
    exif[0x0112] = 6
    turned.save(folder / "b.png", exif=exif)
    data = load_dataset(folder, size=None)
    assert data.images.shape == (2, 4, 6, 1)
    np.testing.assert_array_equal(data.images[0, ..., 0].numpy(), np.round(ramp / 257))
    np.testing.assert_array_equal(data.images[1, ..., 0].numpy(), shown)
