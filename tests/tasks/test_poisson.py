import numpy as np
import pytest
import torch

from sirenkit import build_model
from sirenkit.errors import SirenkitError
from sirenkit.signals.grid import grid
from sirenkit.tasks.poisson import PoissonTask, recovered_psnrs, target_derivative
from sirenkit.training import TrainConfig, train

SHAPE = (16, 16)


def analytic(shape=SHAPE):
    """f = 0.5 sin(2x + 1) cos(1.5y) on grid(shape), with its exact gradient (d/dy, d/dx)."""
    yx = grid(shape).numpy().reshape(*shape, 2)
    y, x = yx[..., 0], yx[..., 1]
    f = 0.5 * np.sin(2 * x + 1) * np.cos(1.5 * y)
    dy = -0.75 * np.sin(2 * x + 1) * np.sin(1.5 * y)
    dx = np.cos(2 * x + 1) * np.cos(1.5 * y)
    return f[..., None].astype(np.float32), np.stack([dy, dx], -1)[:, :, None, :]


def fit_analytic(task: PoissonTask, tmp_path) -> tuple[dict, dict]:
    """Metrics of a small SIREN on ``task`` before and after 150 steps."""
    torch.manual_seed(0)
    net = build_model(
        "siren",
        in_features=2,
        hidden_features=32,
        hidden_layers=2,
        out_features=1,
        w0=5.0,
    )
    before = task.evaluate(net)
    cfg = TrainConfig(steps=150, lr=1e-3, eval_every=0, checkpoint_every=0, progress=False)
    return before, train(task, net, cfg, tmp_path).final


def test_reconstruction_from_exact_gradient_converges(tmp_path):
    image, grad = analytic()
    task = PoissonTask(image, "gradient", derivative=grad, label="analytic")
    before, after = fit_analytic(task, tmp_path)
    assert after["rel_err"] < 0.05 < before["rel_err"]
    # only the constant is unseen: once it is removed the image is recovered
    assert after["psnr_offset"] > 35.0
    assert after["psnr_offset"] >= after["psnr"]


def test_reconstruction_from_exact_laplacian_converges(tmp_path):
    image, _ = analytic()
    lap = -6.25 * image  # f = 0.5 sin(2x + 1) cos(1.5y): its Laplacian is -(2^2 + 1.5^2) f
    task = PoissonTask(image, "laplacian", derivative=lap, label="analytic")
    before, after = fit_analytic(task, tmp_path)
    assert after["rel_err"] < 0.1 < before["rel_err"]
    # the Laplacian leaves a harmonic part unseen: once it is removed the image is recovered
    assert after["psnr_harmonic"] > 30.0
    assert after["psnr_harmonic"] >= after["psnr"]


def test_laplacian_fit_writes_outputs(tmp_path, tiny_image):
    task = PoissonTask(tiny_image, "laplacian", label="tiny")
    torch.manual_seed(0)
    net = build_model("siren", in_features=2, hidden_features=16, hidden_layers=1, out_features=3)
    cfg = TrainConfig(steps=3, eval_every=0, checkpoint_every=0, progress=False)
    final = train(task, net, cfg, tmp_path).final
    assert {"psnr", "psnr_offset", "psnr_affine", "psnr_harmonic", "rel_err"} <= set(final)
    task.write_outputs(net, tmp_path)
    for name in ("reconstruction.png", "reconstruction_corrected.png", "poisson.png"):
        assert (tmp_path / name).exists()
    fields = np.load(tmp_path / "fields.npz")
    assert fields["fitted"].shape == fields["target"].shape == tiny_image.shape
    assert not fields["supervised"][0].any() and fields["supervised"][1:-1, 1:-1].all()


@pytest.mark.parametrize("operator", ["central", "sobel"])
def test_discrete_derivatives_are_in_grid_units(operator):
    yx = grid(SHAPE).numpy().reshape(*SHAPE, 2)
    linear = (0.3 * yx[..., 1] - 0.2 * yx[..., 0])[..., None]
    g, sup = target_derivative(linear, "gradient", operator)
    assert sup.all()
    np.testing.assert_allclose(g[..., 0, 0], -0.2, atol=1e-5)
    np.testing.assert_allclose(g[..., 0, 1], 0.3, atol=1e-5)
    lap, inside = target_derivative((yx[..., 1:] ** 2) * 0.5, "laplacian")
    np.testing.assert_allclose(lap[inside], 1.0, atol=1e-4)  # d2/dx2 of x^2/2


def test_psnr_after_removing_the_unseen_part():
    image, _ = analytic()
    yx = grid(SHAPE).numpy().reshape(*SHAPE, 2)
    offset = recovered_psnrs(image + 0.2, image, "gradient")
    assert offset["psnr_offset"] > 100 and offset["psnr"] < 30
    harmonic = (0.1 + 0.2 * yx[..., 1] + 0.1 * (yx[..., 0] ** 2 - yx[..., 1] ** 2))[..., None]
    m = recovered_psnrs(image + harmonic, image, "laplacian")
    assert m["psnr_harmonic"] > 100  # exactly the Laplacian's null space
    assert m["psnr"] < m["psnr_affine"] < 50  # the affine correction alone is not enough


def test_bad_inputs_are_reported():
    image, grad = analytic()
    with pytest.raises(SirenkitError, match="expected"):
        PoissonTask(image, "gradient", derivative=grad[..., :1])
    with pytest.raises(SirenkitError, match="supervise"):
        PoissonTask(image, "hessian")


def test_a_run_renders_through_the_renderer_its_checkpoint_names(tmp_path):
    from PIL import Image

    from sirenkit.cli import main
    from sirenkit.tasks.poisson import FitPoissonConfig
    from sirenkit.training import read_checkpoint, run, save_checkpoint

    cfg = FitPoissonConfig(size=12, out=tmp_path)
    cfg.model.hidden, cfg.model.layers = 8, 2
    cfg.train = TrainConfig(steps=2, eval_every=0, checkpoint_every=0, progress=False)
    outcome = run(cfg)
    ckpt = read_checkpoint(outcome.run_dir)
    assert ckpt["task"] == "poisson" and ckpt["renderer"] == PoissonTask.renderer
    assert main(["render", str(outcome.run_dir), "--size", "20", "30"]) == 0
    assert Image.open(outcome.run_dir / "render_20x30.png").size == (30, 20)
    # a checkpoint may only name sirenkit code
    extra = {k: v for k, v in ckpt.items() if k not in ("model", "state_dict")}
    bad = save_checkpoint(tmp_path / "bad.pt", outcome.model, **{**extra, "renderer": "os:system"})
    assert main(["render", str(bad)]) == 2
