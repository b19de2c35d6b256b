"""Per-axis derivatives of a network, as the stretched Helmholtz and the wave operators need.

:func:`sirenkit.value_and_derivatives` gives the gradient and the Laplacian; the PML operator
weights ``d2u/dx0^2`` and ``d2u/dx1^2`` differently, and the wave equation separates ``u_tt``
from the spatial Laplacian, so these operators need the pure second derivative along each axis.
They are built from the library's autograd ``jacobian`` (one backward pass per output channel
and axis, the same cost as the Laplacian).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..derivatives import jacobian


def axis_derivatives(
    model: nn.Module,
    coords: torch.Tensor,
    *,
    channels: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    create_graph: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, gradient and pure second derivatives of ``model`` at ``coords``.

    Arguments:
        model: coordinate network ``(N, d) -> (N, m)``.
        coords: ``(N, d)`` points.
        channels: output channels to differentiate (default all); the value has all ``m``.
        axes: input axes whose second derivatives are wanted (default all ``d``).
        create_graph: keep the graph for a loss; default ``torch.is_grad_enabled()``.

    Returns:
        ``(value (N, m), gradient (N, c, d), second (N, c, len(axes)))`` where ``c`` counts the
        chosen channels and ``second[..., j] = d2 u / d x_{axes[j]}^2``.
    """
    cg = torch.is_grad_enabled() if create_graph is None else create_graph
    d = coords.shape[-1]
    axes = list(range(d)) if axes is None else list(axes)
    with torch.enable_grad():
        x = coords.detach().requires_grad_(True)
        y = model(x)
        sel = y if channels is None else y[:, list(channels)]
        grad = jacobian(sel, x, create_graph=True)
        second = [jacobian(grad[:, :, i], x, create_graph=cg)[:, :, i] for i in axes]
        second = torch.stack(second, dim=-1) if second else grad[:, :, :0]
    if not cg:
        return y.detach(), grad.detach(), second.detach()
    return y, grad, second
