"""Quality metrics, with the conventions of the paper.

Signals live in [-1, 1]. PSNR follows the authors' convention: the prediction is clipped to
[-1, 1] and both are mapped to [0, 1], so ``PSNR = 10 log10(1 / MSE_[0,1]) = 10 log10(4 / MSE)``
with the MSE taken on [-1, 1] values.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def mse_to_psnr(mse: float, data_range: float = 2.0) -> float:
    """PSNR in dB for an MSE on values spanning ``data_range`` (2 for [-1, 1])."""
    if mse <= 0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / mse)


def psnr(pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray) -> float:
    """PSNR in dB of a [-1, 1] prediction (clipped) against a [-1, 1] target."""
    p = torch.as_tensor(pred, dtype=torch.float64).clamp(-1, 1)
    t = torch.as_tensor(target, dtype=torch.float64)
    if p.shape != t.shape:
        raise ValueError(f"psnr: shapes differ, {tuple(p.shape)} vs {tuple(t.shape)}")
    return mse_to_psnr(float(torch.mean((p - t) ** 2)))


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    """Structural similarity of two [-1, 1] images ``(H, W, C)``, computed on [0, 1]."""
    from skimage.metrics import structural_similarity

    p = (np.clip(np.asarray(pred, dtype=np.float64), -1, 1) + 1) / 2
    t = (np.asarray(target, dtype=np.float64) + 1) / 2
    win = min(7, *[s if s % 2 else s - 1 for s in t.shape[:2]])
    if win < 3:
        return float("nan")
    return float(structural_similarity(p, t, data_range=1.0, channel_axis=-1, win_size=win))


def relative_l2(pred: np.ndarray, ref: np.ndarray) -> float:
    """``||pred - ref|| / ||ref||`` over all entries (complex allowed); the plain norm of the
    difference when ``ref`` is zero."""
    err = float(np.linalg.norm(np.asarray(pred) - np.asarray(ref)))
    scale = float(np.linalg.norm(ref))
    return err / scale if scale > 0 else err


def field_metrics(fit: np.ndarray, target: np.ndarray, prefix: str) -> dict[str, float]:
    """Relative L2 error and PSNR of a fitted field (e.g. a gradient) against its target.

    The PSNR's peak is the target's range (max - min over all components), so a field PSNR
    reads like an image PSNR whatever the field's units.
    """
    f = np.asarray(fit, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    peak = float(t.max() - t.min()) or 1.0
    return {
        f"{prefix}_rel_err": relative_l2(f, t),
        f"{prefix}_psnr": mse_to_psnr(float(np.sum((f - t) ** 2)) / t.size, peak),
    }
