"""WIRE: implicit representations with complex Gabor wavelet activations.

Saragadam, LeJeune, Tan, Balakrishnan, Veeraraghavan and Baraniuk, "WIRE: Wavelet Implicit
Neural Representations", CVPR 2023 (github.com/vishwa91/wire). This is the paper's main,
**complex** variant: after a real first linear layer every layer is complex,
``psi(z) = exp(i w0 z - |s_0 z|^2)``, and the network's output is the real part of a
complex linear layer. Weights keep PyTorch's default ``nn.Linear`` initialisation, as the
authors' code does; image defaults ``w0 = 20``, ``s_0 = 10``. A complex weight holds two
real numbers and is counted as two parameters when widths are matched
(:mod:`sirenkit.nets.param_match`), which replaces the authors' ``width / sqrt(2)`` rule.
"""

from __future__ import annotations

import torch
from torch import nn

from .stack import check_sizes, layer_stack


def _complex_dtype() -> torch.dtype:
    return torch.complex128 if torch.get_default_dtype() == torch.float64 else torch.complex64


class ComplexGaborLayer(nn.Module):
    """``x -> exp(i w0 z - |scale z|^2)`` with ``z = W x + b``.

    Arguments:
        in_features: input width.
        out_features: output width.
        w0: frequency of the wavelet's oscillation.
        scale: inverse width of its Gaussian envelope.
        is_first: real weights (the input is real coordinates); later layers are complex.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        w0: float = 20.0,
        scale: float = 10.0,
        is_first: bool = False,
    ) -> None:
        super().__init__()
        self.w0 = float(w0)
        self.scale = float(scale)
        self.is_first = is_first
        dtype = None if is_first else _complex_dtype()
        self.linear = nn.Linear(in_features, out_features, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x)
        envelope = z.real.square() + z.imag.square() if z.is_complex() else z.square()
        return torch.exp(1j * self.w0 * z - self.scale**2 * envelope)

    def extra_repr(self) -> str:
        return f"w0={self.w0:g}, scale={self.scale:g}, is_first={self.is_first}"


class Wire(nn.Module):
    """WIRE network: a real-input Gabor layer, ``hidden_layers`` complex ones, complex output.

    Arguments:
        in_features: coordinate dimension.
        hidden_features: width of every hidden layer (complex units).
        hidden_layers: Gabor layers after the first one.
        out_features: output channels (the real part of the last layer).
        w0: wavelet frequency of every Gabor layer.
        scale: envelope factor of every Gabor layer.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        hidden_layers: int,
        out_features: int,
        w0: float = 20.0,
        scale: float = 10.0,
    ) -> None:
        super().__init__()
        check_sizes("Wire", in_features, hidden_features, hidden_layers, out_features)
        first = ComplexGaborLayer(
            in_features,
            hidden_features,
            w0=w0,
            scale=scale,
            is_first=True,
        )
        self.net = layer_stack(
            first,
            lambda: ComplexGaborLayer(hidden_features, hidden_features, w0=w0, scale=scale),
            hidden_layers,
            nn.Linear(hidden_features, out_features, dtype=_complex_dtype()),
        )

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``coords`` of shape ``(..., in_features)``; returns real ``(..., out)``."""
        return self.net(coords).real
