"""Input encodings of the baselines: NeRF positional encoding, Gaussian Fourier features, RBF.

An encoding maps ``(..., d)`` coordinates to ``(..., width)`` features that a ReLU
:class:`~sirenkit.nets.mlp.MLP` then fits. Networks store the encoding as a JSON-able dict
(``{"kind": "nerf", "freqs": 6}``), so checkpoints rebuild it exactly; the random Fourier
matrix is a buffer and travels with the weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .rbf import RBFLayer


def nerf_frequencies(in_features: int, resolution: Sequence[int] | None) -> int:
    """Octaves of the positional encoding, chosen as the SIREN authors' ``PosEncodingNeRF``.

    The highest frequency ``2^(L-1) pi`` stays below the Nyquist rate of the coarsest axis:
    ``L = floor(log2(n / 4))`` for ``n`` samples (6 for a 256-pixel image); 3-D inputs use 10,
    and without a known resolution the authors' fallback is 4. Never fewer than 1.
    """
    if in_features == 3:
        return 10
    if not resolution:
        return 4
    return max(1, math.floor(math.log2(min(resolution) / 4)))


class NerfEncoding(nn.Module):
    """``x -> [x, sin(2^i pi x), cos(2^i pi x)]`` for octaves ``i < freqs`` (Mildenhall et al.,
    NeRF, ECCV 2020; as used by the SIREN paper's "ReLU P.E." baseline)."""

    def __init__(self, in_features: int, freqs: int) -> None:
        super().__init__()
        if freqs < 1:
            raise ValueError(f"positional encoding needs at least 1 frequency, got {freqs}")
        self.register_buffer("bands", math.pi * 2.0 ** torch.arange(freqs), persistent=False)
        self.out_features = in_features * (1 + 2 * freqs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        phase = (x[..., None, :] * self.bands.to(x.dtype)[:, None]).flatten(-2)
        return torch.cat([x, torch.sin(phase), torch.cos(phase)], dim=-1)


class FourierFeatures(nn.Module):
    """``x -> [cos(2 pi B x), sin(2 pi B x)]`` with a fixed ``B ~ N(0, scale^2)`` of shape
    ``(size, d)`` (Tancik et al., "Fourier Features Let Networks Learn High Frequency Functions
    in Low Dimensional Domains", NeurIPS 2020; ``size = 256``, ``scale = 10`` for images)."""

    def __init__(self, in_features: int, size: int = 256, scale: float = 10.0) -> None:
        super().__init__()
        if size < 1 or scale <= 0:
            raise ValueError(f"Fourier features need size >= 1 and scale > 0, got {size}, {scale}")
        self.register_buffer("B", torch.randn(size, in_features) * scale)
        self.out_features = 2 * size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        phase = 2 * math.pi * x @ self.B.to(x.dtype).T
        return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)


class _Raw(nn.Identity):
    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.out_features = in_features


def make_encoding(spec: dict[str, Any] | None, in_features: int) -> tuple[nn.Module, int]:
    """The encoding described by ``spec`` and its output width.

    Arguments:
        spec: ``None`` (identity), ``{"kind": "nerf", "freqs": L}``,
            ``{"kind": "fourier", "size": m, "scale": sigma}`` or
            ``{"kind": "rbf", "centers": k}``.
        in_features: coordinate dimension.

    Returns:
        ``(module, width)``.
    """
    opts = dict(spec or {})
    kind = opts.pop("kind", None)
    if kind is None:
        module: nn.Module = _Raw(in_features)
    elif kind == "nerf":
        module = NerfEncoding(in_features, **opts)
    elif kind == "fourier":
        module = FourierFeatures(in_features, **opts)
    elif kind == "rbf":
        module = RBFLayer(in_features, **opts)
    else:
        raise ValueError(f"unknown encoding {kind!r}; expected nerf, fourier or rbf")
    return module, module.out_features
