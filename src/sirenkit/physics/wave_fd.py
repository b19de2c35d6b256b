"""Leapfrog finite-difference reference for the 2-D acoustic wave equation.

``u_tt = c^2 (u_xx + u_yy)`` from ``u(0) = u0``, ``u_t(0) = 0``. Central differences in space
and time (second order), the first step by Taylor expansion (``u1 = u0 + dt^2/2 c^2 Lap u0``).
The network solves the problem in free space, so the grid is padded beyond [-1, 1]^2 far enough
that nothing reflected off its (zero) edge returns into [-1, 1]^2 before the last time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..errors import SirenkitError
from .media import VelocityMap


def leapfrog(
    initial: Callable[[np.ndarray], np.ndarray],
    medium: VelocityMap,
    times: Sequence[float],
    *,
    n: int = 101,
    cfl: float = 0.5,
) -> np.ndarray:
    """Snapshots of the wave field on the ``n x n`` grid over [-1, 1]^2 at ``times``.

    Arguments:
        initial: ``u0`` as a function of points ``(P, 2)`` -> ``(P,)``.
        medium: wave speed (outside [-1, 1]^2 the map is evaluated as is).
        times: non-negative, increasing snapshot times.
        n: nodes per side on [-1, 1]^2 (spacing ``h = 2 / (n - 1)``; the padded grid keeps it).
        cfl: ``c_max dt / h`` (stable below ``1 / sqrt(2)``).

    Returns:
        ``(len(times), n, n)`` float64 array, 'ij' order like :func:`sirenkit.grid`.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.size == 0 or times.min() < 0 or np.any(np.diff(times) < 0):
        raise SirenkitError("leapfrog: times must be non-negative and increasing")
    if not 0 < cfl < 1 / math.sqrt(2):
        raise SirenkitError(f"leapfrog: cfl must be in (0, 0.707), got {cfl}")
    h = 2.0 / (n - 1)
    t_end = float(times[-1])
    c_max = max(1.0, float(medium.on_grid(201).max()))
    pad = math.ceil(c_max * t_end / h) + 2  # what reflects off the edge stays outside
    nn = n + 2 * pad
    half = 1.0 + pad * h
    axis = np.linspace(-half, half, nn)
    pts = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    c2 = medium.velocity(torch.from_numpy(pts)).numpy().reshape(nn, nn) ** 2
    dt_max = cfl * h / float(np.sqrt(c2.max()))
    gaps = np.diff(times)
    if gaps.size and np.allclose(gaps, gaps[0]) and gaps[0] > 0:
        dt = gaps[0] / math.ceil(gaps[0] / dt_max)  # every snapshot on a time step
    else:
        dt = t_end / max(1, math.ceil(t_end / dt_max)) if t_end > 0 else dt_max
    u0 = np.asarray(initial(pts), dtype=np.float64).reshape(nn, nn)
    r = c2 * (dt / h) ** 2

    def lap(u: np.ndarray) -> np.ndarray:
        out = np.zeros_like(u)
        out[1:-1, 1:-1] = (
            u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]
        )
        return out

    frames = []
    prev, cur = u0, u0 + 0.5 * r * lap(u0)
    cur[0, :] = cur[-1, :] = cur[:, 0] = cur[:, -1] = 0
    step = 1  # `cur` is the field at time step * dt
    for t in times:
        target = round(t / dt)
        if target == 0:
            frames.append(u0[pad : pad + n, pad : pad + n].copy())
            continue
        while step < target:
            prev, cur = cur, 2 * cur - prev + r * lap(cur)
            step += 1
        frames.append(cur[pad : pad + n, pad : pad + n].copy())
    return np.stack(frames)
