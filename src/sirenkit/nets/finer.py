"""FINER: sine networks with variable-periodic activations.

Liu, Zhu, Zhang, Wang, Chen, Zhang, Qiu, Cao and Ma, "FINER: Flexible Spectral-bias Tuning in
Implicit NEural Representation by Variable-periodic Activation Functions", CVPR 2024
(github.com/liuzhen0212/FINER). A layer computes ``sin(w0 (|z| + 1) z)`` with
``z = W x + b``: the local frequency grows with ``|z|``, so the bias range sets how wide the
initial spectrum is. Weights follow SIREN's initialisation (first layer ``U(-1/n, 1/n)``, later
``U(-sqrt(6/n)/w0, sqrt(6/n)/w0)``), biases PyTorch's default unless a first-layer
range ``k`` is given (``U(-k, k)``).

The official code can treat the factor ``|z| + 1`` as a constant in backward
(``scale_req_grad=False``, its default). Here it is always differentiated, so the network's
input derivatives (``value_and_derivatives``, the derivative figures) are those of the function
it actually computes; training sees the exact parameter gradient too.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .stack import check_sizes, layer_stack


class FinerLayer(nn.Module):
    """``x -> sin(w0 (|z| + 1) z)``, ``z = W x + b``, with SIREN's weight init.

    Arguments:
        in_features: input width ``n``.
        out_features: output width.
        w0: frequency factor (30, as SIREN).
        is_first: first layer: ``W ~ U(-1/n, 1/n)``; else ``U(-sqrt(6/n)/w0, sqrt(6/n)/w0)``.
        bias_range: if set, ``b ~ U(-bias_range, bias_range)``; else PyTorch's default.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        w0: float = 30.0,
        is_first: bool = False,
        bias_range: float | None = None,
    ) -> None:
        super().__init__()
        self.w0 = float(w0)
        self.is_first = is_first
        self.linear = nn.Linear(in_features, out_features)
        bound = 1 / in_features if is_first else math.sqrt(6 / in_features) / self.w0
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound)
            if bias_range is not None:
                self.linear.bias.uniform_(-bias_range, bias_range)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x)
        return torch.sin(self.w0 * (z.abs() + 1) * z)

    def extra_repr(self) -> str:
        return f"w0={self.w0:g}, is_first={self.is_first}"


class Finer(nn.Module):
    """A FINER network: first variable-periodic layer, ``hidden_layers`` more, linear output.

    Arguments:
        in_features: coordinate dimension.
        hidden_features: width of every hidden layer.
        hidden_layers: layers after the first one.
        out_features: output channels.
        w0: frequency of the first layer.
        hidden_w0: frequency of the other layers (and the output layer's init).
        first_bias_range: ``k`` of the first layer's bias ``U(-k, k)``; None: PyTorch's.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        hidden_layers: int,
        out_features: int,
        w0: float = 30.0,
        hidden_w0: float = 30.0,
        first_bias_range: float | None = None,
    ) -> None:
        super().__init__()
        check_sizes("Finer", in_features, hidden_features, hidden_layers, out_features)
        first = FinerLayer(
            in_features,
            hidden_features,
            w0=w0,
            is_first=True,
            bias_range=first_bias_range,
        )
        last = nn.Linear(hidden_features, out_features)
        self.net = layer_stack(
            first,
            lambda: FinerLayer(hidden_features, hidden_features, w0=hidden_w0),
            hidden_layers,
            last,
        )
        bound = math.sqrt(6 / hidden_features) / hidden_w0
        with torch.no_grad():
            last.weight.uniform_(-bound, bound)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``coords`` of shape ``(..., in_features)``; returns ``(..., out)``."""
        return self.net(coords)
