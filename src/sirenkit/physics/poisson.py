"""Images from their derivatives (the paper's Poisson experiments): the loss and the fitted
fields.

A network's input gradient (or Laplacian), computed exactly by
:func:`~sirenkit.derivatives.value_and_derivatives`, is fitted to a target field in the
coordinate units of the [-1, 1] grid. The residual is ``fit - target``; the loss is its
relative squared norm, a dimensionless normalisation with no other factor.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..derivatives import value_and_derivatives
from ..render import in_chunks, model_device
from ..signals.grid import grid


def relative_squared_error(fit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``sum |fit - target|^2 / sum |target|^2`` (plain squared error if the target is zero)."""
    scale = (target**2).sum().clamp_min(1e-12)
    return ((fit - target) ** 2).sum() / scale


def network_fields(
    model: nn.Module, shape: tuple[int, int], laplacian: bool = False, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """The network's image ``(H, W, C)`` and its gradient ``(H, W, C, 2)`` (or, with
    ``laplacian``, its Laplacian ``(H, W, C)``) on ``grid(shape)``, evaluated in chunks."""
    coords = grid(shape, device=model_device(model))

    def fn(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            d = value_and_derivatives(model, x, gradient=not laplacian, laplacian=laplacian)
        return d.value, d.laplacian if laplacian else d.gradient

    value, deriv = in_chunks(fn, coords, chunk)
    value = value.reshape(*shape, -1).float().cpu().numpy()
    return value, deriv.reshape(*shape, *deriv.shape[1:]).float().cpu().numpy()
