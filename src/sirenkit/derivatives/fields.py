"""One entry point for a network's value and its input derivatives.

Tasks ask :func:`value_and_derivatives` for what their loss needs; which engine computes it is
not their concern.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import autograd as ad


@dataclass
class FieldDerivatives:
    """A network's output at some points and, if asked for, its input derivatives.

    Attributes:
        value: ``(N, m)`` outputs.
        gradient: ``(N, m, d)`` Jacobian with respect to the coordinates, or None.
        laplacian: ``(N, m)`` Laplacian of every output, or None.
    """

    value: torch.Tensor
    gradient: torch.Tensor | None = None
    laplacian: torch.Tensor | None = None


def value_and_derivatives(
    model: nn.Module,
    coords: torch.Tensor,
    *,
    gradient: bool = True,
    laplacian: bool = False,
    create_graph: bool | None = None,
) -> FieldDerivatives:
    """Evaluate ``model`` at ``coords`` ``(N, d)`` with its gradient and/or Laplacian.

    Arguments:
        model: any coordinate network mapping ``(N, d) -> (N, m)``.
        coords: evaluation points.
        gradient: also return the Jacobian.
        laplacian: also return the Laplacian.
        create_graph: keep the graph so the results can be differentiated with respect to the
            parameters (for a loss). Defaults to ``torch.is_grad_enabled()``, so under
            ``torch.no_grad()`` nothing is kept (for rendering).

    Returns:
        A :class:`FieldDerivatives`.
    """
    cg = torch.is_grad_enabled() if create_graph is None else create_graph
    if not (gradient or laplacian):
        return FieldDerivatives(model(coords))
    with torch.enable_grad():
        x = coords.detach().requires_grad_(True)
        y = model(x)
        jac = ad.jacobian(y, x, create_graph=cg or laplacian) if gradient or laplacian else None
        lap = None
        if laplacian:
            d = x.shape[-1]
            lap = torch.stack(
                [
                    sum(ad._grad(jac[:, k, i], x, cg)[:, i] for i in range(d))
                    for k in range(y.shape[-1])
                ],
                dim=-1,
            )
    if not cg:
        y = y.detach()
        jac = jac.detach() if jac is not None else None
        lap = lap.detach() if lap is not None else None
    return FieldDerivatives(y, jac if gradient else None, lap)
