"""Coordinate MLPs with pointwise activations: the ReLU, tanh and Gauss baselines, and the
trunk of the encoded baselines (ReLU with positional encoding, Fourier features, RBF).

Every variant is one :class:`MLP`: an optional fixed or learned input encoding
(:mod:`sirenkit.nets.encodings`), ``hidden_layers + 1`` hidden linear layers with the same
activation, and a linear output layer. Each baseline keeps the initialisation of the code it
comes from (see ``init``).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from .encodings import make_encoding
from .gauss import Gaussian
from .stack import check_sizes

Activation = Literal["relu", "tanh", "gauss"]
Init = Literal["kaiming", "xavier", "glorot_zero", "torch"]


def _activation(name: Activation, scale: float) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "tanh":
        return nn.Tanh()
    if name == "gauss":
        return Gaussian(scale)
    raise ValueError(f"unknown activation {name!r}; expected relu, tanh or gauss")


def init_linear(layer: nn.Linear, how: Init) -> None:
    """Initialise ``layer`` in place as the baseline's source code does.

    ``kaiming``: He normal (fan in, ReLU gain) weights, PyTorch's bias: the SIREN authors'
    ReLU baselines. ``xavier``: Glorot normal weights, PyTorch's bias: their tanh baseline.
    ``glorot_zero``: Glorot normal weights, zero bias: JAX stax's ``Dense`` default, used by
    Tancik et al.'s Fourier-feature networks. ``torch``: ``nn.Linear``'s default (the WIRE
    authors' Gauss network).
    """
    with torch.no_grad():
        if how == "kaiming":
            nn.init.kaiming_normal_(layer.weight, a=0.0, nonlinearity="relu", mode="fan_in")
        elif how == "xavier":
            nn.init.xavier_normal_(layer.weight)
        elif how == "glorot_zero":
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif how != "torch":
            raise ValueError(f"unknown init {how!r}; expected kaiming, xavier, glorot_zero, torch")


class MLP(nn.Module):
    """Coordinate MLP: input encoding, hidden layers with one activation, linear output.

    Arguments:
        in_features: coordinate dimension.
        hidden_features: width of every hidden layer.
        hidden_layers: hidden layers after the first one (as :class:`~sirenkit.nets.Siren`, so
            the network has ``hidden_layers + 2`` linear layers).
        out_features: output channels.
        activation: ``relu``, ``tanh`` or ``gauss`` (``exp(-(scale x)^2)``).
        init: weight/bias initialisation, see :func:`init_linear`.
        scale: the Gaussian activation's factor (ignored by the others).
        encoding: ``None`` (raw coordinates) or a dict naming a ``kind`` (``nerf``, ``fourier``,
            ``rbf``) and its options, see :func:`~sirenkit.nets.encodings.make_encoding`.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        hidden_layers: int,
        out_features: int,
        activation: Activation = "relu",
        init: Init = "kaiming",
        scale: float = 10.0,
        encoding: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        check_sizes("MLP", in_features, hidden_features, hidden_layers, out_features)
        self.encoding, width = make_encoding(encoding, in_features)
        layers: list[nn.Module] = []
        for _ in range(hidden_layers + 1):
            layers += [nn.Linear(width, hidden_features), _activation(activation, scale)]
            width = hidden_features
        layers.append(nn.Linear(width, out_features))
        for m in layers:
            if isinstance(m, nn.Linear):
                init_linear(m, init)
        self.net = nn.Sequential(*layers)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``coords`` of shape ``(..., in_features)``; returns ``(..., out)``."""
        return self.net(self.encoding(coords))
