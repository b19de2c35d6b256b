"""Radial basis functions in front of a ReLU network: the SIREN paper's "RBF-ReLU" baseline.

Follows the authors' ``RBFLayer`` (github.com/vsitzmann/siren, ``modules.py``): centres
``c_k ~ U(-1, 1)``, per-centre factors ``sigma_k = 10`` at init, both trained, and the feature
``exp(-(sigma_k ||x - c_k||^2)^2)``. (Their layer also holds an unused ``freq`` parameter; it is
left out, so it does not inflate the parameter count.)
"""

from __future__ import annotations

import torch
from torch import nn


class RBFLayer(nn.Module):
    """``x -> exp(-(sigma_k ||x - c_k||^2)^2)`` for ``k = 1..centers``.

    Arguments:
        in_features: coordinate dimension.
        centers: number of basis functions (the authors use 1024).
    """

    def __init__(self, in_features: int, centers: int = 1024) -> None:
        super().__init__()
        if in_features < 1 or centers < 1:
            raise ValueError(f"RBFLayer needs positive sizes, got {in_features=}, {centers=}")
        self.centres = nn.Parameter(torch.empty(centers, in_features))
        self.sigmas = nn.Parameter(torch.empty(centers))
        with torch.no_grad():
            self.centres.uniform_(-1, 1)
            self.sigmas.fill_(10.0)
        self.out_features = centers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # ||x||^2 - 2 x.c + ||c||^2 keeps memory at N x centers instead of N x centers x d.
        sq = (x * x).sum(-1, keepdim=True) - 2 * x @ self.centres.T
        sq = (sq + (self.centres * self.centres).sum(-1)).clamp_min(0)
        return torch.exp(-((sq * self.sigmas) ** 2))
