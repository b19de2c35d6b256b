import torch

from sirenkit import Siren
from sirenkit.tasks.image import ImageTask


def test_batches_are_seeded_and_full_batch_is_everything(tiny_image):
    task = ImageTask(tiny_image, "tiny")
    coords, pixels, weights, idx = task.batch(0, torch.Generator().manual_seed(0), None)
    assert coords.shape == (24 * 20, 2) and pixels.shape == (24 * 20, 3)
    assert weights is None and idx is None
    a = task.batch(0, torch.Generator().manual_seed(1), 50)
    b = task.batch(0, torch.Generator().manual_seed(1), 50)
    assert torch.equal(a[0], b[0]) and a[0].shape == (50, 2)


def test_loss_psnr_matches_evaluation_on_full_batch(tiny_image):
    torch.manual_seed(0)
    task = ImageTask(tiny_image)
    net = Siren(2, 16, 1, 3)
    _loss, scalars = task.loss(net, task.batch(0, torch.Generator(), None))
    metrics = task.evaluate(net)
    # evaluation clips predictions; at init values are small, so the two agree closely
    assert abs(float(scalars["psnr"]) - metrics["psnr"]) < 0.5
    assert set(metrics) == {"psnr", "ssim"}
