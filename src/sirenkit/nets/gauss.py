"""The Gaussian activation of Ramasinghe & Lucey, "Beyond Periodicity: Towards a Unifying
Framework for Activations in Coordinate-MLPs" (ECCV 2022).

They show that a non-periodic activation can fit high frequencies if its Lipschitz constant
is large enough; ``exp(-x^2 / (2 a^2))`` with small ``a`` does this without positional
encoding. Written here as ``exp(-(s x)^2)`` (``s = 1 / (a sqrt 2)``), as in the WIRE authors'
reference implementation, so ``s = 10`` is ``a ~ 0.07``.
"""

from __future__ import annotations

import torch
from torch import nn


class Gaussian(nn.Module):
    """``x -> exp(-(scale * x)^2)``, applied pointwise."""

    def __init__(self, scale: float = 10.0) -> None:
        super().__init__()
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(-((self.scale * x) ** 2))

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}"
