"""The Gaussian point source of the Helmholtz problems."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GaussianSource:
    """``f(x) = amplitude * exp(-|x - center|^2 / (2 width^2)) / (2 pi width^2)``.

    Unit mass (times ``amplitude``), so as ``width -> 0`` it tends to ``amplitude * delta`` and the
    field to ``amplitude * (i/4) H0(k r)``.

    Arguments:
        center: source position ``(x0, x1)``.
        width: standard deviation of the Gaussian.
        amplitude: complex amplitude.
    """

    center: tuple[float, float] = (0.0, 0.0)
    width: float = 0.02
    amplitude: complex = 1.0

    def density(self, points: torch.Tensor) -> torch.Tensor:
        """Real source density ``f / amplitude`` at ``points`` ``(N, 2)``, shape ``(N,)``."""
        c = torch.tensor(self.center, dtype=points.dtype, device=points.device)
        r2 = ((points - c) ** 2).sum(-1)
        return torch.exp(-r2 / (2 * self.width**2)) / (2 * math.pi * self.width**2)

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        """Complex source ``f`` at ``points`` ``(N, 2)``, shape ``(N,)``."""
        d = self.density(points)
        return torch.complex(d * self.amplitude.real, d * complex(self.amplitude).imag)
