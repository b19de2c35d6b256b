"""Comparison figures: every model's fit and derivatives next to the ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from ..metrics import psnr
from ..tasks.image import ImageTask, displayable, field_derivatives, image_derivatives
from ..viz.figures import Panel, save_panels


def image_figure(path: Path, task: ImageTask, models: dict[str, nn.Module]) -> Path:
    """The paper's Figure 1 layout: one column per network, ground truth first; rows are the
    image, its |gradient| and its Laplacian.

    Ground-truth derivatives are finite differences of the mean channel, the networks' are
    exact (:func:`~sirenkit.derivatives.value_and_derivatives`), on shared colour scales.
    """
    image = task.image
    shape = image.shape[:2]
    gt_grad, gt_lap = image_derivatives(image)
    gmax = float(np.percentile(gt_grad, 99.5)) or 1.0
    lmax = float(np.percentile(np.abs(gt_lap), 99.5)) or 1.0
    rows: list[list[Panel]] = [
        [Panel("ground truth", displayable(image), "gray", 0, 1)],
        [Panel("|gradient| (finite diff.)", gt_grad, "viridis", 0, gmax)],
        [Panel("Laplacian (finite diff.)", gt_lap, "RdBu_r", -lmax, lmax)],
    ]
    for name, model in models.items():
        pred = task.predict(model)
        grad, lap = field_derivatives(model, shape)
        rows[0].append(
            Panel(f"{name}, {psnr(pred, image):.1f} dB", displayable(pred), "gray", 0, 1)
        )
        rows[1].append(Panel(f"{name} |gradient|", grad, "viridis", 0, gmax))
        rows[2].append(Panel(f"{name} Laplacian", lap, "RdBu_r", -lmax, lmax))
    return save_panels(path, [p for row in rows for p in row], cols=len(rows[0]))
