"""Evaluating a network on many points in bounded memory."""

from __future__ import annotations

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
    """Apply ``fn`` to ``coords`` in chunks of ``chunk`` points and concatenate the results.

    Outputs are detached and gathered on the device of ``coords``, so peak memory is one
    chunk's activations plus the results.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    parts: list = []
    for start in range(0, coords.shape[0], chunk):
        out = fn(coords[start : start + chunk])
        if isinstance(out, tuple):
            parts.append(tuple(o.detach() for o in out))
        else:
            parts.append(out.detach())
    if parts and isinstance(parts[0], tuple):
        return tuple(torch.cat(p) for p in zip(*parts, strict=True))
    return torch.cat(parts)


@torch.no_grad()
def render(
    model: nn.Module,
    shape: Sequence[int],
    *,
    chunk: int = 65536,
) -> torch.Tensor:
    """Evaluate ``model`` on :func:`~sirenkit.signals.grid` ``(shape)``; returns ``(*shape, m)``."""
    coords = grid(shape, device=model_device(model))
    out = in_chunks(model, coords, chunk)
    return out.reshape(*shape, -1)
