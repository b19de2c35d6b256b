"""Evaluating a network on many points in bounded memory."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .signals.grid import grid


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter (CPU for a parameter-free module)."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def in_chunks(
    fn: Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, ...]],
    coords: torch.Tensor,
    chunk: int = 65536,
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """Apply ``fn`` to ``coords`` in chunks of ``chunk`` points, gathering the results.

    Outputs are detached and written into tensors allocated once on the device of
    ``coords`` (no list of parts to concatenate), so peak memory is one chunk's activations
    plus the results.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    n = coords.shape[0]
    outs: tuple[torch.Tensor, ...] | None = None
    single = True
    for start in range(0, n, chunk):
        out = fn(coords[start : start + chunk])
        single = not isinstance(out, tuple)
        parts = (out,) if single else out
        if outs is None:
            outs = tuple(
                torch.empty((n, *p.shape[1:]), dtype=p.dtype, device=coords.device) for p in parts
            )
        for dst, p in zip(outs, parts, strict=True):
            dst[start : start + p.shape[0]] = p.detach()
    if outs is None:
        raise ValueError("in_chunks needs at least one point")
    return outs[0] if single else outs


def grid_rows(shape: Sequence[int], start: int, stop: int, device=None) -> torch.Tensor:
    """Rows ``start:stop`` of :func:`~sirenkit.signals.grid` ``(shape)``, made on their own.

    The same numbers as slicing the full grid (each axis is the grid's own ``linspace``,
    indexed), without ever holding the whole grid: ``(stop - start, len(shape))``.
    """
    axes = [grid((s,), device=device)[:, 0] for s in shape]
    index = torch.arange(start, stop, device=device)
    columns = []
    for axis in reversed(axes):
        columns.append(axis[index % axis.shape[0]])
        index = index // axis.shape[0]
    return torch.stack(columns[::-1], dim=-1)


@torch.no_grad()
def render(
    model: nn.Module,
    shape: Sequence[int],
    *,
    chunk: int = 65536,
    convert: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Evaluate ``model`` on :func:`~sirenkit.signals.grid` ``(shape)``; returns ``(*shape, m)``
    (or ``(*shape, ...)`` of what ``convert`` returns).

    Working memory is the output plus one chunk: coordinates are made chunk by chunk
    (:func:`grid_rows`) and each chunk's values are written into the output, allocated once.
    ``convert`` maps each chunk's ``(k, m)`` values before they are stored (to 8-bit pixels,
    say), so a large render is held only in its final form.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    device = model_device(model)
    n = math.prod(int(s) for s in shape)
    out: torch.Tensor | None = None
    for start in range(0, n, chunk):
        values = model(grid_rows(shape, start, min(n, start + chunk), device))
        values = values[0] if isinstance(values, tuple) else values
        values = convert(values) if convert is not None else values
        if out is None:
            out = torch.empty((n, *values.shape[1:]), dtype=values.dtype, device=values.device)
        out[start : start + values.shape[0]] = values
    assert out is not None  # grid() rejects empty shapes
    return out.reshape(*shape, *out.shape[1:])
