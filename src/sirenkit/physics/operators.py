"""Per-axis derivatives of a network, as the stretched Helmholtz and the wave operators need.

:func:`sirenkit.value_and_derivatives` gives the gradient and the Laplacian; the PML operator
weights ``d2u/dx0^2`` and ``d2u/dx1^2`` differently, and the wave equation separates ``u_tt``
from the spatial Laplacian, so these operators need the pure second derivative along each axis.
Two engines give the same numbers: reverse mode, the library's autograd ``jacobian`` (one
backward pass per output channel and axis, the cost of the Laplacian), and forward mode
(``torch.func.jvp`` nested twice, one pass per axis whatever the number of channels). Forward
mode wins when a network has many outputs, e.g. the wavefields of five sources in FWI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from ..derivatives import jacobian, value_and_derivatives
from ..derivatives.chain import sine_chain


def axis_derivatives(
    model: nn.Module,
    coords: torch.Tensor,
    *,
    channels: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    create_graph: bool | None = None,
    mode: Literal["auto", "closed_form", "reverse", "forward"] = "auto",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, gradient and pure second derivatives of ``model`` at ``coords``.

    Arguments:
        model: coordinate network ``(N, d) -> (N, m)``.
        coords: ``(N, d)`` points.
        channels: output channels to differentiate (default all); the value has all ``m``.
        axes: input axes whose second derivatives are wanted (default all ``d``).
        create_graph: keep the graph for a loss; default ``torch.is_grad_enabled()``.
        mode: ``closed_form`` (one forward pass carrying the Hessian diagonal; sine networks
            only, see :mod:`sirenkit.derivatives.closed_form`), ``reverse`` (autograd),
            ``forward`` (nested jvp) or ``auto``: closed form for sine networks, else forward
            when more channels than input axes are differentiated, else reverse.

    Returns:
        ``(value (N, m), gradient (N, c, d), second (N, c, len(axes)))`` where ``c`` counts the
        chosen channels and ``second[..., j] = d2 u / d x_{axes[j]}^2``.
    """
    cg = torch.is_grad_enabled() if create_graph is None else create_graph
    d = coords.shape[-1]
    axes = list(range(d)) if axes is None else list(axes)
    n_channels = len(channels) if channels is not None else None
    if mode == "closed_form" or (mode == "auto" and sine_chain(model) is not None):
        out = value_and_derivatives(
            model,
            coords,
            gradient=True,
            hessian_diagonal=True,
            create_graph=cg,
            engine="closed_form",
        )
        sel = slice(None) if channels is None else list(channels)
        return out.value, out.gradient[:, sel], out.hessian_diagonal[:, sel][..., axes]
    if mode == "forward" or (mode == "auto" and n_channels is not None and n_channels > d):
        return _forward(model, coords, channels, axes, cg)
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


def _forward(
    model: nn.Module,
    coords: torch.Tensor,
    channels: Sequence[int] | None,
    axes: list[int],
    create_graph: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward-mode version of :func:`axis_derivatives`: ``jvp(jvp(f))`` along each axis."""
    from torch.func import jvp

    x = coords.detach()
    d = x.shape[-1]
    sel = slice(None) if channels is None else list(channels)
    value = None
    firsts: dict[int, torch.Tensor] = {}
    seconds: list[torch.Tensor] = []

    def direction(i: int) -> torch.Tensor:
        v = torch.zeros_like(x)
        v[:, i] = 1
        return v

    with torch.set_grad_enabled(create_graph):
        for i in range(d):
            v = direction(i)
            if i in axes:

                def along(z: torch.Tensor, v: torch.Tensor = v):
                    return jvp(model, (z,), (v,))

                (y, dy), (_, d2y) = jvp(along, (x,), (v,))
                seconds.append(d2y[:, sel])
            else:
                y, dy = jvp(model, (x,), (v,))
            value = y
            firsts[i] = dy[:, sel]
        if value is None:
            value = model(x)
    grad = torch.stack([firsts[i] for i in range(d)], dim=-1)
    second = torch.stack(seconds, dim=-1) if seconds else grad[:, :, :0]
    return value, grad, second
