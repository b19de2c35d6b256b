"""The 2-D acoustic wave equation as a pointwise residual for a network's loss.

``u_tt = c(x)^2 (u_x0x0 + u_x1x1)`` on space-time points ``(t, x0, x1)``, from the initial
Gaussian pulse ``u(0) = exp(-|x - x_c|^2 / (2 s^2))`` at rest (``u_t(0) = 0``). The leapfrog
reference (:mod:`.wave_fd`) solves the same problem.
"""

from __future__ import annotations

import numpy as np
import torch

from .media import VelocityMap


def gaussian_pulse(
    points: np.ndarray | torch.Tensor, center: tuple[float, float], width: float
) -> np.ndarray | torch.Tensor:
    """``exp(-|x - center|^2 / (2 width^2))`` at ``points`` ``(P, 2)`` (numpy or torch)."""
    lib = torch if isinstance(points, torch.Tensor) else np
    d0 = points[:, 0] - center[0]
    d1 = points[:, 1] - center[1]
    return lib.exp(-(d0**2 + d1**2) / (2 * width**2))


def wave_residual(points: torch.Tensor, second: torch.Tensor, medium: VelocityMap) -> torch.Tensor:
    """``u_tt - c^2 (u_x0x0 + u_x1x1)`` at space-time ``points`` ``(N, 3)``.

    Arguments:
        points: ``(N, 3)`` coordinates ``(t, x0, x1)``.
        second: ``(N, 3)`` pure second derivatives of ``u`` along ``t``, ``x0`` and ``x1``.
        medium: the wave-speed map (a function of space only).

    Returns:
        ``(N,)`` residual (zero for an exact solution).
    """
    c2 = medium.velocity(points[:, 1:]) ** 2
    return second[:, 0] - c2 * (second[:, 1] + second[:, 2])
