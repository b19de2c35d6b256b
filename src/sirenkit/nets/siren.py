"""SIREN: multilayer perceptrons with sine activations (Sitzmann et al., NeurIPS 2020).

A hidden layer computes ``sin(w0 * (W x + b))``. The factor ``w0`` is applied to the weight and
bias (an ``out x in`` matrix and a vector) rather than to the ``N x out`` activations, so it
costs nothing per point while the function, the gradients and therefore Adam's training
dynamics are exactly those of the reference implementation.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SirenkitError

BiasInit = Literal["torch", "zero", "siren"]


def _init_bias(bias: torch.Tensor, fan_in: int, bound_w: float, how: BiasInit) -> None:
    """Initialise ``bias`` in place.

    ``torch`` is PyTorch's ``nn.Linear`` default, U(-1/sqrt(n), 1/sqrt(n)), which the authors'
    code keeps; ``zero`` is what the paper's distributional argument assumes; ``siren`` draws the
    bias from the same range as the weights.
    """
    with torch.no_grad():
        if how == "torch":
            bias.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
        elif how == "zero":
            bias.zero_()
        elif how == "siren":
            bias.uniform_(-bound_w, bound_w)
        else:
            raise SirenkitError(f"unknown bias_init {how!r}; expected 'torch', 'zero' or 'siren'")


class SineLayer(nn.Module):
    """``x -> sin(omega_0 * (W x + b))`` with the SIREN initialisation.

    Arguments:
        in_features: input width ``n``.
        out_features: output width.
        omega_0: frequency factor ``w0`` (30 in the paper).
        is_first: first layer draws W ~ U(-1/n, 1/n); later ones U(-sqrt(6/n)/w0, sqrt(6/n)/w0),
            which keeps every pre-activation ~N(0, 1).
        bias: whether the layer has a bias.
        bias_init: see :func:`_init_bias`; ``torch`` (the authors' choice) by default.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        omega_0: float = 30.0,
        is_first: bool = False,
        bias: bool = True,
        bias_init: BiasInit = "torch",
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.omega_0 = float(omega_0)
        self.is_first = is_first
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        bound = 1 / in_features if is_first else math.sqrt(6 / in_features) / self.omega_0
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
        if self.bias is not None:
            _init_bias(self.bias, in_features, bound, bias_init)

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """``omega_0 * (W x + b)``, with the factor folded into the (small) parameters."""
        b = None if self.bias is None else self.bias * self.omega_0
        return F.linear(x, self.weight * self.omega_0, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.preactivation(x))

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"omega_0={self.omega_0:g}, is_first={self.is_first}"
        )


class Siren(nn.Module):
    """A SIREN: one first sine layer, ``hidden_layers`` more, and an output layer.

    Mirrors the authors' ``Siren`` signature: the paper's "5-layer" image network is
    ``Siren(2, 256, 3, 1)`` (first + 3 hidden + output).

    Arguments:
        in_features: coordinate dimension.
        hidden_features: width of every hidden layer.
        hidden_layers: sine layers after the first one.
        out_features: output channels.
        first_omega_0: ``w0`` of the first layer (30 for images; larger for audio).
        hidden_omega_0: ``w0`` of the other sine layers.
        outermost_linear: linear output layer (default, as the paper) or a final sine layer.
        bias_init: bias initialisation of every layer: ``torch`` (PyTorch's default, as in the
            authors' code), ``zero`` or ``siren``; see :func:`_init_bias`.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        hidden_layers: int,
        out_features: int,
        first_omega_0: float = 30.0,
        hidden_omega_0: float = 30.0,
        outermost_linear: bool = True,
        bias_init: BiasInit = "torch",
    ) -> None:
        super().__init__()
        if min(in_features, hidden_features, out_features) < 1 or hidden_layers < 0:
            raise ValueError(
                "Siren needs positive in/hidden/out features and hidden_layers >= 0, got "
                f"{in_features=}, {hidden_features=}, {hidden_layers=}, {out_features=}"
            )
        self.in_features = in_features
        self.out_features = out_features
        self.hidden_features = hidden_features
        self.hidden_layers = hidden_layers
        self.first_omega_0 = float(first_omega_0)
        self.hidden_omega_0 = float(hidden_omega_0)
        self.outermost_linear = outermost_linear
        layers: list[nn.Module] = [
            SineLayer(
                in_features,
                hidden_features,
                omega_0=first_omega_0,
                is_first=True,
                bias_init=bias_init,
            )
        ]
        for _ in range(hidden_layers):
            layers.append(
                SineLayer(
                    hidden_features,
                    hidden_features,
                    omega_0=hidden_omega_0,
                    bias_init=bias_init,
                )
            )
        if outermost_linear:
            last = nn.Linear(hidden_features, out_features)
            bound = math.sqrt(6 / hidden_features) / hidden_omega_0
            with torch.no_grad():
                last.weight.uniform_(-bound, bound)
            _init_bias(last.bias, hidden_features, bound, bias_init)
            layers.append(last)
        else:
            layers.append(
                SineLayer(
                    hidden_features,
                    out_features,
                    omega_0=hidden_omega_0,
                    bias_init=bias_init,
                )
            )
        self.net = nn.Sequential(*layers)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``coords`` of shape ``(..., in_features)``; returns ``(..., out)``."""
        return self.net(coords)
