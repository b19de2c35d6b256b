"""The 2-D acoustic wave equation as a constraint set.

``u_tt = c(x)^2 (u_x0x0 + u_x1x1)`` on space-time points ``(t, x0, x1)``, from the initial
Gaussian pulse ``u(0) = exp(-|x - x_c|^2 / (2 s^2))`` at rest (``u_t(0) = 0``). The leapfrog
reference (:mod:`.wave_fd`) solves the same problem.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ..problems import Constraint, Problem
from ..problems.domains import Box
from .media import VelocityMap

if TYPE_CHECKING:
    from ..problems import Field

NAMES = ("t", "x0", "x1")
"""Time first, then the plane in 'ij' order."""


def gaussian_pulse(
    points: np.ndarray | torch.Tensor, center: tuple[float, float], width: float
) -> np.ndarray | torch.Tensor:
    """``exp(-|x - center|^2 / (2 width^2))`` at ``points`` ``(P, 2)`` (numpy or torch)."""
    lib = torch if isinstance(points, torch.Tensor) else np
    d0 = points[:, 0] - center[0]
    d1 = points[:, 1] - center[1]
    return lib.exp(-(d0**2 + d1**2) / (2 * width**2))


def wave_residual(points: torch.Tensor, second: torch.Tensor, medium: VelocityMap) -> torch.Tensor:
    """``u_tt - c^2 (u_x0x0 + u_x1x1)`` at space-time ``points`` ``(N, 3)``, ``(N,)``.

    Arguments:
        points: ``(t, x0, x1)`` coordinates.
        second: ``(N, 3)`` pure second derivatives of ``u`` along ``t``, ``x0`` and ``x1``.
        medium: the wave-speed map (a function of space only).
    """
    c2 = medium.velocity(points[:, 1:]) ** 2
    return second[:, 0] - c2 * (second[:, 1] + second[:, 2])


def space_time(duration: float) -> Box:
    """``[0, duration] x [-1, 1]^2``."""
    return Box([0.0, -1.0, -1.0], [duration, 1.0, 1.0])


def wave_problem(
    medium: VelocityMap,
    *,
    duration: float,
    pulse_center: tuple[float, float],
    pulse_width: float,
    points: int,
    initial_points: int,
    initial_weight: float,
) -> Problem:
    """The paper's wave problem as constraints: the residual at ``points`` space-time points
    (scaled by ``s^2``, so it is O(1) whatever the pulse width), and the pulse at rest at
    ``t = 0``: half of the ``initial_points`` within 3 widths of the pulse, half anywhere.

    The initial conditions weigh ``initial_weight`` against the residual (the mean of the
    value and the scaled speed ``s u_t`` over all initial points). The residual's constraint
    is the first; a growing time window replaces its domain (:func:`space_time`).
    """
    s, (c0, c1) = pulse_width, pulse_center

    def residual(f: Field) -> torch.Tensor:
        second = torch.cat([f.d(k, k) for k in range(3)], dim=1)
        return wave_residual(f.x, second, medium) * s**2

    def at_rest(f: Field) -> torch.Tensor:
        speed = f.d("t") * s  # first: one pass of the engine gives the value too
        return torch.cat([f.u - gaussian_pulse(f.x[:, 1:], pulse_center, s)[:, None], speed], 1)

    near = Box([0.0, c0 - 3 * s, c1 - 3 * s], [duration, c0 + 3 * s, c1 + 3 * s])
    k = initial_points
    # (N, 2) residuals average value and speed: twice the weight, each part of the k points
    weight = 2 * initial_weight / k
    constraints = [
        Constraint(space_time(duration), residual, points, 1.0, "residual"),
        Constraint(near.face("t", 0), at_rest, k // 2, weight * (k // 2), "initial_near"),
        Constraint(
            space_time(duration).face("t", 0),
            at_rest,
            k - k // 2,
            weight * (k - k // 2),
            "initial_far",
        ),
    ]
    return Problem(constraints, NAMES, name="wave")
