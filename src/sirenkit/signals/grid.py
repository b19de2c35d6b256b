"""Sampling grids in the [-1, 1] cube."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def grid(
    shape: Sequence[int],
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Coordinates of a regular grid over [-1, 1]^d, flattened to ``(prod(shape), d)``.

    Axis ``i`` has ``shape[i]`` samples from -1 to 1, endpoints included (as the authors'
    ``get_mgrid``), in 'ij' order: coordinate 0 runs along the first array axis (rows of an
    image, so ``(y, x)``), and the flattened order matches ``array.reshape(-1, channels)``.
    The spacing along axis ``i`` is ``2 / (shape[i] - 1)``.
    """
    shape = tuple(int(s) for s in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"grid shape must be non-empty with positive sides, got {shape}")
    axes = [
        torch.linspace(-1, 1, s, device=device, dtype=dtype)
        if s > 1
        else torch.zeros(1, device=device, dtype=dtype)
        for s in shape
    ]
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack(mesh, dim=-1).reshape(-1, len(shape))


def spacing(shape: Sequence[int]) -> tuple[float, ...]:
    """Grid step along each axis, in the coordinate units of :func:`grid`."""
    return tuple(2.0 / (s - 1) if s > 1 else 0.0 for s in shape)
