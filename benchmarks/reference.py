"""A re-creation of the authors' Colab SIREN, as the baseline the benchmarks compare against.

Written from the paper's description and the Colab's published settings (Adam, constant
learning rate 1e-4, full batch, w0 = 30, 256-wide network with 3 hidden layers, coordinates
cloned with requires_grad on every forward): the sine layer multiplies the *activations* by
w0, as the original does. Its parameter keeps the original's name, ``omega_0`` (sirenkit's
``w0``), so the two read side by side.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ReferenceSineLayer(nn.Module):
    def __init__(self, n_in: int, n_out: int, is_first: bool, omega_0: float = 30.0) -> None:
        super().__init__()
        self.omega_0 = omega_0
        self.linear = nn.Linear(n_in, n_out)
        bound = 1 / n_in if is_first else math.sqrt(6 / n_in) / omega_0
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.omega_0 * self.linear(x))


class ReferenceSiren(nn.Module):
    def __init__(
        self,
        n_in: int = 2,
        hidden: int = 256,
        hidden_layers: int = 3,
        n_out: int = 1,
        first_w0: float = 30.0,
    ):
        super().__init__()
        layers: list[nn.Module] = [ReferenceSineLayer(n_in, hidden, True, first_w0)]
        layers += [ReferenceSineLayer(hidden, hidden, False) for _ in range(hidden_layers)]
        last = nn.Linear(hidden, n_out)
        with torch.no_grad():
            b = math.sqrt(6 / hidden) / 30.0
            last.weight.uniform_(-b, b)
        layers.append(last)
        self.net = nn.Sequential(*layers)

    def forward(self, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        coords = coords.clone().detach().requires_grad_(True)
        return self.net(coords), coords
