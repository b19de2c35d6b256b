import math

import numpy as np
import torch

from sirenkit import psnr, ssim


def test_psnr_uses_the_papers_convention():
    t = torch.zeros(100)
    p = torch.full((100,), 0.1)  # MSE 0.01 on [-1, 1] -> 10 log10(4 / 0.01)
    assert math.isclose(psnr(p, t), 10 * math.log10(400), rel_tol=1e-6)
    # predictions are clipped to [-1, 1] first
    assert psnr(torch.full((4,), 5.0), torch.ones(4)) == math.inf


def test_ssim_is_one_for_identical_images(tiny_image):
    assert math.isclose(ssim(tiny_image, tiny_image), 1.0, rel_tol=1e-6)
    assert ssim(np.zeros_like(tiny_image), tiny_image) < 0.5
